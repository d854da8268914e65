import { realTime, type ClockAndTimers } from '../../gateway/ports/clock.js';
import { decodeField, readImage, writeImage, type RegisterImage } from '../../gateway/profiles/codec.js';
import { fieldSpan, isBitFunction, type FunctionCode } from '../../gateway/profiles/datatypes.js';
import type { RegisterProfile } from '../../gateway/profiles/profile.js';
import type { FieldValue } from '../../rules/model/reading.js';
import { exceptionResponse, MODBUS_EXCEPTION, readResponse, writeResponse, type ReadFrame } from './frame.js';

// The devices behind one simulated line, whatever carries the frames (TCP or a serial
// port). Each unit serves its registers from its register profile through the codec the
// gateway decodes with, and misbehaves on demand like the hardware does:
// - an offline unit, or a unit id nobody configured, does not answer: the request times
//   out, as with a dead or absent slave (`unknownUnit: 'exception'` answers 0x0B "gateway
//   target device failed to respond" instead, as some TCP gateways do);
// - a read touching one of the profile's no_span ranges gets exception 02 (illegal data
//   address), a function code the profile never uses exception 01, a count beyond the
//   Modbus limits exception 03;
// - writes (05/06/15/16) are taken only on coils and holding registers the profile declares
//   writable, and change the unit's registers, so the next read shows them; a write to a
//   table the device has nothing writable in gets exception 01, to an address that is not
//   writable exception 02, as real devices answer; each write taken is handed on (`onWrite`,
//   decoded into the fields it touched) so the device behind it can act on it;
// - a delayed unit answers late.

export interface SimulatedDevice {
  unitId: number;
  profile: RegisterProfile;
  /** Canonical field values, encoded into registers with the profile. */
  values: Record<string, FieldValue>;
}

/** A write a unit took, as the canonical fields it changed (`valve_open: false`). */
export type WriteListener = (unitId: number, fields: Record<string, FieldValue>) => void;

export interface RequestRecord {
  /** Epoch ms the request arrived. */
  at: number;
  unitId: number;
  function: number;
  start: number;
  count: number;
  /** What the unit did: answered with data, with an exception, or not at all. */
  outcome: 'data' | 'exception' | 'silent';
  /** A write's values (05/06/15/16). */
  values?: number[] | boolean[];
}

/** What tests and drills can do to the simulated devices, on any transport. */
export interface SimulatedUnitsControl {
  /** Updates a unit's live values (only the fields given). */
  set(unitId: number, values: Record<string, FieldValue>): void;
  /** Writes raw registers or bits (fault injection: NaN floats, unknown status codes). */
  setRaw(unitId: number, fn: FunctionCode, address: number, data: readonly number[] | readonly boolean[]): void;
  /** An offline unit stops answering: its requests time out, like a dead slave. */
  setOffline(unitId: number, offline: boolean): void;
  /** Answer this unit's requests `ms` late. */
  setDelay(unitId: number, ms: number): void;
  /** Requests received (the last 10 000), optionally of one unit only. */
  requests(unitId?: number): RequestRecord[];
}

interface Unit {
  profile: RegisterProfile;
  image: RegisterImage;
  offline: boolean;
  delayMs: number;
  functions: Set<number>;
}

const LOG_LIMIT = 10_000;

export class SimulatedUnits implements SimulatedUnitsControl {
  private readonly units = new Map<number, Unit>();
  private readonly pending = new Set<unknown>();
  private readonly log: RequestRecord[] = [];

  constructor(
    devices: readonly SimulatedDevice[],
    private readonly unknownUnit: 'silent' | 'exception' = 'silent',
    private readonly onWrite?: WriteListener,
    /** The real clock and timers unless a test gives a ManualClock. */
    private readonly time: ClockAndTimers = realTime,
  ) {
    for (const d of devices) {
      if (!Number.isInteger(d.unitId) || d.unitId < 1 || d.unitId > 247)
        throw new RangeError(`unit id ${d.unitId}: must be 1…247`);
      if (this.units.has(d.unitId)) throw new Error(`unit id ${d.unitId} is configured twice`);
      this.units.set(d.unitId, {
        profile: d.profile,
        image: writeImage(d.profile, d.values),
        offline: false,
        delayMs: 0,
        functions: new Set(Object.values(d.profile.fields).map((f) => f.function)),
      });
    }
  }

  /** Handles one request; `reply` gets the response PDU (function code onwards), or is never called. */
  handle(frame: ReadFrame, reply: (pdu: Buffer) => void): void {
    const u = this.units.get(frame.unitId);
    if (!u || u.offline) {
      if (!u && this.unknownUnit === 'exception') {
        this.record(frame, 'exception');
        reply(exceptionResponse(frame.function, MODBUS_EXCEPTION.gatewayTargetFailed));
      } else {
        this.record(frame, 'silent');
      }
      return;
    }
    const write = WRITE_TABLE[frame.function];
    const refusal = write ? refuseWrite(u, frame, write) : refuse(u, frame);
    this.record(frame, refusal === undefined ? 'data' : 'exception');
    // The device answers with what its registers hold when it answers, and takes a write then.
    const answer = () => {
      if (refusal !== undefined) return reply(exceptionResponse(frame.function, refusal));
      if (!write)
        return reply(
          readResponse(frame.function, readImage(u.image, frame.function as FunctionCode, frame.start, frame.count)),
        );
      frame.values!.forEach((v, i) => (u.image[write] as Map<number, number | boolean>).set(frame.start + i, v));
      reply(writeResponse(frame));
      if (this.onWrite) this.onWrite(frame.unitId, writtenFields(u, write, frame.start, frame.values!.length));
    };
    if (u.delayMs <= 0) return answer();
    const t = this.time.setTimeout(() => {
      this.pending.delete(t);
      answer();
    }, u.delayMs);
    this.pending.add(t);
  }

  set(unitId: number, values: Record<string, FieldValue>): void {
    const u = this.unit(unitId);
    writeImage(u.profile, values, u.image);
  }

  setRaw(unitId: number, fn: FunctionCode, address: number, data: readonly number[] | readonly boolean[]): void {
    const u = this.unit(unitId);
    if (isBitFunction(fn) !== data.every((v) => typeof v === 'boolean'))
      throw new TypeError(`function ${fn} takes ${isBitFunction(fn) ? 'true/false bits' : '16-bit words'}`);
    data.forEach((v, i) => (u.image[fn] as Map<number, number | boolean>).set(address + i, v));
  }

  setOffline(unitId: number, offline: boolean): void {
    this.unit(unitId).offline = offline;
  }

  setDelay(unitId: number, ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`delay must be ≥ 0 ms, got ${ms}`);
    this.unit(unitId).delayMs = ms;
  }

  requests(unitId?: number): RequestRecord[] {
    const last = this.log.slice(-LOG_LIMIT);
    return unitId === undefined ? last : last.filter((r) => r.unitId === unitId);
  }

  /** Drops the answers still waiting out a delay. */
  close(): void {
    for (const t of this.pending) this.time.clearTimeout(t);
    this.pending.clear();
  }

  private unit(id: number): Unit {
    const u = this.units.get(id);
    if (!u) throw new Error(`no simulated unit ${id} (configured: ${[...this.units.keys()].join(', ')})`);
    return u;
  }

  private record(frame: ReadFrame, outcome: RequestRecord['outcome']): void {
    const r: RequestRecord = {
      at: this.time.now(),
      unitId: frame.unitId,
      function: frame.function,
      start: frame.start,
      count: frame.count,
      outcome,
    };
    if (frame.values) r.values = frame.values;
    this.log.push(r);
    // The oldest half goes at once when the log doubles: no copy of the whole log per request.
    if (this.log.length >= 2 * LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
  }
}

/** The table each write function writes: 05/15 coils, 06/16 holding registers. */
const WRITE_TABLE: Partial<Record<number, 1 | 3>> = { 5: 1, 15: 1, 6: 3, 16: 3 };
/** Most values one 15 / 16 request may carry (the Modbus specification's limits). */
const WRITE_LIMIT: Record<number, number> = { 5: 1, 6: 1, 15: 0x7b0, 16: 0x7b };

/** A device takes writes only to the coils and holding registers its profile declares writable. */
function refuseWrite(u: Unit, frame: ReadFrame, table: 1 | 3): number | undefined {
  const writable = Object.values(u.profile.fields).filter((f) => f.writable && f.function === table);
  if (writable.length === 0) return MODBUS_EXCEPTION.illegalFunction;
  if (frame.malformed || frame.count < 1 || frame.count > WRITE_LIMIT[frame.function]!)
    return MODBUS_EXCEPTION.illegalDataValue;
  const spans = writable.map((f) => fieldSpan(u.profile.addressing, f));
  for (let address = frame.start; address < frame.start + frame.count; address++) {
    if (!spans.some((s) => s.start <= address && address < s.start + s.count))
      return MODBUS_EXCEPTION.illegalDataAddress;
  }
  return undefined;
}

/** The writable fields a write of `count` values from `start` touched, decoded from the registers as they are now. */
function writtenFields(u: Unit, table: 1 | 3, start: number, count: number): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const [name, f] of Object.entries(u.profile.fields)) {
    if (!f.writable || f.function !== table) continue;
    const span = fieldSpan(u.profile.addressing, f);
    if (span.start >= start + count || start >= span.start + span.count) continue;
    const decoded = decodeField(f, readImage(u.image, span.function, span.start, span.count));
    if (decoded.ok) out[name] = decoded.value;
  }
  return out;
}

/** The exception a real device would answer this read with, if any. */
function refuse(u: Unit, frame: ReadFrame): number | undefined {
  const fn = frame.function;
  if (fn < 1 || fn > 4 || !u.functions.has(fn)) return MODBUS_EXCEPTION.illegalFunction;
  if (frame.malformed) return MODBUS_EXCEPTION.illegalDataValue;
  const limit = isBitFunction(fn as FunctionCode) ? 2000 : 125;
  if (frame.count < 1 || frame.count > limit) return MODBUS_EXCEPTION.illegalDataValue;
  if (frame.start + frame.count > 0x10000) return MODBUS_EXCEPTION.illegalDataAddress;
  const last = frame.start + frame.count - 1;
  const { profile } = u;
  const blocked = profile.no_span.some(
    (r) =>
      (r.function === undefined || r.function === fn) &&
      r.from - profile.addressing <= last &&
      frame.start <= r.to - profile.addressing,
  );
  return blocked ? MODBUS_EXCEPTION.illegalDataAddress : undefined;
}
