import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ThrottledLog } from './log-throttle.js';

describe('throttled log', () => {
  it('logs the first few per window, then one count of what it held back', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const clock = {
      t: 0,
      now() {
        return this.t;
      },
    };
    const log = new ThrottledLog(logger, clock, 2, 1000);
    for (let i = 0; i < 5; i++) log.warn('bad', { i }, 'bad payload');
    expect(lines.map((l) => l.i)).toEqual([0, 1]);
    clock.t = 1000;
    log.warn('bad', { i: 5 }, 'bad payload');
    expect(lines.map((l) => l.msg)).toEqual([
      'bad payload',
      'bad payload',
      '3 more "bad" warnings were not logged in the last 1 s',
      'bad payload',
    ]);
    log.warn('other', { i: 6 }, 'other');
    expect(lines.at(-1)).toMatchObject({ i: 6 });
  });
});
