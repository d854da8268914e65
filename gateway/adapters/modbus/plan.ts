import { FUNCTION_CODES, fieldSpan, isBitFunction, type FunctionCode } from '../../profiles/datatypes.js';
import type { RegisterProfile } from '../../profiles/profile.js';
import { decodeField, type Decoded } from '../../profiles/codec.js';

// Which Modbus reads fetch a profile's fields: as few requests as possible, because on a
// shared RS-485 bus every request costs a turnaround and a slow or dead device stalls the
// others. Neighbouring registers of one function code share a request; a request never
// exceeds what the device accepts, reads through a hole only when that is cheaper than a
// new request, and never touches a range the device refuses (no_span).

export interface PlannedField {
  name: string;
  /** Position of the field's first register (or bit) in the request's data. */
  offset: number;
  count: number;
}

export interface ReadRequest {
  function: FunctionCode;
  /** 0-based address as sent on the wire. */
  start: number;
  count: number;
  fields: PlannedField[];
}

/**
 * The read requests for a profile, in a fixed order (function code, then address). Fields
 * are never split across requests, so a 32-bit value always comes from one response.
 */
export function planReads(profile: RegisterProfile): ReadRequest[] {
  const requests: ReadRequest[] = [];
  for (const fn of FUNCTION_CODES) {
    const bits = isBitFunction(fn);
    const limit = bits ? profile.max_bits_per_read : profile.max_registers_per_read;
    const maxGap = bits ? profile.max_bit_gap : profile.max_gap;
    const blocked = profile.no_span
      .filter((r) => r.function === undefined || r.function === fn)
      .map((r) => ({ first: r.from - profile.addressing, last: r.to - profile.addressing }));
    const spans = Object.entries(profile.fields)
      .filter(([, f]) => f.function === fn)
      .map(([name, f]) => ({ name, ...fieldSpan(profile.addressing, f) }))
      .sort((a, b) => a.start - b.start || b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    let open: { start: number; end: number; members: typeof spans } | undefined;
    const close = () => {
      if (!open) return;
      const { start, end, members } = open;
      requests.push({
        function: fn,
        start,
        count: end - start,
        fields: members.map((m) => ({ name: m.name, offset: m.start - start, count: m.count })),
      });
    };
    for (const span of spans) {
      const spanEnd = span.start + span.count;
      if (open) {
        const end = Math.max(open.end, spanEnd);
        const hole = span.start - open.end;
        const crossesBlocked = blocked.some((r) => r.first < end && open!.start <= r.last);
        if (hole <= maxGap && end - open.start <= limit && !crossesBlocked) {
          open.end = end;
          open.members.push(span);
          continue;
        }
        close();
      }
      open = { start: span.start, end: spanEnd, members: [span] };
    }
    close();
  }
  return requests;
}

/** Decodes every field of one request from the data its response carried. */
export function decodeReadResult(
  profile: RegisterProfile,
  request: ReadRequest,
  data: readonly number[] | readonly boolean[],
): Record<string, Decoded> {
  const out: Record<string, Decoded> = {};
  for (const f of request.fields) {
    const field = profile.fields[f.name];
    if (!field) throw new Error(`profile ${profile.name} has no field ${f.name} (a plan from another profile?)`);
    // The field's span starts at its offset in the response: the codec reads it in place.
    out[f.name] = decodeField(field, data, f.offset);
  }
  return out;
}
