/**
 * Where the spool keeps the bytes of the records it appends: a few slabs of memory outside
 * the JavaScript heap, filled in turn and used again once every record in them is delivered.
 *
 * A Buffer of its own per append lived until the writer had sent its records, long enough for
 * the object holding it to reach the old generation, so its memory came back only with a
 * full collection; and V8 counts memory held outside the heap since the last full collection
 * against the old generation's limit. At 40,000 readings a second that was some 17 MB a
 * second, and with the launcher's 96 MiB heap (which keeps V8's heap growing factor at 1.3)
 * it started a full collection every half second (bench/README.md, Alarm latency). Slabs are
 * allocated once and stay: nothing is counted again.
 */
export class Slabs {
  private readonly free: Buffer<ArrayBuffer>[] = [];
  /** In the order they were filled; the last one is being filled. */
  private readonly inUse: Slab[] = [];
  private made = 0;

  constructor(
    readonly slabBytes: number,
    /** Slabs at most; past them an append gets a Buffer of its own, as a large one does. */
    readonly most: number,
  ) {}

  /**
   * The text as UTF-8: a view into a slab when it fits there, kept until its records are
   * delivered (`written`, then `delivered`) or the append is refused (`refused`).
   */
  take(text: string): Buffer<ArrayBuffer> {
    const bytes = Buffer.byteLength(text);
    if (bytes > this.slabBytes / 2) return Buffer.from(text);
    let slab = this.inUse.at(-1);
    if (!slab || slab.used + bytes > this.slabBytes) {
      slab = this.another();
      if (!slab) return Buffer.from(text);
    }
    const start = slab.used;
    slab.buf.write(text, start, bytes, 'utf8');
    slab.used += bytes;
    slab.unwritten++;
    return slab.buf.subarray(start, start + bytes);
  }

  /** An append taken from a slab is on disk, its last record numbered `lastSeq`. */
  written(data: Buffer, lastSeq: number): void {
    const slab = this.holding(data);
    if (!slab) return;
    slab.unwritten--;
    slab.lastSeq = Math.max(slab.lastSeq, lastSeq);
  }

  /** An append taken from a slab was refused: nothing will be written from it. */
  refused(data: Buffer): void {
    const slab = this.holding(data);
    if (slab) slab.unwritten--;
  }

  /**
   * Every record up to `seq` is delivered: the slabs holding only such records (none waiting to
   * be written) are free again. Nothing reads a delivered record's bytes any more: the writer
   * commits a batch only once its request is answered.
   */
  delivered(seq: number): void {
    for (let i = 0; i < this.inUse.length;) {
      const slab = this.inUse[i]!;
      if (slab.unwritten > 0 || slab.lastSeq > seq) {
        i++;
        continue;
      }
      if (i === this.inUse.length - 1) {
        // The one being filled: filled again from its start.
        slab.used = 0;
        slab.lastSeq = 0;
        i++;
      } else {
        this.inUse.splice(i, 1);
        this.free.push(slab.buf);
      }
    }
  }

  /** Bytes allocated for slabs (for tests and the memory figures). */
  get allocatedBytes(): number {
    return this.made * this.slabBytes;
  }

  private another(): Slab | undefined {
    let buf = this.free.pop();
    if (!buf) {
      if (this.made >= this.most) return undefined;
      buf = Buffer.allocUnsafeSlow(this.slabBytes);
      this.made++;
    }
    const slab: Slab = { buf, used: 0, unwritten: 0, lastSeq: 0 };
    this.inUse.push(slab);
    return slab;
  }

  private holding(data: Buffer): Slab | undefined {
    // Few slabs (the spool's memory budget over the slab size): a scan is cheaper than a map.
    for (const slab of this.inUse) if (slab.buf.buffer === data.buffer) return slab;
    return undefined;
  }
}

interface Slab {
  buf: Buffer<ArrayBuffer>;
  /** Bytes filled from the start. */
  used: number;
  /** Appends taken from it and not yet written or refused. */
  unwritten: number;
  /** The last record numbered among those written from it (0: none yet). */
  lastSeq: number;
}

/**
 * Views one after the other in the same memory become one view; otherwise a copy. Appends
 * taken from one slab in turn lie end to end, so a group of them is written, and a batch of
 * them sent, without copying.
 */
export function joined(parts: readonly Buffer<ArrayBuffer>[], bytes?: number): Buffer<ArrayBuffer> {
  const first = parts[0]!;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts, bytes);
    end += p.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}
