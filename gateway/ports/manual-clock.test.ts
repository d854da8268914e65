import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { every } from './clock.js';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('fires timers in due order, each at its own instant, and never early', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(10_000), { maxLength: 30 }), fc.nat(12_000), (delays, step) => {
        const clock = new ManualClock(1_000);
        const fired: { i: number; at: number }[] = [];
        delays.forEach((d, i) => clock.setTimeout(() => fired.push({ i, at: clock.now() }), d));
        clock.advance(step);
        const due = delays.map((d, i) => ({ i, at: 1_000 + d })).filter((x) => x.at <= 1_000 + step);
        due.sort((a, b) => a.at - b.at || a.i - b.i);
        expect(fired).toEqual(due);
        expect(clock.now()).toBe(1_000 + step);
        expect(clock.pending()).toBe(delays.length - due.length);
      }),
    );
  });

  it('runs a timer set by a timer when it falls due within the same advance', () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.now());
      clock.setTimeout(() => seen.push(clock.now()), 50);
    }, 100);
    clock.advance(149);
    expect(seen).toEqual([100]);
    clock.advance(1);
    expect(seen).toEqual([100, 150]);
  });

  it('does not fire a cleared timer', () => {
    const clock = new ManualClock(0);
    let fired = false;
    const h = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(h);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('lets awaited work between timers settle with advanceAsync', async () => {
    const clock = new ManualClock(0);
    const seen: string[] = [];
    clock.setTimeout(async () => {
      await Promise.resolve();
      seen.push('first done');
    }, 10);
    clock.setTimeout(() => seen.push('second'), 20);
    await clock.advanceAsync(30);
    expect(seen).toEqual(['first done', 'second']);
  });

  it('tells how far away each pending timer is, soonest first', () => {
    const clock = new ManualClock(0);
    clock.setTimeout(() => undefined, 300);
    clock.setTimeout(() => undefined, 100);
    clock.advance(40);
    expect(clock.delays()).toEqual([60, 260]);
    expect(clock.nextDue()).toBe(100);
  });

  it("awaits the code's own done signal after each timer with advanceAsync(ms, until)", async () => {
    const clock = new ManualClock(0);
    const seen: string[] = [];
    let work: Promise<void> = Promise.resolve();
    // Like real I/O: done several turns of the event loop later.
    const turn = () => new Promise<void>((r) => setImmediate(r));
    const slow = () => turn().then(turn).then(turn);
    clock.setTimeout(() => (work = slow().then(() => void seen.push('first done'))), 10);
    clock.setTimeout(() => seen.push('second'), 20);
    await clock.advanceAsync(30, () => work);
    expect(seen).toEqual(['first done', 'second']);
  });

  it('fails a timer loop at one instant instead of hanging', () => {
    const clock = new ManualClock(0);
    const loop = (): void => void clock.setTimeout(loop, 0);
    loop();
    expect(() => clock.advance(1)).toThrow(/timer loop/);
  });

  it('refuses to go back in time', () => {
    const clock = new ManualClock(100);
    expect(() => clock.setTime(50)).toThrow(RangeError);
  });

  it('drives `every` at each multiple of its period until stopped', () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    const stop = every(clock, 1_000, () => ticks.push(clock.now()));
    clock.advance(3_500);
    expect(ticks).toEqual([1_000, 2_000, 3_000]);
    stop();
    clock.advance(5_000);
    expect(ticks).toEqual([1_000, 2_000, 3_000]);
    expect(clock.pending()).toBe(0);
  });
});
