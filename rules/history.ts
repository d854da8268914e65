// The little history some rules need, folded from readings as they arrive: per device and
// field, the minimum and maximum of each hour (continuous flow, night flow, a circuit that
// normally draws power), and for pumps their run lengths (a sump pump running longer than
// ever before means water is coming in). Bounded: 8 days of hours per tracked field.

const HOUR_MS = 3_600_000;
const KEEP_HOURS = 8 * 24;

export interface HourStat {
  /** Start of the hour, epoch ms (UTC hours; local windows are picked by the caller). */
  hour: number;
  min: number;
  max: number;
  count: number;
}

export class HourlyHistory {
  /** Newest last. */
  readonly hours: HourStat[] = [];

  add(ts: number, value: number): void {
    const hour = Math.floor(ts / HOUR_MS) * HOUR_MS;
    const last = this.hours.at(-1);
    if (last && last.hour === hour) {
      last.min = Math.min(last.min, value);
      last.max = Math.max(last.max, value);
      last.count++;
      return;
    }
    if (last && hour < last.hour) {
      // A late reading: fold it into its own hour if we still have it, else drop it.
      const h = this.hours.find((x) => x.hour === hour);
      if (h) {
        h.min = Math.min(h.min, value);
        h.max = Math.max(h.max, value);
        h.count++;
      }
      return;
    }
    this.hours.push({ hour, min: value, max: value, count: 1 });
    if (this.hours.length > KEEP_HOURS) this.hours.splice(0, this.hours.length - KEEP_HOURS);
  }

  /** The hours that started in [from, to). */
  between(from: number, to: number): HourStat[] {
    return this.hours.filter((h) => h.hour >= from && h.hour < to);
  }
}

/** Run lengths of a pump, from its `running` feedback. */
export class RunHistory {
  runningSince: number | undefined;
  /** Finished runs, seconds, newest last (the last 50). */
  readonly runs: number[] = [];

  add(ts: number, running: boolean): void {
    if (running && this.runningSince === undefined) this.runningSince = ts;
    if (!running && this.runningSince !== undefined) {
      this.runs.push((ts - this.runningSince) / 1000);
      if (this.runs.length > 50) this.runs.shift();
      this.runningSince = undefined;
    }
  }

  longest(): number | undefined {
    return this.runs.length ? Math.max(...this.runs) : undefined;
  }
}

export const HOUR = HOUR_MS;
