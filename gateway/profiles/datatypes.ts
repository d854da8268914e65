// The vocabulary of register profiles: function codes, data types, byte orders and where a
// field sits on the wire. Shared by the profile checks, the codec and the read planner.

/** 1 read coils, 2 read discrete inputs, 3 read holding registers, 4 read input registers. */
export const FUNCTION_CODES = [1, 2, 3, 4] as const;
export type FunctionCode = (typeof FUNCTION_CODES)[number];
export const isBitFunction = (fn: FunctionCode): boolean => fn === 1 || fn === 2;

export const DATA_TYPES = ['bool', 'bit', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type DataType = (typeof DATA_TYPES)[number];
export const NUMBER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

/**
 * Byte layout of a value, named after a 32-bit value whose most significant byte is A:
 * ABCD = big-endian (Modbus' own order), CDAB = low word first, BADC = bytes swapped in
 * each word, DCBA = little-endian. 64-bit values follow the same two rules (word order,
 * byte order in a word). AB/BA are the 16-bit names; for 16-bit types CDAB reads as AB and
 * DCBA as BA.
 */
export const ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA', 'AB', 'BA'] as const;
export type Order = (typeof ORDERS)[number];

export interface TypeInfo {
  /** Registers (for bool: coils/inputs) the value occupies. */
  words: number;
  integer: boolean;
  /** Raw range of integer types. */
  min?: number;
  max?: number;
}

export const TYPE_INFO: Record<DataType, TypeInfo> = {
  bool: { words: 1, integer: false },
  bit: { words: 1, integer: false },
  int16: { words: 1, integer: true, min: -0x8000, max: 0x7fff },
  uint16: { words: 1, integer: true, min: 0, max: 0xffff },
  int32: { words: 2, integer: true, min: -0x80000000, max: 0x7fffffff },
  uint32: { words: 2, integer: true, min: 0, max: 0xffffffff },
  float32: { words: 2, integer: false },
  float64: { words: 4, integer: false },
};

/** The part of a field definition that says where it sits (structural, so checks can use it before parsing is done). */
export interface Placement {
  function: FunctionCode;
  register: number;
  type: DataType;
  add?: { register: number; type: NumberType } | undefined;
}

/** Where a field lives on the wire: function, first 0-based address, how many registers (or bits). */
export interface Span {
  function: FunctionCode;
  start: number;
  count: number;
}

/** The field's span from its first to its last register, an `add` part included. */
export function fieldSpan(addressing: 0 | 1, field: Placement): Span {
  const parts = [{ register: field.register, words: TYPE_INFO[field.type].words }];
  if (field.add) parts.push({ register: field.add.register, words: TYPE_INFO[field.add.type].words });
  const first = Math.min(...parts.map((p) => p.register));
  const end = Math.max(...parts.map((p) => p.register + p.words));
  return { function: field.function, start: first - addressing, count: end - first };
}
