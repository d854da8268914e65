import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../ports/manual-clock.js';
import { SlotTimers } from './slot-timers.js';

describe('SlotTimers', () => {
  it('runs timers due in the same millisecond on one underlying timer, in the order they were set', () => {
    const time = new ManualClock();
    const slots = new SlotTimers(time, time);
    const fired: string[] = [];
    for (const name of ['a', 'b', 'c']) slots.setTimeout(() => fired.push(name), 1000);
    slots.setTimeout(() => fired.push('later'), 1500);
    expect(time.pending()).toBe(2);
    expect(slots.armed).toBe(2);
    time.advance(999);
    expect(fired).toEqual([]);
    time.advance(1);
    expect(fired).toEqual(['a', 'b', 'c']);
    time.advance(500);
    expect(fired).toEqual(['a', 'b', 'c', 'later']);
    expect(time.pending()).toBe(0);
  });

  it('a timer set while its group runs (the next slot) gets a group of its own', () => {
    const time = new ManualClock();
    const slots = new SlotTimers(time, time);
    const at: number[] = [];
    const tick = () => {
      at.push(time.now());
      if (at.length < 3) slots.setTimeout(tick, 0);
    };
    slots.setTimeout(tick, 10);
    time.advance(10);
    expect(at).toEqual([time.now(), time.now(), time.now()]);
  });

  it('clearing the last timer of a group clears its underlying timer; clearing one of several keeps the rest', () => {
    const time = new ManualClock();
    const slots = new SlotTimers(time, time);
    const fired: string[] = [];
    const a = slots.setTimeout(() => fired.push('a'), 100);
    const b = slots.setTimeout(() => fired.push('b'), 100);
    slots.clearTimeout(a);
    slots.clearTimeout(a);
    expect(time.pending()).toBe(1);
    slots.clearTimeout(b);
    expect(time.pending()).toBe(0);
    expect(slots.armed).toBe(0);
    slots.setTimeout(() => fired.push('c'), 100);
    slots.clearTimeout(undefined);
    time.advance(1000);
    expect(fired).toEqual(['c']);
  });
});
