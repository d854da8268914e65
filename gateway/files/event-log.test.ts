import { appendFileSync, constants, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

  // Where the system has synchronised writes, each append is one of them: the data is on disk
  // when the write returns (the flags the kernel holds for the open file say so).
  it.runIf(process.platform === 'linux')('appends with synchronised data writes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'event-log-')), 'log.jsonl');
    const log = new EventLog<{ n: number }>(file);
    await log.open();
    await log.append([{ n: 1 }]);
    const fd = readdirSync('/proc/self/fd').find((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false; // the directory's own descriptor, gone once listed
      }
    });
    expect(fd).toBeDefined();
    const flags = parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe('{"seq":1,"record":{"n":1}}\n');
  });

  it('numbers on after a floor line, which is no record, even when no record up to it is left', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'event-log-')), 'log.jsonl');
    appendFileSync(file, '{"floor":40}\n{"seq":7,"record":{"n":7}}\n');
    const log = new EventLog<{ n: number }>(file);
    expect(await log.open()).toEqual([{ seq: 7, record: { n: 7 } }]);
    expect(log.hadFloor).toBe(true);
    expect((await log.append([{ n: 8 }])).map((e) => e.seq)).toEqual([41]);
    await log.close();
  });

  it('skips a line whose number or floor is damaged, and numbers on from the good ones', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'event-log-')), 'log.jsonl');
    appendFileSync(file, '{"seq":3,"record":{"n":3}}\n{"floor":"x"}\n{"seq":null,"record":{"n":0}}\n5\n');
    const damaged: number[] = [];
    const log = new EventLog<{ n: number }>(file);
    expect(await log.open((line) => damaged.push(line))).toEqual([{ seq: 3, record: { n: 3 } }]);
    expect(damaged).toEqual([2, 3, 4]);
    expect((await log.append([{ n: 4 }])).map((e) => e.seq)).toEqual([4]);
    await log.close();
  });

  it('refuses to append before it is open', async () => {
    const log = new EventLog(join(mkdtempSync(join(tmpdir(), 'event-log-')), 'x.jsonl'));
    await expect(log.append([{}])).rejects.toThrow(/is not open/);
  });
});
