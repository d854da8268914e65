import type { FieldValue } from '../../rules/model/reading.js';
import { fieldSpan, isBitFunction, TYPE_INFO, type FunctionCode, type NumberType, type Order } from './datatypes.js';
import type { RegisterField, RegisterProfile } from './profile.js';

// Registers ⇄ canonical values, one field at a time, both ways: the gateway decodes what it
// polls and the device simulators encode what they serve, from the same profile, so the two
// can never disagree about a register map.

/** Why a field could not be decoded; the caller reports it and keeps the device's other fields. */
export type DecodeError =
  /** An enum/status code the profile's map does not know. */
  | 'unknown_code'
  /** A float register holding NaN or ±Infinity (a sensor fault on many meters). */
  | 'not_a_number'
  /** A raw value the device uses for "no value available" (the profile's no_data). */
  | 'no_data'
  /** The data handed in does not fit the field (too short, not 16-bit words, not booleans). */
  | 'bad_data';

export type Decoded =
  | { ok: true; value: FieldValue; raw: number | boolean }
  | { ok: false; error: DecodeError; raw?: number; detail: string };

/**
 * Decodes one field. `data` holds the field's span as read from the device: for registers,
 * the 16-bit words from the field's first register (its `add` part included); for coils and
 * discrete inputs, the one bit. `at` is where the span starts in `data` (a whole response
 * can be handed in without slicing it per field).
 */
export function decodeField(field: RegisterField, data: readonly number[] | readonly boolean[], at = 0): Decoded {
  if (isBitFunction(field.function)) {
    const bit = data[at];
    if (typeof bit !== 'boolean') return bad(`expected a coil/input state, got ${JSON.stringify(bit)}`);
    return { ok: true, value: field.invert ? !bit : bit, raw: bit };
  }
  const shape = shapeOf(field);
  if (!wordsFit(data, at, shape.count))
    return bad(`expected ${shape.count} 16-bit registers, got ${JSON.stringify(data.slice(at, at + shape.count))}`);
  const words = data as readonly number[];
  if (field.type === 'bit') {
    const word = readNumber('uint16', field.order, words, at + shape.main);
    const on = ((word >> bitOf(field)) & 1) === 1;
    return { ok: true, value: field.invert ? !on : on, raw: word };
  }
  const type = field.type as NumberType;
  const raw = readNumber(type, field.order, words, at + shape.main);
  if (field.no_data?.includes(raw))
    return { ok: false, error: 'no_data', raw, detail: `${raw} means "no value" on this device` };
  if (!Number.isFinite(raw)) return { ok: false, error: 'not_a_number', raw, detail: `the register holds ${raw}` };

  if (field.map) {
    const mapped = field.map[String(raw)];
    if (mapped === undefined) {
      return {
        ok: false,
        error: 'unknown_code',
        raw,
        detail: `code ${raw} is not in the map (known: ${Object.keys(field.map).join(', ')})`,
      };
    }
    return { ok: true, value: typeof mapped === 'boolean' && field.invert ? !mapped : mapped, raw };
  }

  let value = type === 'float32' ? shortestFloat32(raw) : raw;
  // Neither scaled nor shifted nor added to: the value is already the shortest decimal (+0 for -0).
  if (shape.plain) return { ok: true, value: value + 0, raw };
  let digits = decimalsOf(value);
  if (field.add) {
    const part = addedPart(field.add, words, at + shape.added);
    if (typeof part === 'string') return { ok: false, error: 'not_a_number', raw, detail: part };
    digits = Math.max(digits, decimalsOf(part));
    value = roundTo(value + part, digits);
  }
  value = roundTo(value * field.scale + field.offset, Math.max(digits + shape.scaleDigits, shape.offsetDigits));
  if (!Number.isFinite(value))
    return { ok: false, error: 'not_a_number', raw, detail: `${raw} × ${field.scale} is not a finite number` };
  return { ok: true, value, raw };
}

/** Where a register field's parts sit in its span, and the decimals of its scale and offset: worked out once per field. */
interface FieldShape {
  count: number;
  /** Word index of the value in the span. */
  main: number;
  /** Word index of the `add` part in the span. */
  added: number;
  scaleDigits: number;
  offsetDigits: number;
  /** No scale, offset or added part: the raw value (or its shortest float32 decimal) is the value. */
  plain: boolean;
}

const shapes = new WeakMap<RegisterField, FieldShape>();

function shapeOf(field: RegisterField): FieldShape {
  let shape = shapes.get(field);
  if (!shape) {
    const span = fieldSpan(0, field);
    shape = {
      count: span.count,
      main: field.register - span.start,
      added: field.add ? field.add.register - span.start : 0,
      scaleDigits: decimalsOf(field.scale),
      offsetDigits: decimalsOf(field.offset),
      plain: field.scale === 1 && field.offset === 0 && !field.add,
    };
    shapes.set(field, shape);
  }
  return shape;
}

/** `count` 16-bit words from `at`. */
function wordsFit(data: readonly number[] | readonly boolean[], at: number, count: number): boolean {
  if (data.length - at < count) return false;
  for (let i = at; i < at + count; i++) if (!isWord(data[i])) return false;
  return true;
}

/** The value of a field's added register (a counter's low part), or why it has none. */
function addedPart(add: NonNullable<RegisterField['add']>, words: readonly number[], at: number): number | string {
  const partRaw = readNumber(add.type, add.order, words, at);
  if (!Number.isFinite(partRaw)) return `the added register ${add.register} holds ${partRaw}`;
  return add.type === 'float32' ? shortestFloat32(partRaw) : partRaw;
}

/**
 * The registers (or the bit) that make a device report `value` for this field. `current`
 * is what the field's span holds now: a `bit` field changes only its own bit of the word
 * (several flags share one status register), and an `add` part keeps the words between.
 * Throws when the value cannot be represented: a simulator asking for it is a bug.
 */
export function encodeField(
  field: RegisterField,
  value: FieldValue,
  current?: readonly number[] | readonly boolean[],
): number[] | boolean[] {
  if (isBitFunction(field.function)) {
    if (typeof value !== 'boolean') throw new TypeError(`expected true/false, got ${JSON.stringify(value)}`);
    return [field.invert ? !value : value];
  }
  const span = fieldSpan(0, field);
  const words = Array.from({ length: span.count }, (_, i) =>
    typeof current?.[i] === 'number' ? (current[i] as number) : 0,
  );
  const put = (register: number, part: number[]) => words.splice(register - span.start, part.length, ...part);

  if (field.type === 'bit') {
    if (typeof value !== 'boolean') throw new TypeError(`expected true/false, got ${JSON.stringify(value)}`);
    const on = field.invert ? !value : value;
    const mask = 1 << bitOf(field);
    const word = readNumber('uint16', field.order, words, 0);
    put(field.register, writeNumber('uint16', field.order, on ? word | mask : word & ~mask & 0xffff));
    return words;
  }
  const type = field.type as NumberType;
  if (field.map) {
    const wanted = typeof value === 'boolean' && field.invert ? !value : value;
    const code = Object.keys(field.map).find((k) => field.map![k] === wanted);
    if (code === undefined)
      throw new RangeError(
        `${JSON.stringify(value)} is not a value of the map (${Object.values(field.map).join(', ')})`,
      );
    put(field.register, writeNumber(type, field.order, Number(code)));
    return words;
  }
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TypeError(`expected a finite number, got ${JSON.stringify(value)}`);
  const raw = (value - field.offset) / field.scale;
  let main = TYPE_INFO[type].integer ? Math.round(raw) : raw;
  if (field.add) {
    // The device keeps the whole units in the integer register and the rest in the other one.
    let part = 0;
    if (TYPE_INFO[type].integer && !TYPE_INFO[field.add.type].integer) {
      main = Math.floor(raw);
      part = raw - main;
    }
    put(field.add.register, writeNumber(field.add.type, field.add.order, part));
  }
  put(field.register, writeNumber(type, field.order, main));
  return words;
}

/** What a device serves, by function code and 0-based address; what is absent reads as 0/false. */
export interface RegisterImage {
  1: Map<number, boolean>;
  2: Map<number, boolean>;
  3: Map<number, number>;
  4: Map<number, number>;
}

export const emptyImage = (): RegisterImage => ({ 1: new Map(), 2: new Map(), 3: new Map(), 4: new Map() });

/** Reads `count` registers or bits from an image, as a Modbus read would. */
export function readImage(image: RegisterImage, fn: FunctionCode, start: number, count: number): number[] | boolean[] {
  if (isBitFunction(fn)) {
    const bits = image[fn as 1 | 2];
    return Array.from({ length: count }, (_, i) => bits.get(start + i) ?? false);
  }
  const regs = image[fn as 3 | 4];
  return Array.from({ length: count }, (_, i) => regs.get(start + i) ?? 0);
}

/** Writes canonical values into an image with the profile's register map (for simulators and tests). */
export function writeImage(
  profile: RegisterProfile,
  values: Record<string, FieldValue>,
  image: RegisterImage = emptyImage(),
): RegisterImage {
  for (const [name, value] of Object.entries(values)) {
    const field = profile.fields[name];
    if (!field) throw new Error(`profile ${profile.name} has no field ${name}`);
    const span = fieldSpan(profile.addressing, field);
    let encoded: number[] | boolean[];
    try {
      encoded = encodeField(field, value, readImage(image, span.function, span.start, span.count));
    } catch (err) {
      throw new RangeError(`profile ${profile.name}, field ${name}: ${(err as Error).message}`, { cause: err });
    }
    encoded.forEach((v, i) => (image[span.function] as Map<number, number | boolean>).set(span.start + i, v));
  }
  return image;
}

// ---- words ⇄ numbers ----

const wordSwapped = (order: Order) => order === 'CDAB' || order === 'DCBA';
const byteSwapped = (order: Order) => order === 'BADC' || order === 'DCBA' || order === 'BA';

/** One value's bytes, most significant first; reused by every read (decoding is synchronous). */
const scratch = new DataView(new ArrayBuffer(8));

/** The registers of one value from `at`, in wire order → the value's bytes most significant first, in `scratch`. */
function toBigEndian(words: readonly number[], at: number, n: number, order: Order): DataView {
  const reverse = n > 1 && wordSwapped(order);
  const swap = byteSwapped(order);
  for (let i = 0; i < n; i++) {
    const w = words[at + (reverse ? n - 1 - i : i)]!;
    scratch.setUint16(i * 2, swap ? ((w & 0xff) << 8) | (w >> 8) : w);
  }
  return scratch;
}

function fromBigEndian(view: DataView, order: Order): number[] {
  const words: number[] = [];
  for (let i = 0; i < view.byteLength; i += 2) {
    const w = view.getUint16(i);
    words.push(byteSwapped(order) ? ((w & 0xff) << 8) | (w >> 8) : w);
  }
  return words.length > 1 && wordSwapped(order) ? words.reverse() : words;
}

/** The value of `type` in the registers from `at` (wire order). */
function readNumber(type: NumberType, order: Order, words: readonly number[], at: number): number {
  const view = toBigEndian(words, at, TYPE_INFO[type].words, order);
  switch (type) {
    case 'int16':
      return view.getInt16(0);
    case 'uint16':
      return view.getUint16(0);
    case 'int32':
      return view.getInt32(0);
    case 'uint32':
      return view.getUint32(0);
    case 'float32':
      return view.getFloat32(0);
    case 'float64':
      return view.getFloat64(0);
  }
}

function writeNumber(type: NumberType, order: Order, value: number): number[] {
  const info = TYPE_INFO[type];
  if (info.integer && (!Number.isInteger(value) || value < info.min! || value > info.max!)) {
    throw new RangeError(`${value} does not fit in ${type} (${info.min}…${info.max})`);
  }
  const view = new DataView(new ArrayBuffer(info.words * 2));
  switch (type) {
    case 'int16':
      view.setInt16(0, value);
      break;
    case 'uint16':
      view.setUint16(0, value);
      break;
    case 'int32':
      view.setInt32(0, value);
      break;
    case 'uint32':
      view.setUint32(0, value);
      break;
    case 'float32':
      view.setFloat32(0, value);
      break;
    case 'float64':
      view.setFloat64(0, value);
      break;
  }
  return fromBigEndian(view, order);
}

// ---- decimals ----

/**
 * A float32 as the shortest decimal that is the same float32: what the meter's own display
 * shows (230.1, not 230.10000610351562).
 */
export function shortestFloat32(x: number): number {
  // Decimal strings are slow: find the digit count with binary arithmetic first (a guess, as
  // x × 10^k rounds), then confirm it with two decimal conversions; a wrong guess falls back
  // to trying every digit count, which the result always equals.
  const p = guessDigits(x);
  if (p !== undefined && p <= 9) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x && (p === 1 || Math.fround(Number(x.toPrecision(p - 1))) !== x)) return y;
  }
  return shortestFloat32Slow(x);
}

/** The reference: the fewest significant digits (1…9) that give back the same float32. */
export function shortestFloat32Slow(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** The fewest significant digits whose binary rounding of `x` gives back the same float32, if that is easy to tell. */
function guessDigits(x: number): number | undefined {
  if (x === 0 || !Number.isFinite(x)) return undefined;
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  for (let p = 1; p <= 9; p++) {
    const k = p - 1 - magnitude;
    if (k > 22 || k < -22) return undefined;
    const y =
      k >= 0
        ? Math.round(x * POWERS_OF_TEN[k]!) / POWERS_OF_TEN[k]!
        : Math.round(x / POWERS_OF_TEN[-k]!) * POWERS_OF_TEN[-k]!;
    if (Math.fround(y) === x) return p;
  }
  return undefined;
}

/** Digits after the decimal point of a number's shortest representation. */
function decimalsOf(x: number): number {
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return 0;
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(Math.abs(x)));
  if (!m) return 0;
  return Math.max(0, (m[2]?.length ?? 0) - Number(m[3] ?? 0));
}

/**
 * Register arithmetic in decimal: 2301 × 0.1 is 230.1, not 230.10000000000002. The exact
 * result has at most `digits` decimals, so rounding the binary result to them recovers it.
 */
function roundTo(x: number, digits: number): number {
  if (!Number.isFinite(x) || digits > 15) return x;
  return Number(x.toFixed(digits));
}

function bitOf(field: RegisterField): number {
  if (field.bit === undefined)
    throw new Error('a bit field without a bit number (the profile check should have refused it)');
  return field.bit;
}

const isWord = (w: unknown): w is number => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= 0xffff;

const bad = (detail: string): Decoded => ({ ok: false, error: 'bad_data', detail });
