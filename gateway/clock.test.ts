import { describe, expect, it } from 'vitest';
import { ReceiveStamps } from './clock.js';

describe('receive stamps', () => {
  it('never repeat for one device, so InfluxDB cannot merge two readings', () => {
    const stamps = new ReceiveStamps({ now: () => 1_000 });
    const a = stamps.next('d1');
    const b = stamps.next('d1');
    const c = stamps.next('d1');
    expect([a, b, c].map((t) => Math.round(t * 1000))).toEqual([1_000_000, 1_000_001, 1_000_002]);
    expect(stamps.next('d2')).toBe(1_000); // another device has its own series
  });

  it('follow the clock when it moves on', () => {
    let t = 5_000;
    const stamps = new ReceiveStamps({ now: () => t });
    stamps.next('d');
    t = 6_000;
    expect(stamps.next('d')).toBe(6_000);
  });
});
