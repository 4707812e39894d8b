import { swapdockOnEngine } from './swapdock-on-engine.js';

swapdockOnEngine('docker');
