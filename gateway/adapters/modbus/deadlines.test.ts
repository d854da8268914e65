import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../ports/manual-clock.js';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  it('expires each deadline at its own time, on one timer', () => {
    const time = new ManualClock();
    const deadlines = new Deadlines(time, time);
    const expired: string[] = [];
    deadlines.add(100, () => expired.push('a'));
    time.advance(30);
    deadlines.add(100, () => expired.push('b'));
    expect(time.pending()).toBe(1);
    time.advance(69);
    expect(expired).toEqual([]);
    time.advance(1);
    expect(expired).toEqual(['a']);
    time.advance(29);
    expect(expired).toEqual(['a']);
    time.advance(1);
    expect(expired).toEqual(['a', 'b']);
    expect(time.pending()).toBe(0);
  });

  it('a removed deadline never expires; the timer left armed finds nothing and is not set again', () => {
    const time = new ManualClock();
    const deadlines = new Deadlines(time, time);
    let expired = 0;
    for (let i = 0; i < 150; i++) {
      const d = deadlines.add(1000, () => expired++);
      time.advance(5);
      deadlines.remove(d);
    }
    // 150 answered requests, one timer: armed for the first deadline and never cleared or set again.
    expect(time.pending()).toBe(1);
    time.advance(1000);
    expect(expired).toBe(0);
    expect(time.pending()).toBe(0);
    expect(deadlines.size).toBe(0);
  });

  it('an earlier deadline than the armed one re-arms the timer for it', () => {
    const time = new ManualClock();
    const deadlines = new Deadlines(time, time);
    const expired: string[] = [];
    deadlines.add(1000, () => expired.push('slow'));
    deadlines.add(50, () => expired.push('fast'));
    time.advance(50);
    expect(expired).toEqual(['fast']);
    time.advance(950);
    expect(expired).toEqual(['fast', 'slow']);
  });

  it('clear() drops every deadline and the timer', () => {
    const time = new ManualClock();
    const deadlines = new Deadlines(time, time);
    let expired = 0;
    deadlines.add(10, () => expired++);
    deadlines.clear();
    expect(time.pending()).toBe(0);
    time.advance(100);
    expect(expired).toBe(0);
  });
});
