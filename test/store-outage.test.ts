import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../gateway/metrics.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import { startInfluxd, type InfluxdProcess } from '../gateway/store/influxd.js';
import { createStore, type Store } from '../gateway/store/index.js';
import { RecordingDriver, buildForChild, storedTimes, streamPoint, waitFor } from './store-support.js';

// Nothing is lost and nothing doubled when the database is SIGKILLed mid-stream, nor when the
// gateway itself is SIGKILLed with readings still in its spool. This file owns its influxd.

const FAST = { batchSize: 200, flushIntervalMs: 20, minBackoffMs: 50, maxBackoffMs: 300 };
const tmp: string[] = [];
const newDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmp.push(d);
  return d;
};

let influx: InfluxdProcess;
beforeAll(async () => {
  influx = await startInfluxd({ dataDir: newDir('store-outage-influxd-') });
});
afterAll(async () => {
  await influx?.stop();
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

function openStore(spoolDir: string, database: string, metrics?: Metrics): { store: Store; recorder: RecordingDriver } {
  const recorder = new RecordingDriver(new Influx1Driver({ url: influx.url, database, timeoutMs: 2000 }));
  const store = createStore({
    driver: recorder,
    spool: { dir: spoolDir, maxBytes: 1 << 30, fsyncIntervalMs: 5 },
    writer: FAST,
    ...(metrics ? { metrics } : {}),
  });
  return { store, recorder };
}

const written = async (m: Metrics) => (await m.pointsWritten.get()).values[0]?.value ?? 0;
const range = (n: number, offset: number) => Array.from({ length: n }, (_, i) => offset + i);
const expectedTimes = (n: number) => range(n, 0).map((i) => streamPoint('x', i).tsUs);

describe('store outage (real influxd, SIGKILLed)', () => {
  it('database killed mid-stream and restarted: every point stored exactly once, in order', async () => {
    const metrics = new Metrics();
    const { store, recorder } = openStore(newDir('store-outage-spool-'), 'outage_db', metrics);
    await store.open();
    let produced = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await store.append(Array.from({ length: 10 }, (_, k) => streamPoint('wm-1', produced + k)));
        produced += 10;
      }
    })();
    try {
      await waitFor(async () => (await written(metrics)) >= 1000, '1000 points written before the kill');
      await influx.kill();
      const atKill = produced;
      await waitFor(() => store.health().store.status === 'down', 'the store to report the database down');
      await waitFor(() => produced >= atKill + 2000, '2000 more points appended while the database is down');
      expect(store.spool.depth).toBeGreaterThan(0);
      await influx.restart();
      const atRestart = produced;
      await waitFor(() => produced >= atRestart + 1000, '1000 more points after the restart');
    } finally {
      producing = false;
      await producer;
    }
    await waitFor(() => store.spool.depth === 0, 'the spool to drain', 60_000);
    expect(store.health().store.status).toBe('ok');
    expect(await metrics.storeWriteErrors.get().then((m) => m.values[0]?.value)).toBeGreaterThan(0);

    const times = await storedTimes(influx.url, 'outage_db', 'wm-1');
    expect(times.length).toBe(produced);
    expect(new Set(times).size).toBe(produced);
    expect(times).toEqual(expectedTimes(produced));
    // The writer confirmed every point once, in append order.
    expect(recorder.confirmed).toEqual(expectedTimes(produced));
    await store.close();
  });

  it('gateway SIGKILLed with a full spool while the database is down: a new gateway delivers it all, once, in order', async () => {
    const spoolDir = newDir('store-crash-spool-');
    const child = buildForChild('test/store-crash-child.ts');
    tmp.push(join(child, '..', '..'));
    await influx.kill();

    const proc = spawn(process.execPath, [child, spoolDir, influx.url, 'crash_db', 'wm-2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = 0;
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      const m = /acked (\d+)\n(?![\s\S]*acked)/.exec(chunk.toString());
      if (m) acked = Math.max(acked, Number(m[1]));
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<string>((resolve) =>
      proc.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)),
    );
    try {
      await waitFor(
        () => {
          if (proc.exitCode !== null) throw new Error(`child exited early: ${stderr}`);
          return acked >= 3000;
        },
        'the child to have 3000 points acknowledged',
        60_000,
      );
    } finally {
      proc.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const ackedAtDeath = acked;

    await influx.restart();
    const { store, recorder } = openStore(spoolDir, 'crash_db');
    await store.open();
    const inSpool = store.spool.depth;
    // Everything acknowledged is there; at most the one unanswered append more.
    expect(inSpool).toBeGreaterThanOrEqual(ackedAtDeath);
    expect(inSpool).toBeLessThanOrEqual(ackedAtDeath + 10);
    await waitFor(() => store.spool.depth === 0, 'the recovered spool to drain', 60_000);

    const times = await storedTimes(influx.url, 'crash_db', 'wm-2');
    expect(times).toEqual(expectedTimes(inSpool));
    expect(recorder.confirmed).toEqual(expectedTimes(inSpool));
    await store.close();

    // And once delivered, a restart sends nothing again.
    const again = openStore(spoolDir, 'crash_db');
    await again.store.open();
    expect(again.store.spool.depth).toBe(0);
    await again.store.close();
    expect(again.recorder.confirmed).toEqual([]);
  });
});
