import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventSequence } from './sequence.js';

describe('the site event sequence', () => {
  it('counts from 1, and after a restart (or a crash) goes on past every number the last run may have used', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seq-')), 'events', 'sequence.json');
    const first = new EventSequence(file);
    expect(first.first).toBe(1);
    expect([first.take(), first.take(), first.take()]).toEqual([1, 2, 3]);
    const second = new EventSequence(file);
    expect(second.first).toBe(1001);
    expect(second.take()).toBe(1001);
    for (let i = 0; i < 1000; i++) second.take();
    expect(new EventSequence(file).first).toBe(3001);
  });
});
