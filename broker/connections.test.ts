import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readsWhole } from './connections.js';

// aedes reads once per 'readable' event; on every Node.js line that read must take the whole buffer.

function connection(): Duplex {
  return new Duplex({ read() {}, write: (_chunk, _enc, done) => done() });
}

describe('readsWhole', () => {
  it('gives a read() without a size every buffered chunk as one buffer, each chunk still seen as data', async () => {
    const stream = connection();
    readsWhole(stream);
    const seen: string[] = [];
    stream.on('data', (chunk: Buffer) => seen.push(chunk.toString()));
    const reads: string[] = [];
    stream.on('readable', () => {
      const buf = stream.read() as Buffer | null;
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
    const stream = connection();
    readsWhole(stream);
    expect(stream.read()).toBeNull();
    stream.push(Buffer.from('abc'));
    stream.push(Buffer.from('def'));
    expect((stream.read(4) as Buffer).toString()).toBe('abcd');
    expect((stream.read() as Buffer).toString()).toBe('ef');
    expect(stream.read()).toBeNull();
  });
});
