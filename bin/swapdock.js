#!/usr/bin/env node
// Entry point for `npx swapdock`: runs the compiled CLI (built by the prepare script on `npm ci`).
import '../dist/cli/run.js';
