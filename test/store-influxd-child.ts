// For test/store-influxd.test.ts: starts a private influxd, prints its pid, then waits for
// the test to end it: `exit` = exit normally, `wait` = do nothing (the test sends a signal).
//   node store-influxd-child.js <dataDir> <exit|wait>
import { every, realTimers } from '../gateway/ports/clock.js';
import { startInfluxd } from '../gateway/store/influxd.js';

const [dataDir, mode] = process.argv.slice(2) as [string, string];
const influxd = await startInfluxd({ dataDir });
process.stdout.write(`pid ${influxd.pid}\n`);
if (mode === 'exit') process.exit(0);
// A pending timer keeps the process up until the test's signal ends it.
every(realTimers, 1 << 30, () => undefined);
