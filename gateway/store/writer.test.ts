import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../metrics.js';
import { StoreRejectedError } from './errors.js';
import { pointLine } from './line-protocol.js';
import { Spool, type SpoolBatch } from './spool.js';
import type { Point, ReadingsQuery, StoreDriver, StoredRow } from './driver.js';
import { CATCH_UP, StoreWriter, type StoreWriterOptions } from './writer.js';
import { ManualClock } from '../ports/manual-clock.js';
import { waitFor } from '../../test/support/wait.js';

// Only the writer's own logic is under test here (batching, ordering, retry and backoff), so
// the database is an in-memory stub and time is a ManualClock. The real database is exercised
// by test/store-influx1.test.ts and test/store-outage.test.ts.

const T0 = 1_700_000_000_000_000;
/** A spool record: the line protocol of a lift's point. */
const pt = (i: number): string =>
  pointLine({
    measurement: 'lift',
    tags: { site: 's1', building: 'b1', device: 'lift-a' },
    fields: { floor: i % 30, door: 'closed' },
    tsUs: T0 + i,
  });
const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => pt(from + k));

class StubDriver implements StoreDriver {
  readonly name = 'stub';
  down = false;
  failWrites = 0;
  refuse: ((line: string) => boolean) | undefined;
  /** Like InfluxDB 1.x: writes the good lines of a request, refuses the request with all its lines. */
  refuseWhole = false;
  calls: string[] = [];
  attempts: string[][] = [];
  stored: string[] = [];
  async connect(): Promise<void> {
    this.calls.push('connect');
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
  }
  async write(points: Point[]): Promise<void> {
    return this.writeLines(points.map(pointLine));
  }
  async writeLines(points: string[]): Promise<void> {
    this.calls.push('write');
    this.attempts.push(points);
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
    if (this.failWrites > 0) {
      this.failWrites--;
      throw new Error('503 Service Unavailable');
    }
    const bad = this.refuse ? points.filter(this.refuse) : [];
    this.stored.push(...points.filter((p) => !bad.includes(p)));
    if (bad.length > 0) throw new StoreRejectedError(`field type conflict`, this.refuseWhole ? points : bad);
  }
  async query(_q: ReadingsQuery): Promise<StoredRow[]> {
    return [];
  }
  async ping(): Promise<boolean> {
    return !this.down;
  }
  async close(): Promise<void> {}
}

/** Real I/O (the spool's files) settles in real time: poll each turn of the event loop. */
const until = (cond: () => boolean, what: string) => waitFor(cond, what, 5000, 0);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Takes the spool's text as it is, as the InfluxDB drivers do; the stub's rules otherwise. */
class TextDriver extends StubDriver {
  texts: { text: string; count: number }[] = [];
  async writeText(body: string | Buffer, count: number, lines: () => string[]): Promise<void> {
    this.texts.push({ text: body.toString(), count });
    return this.writeLines(lines());
  }
}

async function setup<D extends StubDriver = StubDriver>(opts: Partial<StoreWriterOptions> = {}, made?: D) {
  const dir = mkdtempSync(join(tmpdir(), 'writer-test-'));
  const spool = new Spool({ dir, maxBytes: 1 << 30, fsyncIntervalMs: 0 });
  await spool.open();
  const driver = (made ?? new StubDriver()) as D;
  const timers = new ManualClock(1_000_000);
  const metrics = new Metrics();
  const writer = new StoreWriter({ spool, driver, timers, metrics, batchSize: 100, flushIntervalMs: 1000, ...opts });
  cleanups.push(async () => {
    await writer.stop(0);
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });
  /** Waits until the writer has nothing in flight (it then only waits for a timer or data). */
  const settle = () => until(() => !writer.busy, 'the writer to settle');
  return { dir, spool, driver, timers, metrics, writer, settle };
}

const metric = async (m: { get(): Promise<{ values: { value: number }[] }> }) => (await m.get()).values[0]?.value;

describe('StoreWriter', () => {
  it('writes as soon as a full batch waits, a partial batch once its oldest point waited flushIntervalMs', async () => {
    const { spool, driver, timers, writer, settle } = await setup();
    writer.start();
    await settle();
    await spool.append(range(0, 100));
    await until(() => driver.attempts.length === 1, 'the full batch');
    await settle();
    expect(driver.attempts[0]).toHaveLength(100);
    expect(timers.delays()).toEqual([]);

    await spool.append(range(100, 50));
    await settle();
    expect(timers.delays()).toEqual([1000]);
    timers.advance(999);
    await settle();
    expect(driver.attempts).toHaveLength(1);
    timers.advance(1);
    await until(() => driver.attempts.length === 2, 'the partial batch');
    await settle();
    expect(driver.attempts[1]).toHaveLength(50);
    expect(driver.stored).toEqual(range(0, 150));
    expect(spool.depth).toBe(0);
  });

  it('sends records still in memory as the bytes they were appended in, across appends, and sets a refused one aside', async () => {
    const { dir, spool, driver, writer } = await setup({}, new TextDriver());
    driver.refuse = (line) => line === pt(30);
    for (let i = 0; i < 90; i += 30) await spool.append(range(i, 30));
    writer.start();
    await until(() => spool.depth === 0, 'everything written or set aside');
    expect(driver.texts).toEqual([{ text: range(0, 90).join('\n') + '\n', count: 90 }]);
    expect(driver.stored).toEqual(range(0, 90).filter((l) => l !== pt(30)));
    const kept = readFileSync(join(dir, 'rejected.jsonl'), 'utf8').trim().split('\n');
    expect(kept.map((l) => (JSON.parse(l) as { line: string }).line)).toEqual([pt(30)]);
  });

  it('a refused catch-up request is sent again one batch per request, so that only the batch with the bad line is set aside', async () => {
    const { dir, spool, driver, writer } = await setup();
    driver.refuse = (line) => line === pt(130);
    driver.refuseWhole = true;
    await spool.append(range(0, 350));
    writer.start();
    await until(() => spool.depth === 0, 'everything written or set aside');
    expect(driver.attempts.map((b) => b.length)).toEqual([350, 100, 100, 100, 50]);
    const kept = readFileSync(join(dir, 'rejected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: string });
    expect(kept.map((k) => k.line)).toEqual(range(100, 100));
    expect(writer.storeHealth.health()).toMatchObject({ status: 'degraded', rejected: 100 });
  });

  it('a catch-up request that failed (a timeout) goes again one batch per request, then catching up resumes', async () => {
    const { spool, driver, timers, writer, settle } = await setup({ flushIntervalMs: 0 });
    await spool.append(range(0, 350));
    driver.failWrites = 1;
    writer.start();
    await until(() => driver.attempts.length === 1, 'the first attempt');
    await settle();
    timers.advance(timers.delays()[0]!);
    await until(() => spool.depth === 0, 'everything written');
    await spool.append(range(350, 300));
    await until(() => spool.depth === 0, 'the next backlog');
    expect(driver.attempts.map((b) => b.length)).toEqual([350, 100, 100, 100, 50, 300]);
    expect(driver.stored).toEqual(range(0, 650));
  });

  it('behind, sends all that waits in one request, up to CATCH_UP batches', async () => {
    const { spool, driver, writer } = await setup();
    await spool.append(range(0, 250));
    await spool.append(range(250, 100 * CATCH_UP));
    writer.start();
    await until(() => spool.depth === 0, 'everything written');
    expect(driver.attempts.map((b) => b.length)).toEqual([100 * CATCH_UP, 250]);
    expect(driver.stored).toEqual(range(0, 250 + 100 * CATCH_UP));
  });

  it('retries a failed batch unchanged with capped exponential backoff, then recovers by itself', async () => {
    const { spool, driver, timers, writer, metrics, settle } = await setup({
      flushIntervalMs: 0,
      maxBackoffMs: 30_000,
    });
    writer.start();
    await settle();
    driver.failWrites = 1000;
    await spool.append(range(0, 40));
    await until(() => driver.attempts.length === 1, 'the first attempt');
    await settle();
    expect(writer.storeHealth.health()).toMatchObject({
      status: 'down',
      detail: expect.stringMatching(/503 Service Unavailable.*40 reading\(s\) kept in the spool/),
    });

    const delays: number[] = [];
    for (let attempt = 2; attempt <= 11; attempt++) {
      const [delay] = timers.delays();
      delays.push(delay!);
      timers.advance(delay! - 1);
      await settle();
      expect(driver.attempts).toHaveLength(attempt - 1);
      timers.advance(1);
      await until(() => driver.attempts.length === attempt, `attempt ${attempt}`);
      await settle();
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    // The same 40 points every time, and nothing committed meanwhile.
    for (const batch of driver.attempts) expect(batch).toEqual(range(0, 40));
    expect(spool.depth).toBe(40);
    expect(await metric(metrics.storeWriteErrors)).toBe(11);

    driver.failWrites = 0;
    timers.advance(30_000);
    await until(() => spool.depth === 0, 'the backlog to be written');
    await settle();
    expect(driver.stored).toEqual(range(0, 40));
    expect(writer.storeHealth.health().status).toBe('ok');
    expect(await metric(metrics.pointsWritten)).toBe(40);
    expect(await metric(metrics.spoolDepth)).toBe(0);

    // Backoff starts again from the bottom after a success.
    driver.failWrites = 1;
    await spool.append(range(40, 1));
    await until(() => driver.attempts.length === 13, 'the next failure');
    await settle();
    expect(timers.delays()).toEqual([250]);
  });

  it('reports the database down from the start when it cannot connect, and reconnects', async () => {
    const { driver, timers, writer, settle } = await setup();
    driver.down = true;
    writer.start();
    await settle();
    expect(writer.storeHealth.health()).toMatchObject({
      status: 'down',
      detail: expect.stringMatching(/ECONNREFUSED/),
    });
    driver.down = false;
    timers.advance(250);
    await settle();
    expect(driver.calls).toEqual(['connect', 'connect']);
    expect(writer.storeHealth.health().status).toBe('ok');
  });

  it('delivers every point exactly once and in order through intermittent failures', async () => {
    const { spool, driver, timers, writer, settle } = await setup({ batchSize: 64, flushIntervalMs: 10 });
    writer.start();
    await settle();
    let next = 0;
    for (let round = 0; round < 30; round++) {
      driver.failWrites = round % 3 === 0 ? 2 : 0;
      const n = 1 + ((round * 37) % 90);
      await spool.append(range(next, n));
      next += n;
      await settle();
      // Fire whatever is due: flush interval or retry.
      while (timers.delays().length > 0 && spool.depth > 0) {
        timers.advance(timers.delays()[0]!);
        await settle();
      }
    }
    expect(spool.depth).toBe(0);
    expect(driver.stored).toEqual(range(0, next));
  });

  it('keeps points the database refuses for good in the rejected file and goes on', async () => {
    const { dir, spool, driver, writer, metrics, settle } = await setup({ flushIntervalMs: 0 });
    driver.refuse = (line) => line === pt(3);
    writer.start();
    await settle();
    await spool.append(range(0, 10));
    await until(() => spool.depth === 0, 'the batch to be committed');
    await settle();
    await spool.append(range(10, 5));
    await until(() => spool.depth === 0, 'the next batch');
    expect(driver.stored).toEqual(range(0, 15).filter((line) => line !== pt(3)));
    const kept = readFileSync(join(dir, 'rejected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason: string; line: string });
    expect(kept).toEqual([{ reason: 'field type conflict', line: pt(3) }]);
    expect(writer.storeHealth.health()).toMatchObject({ status: 'degraded', rejected: 1 });
    expect(await metric(metrics.pointsWritten)).toBe(14);
  });

  it('stop() writes what is pending at once and returns', async () => {
    const { spool, driver, writer, settle } = await setup();
    writer.start();
    await settle();
    await spool.append(range(0, 30));
    await settle();
    expect(driver.stored).toEqual([]);
    await writer.stop(5000);
    expect(driver.stored).toEqual(range(0, 30));
    expect(spool.depth).toBe(0);
  });

  it('stop() gives up at its deadline while the database is down; the points stay in the spool', async () => {
    const { dir, spool, driver, timers, writer, settle } = await setup();
    writer.start();
    await settle();
    await spool.append(range(0, 10));
    await settle();
    driver.down = true;
    let stopped = false;
    const stopping = writer.stop(5000).then(() => (stopped = true));
    await settle();
    timers.advance(4999);
    await settle();
    expect(stopped).toBe(false);
    timers.advance(1);
    await stopping;
    expect(spool.depth).toBe(10);
    expect(existsSync(join(dir, 'rejected.jsonl'))).toBe(false);
  });

  it('reports the spool degraded while it is full', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writer-test-'));
    const spool = new Spool({ dir, maxBytes: 8192, fsyncIntervalMs: 0 });
    await spool.open();
    const driver = new StubDriver();
    driver.down = true;
    const metrics = new Metrics();
    const writer = new StoreWriter({ spool, driver, timers: new ManualClock(1_000_000), metrics });
    cleanups.push(async () => {
      await writer.stop(0);
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    });
    writer.start();
    await until(() => !writer.busy, 'settle');
    let i = 0;
    await expect(
      (async () => {
        for (;;) await spool.append(range((i += 10), 10));
      })(),
    ).rejects.toThrow(/spool full/);
    // The gauge follows at once, before anyone asks /health.
    expect(await metric(metrics.spoolFull)).toBe(1);
    expect(writer.spoolHealth.health()).toMatchObject({
      status: 'degraded',
      detail: expect.stringMatching(/spool full/),
    });
    expect(await metric(metrics.spoolFull)).toBe(1);
  });
  it('reads the next full batch while one is in flight, and still writes one batch at a time, in order', async () => {
    const { spool, driver, writer } = await setup();
    const prepared: string[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let release: (() => void) | undefined;
    const write = driver.writeLines.bind(driver);
    const read = spool.read.bind(spool);
    spool.read = async (after: number, max: number): Promise<SpoolBatch | null> => {
      const batch = await read(after, max);
      if (batch && after > 0) prepared.push(batch.records);
      return batch;
    };
    driver.writeLines = async (points) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => (release = r));
      inFlight--;
      return write(points);
    };
    const total = 100 * CATCH_UP * 2 + 300;
    await spool.append(range(0, total));
    writer.start();
    await until(
      () => release !== undefined && prepared.length === 1,
      'the first write in flight and the second batch read',
    );
    expect(prepared[0]).toEqual(range(100 * CATCH_UP, 100 * CATCH_UP));
    expect(driver.stored).toHaveLength(0);
    while (driver.stored.length < total) {
      await until(() => release !== undefined, 'the next write');
      const r = release!;
      release = undefined;
      r();
      await until(() => release !== undefined || driver.stored.length >= total, 'the write released');
    }
    expect(driver.stored).toEqual(range(0, total));
    expect(driver.attempts.map((b) => b.length)).toEqual([100 * CATCH_UP, 100 * CATCH_UP, 300]);
    expect(maxInFlight).toBe(1);
    // The batches read ahead are the very arrays written (nothing read twice).
    expect(driver.attempts.slice(1)).toEqual(prepared);
    expect(driver.attempts[1]).toBe(prepared[0]);
    await until(() => spool.depth === 0, 'everything committed');
  });
});
