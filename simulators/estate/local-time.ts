import { wallTime } from '../../rules/local-time.js';

// Device behaviour follows the site's wall clock (people shower at 7 in Shanghai, not at 7
// UTC) and its calendar (heating is on from mid-November). The estate works in epoch ms, so
// this turns an instant into the site's local hour and date.

export interface LocalTime {
  /** Hour of the local day, with its fraction (7.5 = 07:30). */
  hour: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** Whole local days since 1970-01-01: a day counter for schedules (maintenance every 15 days). */
  dayNumber: number;
  /** Whether the local date is inside the heating season. */
  heatingSeason: boolean;
}

/** A yearly period as month-day pairs; `from` after `to` wraps over New Year. */
export interface Season {
  from: { month: number; day: number };
  to: { month: number; day: number };
}

/** North China's statutory heating season: 15 November to 15 March. */
export const NORTH_CHINA_HEATING: Season = { from: { month: 11, day: 15 }, to: { month: 3, day: 15 } };

export function inSeason(month: number, day: number, season: Season): boolean {
  const md = month * 100 + day;
  const from = season.from.month * 100 + season.from.day;
  const to = season.to.month * 100 + season.to.day;
  return from <= to ? md >= from && md <= to : md >= from || md <= to;
}

/**
 * Local time in one zone. The wall clock comes from the one time-zone helper
 * (rules/local-time.ts); it costs microseconds and the estate asks every simulated second, so
 * the calendar part is computed once per minute (every zone's offset is a whole number of
 * minutes) and the rest is arithmetic.
 */
export class LocalCalendar {
  private cachedMinute = Number.NaN;
  private cached: Omit<LocalTime, 'hour'> & { minuteHour: number } = {
    month: 1,
    day: 1,
    weekday: 0,
    dayNumber: 0,
    heatingSeason: false,
    minuteHour: 0,
  };

  constructor(
    readonly timeZone: string,
    private readonly season: Season = NORTH_CHINA_HEATING,
  ) {}

  at(ms: number): LocalTime {
    const minute = Math.floor(ms / 60_000);
    if (minute !== this.cachedMinute) {
      const w = wallTime(minute * 60_000, this.timeZone);
      const dayNumber = Math.round(Date.UTC(w.year, w.month - 1, w.day) / 86_400_000);
      this.cached = {
        month: w.month,
        day: w.day,
        // 1970-01-01 was a Thursday.
        weekday: (((dayNumber + 4) % 7) + 7) % 7,
        dayNumber,
        heatingSeason: inSeason(w.month, w.day, this.season),
        minuteHour: w.hour + w.minute / 60,
      };
      this.cachedMinute = minute;
    }
    const { minuteHour, ...rest } = this.cached;
    return { ...rest, hour: minuteHour + (ms - minute * 60_000) / 3_600_000 };
  }
}
