import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

// test/temp-root.ts: every temporary folder a test makes lands in the run's own folder, which
// the run removes at its end, so that no test has to clean up for /tmp to stay clean.

describe('the test run temporary folder', () => {
  it('is where os.tmpdir() points in a test worker, and what mkdtemp makes is inside it', () => {
    const root = process.env.DUTYROOM_TEST_TMP;
    expect(root).toBeDefined();
    expect(basename(root!)).toMatch(/^dutyroom-tests-/);
    expect(tmpdir()).toBe(root);
    const made = mkdtempSync(join(tmpdir(), 'probe-'));
    try {
      expect(dirname(made)).toBe(root);
    } finally {
      rmSync(made, { recursive: true, force: true });
    }
  });
});
