import { faultsOnEngine } from './faults-on-engine.js';

faultsOnEngine('docker');
