import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ThrottledLog } from './log-throttle.js';
import { ManualClock } from './manual-clock.js';

function logged() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { lines, logger };
}

describe('throttled log', () => {
  it('logs the first few per window, then one count of what it held back', () => {
    const { lines, logger } = logged();
    const clock = new ManualClock(0);
    const log = new ThrottledLog(logger, clock, 2, 1000);
    for (let i = 0; i < 5; i++) log.warn('bad', { i }, 'bad payload');
    expect(lines.map((l) => l.i)).toEqual([0, 1]);
    clock.advance(1000);
    log.warn('bad', { i: 5 }, 'bad payload');
    expect(lines.map((l) => l.msg)).toEqual([
      'bad payload',
      'bad payload',
      '3 more "bad" warnings were not logged in the last 1 s, like: bad payload',
      'bad payload',
    ]);
    expect(lines[2]).toMatchObject({ key: 'bad', suppressed: 3, i: 5 });
    log.warn('other', { i: 6 }, 'other');
    expect(lines.at(-1)).toMatchObject({ i: 6 });
  });

  it('counts each key in its own window', () => {
    const { lines, logger } = logged();
    const clock = new ManualClock(0);
    const log = new ThrottledLog(logger, clock, 1, 1000);
    log.warn('a', {}, 'a1');
    clock.advance(600);
    log.warn('b', {}, 'b1');
    log.warn('a', {}, 'a2');
    clock.advance(400);
    log.warn('a', {}, 'a3');
    log.warn('b', {}, 'b2');
    expect(lines.map((l) => l.msg)).toEqual([
      'a1',
      'b1',
      '1 more "a" warnings were not logged in the last 1 s, like: a3',
      'a3',
    ]);
  });

  it('keeps a bounded table however many one-off keys come', () => {
    const { lines, logger } = logged();
    const clock = new ManualClock(0);
    const log = new ThrottledLog(logger, clock, 1, 1000);
    for (let i = 0; i < 25_000; i++) log.warn(`client-${i}`, {}, 'refused');
    expect(lines).toHaveLength(25_000);
    // A key forgotten with the rest starts a new window: its next warning is logged again.
    log.warn('client-0', {}, 'refused');
    expect(lines).toHaveLength(25_001);
  });
});
