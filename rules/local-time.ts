// Local calendar date and hour of an instant in the site's time zone (night windows, daily
// totals). Intl is deterministic for a given instant and zone: no clock is read here. The
// rules ask about the same few hundred hour starts over and over, so answers are kept.

const MEMO_LIMIT = 20_000;

export class LocalTime {
  private readonly format: Intl.DateTimeFormat;
  private readonly memo = new Map<number, { date: string; hour: number }>();

  constructor(readonly timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
  }

  parts(ts: number): { date: string; hour: number } {
    const known = this.memo.get(ts);
    if (known) return known;
    const p = Object.fromEntries(this.format.formatToParts(new Date(ts)).map((x) => [x.type, x.value]));
    const parts = { date: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour) };
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(ts, parts);
    return parts;
  }
}
