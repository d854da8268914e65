import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../ports/manual-clock.js';
import { AlarmJournal, type JournalEntry } from './journal.js';
import { AlarmRuntime } from './runtime.js';
import { alarmSite, reading, T0 } from './runtime.testing.js';

// Screens see an alarm change as soon as it is decided; what builds on it, and the answer to
// an operator, wait until its record is on disk; and no number is ever shown for two changes,
// even when a crash loses records that were already shown (gateway/alarms/runtime.ts).

const config = alarmSite('b1');
const quiet = pino({ level: 'silent' });

/** Lets promises and the runtime's next-turn work run. */
const turn = () => new Promise<void>((done) => setImmediate(done));

/** A journal whose writes land on disk only when the test says (in order), as a slow disk would. */
function slowDisk(file: string, shownAheadMax?: number) {
  const journal = new AlarmJournal(file, shownAheadMax);
  const gates: { open: () => void; lastSeq: number; real: Promise<void> }[] = [];
  let landedSeq = 0;
  const record = journal.record.bind(journal);
  journal.record = (changes) => {
    const r = record(changes);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    gates.push({ open, lastSeq: r.entries.at(-1)?.seq ?? 0, real: r.written });
    return { entries: r.entries, written: Promise.all([r.written, gate]).then(() => undefined) };
  };
  return {
    journal,
    /** Lets the oldest write waiting land, and what waits for it run; false when none waits. */
    async land(): Promise<boolean> {
      const g = gates.shift();
      if (!g) return false;
      await g.real;
      landedSeq = Math.max(landedSeq, g.lastSeq);
      g.open();
      await turn();
      return true;
    },
    async landAll(): Promise<void> {
      while (await this.land());
    },
    /** The highest number that has landed. */
    landed: () => landedSeq,
  };
}

const started: { runtime: AlarmRuntime; disk: ReturnType<typeof slowDisk> }[] = [];
afterEach(async () => {
  for (const { runtime, disk } of started.splice(0)) {
    await disk.landAll();
    await runtime.stop();
  }
});

async function start(file: string, clock: ManualClock, shownAheadMax?: number) {
  const disk = slowDisk(file, shownAheadMax);
  const runtime = new AlarmRuntime({
    config,
    clock,
    timers: clock,
    journal: disk.journal,
    logger: quiet,
    tickMs: 1000,
  });
  await runtime.start();
  const screens: JournalEntry[] = [];
  const recorded: JournalEntry[] = [];
  runtime.subscribeLive((e) => screens.push(e));
  runtime.subscribe((e) => recorded.push(e));
  started.push({ runtime, disk });
  return { runtime, disk, screens, recorded };
}

const leak = (ts: number, wet: boolean) => reading('leak-1', 'leak_sensor', ts, { wet });
const liftButton = (ts: number, pressed: boolean) =>
  reading('lift-a', 'lift', ts, { alarm_button: pressed, direction: 'stopped', mode: 'normal' });
const names = (entries: JournalEntry[]) => entries.map((e) => `${e.type} ${e.alarm.kind}`);

describe('alarm changes shown ahead of the disk', () => {
  it('shows a leak on the screens while its record is still on its way to disk; incidents and the answer to an acknowledgement wait for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shown-ahead-'));
    const clock = new ManualClock(T0);
    const { runtime, disk, screens, recorded } = await start(join(dir, 'alarms.jsonl'), clock);

    runtime.observe(leak(T0, true));
    await turn();
    expect(names(screens)).toEqual(['pending water_leak']);
    expect(recorded).toEqual([]);
    await disk.land();
    expect(names(recorded)).toEqual(['pending water_leak']);

    clock.advance(5000);
    await turn();
    expect(names(screens)).toEqual(['pending water_leak', 'firing water_leak']);
    expect(names(recorded)).toEqual(['pending water_leak']);

    let answered = false;
    const ack = runtime.acknowledge(runtime.list()[0]!.id, 'duty', '关阀 valve closed').then((e) => {
      answered = true;
      return e;
    });
    await turn();
    expect(names(screens).at(-1)).toBe('acknowledged water_leak');
    expect(answered).toBe(false);
    await disk.landAll();
    expect(names(await ack)).toEqual(['acknowledged water_leak']);
    expect(names(recorded)).toEqual(names(screens));
  });

  it('shows no more than the bound ahead of the disk, and once a change waits for the disk, those after it wait too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shown-ahead-'));
    const clock = new ManualClock(T0);
    const { runtime, disk, screens } = await start(join(dir, 'alarms.jsonl'), clock, 1);
    runtime.observe(leak(T0, true));
    await turn();
    expect(names(screens)).toEqual(['pending water_leak']);
    runtime.observe(liftButton(T0, true)); // two changes: more than the bound of one
    await turn();
    expect(screens).toHaveLength(1);
    await disk.land(); // the leak's record: nothing is ahead of the disk now
    expect(screens).toHaveLength(1);
    clock.advance(5000); // the leak fires: within the bound, but after the lift's changes
    await turn();
    expect(screens).toHaveLength(1);
    await disk.land();
    expect(names(screens)).toEqual(['pending water_leak', 'pending lift_entrapment', 'firing lift_entrapment']);
    await disk.land();
    expect(names(screens).at(-1)).toBe('firing water_leak');
    expect(screens.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('numbers on past every change it may have shown when a crash lost their records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shown-ahead-'));
    const file = join(dir, 'alarms.jsonl');
    const clock = new ManualClock(T0);
    const first = await start(file, clock, 3);
    const onDisk = readFileSync(file, 'utf8');
    first.runtime.observe(leak(T0, true));
    first.runtime.observe(liftButton(T0, true));
    await turn();
    expect(first.screens.map((e) => e.seq)).toEqual([1, 2, 3]);

    // The crash: the three records shown never reached the disk.
    const crashed = join(dir, 'crashed.jsonl');
    writeFileSync(crashed, onDisk);
    clock.advance(1000);
    const second = await start(crashed, clock, 3);
    second.runtime.observe(leak(clock.now(), true));
    await turn();
    expect(names(second.screens)).toEqual(['pending water_leak']);
    expect(second.screens[0]!.seq).toBeGreaterThan(3);
  });

  // The three promises over any order of readings, time, slow writes landing, acknowledgements and crashes.
  it('over any order of events: screens in journal order, nothing built on an unrecorded change, no number shown twice', async () => {
    type Step =
      | { do: 'leak'; wet: boolean }
      | { do: 'lift'; pressed: boolean }
      | { do: 'wait'; ms: number }
      | { do: 'land' }
      | { do: 'ack' }
      | { do: 'crash' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ do: fc.constant('leak' as const), wet: fc.boolean() }),
      fc.record({ do: fc.constant('lift' as const), pressed: fc.boolean() }),
      fc.record({ do: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
      fc.record({ do: fc.constant('land' as const) }),
      fc.record({ do: fc.constant('ack' as const) }),
      fc.record({ do: fc.constant('crash' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), fc.integer({ min: 1, max: 4 }), async (steps, bound) => {
        const file = join(mkdtempSync(join(tmpdir(), 'shown-ahead-')), 'alarms.jsonl');
        const clock = new ManualClock(T0);
        /** Which change each number was shown for, over every run of the gateway. */
        const shownFor = new Map<number, string>();
        let run = await start(file, clock, bound);
        let runNo = 0;
        const check = () => {
          const seqs = run.screens.map((e) => e.seq);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          expect(new Set(seqs).size).toBe(seqs.length);
          expect(run.recorded.every((e) => e.seq <= run.disk.landed())).toBe(true);
          const shown = new Set(seqs);
          expect(run.recorded.every((e) => shown.has(e.seq))).toBe(true);
          expect(seqs.filter((s) => s > run.disk.landed()).length).toBeLessThanOrEqual(bound);
          for (const e of run.screens) {
            const what = `${runNo} ${e.type} ${e.alarm.id}`;
            expect(shownFor.get(e.seq) ?? what).toBe(what);
            shownFor.set(e.seq, what);
          }
        };
        for (const s of steps) {
          if (s.do === 'leak') run.runtime.observe(leak(clock.now(), s.wet));
          else if (s.do === 'lift') run.runtime.observe(liftButton(clock.now(), s.pressed));
          else if (s.do === 'wait') clock.advance(s.ms);
          else if (s.do === 'land') await run.disk.land();
          else if (s.do === 'ack') {
            const open = run.runtime.list().find((a) => a.status === 'firing' && !a.ack);
            if (open) void run.runtime.acknowledge(open.id, 'duty', undefined);
          } else {
            // A crash: only what landed is on disk. Let the rest be written, then cut it off.
            const landed = run.disk.landed();
            started.splice(
              started.findIndex((s) => s.runtime === run.runtime),
              1,
            );
            await run.disk.landAll();
            await run.runtime.stop();
            const kept = readFileSync(file, 'utf8')
              .split('\n')
              .filter((l) => l && ('floor' in JSON.parse(l) || (JSON.parse(l) as JournalEntry).seq <= landed));
            writeFileSync(file, kept.map((l) => l + '\n').join(''));
            runNo++;
            run = await start(file, clock, bound);
          }
          await turn();
          check();
        }
      }),
      { numRuns: 60 },
    );
  });
});
