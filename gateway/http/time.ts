import { z } from 'zod';

// A time without a zone is ambiguous (the gateway's zone? the browser's?), so it is refused.
const ISO = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
// Epoch ms between 1973 and 5138: smaller is almost surely epoch seconds, larger microseconds.
const MIN_MS = 1e11;
const MAX_MS = 1e14;

const HOW = 'use ISO-8601 with a zone (2024-05-01T08:00:00+08:00) or epoch milliseconds';

/** Epoch ms from ISO-8601-with-zone or epoch ms (number or digits); a string says what is wrong. */
export function parseInstant(value: string | number): number | string {
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const ms = Number(value);
    if (!Number.isFinite(ms)) return `not a time: ${HOW}`;
    if (ms < MIN_MS) return `${value} looks like epoch seconds; ${HOW}`;
    if (ms >= MAX_MS) return `${value} is too large for epoch milliseconds; ${HOW}`;
    return ms;
  }
  const m = ISO.exec(value);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value)) return `"${value}" has no time zone; add Z or an offset like +08:00`;
    return `"${value}" is not a time; ${HOW}`;
  }
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.parse(value);
  // Date.parse rolls 2024-02-30 over into March; a date that does not exist is a typo.
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (Number.isNaN(ms) || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d)
    return `"${value}" is not a valid date`;
  return ms;
}

function toEpochMs(value: string | number, ctx: z.core.$RefinementCtx<string | number>): number {
  const parsed = parseInstant(value);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
}

/** A time in a JSON body (ISO string or epoch-ms number); parses to epoch ms. */
export const instant = z.union([z.string(), z.number()]).transform(toEpochMs);

/**
 * A time in a query string (always text there); parses to epoch ms. A "+08:00" typed into a
 * URL without encoding arrives as " 08:00" (a + means space in a query), so that is taken back.
 */
export const instantParam = z
  .string()
  .transform((s) => s.replace(/(T[\d:.]+) (\d{2}:?\d{2})$/, '$1+$2'))
  .transform(toEpochMs);

export const iso = (ms: number): string => new Date(ms).toISOString();
