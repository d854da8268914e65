import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';

describe('event log', () => {
  it('numbers records, keeps them across reopening, and survives a line torn by a crash', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'event-log-')), 'log.jsonl');
    const first = new EventLog<{ n: number }>(file);
    expect(await first.open()).toEqual([]);
    expect((await first.append([{ n: 1 }, { n: 2 }])).map((e) => e.seq)).toEqual([1, 2]);
    await first.close();
    appendFileSync(file, '{"seq":3,"record":{"n"'); // the crash, mid-write: never announced

    const torn: number[] = [];
    const second = new EventLog<{ n: number }>(file);
    expect((await second.open((line) => torn.push(line))).map((e) => e.record.n)).toEqual([1, 2]);
    expect(torn).toEqual([3]);
    await second.append([{ n: 3 }]);
    await second.close();

    // The record written after the torn line is not glued to it: it is there after the next restart.
    const third = new EventLog<{ n: number }>(file);
    expect((await third.open()).map((e) => [e.seq, e.record.n])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    await third.close();
  });

  it('refuses to append before it is open', async () => {
    const log = new EventLog(join(mkdtempSync(join(tmpdir(), 'event-log-')), 'x.jsonl'));
    await expect(log.append([{}])).rejects.toThrow(/is not open/);
  });
});
