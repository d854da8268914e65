import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joined, Slabs } from './slabs.js';

describe('Slabs', () => {
  it('writes texts end to end in a slab, a large one or one past the last slab in a buffer of its own', () => {
    const slabs = new Slabs(64, 1);
    const a = slabs.take('aaaa\n');
    const b = slabs.take('ünï\n');
    expect([a.toString(), b.toString()]).toEqual(['aaaa\n', 'ünï\n']);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + a.length);
    // Over half a slab: its own buffer.
    const large = slabs.take('x'.repeat(40));
    expect(large.buffer).not.toBe(a.buffer);
    // The one slab is full and holds records not yet delivered: its own buffer too.
    const c = slabs.take('c'.repeat(30));
    const d = slabs.take('d'.repeat(30));
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(a.buffer);
    expect(slabs.allocatedBytes).toBe(64);
  });

  it('uses a slab again only once every record written from it is delivered and nothing is left to write', () => {
    const slabs = new Slabs(16, 2);
    const first = slabs.take('a'.repeat(8));
    const second = slabs.take('b'.repeat(8)); // fills the first slab
    slabs.written(first, 10);
    slabs.delivered(10);
    // `second` is still waiting for its write: the slab stays.
    const third = slabs.take('c'.repeat(8));
    expect(third.buffer).not.toBe(first.buffer);
    slabs.written(second, 12);
    slabs.delivered(11);
    expect(second.toString()).toBe('b'.repeat(8));
    slabs.delivered(12);
    // Free again; the next slab needed is that one.
    slabs.take('d'.repeat(8));
    const fifth = slabs.take('e'.repeat(8));
    expect(fifth.buffer).toBe(first.buffer);
    expect(slabs.allocatedBytes).toBe(32);
  });

  it('frees what a refused append held', () => {
    const slabs = new Slabs(32, 1);
    const a = slabs.take('a'.repeat(10));
    slabs.refused(a);
    slabs.delivered(0);
    expect(slabs.take('b'.repeat(10)).byteOffset).toBe(a.byteOffset);
  });

  // The invariant: bytes handed out stay as they were until their records are delivered (or
  // their append refused), whatever the order of appends, writes, refusals and deliveries.
  it('never overwrites the bytes of a record not yet delivered (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('take' as const),
        text: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
      }),
      fc.record({ kind: fc.constant('write' as const), refuse: fc.boolean() }),
      // Up to a part of what is written: some records stay undelivered.
      fc.record({ kind: fc.constant('deliver' as const), percent: fc.nat({ max: 100 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 200 }),
        fc.integer({ min: 32, max: 128 }),
        fc.integer({ min: 1, max: 4 }),
        (ops, size, most) => {
          const slabs = new Slabs(size, most);
          // Taken, in order; written ones get a sequence number; delivered ones are dropped.
          const unwritten: { view: Buffer; text: string }[] = [];
          const live: { view: Buffer; text: string; seq: number }[] = [];
          let seq = 0;
          let delivered = 0;
          for (const o of ops) {
            if (o.kind === 'take') unwritten.push({ view: slabs.take(o.text), text: o.text });
            else if (o.kind === 'write') {
              // Appends are written in the order they were taken.
              const next = unwritten.shift();
              if (!next) continue;
              if (o.refuse) slabs.refused(next.view);
              else {
                seq += 1 + (next.text.length % 3); // an append holds one or more records
                slabs.written(next.view, seq);
                live.push({ ...next, seq });
              }
            } else {
              delivered = Math.max(delivered, Math.floor((seq * o.percent) / 100));
              slabs.delivered(delivered);
              while (live.length > 0 && live[0]!.seq <= delivered) live.shift();
            }
            for (const r of [...unwritten, ...live]) expect(r.view.toString()).toBe(r.text);
          }
          expect(slabs.allocatedBytes).toBeLessThanOrEqual(size * most);
        },
      ),
    );
  });
});

describe('joined', () => {
  it('makes views lying end to end in the same memory one view, and copies otherwise', () => {
    const mem = Buffer.allocUnsafeSlow(8);
    mem.write('abcdefgh');
    const one = joined([mem.subarray(0, 3), mem.subarray(3, 5), mem.subarray(5, 8)]);
    expect(one.toString()).toBe('abcdefgh');
    expect(one.buffer).toBe(mem.buffer);
    const gap = joined([mem.subarray(0, 2), mem.subarray(3, 5)]);
    expect(gap.toString()).toBe('abde');
    expect(gap.buffer).not.toBe(mem.buffer);
    const other = joined([mem.subarray(0, 2), Buffer.from('xy')]);
    expect(other.toString()).toBe('abxy');
  });
});
