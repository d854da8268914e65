import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One temporary folder for a whole test run, removed at its end. The tests make their journals,
// spools, site files and influxd data under os.tmpdir(); each cleaning up after itself was left
// to each test, and runs left thousands of folders behind in /tmp. The test workers are started
// after the global setups, so they (and what they start: influxd, Chromium) inherit TMPDIR.
// Every project names this file; the first to run makes the folder and the others use it.

const MARK = 'DUTYROOM_TEST_TMP';

export default function setup(): () => void {
  if (process.env[MARK]) return () => undefined;
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-tests-'));
  const before = process.env.TMPDIR;
  process.env[MARK] = dir;
  process.env.TMPDIR = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    delete process.env[MARK];
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  };
}
