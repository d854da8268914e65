import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boundReads, ReadBudget } from './bounded-reads.js';

const turn = () => new Promise((r) => setImmediate(r));
// As aedes reads: read(null), everything buffered (a size the types do not name).
const readAll = (stream: PassThrough) => (stream.read as unknown as (size: null) => Buffer | null)(null);

function reader() {
  const calls: number[] = [];
  const client = { _parsingBatch: 0, _paused: false, _nextBatch: () => calls.push(stream.readableLength) };
  const stream = new PassThrough();
  boundReads(stream, client, new ReadBudget(1000, 1000, 1000));
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

  it('gives a read() without a size every buffered chunk as one buffer (Node.js 26 gives one chunk), each still seen as data', async () => {
    const stream = new Duplex({ read() {}, write: (_chunk, _enc, done) => done() });
    boundReads(stream, { _parsingBatch: 1, _nextBatch: () => undefined }, new ReadBudget());
    const seen: string[] = [];
    stream.on('data', (chunk: Buffer) => seen.push(chunk.toString()));
    const reads: string[] = [];
    stream.on('readable', () => {
      const buf = readAll(stream as PassThrough);
      if (buf) reads.push(buf.toString());
    });
    stream.push(Buffer.from('\x10'));
    stream.push(Buffer.from('\x1b\x00\x04'));
    stream.push(Buffer.from('MQTT'));
    await new Promise<void>((resolve) => stream.once('readable', () => setImmediate(resolve)));
    expect(reads).toEqual(['\x10\x1b\x00\x04MQTT']);
    expect(seen.join('')).toBe('\x10\x1b\x00\x04MQTT');
    expect(stream.readableLength).toBe(0);
  });

  it('keeps a read of a given size and an empty read as they were', () => {
    const stream = new PassThrough();
    boundReads(stream, { _parsingBatch: 1, _nextBatch: () => undefined }, new ReadBudget());
    expect(readAll(stream)).toBeNull();
    stream.push(Buffer.from('abc'));
    stream.push(Buffer.from('def'));
    expect((stream.read(4) as Buffer).toString()).toBe('abcd');
    expect(readAll(stream)!.toString()).toBe('ef');
    expect(readAll(stream)).toBeNull();
  });

  it('gives nothing to a read from inside the parser (a packet handled at once), and the rest on the next turn', async () => {
    const got: number[] = [];
    const stream = new PassThrough();
    const client = {
      _parsingBatch: 0,
      _nextBatch: () => {
        const buf = readAll(stream);
        if (buf) client._parser.parse(buf);
      },
      _parser: {
        parse: (buf: Buffer) => {
          got.push(buf.length);
          // As aedes does when the packet's handler finishes at once: read again, from inside.
          client._nextBatch();
        },
      },
    };
    boundReads(stream, client, new ReadBudget(1000, 1000, 1000));
    stream.write(Buffer.alloc(2500));
    await turn();
    client._nextBatch();
    expect(got).toEqual([1000]);
    await turn();
    await turn();
    expect(got).toEqual([1000, 1000, 500]);
  });

  it('shares a budget between connections: large reads while it lasts, small ones past it, given back as each reads again or closes', async () => {
    const budget = new ReadBudget(3000, 2000, 500);
    const idle = () => ({ _parsingBatch: 0, _nextBatch: () => undefined });
    const [a, b, c] = [new PassThrough(), new PassThrough(), new PassThrough()];
    for (const s of [a, b, c]) {
      boundReads(s, idle(), budget);
      s.write(Buffer.alloc(5000));
    }
    await turn();
    expect(readAll(a)!.length).toBe(2000);
    expect(readAll(b)!.length).toBe(1000);
    // Reading again gives back what the last read held.
    expect(readAll(b)!.length).toBe(1000);
    expect(budget.taken).toBe(3000);
    // Past the budget every connection still moves, a little at a time.
    expect(readAll(c)!.length).toBe(500);
    expect(budget.taken).toBe(3500);
    a.destroy();
    await turn();
    expect(budget.taken).toBe(1500);
    expect(readAll(b)!.length).toBe(2000);
    expect(budget.taken).toBe(2500);
  });
});
