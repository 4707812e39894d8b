import { sleepOnEngine } from './sleep-on-engine.js';

sleepOnEngine('gpuDocker');
