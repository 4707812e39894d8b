// Process entry: `node dist/cli/run.js …` (what bin/swapdock.js loads).
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`swapdock failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
