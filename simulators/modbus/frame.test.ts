import { describe, expect, it } from 'vitest';
import { crc16, parseRtuFrames, parseTcpFrames, readResponse, rtuFrame, tcpFrame, writeResponse } from './frame.js';

describe('Modbus framing (simulator side)', () => {
  it('computes the Modbus CRC of the textbook request "01 04 00 00 00 02" as 71 CB', () => {
    const request = Buffer.from([0x01, 0x04, 0x00, 0x00, 0x00, 0x02]);
    expect(rtuFrame(1, request.subarray(1))).toEqual(Buffer.from([0x01, 0x04, 0x00, 0x00, 0x00, 0x02, 0x71, 0xcb]));
    expect(crc16(request)).toBe(0xcb71);
  });

  it('finds RTU read requests after line noise, skips bad CRCs, keeps an incomplete tail', () => {
    const good = Buffer.from([0x01, 0x04, 0x00, 0x00, 0x00, 0x02, 0x71, 0xcb]);
    const corrupt = Buffer.from(good);
    corrupt[5] = 0x03;
    const stream = Buffer.concat([Buffer.from([0x00, 0xff]), corrupt, good, good.subarray(0, 5)]);
    const { frames, rest } = parseRtuFrames(stream);
    expect(frames).toEqual([{ unitId: 1, function: 4, start: 0, count: 2, malformed: false }]);
    expect(rest).toEqual(good.subarray(0, 5));
  });

  it('finds RTU writes (05, 06 fixed length; 15, 16 by their byte count) among reads and noise', () => {
    const coil = rtuFrame(3, Buffer.from([0x05, 0x00, 0x00, 0xff, 0x00]));
    const register = rtuFrame(3, Buffer.from([0x06, 0x00, 0x64, 0x00, 0x03]));
    const coils = rtuFrame(3, Buffer.from([0x0f, 0x00, 0x00, 0x00, 0x03, 0x01, 0b101]));
    const float = rtuFrame(3, Buffer.from([0x10, 0x00, 0x0a, 0x00, 0x02, 0x04, 0x42, 0x90, 0x00, 0x00]));
    const read = rtuFrame(3, Buffer.from([0x03, 0x00, 0x0a, 0x00, 0x02]));
    const { frames, rest } = parseRtuFrames(
      Buffer.concat([Buffer.from([0x10]), coil, register, coils, float, read, float.subarray(0, 9)]),
    );
    expect(frames).toEqual([
      { unitId: 3, function: 5, start: 0, count: 1, malformed: false, values: [true] },
      { unitId: 3, function: 6, start: 100, count: 1, malformed: false, values: [3] },
      { unitId: 3, function: 15, start: 0, count: 3, malformed: false, values: [true, false, true] },
      { unitId: 3, function: 16, start: 10, count: 2, malformed: false, values: [0x4290, 0] },
      { unitId: 3, function: 3, start: 10, count: 2, malformed: false },
    ]);
    // A write whose data has not all arrived waits for the rest.
    expect(rest).toEqual(float.subarray(0, 9));
    // 05/06 echo the request; 15/16 confirm address and quantity.
    expect(writeResponse(frames[0]!)).toEqual(Buffer.from([0x05, 0x00, 0x00, 0xff, 0x00]));
    expect(writeResponse(frames[3]!)).toEqual(Buffer.from([0x10, 0x00, 0x0a, 0x00, 0x02]));
  });

  it('cuts TCP frames by their MBAP length and flags a stream that is not Modbus TCP', () => {
    const one = tcpFrame(7, 3, Buffer.from([0x03, 0x00, 0x10, 0x00, 0x04]));
    const { frames, rest, garbage } = parseTcpFrames(Buffer.concat([one, one.subarray(0, 4)]));
    expect(frames).toEqual([{ transactionId: 7, unitId: 3, function: 3, start: 16, count: 4, malformed: false }]);
    expect(rest).toHaveLength(4);
    expect(garbage).toBe(false);
    expect(parseTcpFrames(Buffer.from('GET / HTTP/1.1\r\n')).garbage).toBe(true);
  });

  it('packs bits LSB first and registers big-endian', () => {
    expect(readResponse(2, [true, false, true, true, false, false, false, false, true])).toEqual(
      Buffer.from([0x02, 0x02, 0x0d, 0x01]),
    );
    expect(readResponse(4, [0x4366, 0x0001])).toEqual(Buffer.from([0x04, 0x04, 0x43, 0x66, 0x00, 0x01]));
  });
});
