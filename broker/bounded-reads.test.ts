import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boundReads } from './bounded-reads.js';

const turn = () => new Promise((r) => setImmediate(r));
// As aedes reads: read(null), everything buffered (a size the types do not name).
const readAll = (stream: PassThrough) => (stream.read as unknown as (size: null) => Buffer | null)(null);

function reader() {
  const calls: number[] = [];
  const client = { _parsingBatch: 0, _paused: false, _nextBatch: () => calls.push(stream.readableLength) };
  const stream = new PassThrough();
  boundReads(stream, client, 1000);
  return { stream, client, calls };
}

describe('boundReads', () => {
  it('gives at most max bytes to a read of everything, in order, and all of a small buffer at once', async () => {
    const { stream } = reader();
    const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    stream.write(data);
    await turn();
    const parts: Buffer[] = [];
    for (let chunk = readAll(stream); chunk; chunk = readAll(stream)) parts.push(chunk);
    expect(parts.map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    stream.write(Buffer.alloc(10));
    await turn();
    expect((stream.read(4) as Buffer).length).toBe(4);
  });

  it('asks again for the rest when the client is idle after a part (a part may hold no whole packet)', async () => {
    const { stream, client, calls } = reader();
    stream.write(Buffer.alloc(1500));
    await turn();
    readAll(stream);
    await turn();
    expect(calls).toEqual([500]);
    // Busy with packets, or paused: the client asks itself when it is done or resumed.
    stream.write(Buffer.alloc(1500));
    await turn();
    readAll(stream);
    client._parsingBatch = 3;
    await turn();
    client._parsingBatch = 0;
    client._paused = true;
    readAll(stream);
    await turn();
    expect(calls).toEqual([500]);
  });
});
