// Runs bench/publisher.js as its own process (so the load does not share the gateway's
// event loop), and small helpers the bench sections share.
import { spawn } from 'node:child_process';
import { projectPath } from '../gateway/files/paths.js';

export const BENCH_PASSWORD = 'bench-password';
const publisherJs = projectPath('dist', 'bench', 'publisher.js');

export interface PublishOptions {
  qos?: 0 | 1;
  /** Readings/s in all; 0 = as fast as the broker takes them. */
  rate?: number;
  /** Log in as this bridge account on `connections` connections instead of one login per device. */
  username?: string;
  connections?: number;
  /** Stop sending after this many seconds (a sustained load of fixed length). */
  seconds?: number;
}

export interface Published {
  sent: number;
  sentMs: number;
  /** CPU time of the publisher process while sending. */
  cpuMs: number;
  pubacks: number;
}

export interface Publishing {
  /** performance.now() here once every client had logged in and sending began: logins (scrypt) are not part of a rate. */
  started: Promise<number>;
  done: Promise<Published>;
  /** The publisher's pid (for CPU accounting). */
  pid: number;
}

/** Publishes `devices × perDevice` canonical meter readings of meters m0… from a separate process. */
export function publish(
  url: string,
  devices: number,
  perDevice: number,
  site: string,
  opts: PublishOptions = {},
): Publishing {
  const args = JSON.stringify({ url, devices, perDevice, password: BENCH_PASSWORD, site, ...opts });
  const child = spawn(process.execPath, [publisherJs, args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onStart: (t: number) => void = () => undefined;
  const started = new Promise<number>((resolve) => (onStart = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += String(d);
    if (out.includes('"connected"')) onStart(performance.now());
  });
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const done = new Promise<Published>((resolve, reject) =>
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`publisher exited with ${code}: ${err.trim()}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Published);
    }),
  );
  // A failed publisher must not leave `started` pending forever.
  done.catch(() => onStart(Number.NaN));
  return { started, done, pid: child.pid! };
}

/** Polls `check` every 10 ms; resolves with the time it first held. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error('bench timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now();
}

/**
 * Samples `read()` every `everyMs` (10) until stopped; `firstAt(pred)` tells when a sample first
 * satisfied pred (the total to wait for may be known only once the publisher has finished).
 */
export function sampler<T>(read: () => Promise<T>, everyMs = 10) {
  const samples: { at: number; value: T }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push({ at: performance.now(), value: await read() });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async firstAt(pred: (v: T) => boolean, timeoutMs: number): Promise<number> {
      const deadline = performance.now() + timeoutMs;
      for (let i = 0; ;) {
        for (; i < samples.length; i++) if (pred(samples[i]!.value)) return samples[i]!.at;
        if (performance.now() > deadline) throw new Error('bench timed out');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop(): Promise<void> {
      running = false;
      await loop;
    },
  };
}
