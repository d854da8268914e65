// Modbus framing for the simulators: reads with functions 01-04 and the writes a gateway
// sends to actuators (05/06 one coil/register, 15/16 several).
// - TCP: the MBAP header (transaction id, protocol id 0, length, unit id) before the PDU;
// - RTU: unit id, PDU, CRC-16 (low byte first). A read request and a 05/06 write are always
//   8 bytes; a 15/16 write is 9 bytes plus its data, whose length is its seventh byte.

/** Modbus exception codes the simulators answer with. */
export const MODBUS_EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  gatewayTargetFailed: 0x0b,
} as const;

export interface ReadFrame {
  unitId: number;
  function: number;
  /** For reads (01-04): first address and count; 0 otherwise. */
  start: number;
  count: number;
  /** A read whose PDU is not exactly function + start + count. */
  malformed: boolean;
  /** Writes (05, 06, 15, 16): the values to write from `start` (`count` of them). */
  values?: number[] | boolean[];
}

export interface TcpFrame extends ReadFrame {
  transactionId: number;
}

const MBAP = 7; // transaction id, protocol id, length (2 bytes each), unit id
/** Unit id + the largest PDU (253 bytes). */
const MAX_LENGTH = 254;

const isRead = (fn: number) => fn >= 1 && fn <= 4;

/**
 * Cuts complete TCP frames off the front of `buffer`; `rest` is an incomplete tail to keep.
 * `garbage` when the stream cannot be Modbus TCP (the connection should be dropped).
 */
export function parseTcpFrames(buffer: Buffer): { frames: TcpFrame[]; rest: Buffer; garbage: boolean } {
  const frames: TcpFrame[] = [];
  let at = 0;
  while (buffer.length - at >= MBAP) {
    const protocolId = buffer.readUInt16BE(at + 2);
    const length = buffer.readUInt16BE(at + 4);
    if (protocolId !== 0 || length < 2 || length > MAX_LENGTH) return { frames, rest: Buffer.alloc(0), garbage: true };
    if (buffer.length - at < 6 + length) break;
    const pdu = buffer.subarray(at + MBAP, at + 6 + length);
    frames.push({ transactionId: buffer.readUInt16BE(at), ...readOf(buffer.readUInt8(at + 6), pdu) });
    at += 6 + length;
  }
  return { frames, rest: at === buffer.length ? EMPTY : Buffer.from(buffer.subarray(at)), garbage: false };
}

const EMPTY = Buffer.alloc(0);

export function tcpFrame(transactionId: number, unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(MBAP + pdu.length);
  frame.writeUInt16BE(transactionId, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame.writeUInt8(unitId, 6);
  pdu.copy(frame, MBAP);
  return frame;
}

/**
 * Cuts requests off the front of bytes received on a serial line. RTU has no length field:
 * a byte that cannot start a valid request (bad CRC, another function) is skipped, so the
 * parser finds the next frame after line noise.
 */
export function parseRtuFrames(buffer: Buffer): { frames: ReadFrame[]; rest: Buffer } {
  const frames: ReadFrame[] = [];
  let at = 0;
  while (buffer.length - at >= 2) {
    const length = rtuRequestLength(buffer, at);
    if (length === 0) {
      at++;
      continue;
    }
    if (length === undefined || buffer.length - at < length) break;
    const frame = buffer.subarray(at, at + length);
    if (crc16(frame.subarray(0, length - 2)) !== frame.readUInt16LE(length - 2)) {
      at++;
      continue;
    }
    frames.push(readOf(frame.readUInt8(0), frame.subarray(1, length - 2)));
    at += length;
  }
  return { frames, rest: Buffer.from(buffer.subarray(at)) };
}

/** The length of the request starting at `at`; 0 when no request starts there, undefined when more bytes are needed to tell. */
function rtuRequestLength(buffer: Buffer, at: number): number | undefined {
  const fn = buffer.readUInt8(at + 1);
  if (isRead(fn) || fn === 5 || fn === 6) return 8;
  if (fn !== 15 && fn !== 16) return 0;
  if (buffer.length - at < 7) return undefined;
  // Unit, function, address, quantity, byte count, data, CRC; a request PDU is at most 253 bytes.
  const bytes = buffer.readUInt8(at + 6);
  return bytes > 246 ? 0 : 9 + bytes;
}

export function rtuFrame(unitId: number, pdu: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([unitId]), pdu]);
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(crc16(body));
  return Buffer.concat([body, crc]);
}

/** Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF). */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The PDU answering a read: function, byte count, then registers big-endian or bits packed LSB first. */
export function readResponse(fn: number, data: readonly number[] | readonly boolean[]): Buffer {
  if (fn === 1 || fn === 2) {
    const bytes = Math.ceil(data.length / 8);
    const out = Buffer.alloc(2 + bytes);
    out.writeUInt8(fn, 0);
    out.writeUInt8(bytes, 1);
    data.forEach((bit, i) => {
      if (bit === true) out[2 + (i >> 3)]! |= 1 << (i & 7);
    });
    return out;
  }
  const out = Buffer.allocUnsafe(2 + data.length * 2);
  out.writeUInt8(fn, 0);
  out.writeUInt8(data.length * 2, 1);
  for (let i = 0; i < data.length; i++) out.writeUInt16BE(data[i] as number, 2 + i * 2);
  return out;
}

export function exceptionResponse(fn: number, code: number): Buffer {
  return Buffer.from([(fn | 0x80) & 0xff, code]);
}

const WRITES = new Set([5, 6, 15, 16]);

function writeOf(unitId: number, fn: number, pdu: Buffer): ReadFrame {
  const bad = { unitId, function: fn, start: 0, count: 0, malformed: true };
  if (pdu.length < 5) return bad;
  const start = pdu.readUInt16BE(1);
  if (fn === 5 || fn === 6) {
    if (pdu.length !== 5) return bad;
    const v = pdu.readUInt16BE(3);
    if (fn === 5 && v !== 0xff00 && v !== 0) return bad;
    return { unitId, function: fn, start, count: 1, malformed: false, values: fn === 5 ? [v === 0xff00] : [v] };
  }
  const count = pdu.readUInt16BE(3);
  const bytes = pdu.length >= 6 ? pdu.readUInt8(5) : -1;
  if (bytes !== pdu.length - 6 || bytes !== (fn === 15 ? Math.ceil(count / 8) : count * 2)) return bad;
  const data = pdu.subarray(6);
  const values =
    fn === 15
      ? Array.from({ length: count }, (_, i) => ((data[i >> 3]! >> (i & 7)) & 1) === 1)
      : Array.from({ length: count }, (_, i) => data.readUInt16BE(i * 2));
  return { unitId, function: fn, start, count, malformed: false, values };
}

/** The PDU confirming a write: 05/06 echo the request; 15/16 answer address and quantity. */
export function writeResponse(frame: ReadFrame): Buffer {
  const out = Buffer.alloc(5);
  out.writeUInt8(frame.function, 0);
  out.writeUInt16BE(frame.start, 1);
  if (frame.function === 5) out.writeUInt16BE(frame.values![0] ? 0xff00 : 0, 3);
  else if (frame.function === 6) out.writeUInt16BE(frame.values![0] as number, 3);
  else out.writeUInt16BE(frame.count, 3);
  return out;
}

function readOf(unitId: number, pdu: Buffer): ReadFrame {
  const fn = pdu.readUInt8(0);
  if (WRITES.has(fn)) return writeOf(unitId, fn, pdu);
  const wellFormed = isRead(fn) && pdu.length === 5;
  return {
    unitId,
    function: fn,
    start: wellFormed ? pdu.readUInt16BE(1) : 0,
    count: wellFormed ? pdu.readUInt16BE(3) : 0,
    malformed: isRead(fn) && !wellFormed,
  };
}
