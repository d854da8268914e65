import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandLog, type CommandRecord } from './commands-log.js';

const dir = mkdtempSync(join(tmpdir(), 'dutyroom-command-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (at: number, deviceId: string, outcome: CommandRecord['outcome'] = 'done'): CommandRecord => ({
  at,
  by: 'duty',
  via: 'session',
  deviceId,
  field: 'valve_open',
  value: false,
  outcome,
});

describe('CommandLog', () => {
  it("lists a device's commands newest first, up to a limit, and reads them back after a restart", async () => {
    const file = join(dir, 'a', 'commands', 'commands.jsonl');
    const log = new CommandLog(file);
    await log.open();
    await log.add(record(1, 'wm-1'));
    await log.add(record(2, 'pump-1', 'failed'));
    await log.add(record(3, 'wm-1', 'refused'));
    await log.add(record(4, 'wm-1'));
    expect(log.of('wm-1').map((r) => r.at)).toEqual([4, 3, 1]);
    expect(log.of('wm-1', 2).map((r) => r.at)).toEqual([4, 3]);
    expect(log.of('lift-a')).toEqual([]);
    await log.close();

    const again = new CommandLog(file);
    await again.open();
    expect(again.of('wm-1').map((r) => `${r.at} ${r.outcome}`)).toEqual(['4 done', '3 refused', '1 done']);
    expect(again.of('pump-1')).toEqual([record(2, 'pump-1', 'failed')]);
    await again.close();
  });

  it('skips a line torn by a crash mid-write (it was never answered) and appends after it', async () => {
    const file = join(dir, 'b', 'commands.jsonl');
    const log = new CommandLog(file);
    await log.open();
    await log.add(record(1, 'wm-1'));
    await log.close();
    appendFileSync(file, '{"seq":2,"record":{"at":2,"by":"du');
    const again = new CommandLog(file);
    await again.open();
    expect(again.of('wm-1').map((r) => r.at)).toEqual([1]);
    await again.add(record(3, 'wm-1'));
    expect(again.of('wm-1').map((r) => r.at)).toEqual([3, 1]);
    await again.close();
    const third = new CommandLog(file);
    await third.open();
    expect(third.of('wm-1').map((r) => r.at)).toEqual([3, 1]);
    await third.close();
  });
});
