import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmJournal, type JournalEntry } from './journal.js';
import { AlarmRuntime } from './runtime.js';
import { alarmSite, reading, T0 } from './runtime.testing.js';
import { ManualClock } from '../ports/manual-clock.js';

const config = alarmSite();

const quiet = pino({ level: 'silent' });
const runtimes: AlarmRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop();
});

async function runtime(file: string, clock: ManualClock, drill?: string, journal = new AlarmJournal(file)) {
  const r = new AlarmRuntime({
    config,
    clock,
    timers: clock,
    journal,
    logger: quiet,
    tickMs: 60_000,
    ...(drill ? { activeDrill: () => ({ id: drill, scope: new Set(config.devices.map((d) => d.id)) }) } : {}),
  });
  runtimes.push(r);
  await r.start();
  return r;
}

describe('alarm runtime', () => {
  it('raises from readings, journals every change, and lists with filters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alarms-'));
    const clock = new ManualClock(T0);
    const r = await runtime(join(dir, 'alarms.jsonl'), clock);
    const seen: JournalEntry[] = [];
    r.subscribe((e) => seen.push(e));
    r.observe(reading('leak-1', 'leak_sensor', T0, { wet: true }));
    r.observe(reading('lift-a', 'lift', T0, { alarm_button: true, direction: 'stopped', mode: 'normal' }));
    await r.settled();
    clock.setTime(T0 + 5000);
    await r.settled();
    expect(seen.map((e) => `${e.type} ${e.alarm.kind}`)).toEqual([
      'pending water_leak',
      'pending lift_entrapment',
      'firing lift_entrapment',
      'firing water_leak',
    ]);
    const onDisk = readFileSync(join(dir, 'alarms.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JournalEntry | { floor: number });
    expect(onDisk.map((e) => ('floor' in e ? `floor ${e.floor}` : e.seq))).toEqual(['floor 0', 1, 2, 3, 4]);
    expect(
      r
        .list()
        .map((a) => a.kind)
        .sort(),
    ).toEqual(['lift_entrapment', 'water_leak']);
    expect(r.list({ building: 'b2' }).map((a) => a.kind)).toEqual(['lift_entrapment']);
    expect(r.list({ severity: 'critical', drill: true })).toEqual([]);
    expect(r.health()).toMatchObject({ status: 'ok', firing: 2 });
  });

  it("starts journalling a reading's alarm change before the rest of the event loop's turn runs", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'alarms-')), 'alarms.jsonl');
    const clock = new ManualClock(T0);
    const order: string[] = [];
    const journal = new AlarmJournal(file);
    const record = journal.record.bind(journal);
    journal.record = (changes) => {
      order.push(...changes.map((c) => `journal ${c.type} ${c.alarm.kind}`));
      return record(changes);
    };
    const r = await runtime(file, clock, undefined, journal);
    // What else the turn holds (the next batch of messages, a timer), queued before the reading arrives.
    setImmediate(() => order.push('rest of the turn'));
    r.observe(reading('leak-1', 'leak_sensor', T0, { wet: true }));
    await new Promise((done) => setImmediate(done));
    await r.settled();
    expect(order).toEqual(['journal pending water_leak', 'rest of the turn']);
  });

  it('comes back after a restart with the same alarms and acknowledgements, raising nothing twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alarms-'));
    const file = join(dir, 'alarms.jsonl');
    const clock = new ManualClock(T0);
    const first = await runtime(file, clock);
    first.observe(reading('leak-1', 'leak_sensor', T0, { wet: true }));
    await first.settled();
    clock.setTime(T0 + 6000);
    await first.settled();
    const [leak] = first.list();
    await first.acknowledge(leak!.id, 'duty', '已关阀 valve closed');
    const before = first.list();
    await first.stop();
    runtimes.splice(0);
    appendFileSync(file, '{"seq":99,"record":{"at":'); // a crash in the middle of a write

    clock.setTime(T0 + 20_000);
    const second = await runtime(file, clock);
    const seen: JournalEntry[] = [];
    second.subscribe((e) => seen.push(e));
    second.observe(reading('leak-1', 'leak_sensor', clock.now(), { wet: true }));
    await second.settled();
    expect(seen.filter((e) => e.alarm.kind === 'water_leak')).toEqual([]);
    expect(second.list().map(({ id, status, ack }) => ({ id, status, ack }))).toEqual(
      before.map(({ id, status, ack }) => ({ id, status, ack })),
    );
    expect(second.list()[0]!.ack).toMatchObject({ by: 'duty', comment: '已关阀 valve closed' });
  });

  it('replays the changes a reconnecting stream missed (Last-Event-ID), then goes on live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alarms-'));
    const clock = new ManualClock(T0);
    const r = await runtime(join(dir, 'alarms.jsonl'), clock, 'drill-1');
    r.observe(reading('lift-a', 'lift', T0, { alarm_button: true, direction: 'stopped', mode: 'normal' }));
    await r.settled();
    const seen: number[] = [];
    r.subscribeLive((e) => seen.push(e.seq), 1);
    r.observe(reading('leak-1', 'leak_sensor', T0, { wet: true }));
    await r.settled();
    expect(seen).toEqual([2, 3]);
    expect(r.list({ drill: true }).map((a) => a.drill)).toEqual(['drill-1']);
  });

  it("times the acknowledgement of each critical alarm of a drill (the drill's score), also after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alarms-'));
    const file = join(dir, 'alarms.jsonl');
    const clock = new ManualClock(T0);
    const r = await runtime(file, clock, 'drill-1');
    r.observe(reading('lift-a', 'lift', T0, { alarm_button: true, direction: 'stopped', mode: 'normal' }));
    r.observe(reading('leak-1', 'leak_sensor', T0, { wet: true }));
    await r.settled();
    clock.setTime(T0 + 6000);
    await r.settled();
    const lift = r.list().find((a) => a.kind === 'lift_entrapment')!;
    const leak = r.list().find((a) => a.kind === 'water_leak')!;
    clock.setTime(T0 + 20_000);
    await r.acknowledge(lift.id, 'duty', undefined);
    const expected = [
      {
        alarmId: lift.id,
        kind: 'lift_entrapment',
        device: 'lift-a',
        raisedAt: lift.raisedAt,
        acknowledgedAt: T0 + 20_000,
        by: 'duty',
      },
      { alarmId: leak.id, kind: 'water_leak', device: 'leak-1', raisedAt: leak.raisedAt },
    ];
    expect(r.criticalEpisodes('drill-1').sort((a, b) => a.kind.localeCompare(b.kind))).toEqual(expected);
    expect(r.criticalEpisodes('drill-2')).toEqual([]);
    await r.stop();
    runtimes.splice(0);

    // The journal is compacted to each alarm's latest state on restart: the episodes are still known.
    const again = await runtime(file, clock, 'drill-1');
    expect(again.criticalEpisodes('drill-1').sort((a, b) => a.kind.localeCompare(b.kind))).toEqual(expected);
  });

  it('refuses to acknowledge an alarm that does not exist', async () => {
    const r = await runtime(join(mkdtempSync(join(tmpdir(), 'alarms-')), 'a.jsonl'), new ManualClock(T0));
    expect(() => r.acknowledge('nope', 'duty', undefined)).toThrow(/no alarm "nope"/);
  });
});
