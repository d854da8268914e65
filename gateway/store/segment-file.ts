import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

// One segment = one file of records, one per line (InfluxDB line protocol; JSON points in
// spools of older versions), named by the sequence number of its first line.
// A line's sequence number is its file's number plus its line index: nothing else is
// stored per record.

const NAME = /^(\d{20})\.seg$/;
const NEWLINE = 0x0a;

export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}.seg`;
}

export function parseSegmentName(name: string): number | undefined {
  const m = NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Makes a created/renamed/deleted entry of `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done);
    done += bytesWritten;
  }
}

/** Index of the last newline strictly before `before`, or -1 (lastIndexOf counts negative offsets from the end). */
function newlineBefore(buf: Buffer, before: number): number {
  return before <= 0 ? -1 : buf.lastIndexOf(NEWLINE, before - 1);
}

/** Ends with a space and an integer timestamp, as every line of line protocol does. */
const LINE_PROTOCOL_END = / -?\d+$/;

/** A complete record: line protocol (or a JSON point of an older version's spool), not the debris of a crash or of disk damage. */
export function isWholeRecord(line: string): boolean {
  if (line.charCodeAt(0) === 0x7b /* { */) {
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  }
  return line.length > 0 && !line.includes('\0') && LINE_PROTOCOL_END.test(line);
}

/**
 * Recovery of the segment being written when the process died: counts its complete lines
 * and finds where the valid data ends. A last line without its newline, or one that is not
 * a whole record (a crash can leave zeros at the end of a file), was never acknowledged:
 * everything from it on is to be cut.
 */
export async function scanLastSegment(path: string): Promise<{ count: number; validBytes: number; size: number }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    let end = newlineBefore(buf, got) + 1;
    // Drop unparseable complete lines at the very end (at most a few: torn by the crash).
    while (end > 0) {
      const start = newlineBefore(buf, end - 1) + 1;
      if (isWholeRecord(buf.toString('utf8', start, end - 1))) break;
      end = start;
    }
    let count = 0;
    for (let at = buf.indexOf(NEWLINE, 0); at !== -1 && at < end; at = buf.indexOf(NEWLINE, at + 1)) count++;
    return { count, validBytes: end, size };
  } finally {
    await fh.close();
  }
}

/** A position in a segment: the byte offset where the line with sequence `seq` starts. */
export interface SegmentPosition {
  seq: number;
  offset: number;
}

/**
 * Reads up to `max` lines starting at sequence `from`, not past byte `end` (the durable
 * size). `pos` is where a previous read stopped, so that sequential reads never rescan.
 * Returns the lines and the position after the last one.
 */
export async function readSegmentLines(
  dir: string,
  firstSeq: number,
  end: number,
  from: number,
  max: number,
  pos: SegmentPosition | undefined,
): Promise<{ lines: string[]; next: SegmentPosition }> {
  const fh = await open(join(dir, segmentName(firstSeq)), 'r');
  try {
    let { seq, offset } = pos && pos.seq <= from ? pos : { seq: firstSeq, offset: 0 };
    const lines: string[] = [];
    let size = 1 << 20;
    let buf = Buffer.allocUnsafe(size);
    while (offset < end && lines.length < max) {
      const want = Math.min(size, end - offset);
      const { bytesRead } = await fh.read(buf, 0, want, offset);
      if (bytesRead === 0) break;
      let start = 0;
      for (let nl = buf.indexOf(NEWLINE, 0); nl !== -1 && nl < bytesRead; nl = buf.indexOf(NEWLINE, start)) {
        if (seq >= from) lines.push(buf.toString('utf8', start, nl));
        seq++;
        start = nl + 1;
        if (lines.length >= max) break;
      }
      if (start === 0) {
        if (want < size) break; // no newline before `end`: cannot happen in a spool we wrote
        // One line longer than the buffer: read again with a bigger one.
        size *= 2;
        buf = Buffer.allocUnsafe(size);
        continue;
      }
      offset += start;
    }
    return { lines, next: { seq, offset } };
  } finally {
    await fh.close();
  }
}
