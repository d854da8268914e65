import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('keeps the interval after one failure, then doubles up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(n, 1000, 8000))).toEqual([
      1000, 2000, 4000, 8000, 8000, 8000, 8000,
    ]);
  });
  it('never goes below the interval, even with a smaller cap', () => {
    expect(backoffDelay(5, 10_000, 1000)).toBe(10_000);
  });
  it('survives absurd failure counts', () => {
    expect(backoffDelay(5000, 1000, 60_000)).toBe(60_000);
  });
});
