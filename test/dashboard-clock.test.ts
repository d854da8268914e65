import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { every, serverNow, setServerNow } from '../dashboard/src/clock.js';
import { projectPath } from '../gateway/files/paths.js';

// The page has one clock (dashboard/src/clock.ts): the rest of its code neither reads the time
// nor sets timers, so what it shows follows the gateway's time and its refreshes are in one place.

const RAW_TIME = /\b(Date\.now|performance\.now|setTimeout|setInterval|clearTimeout|clearInterval)\b|new Date\(\)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('the dashboard clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is the only module of the page that reads the time or sets a timer', () => {
    const src = projectPath('dashboard', 'src');
    const offenders = sources(src)
      .filter((f) => relative(src, f) !== 'clock.ts')
      .filter((f) => RAW_TIME.test(readFileSync(f, 'utf8')))
      .map((f) => relative(src, f));
    expect(offenders).toEqual([]);
  });

  it('tells the gateway’s time, as of when the gateway told it', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    setServerNow(5_000_000);
    expect(serverNow()).toBe(5_000_000);
    vi.advanceTimersByTime(2500);
    expect(serverNow()).toBe(5_002_500);
  });

  it('runs a refresh every period until stopped', () => {
    vi.useFakeTimers({ now: 0 });
    let runs = 0;
    const stop = every(1000, () => runs++);
    vi.advanceTimersByTime(3500);
    expect(runs).toBe(3);
    stop();
    vi.advanceTimersByTime(5000);
    expect(runs).toBe(3);
  });
});
