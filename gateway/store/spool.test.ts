import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpoolFullError } from './errors.js';
import { pointLine } from './line-protocol.js';
import { Spool, type SpoolOptions } from './spool.js';
import type { Point } from './driver.js';
import { ManualClock } from '../ports/manual-clock.js';
import { waitFor } from '../../test/support/wait.js';

const T0 = 1_700_000_000_000_000;
const point = (i: number): Point => ({
  measurement: 'water_meter',
  tags: { site: 's1', building: 'b1', device: 'wm-1' },
  fields: { total_m3: i + 0.5, error_code: i % 7, leak: i % 2 === 0 },
  tsUs: T0 + i,
});
/** A record: the point's line of line protocol. */
const pt = (i: number): string => pointLine(point(i));
const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => pt(from + k));

const open_: Spool[] = [];
const dirs: string[] = [];
function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  dirs.push(dir);
  return dir;
}
async function openSpool(opts: Partial<SpoolOptions> & { dir: string }): Promise<Spool> {
  const spool = new Spool({ maxBytes: 1 << 30, fsyncIntervalMs: 0, ...opts });
  await spool.open();
  open_.push(spool);
  return spool;
}
async function readAll(spool: Spool, after = 0, step = 1000): Promise<string[]> {
  const out: string[] = [];
  let seq = after;
  for (;;) {
    const batch = await spool.read(seq, step);
    if (!batch) return out;
    out.push(...batch.records);
    seq = batch.lastSeq;
  }
}
const segFiles = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort();

afterEach(async () => {
  for (const s of open_.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe('Spool', () => {
  it('keeps the order of records across segment rolls, from memory and from disk', async () => {
    const dir = newDir();
    const spool = await openSpool({ dir, segmentBytes: 4096 });
    const sent: string[] = [];
    for (let i = 0; i < 600;) {
      const n = 1 + (i % 13);
      const batch = range(i, n);
      await spool.append(batch);
      sent.push(...batch);
      i += n;
    }
    expect(segFiles(dir).length).toBeGreaterThan(5);
    expect(spool.depth).toBe(sent.length);
    expect(await readAll(spool, 0, 37)).toEqual(sent);

    await spool.close();
    open_.pop();
    const again = await openSpool({ dir, segmentBytes: 4096 });
    expect(again.depth).toBe(sent.length);
    expect(await readAll(again, 0, 53)).toEqual(sent);
    // Reading from any point in the middle, across a segment boundary.
    expect((await again.read(250, 100))!.records).toEqual(sent.slice(250, 350));
  });

  it('serves old records from disk when the memory budget is exceeded', async () => {
    const spool = await openSpool({ dir: newDir(), segmentBytes: 8192, memoryBytes: 50 * 60 });
    const sent = range(0, 400);
    for (let i = 0; i < 400; i += 10) await spool.append(sent.slice(i, i + 10));
    expect(await readAll(spool, 0, 64)).toEqual(sent);
  });

  it('serves the appends of one fsync from memory at any offset, across their boundaries', async () => {
    const spool = await openSpool({ dir: newDir() });
    const sizes = [3, 1, 7, 2, 5];
    const sent: string[] = [];
    const appends = sizes.map((n) => {
      const records = range(sent.length, n);
      sent.push(...records);
      return spool.append(records);
    });
    await Promise.all(appends);
    for (let after = 0; after < sent.length; after++)
      for (const max of [1, 2, 4, 18]) {
        const batch = (await spool.read(after, max))!;
        expect(batch.records).toEqual(sent.slice(after, after + max));
        expect(batch.body?.toString()).toBe(sent.slice(after, after + max).join('\n') + '\n');
        expect([batch.firstSeq, batch.lastSeq]).toEqual([after + 1, Math.min(after + max, sent.length)]);
      }
  });

  // Memory for records is reused once they are delivered (slabs.ts): whatever the order of
  // appends, reads and commits, a read returns exactly what was appended.
  it('reads back what was appended, from memory and disk, under any order of appends, reads and commits (property)', async () => {
    const record = fc
      .tuple(fc.nat({ max: 1e6 }), fc.constantFrom('', ' note="一号楼"', ' note="ab"'))
      .map(([v, note]) => `water_meter,device=wm-1 total_m3=${v}${note}`);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), records: fc.array(record, { minLength: 1, maxLength: 40 }) }),
      fc.record({ kind: fc.constant('read' as const), after: fc.nat(), max: fc.integer({ min: 1, max: 60 }) }),
      fc.record({ kind: fc.constant('commit' as const), upTo: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const spool = await openSpool({ dir: newDir(), memoryBytes: 4096 * 3, segmentBytes: 16_384 });
        const sent: string[] = [];
        for (const o of ops) {
          if (o.kind === 'append') {
            await spool.append(o.records);
            sent.push(...o.records);
          } else if (o.kind === 'commit') {
            await spool.commit(Math.max(spool.committedSeq, o.upTo % (sent.length + 1)));
          } else {
            const after = Math.max(spool.committedSeq, o.after % (sent.length + 1));
            const batch = await spool.read(after, o.max);
            const want = sent.slice(after, after + o.max);
            if (want.length === 0) expect(batch).toBeNull();
            else {
              expect(batch!.records).toEqual(want);
              if (batch!.body) expect(batch!.body.toString()).toBe(want.join('\n') + '\n');
            }
          }
        }
        await spool.close();
      }),
      { numRuns: 40 },
    );
  });

  it('serves records with characters of several bytes from memory as they were appended', async () => {
    const spool = await openSpool({ dir: newDir() });
    const sent = ['m,building=一号楼 note="水表"', 'm,building=b2 v=1', 'm,building=二号楼 v=2'];
    await Promise.all([spool.append(sent.slice(0, 2)), spool.append(sent.slice(2))]);
    expect((await spool.read(1, 2))!.records).toEqual(sent.slice(1));
    expect((await spool.read(0, 3))!.body?.toString()).toBe(sent.join('\n') + '\n');
  });

  it('resolves an append only after the bytes are written and fdatasynced; at most one sync per interval, counted from the last one', async () => {
    const dir = newDir();
    const clock = new ManualClock(0);
    const spool = await openSpool({ dir, fsyncIntervalMs: 60_000, timers: clock, clock });
    const events: string[] = [];
    const probe = await open(join(dir, 'probe'), 'w');
    const FileHandle = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const realSync = FileHandle.datasync;
    vi.spyOn(FileHandle, 'datasync').mockImplementation(async function (this: unknown) {
      await realSync.call(this);
      events.push('sync');
    });
    const onDisk = () =>
      segFiles(dir)
        .map((f) => readFileSync(join(dir, f), 'utf8'))
        .join('');

    // After a quiet spell an append waits for nothing but the next timer.
    const first = spool.append([pt(500)]).then(() => events.push('resolved first'));
    await waitFor(() => clock.pending() === 1, 'the first write to be scheduled', 5000, 0);
    expect(clock.delays()).toEqual([0]);
    clock.advance(0);
    await first;
    expect(events).toEqual(['sync', 'resolved first']);
    events.length = 0;

    // 10 s later: these wait for the rest of the interval since the first write began, not a whole one.
    clock.advance(10_000);
    const appends = range(0, 50).map((p, i) => spool.append([p]).then(() => events.push(`resolved ${i}`)));
    await waitFor(() => clock.pending() === 1, 'the group to wait for its interval', 5000, 0);
    expect(clock.delays()).toEqual([50_000]);
    expect(events).toEqual([]);
    expect(onDisk().trimEnd().split('\n')).toEqual([pt(500)]);

    clock.advance(49_999);
    expect(clock.pending(), 'written before its interval').toBe(1);
    clock.advance(1);
    await Promise.all(appends);
    expect(events[0]).toBe('sync');
    expect(events.filter((e) => e === 'sync')).toHaveLength(1);
    expect(events).toHaveLength(51);

    // When an append resolves, its line is in the file.
    const last = pt(999);
    let lastLine: string | undefined;
    const appended = spool.append([last]).then(() => {
      lastLine = segFiles(dir)
        .map((f) => readFileSync(join(dir, f), 'utf8'))
        .join('')
        .trimEnd()
        .split('\n')
        .at(-1);
    });
    await spool.flush();
    await appended;
    expect(lastLine).toBe(last);
  });

  it('recovers after a crash: drops a torn last line, keeps the rest, resumes the sequence', async () => {
    const dir = newDir();
    const spool = await openSpool({ dir });
    await spool.append(range(0, 10));
    await spool.append(range(10, 5));
    await spool.close();
    open_.pop();
    const [seg] = segFiles(dir);
    // A write the crash cut in half, after a complete line full of zeros (never acknowledged).
    appendFileSync(
      join(dir, seg!),
      Buffer.concat([Buffer.alloc(40), Buffer.from('\nwater_meter,building=b1,device=wm-1,si')]),
    );

    const corrupt: string[] = [];
    const again = await openSpool({ dir, onCorrupt: (d) => corrupt.push(d) });
    expect(corrupt).toHaveLength(1);
    expect(again.depth).toBe(15);
    expect(again.lastSeq).toBe(15);
    await again.append(range(15, 3));
    expect(again.lastSeq).toBe(18);
    expect(await readAll(again)).toEqual(range(0, 18));
    const text = readFileSync(join(dir, seg!), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n').filter(Boolean)).toEqual(range(0, 18));
  });

  it('commit deletes fully delivered segments, the last one too once everything is delivered', async () => {
    const dir = newDir();
    const spool = await openSpool({ dir, segmentBytes: 4096 });
    for (let i = 0; i < 300; i += 20) await spool.append(range(i, 20));
    const before = segFiles(dir);
    const bytesBefore = spool.bytes;
    expect(before.length).toBeGreaterThan(3);

    await spool.commit(150);
    const after = segFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(spool.bytes).toBeLessThan(bytesBefore);
    // Every remaining segment still holds an undelivered record.
    expect(Number(after[0]!.slice(0, 20))).toBeLessThanOrEqual(151);
    expect(await readAll(spool, 150)).toEqual(range(150, 150));

    await spool.commit(300);
    expect(segFiles(dir)).toEqual([]);
    expect(spool.bytes).toBe(0);
    expect(spool.depth).toBe(0);
    await spool.append(range(300, 2));
    expect(segFiles(dir)).toEqual(['00000000000000000301.seg']);
  });

  it('persists the cursor atomically; it survives a reopen', async () => {
    const dir = newDir();
    const spool = await openSpool({ dir });
    await spool.append(range(0, 100));
    await spool.commit(40);
    expect(JSON.parse(readFileSync(join(dir, 'cursor'), 'utf8'))).toEqual({ committedSeq: 40 });
    expect(existsSync(join(dir, 'cursor.tmp'))).toBe(false);
    await spool.close();
    open_.pop();

    const again = await openSpool({ dir });
    expect(again.committedSeq).toBe(40);
    expect(again.depth).toBe(60);
    expect(await readAll(again)).toEqual(range(40, 60));
  });

  it('replays everything when the cursor file is damaged (the database absorbs duplicates)', async () => {
    const dir = newDir();
    const spool = await openSpool({ dir });
    await spool.append(range(0, 10));
    await spool.commit(5);
    await spool.close();
    open_.pop();
    writeFileSync(join(dir, 'cursor'), '{"committ');
    const again = await openSpool({ dir, onCorrupt: () => undefined });
    expect(again.depth).toBe(10);
  });

  it('refuses appends past maxBytes with SpoolFullError and loses nothing already accepted', async () => {
    const dir = newDir();
    const spool = await openSpool({ dir, maxBytes: 20_000 });
    let accepted = 0;
    let refusal: unknown;
    for (let i = 0; i < 1000 && !refusal; i += 10) {
      try {
        await spool.append(range(i, 10));
        accepted += 10;
      } catch (err) {
        refusal = err;
      }
    }
    expect(refusal).toBeInstanceOf(SpoolFullError);
    expect((refusal as Error).message).toMatch(/spool full/);
    expect(spool.full).toBe(true);
    expect(spool.bytes).toBeLessThanOrEqual(20_000);
    // Still full for the next one; nothing of what was accepted is gone.
    await expect(spool.append(range(5000, 10))).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.depth).toBe(accepted);
    expect(await readAll(spool)).toEqual(range(0, accepted));

    // Delivery frees space; appends are accepted again.
    await spool.commit(accepted);
    expect(spool.full).toBe(false);
    await spool.append(range(accepted, 10));
    expect(spool.depth).toBe(10);
  });

  it('refuses a second open of the same directory', async () => {
    const dir = newDir();
    await openSpool({ dir });
    await expect(new Spool({ dir, maxBytes: 1 << 20 }).open()).rejects.toThrow(/already open/);
  });

  it('takes over the lock of a process that died', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'lock'), '999999999');
    const spool = await openSpool({ dir });
    await spool.append([pt(1)]);
    expect(spool.depth).toBe(1);
  });

  it('skips a damaged record in the middle and reports it', async () => {
    const dir = newDir();
    const spool = await openSpool({ dir });
    await spool.append(range(0, 3));
    await spool.close();
    open_.pop();
    const path = join(dir, segFiles(dir)[0]!);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = 'water_meter,building=b1 total_m3=\0\0\0garbage';
    writeFileSync(path, lines.join('\n'));
    const corrupt: string[] = [];
    const again = await openSpool({ dir, onCorrupt: (d) => corrupt.push(d) });
    const batch = await again.read(0, 10);
    expect(batch).toMatchObject({ firstSeq: 1, lastSeq: 3, records: [pt(0), pt(2)] });
    expect(corrupt.join()).toMatch(/record 2 is skipped: damaged/);
  });

  it('delivers a spool left by an older version (JSON points) as line protocol; skips and reports what cannot be converted', async () => {
    const dir = newDir();
    // Written as the gateway did before records were line protocol, with a torn end.
    const legacy = [point(0), point(1), { ...point(2), fields: { total_m3: 'a lot' } }, point(3)].map((p) =>
      JSON.stringify(p),
    );
    legacy.splice(3, 0, '{"measurement":"water_meter","tags":');
    writeFileSync(join(dir, '00000000000000000001.seg'), `${legacy.join('\n')}\n{"measurement":"wat`);
    const corrupt: string[] = [];
    const spool = await openSpool({ dir, memoryBytes: 1, onCorrupt: (d) => corrupt.push(d) });
    expect(spool.depth).toBe(5);
    await spool.append(range(4, 2));
    const batch = await spool.read(0, 10);
    // Records 3 (a field of the wrong type) and 4 (not a point) are skipped, not sent.
    expect(batch).toMatchObject({ firstSeq: 1, lastSeq: 5 });
    expect(batch!.records).toEqual([pt(0), pt(1), pt(3)]);
    expect(await readAll(spool, 5)).toEqual(range(4, 2));
    expect(corrupt).toHaveLength(3);
    expect(corrupt[0]).toMatch(/unfinished last write/);
    expect(corrupt[1]).toMatch(/record 3 is skipped: field total_m3 must be float.*"a lot"/);
    expect(corrupt[2]).toMatch(/record 4 is skipped: not JSON/);
  });
});
