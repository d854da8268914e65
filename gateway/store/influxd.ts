import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { backoffDelay } from '../../rules/backoff.js';
import { realTime, unref, type ClockAndTimers } from '../ports/clock.js';

/**
 * A private influxd (InfluxDB 1.x, Debian's package) for tests, the demo and gateways
 * configured without a database URL. It never touches /etc/influxdb or /var/lib/influxdb:
 * every file lives under `dataDir`.
 */
export interface InfluxdProcess {
  /** e.g. http://127.0.0.1:34567 */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Of the running influxd; undefined once it exited. */
  readonly pid: number | undefined;
  /** Asks influxd to stop (SIGTERM by default); SIGKILL after 10 s. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL: what a power cut or the OOM killer does to it. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data (after stop or kill). */
  restart(): Promise<void>;
  /** Restarts after it died on its own (see StartInfluxdOptions.supervise). */
  readonly restarts: number;
  /** How it last died on its own, and when (epoch ms); undefined while it never did. */
  readonly lastExit: { at: number; how: string } | undefined;
  /** Not running and not stopped on purpose: waiting to be restarted, or restarting. */
  readonly down: boolean;
}

/** Restarting influxd when it dies on its own (the OOM killer, a crash, a stray kill -9). */
export interface Supervision {
  /** First wait before a restart; doubles while restarts fail or it keeps dying soon after starting (default 500 ms). */
  firstBackoffMs?: number;
  /** The longest wait (default 30 s). */
  maxBackoffMs?: number;
  /** Each restart: attempt number, how it died, and whether it came back (else why not). */
  onRestart?: (e: { attempt: number; exit: string; ok: boolean; error?: string }) => void;
}

export interface StartInfluxdOptions {
  dataDir: string;
  /** HTTP port; a free one is picked when absent. */
  port?: number;
  /** Receives influxd's output, line by line. */
  log?: (line: string) => void;
  /** How long to wait for /ping to answer (default 30 s). */
  readyTimeoutMs?: number;
  /** The binary; `findInfluxd()` when absent. */
  binary?: string;
  /** Restart it when it dies on its own; without this a dead influxd stays dead. */
  supervise?: Supervision;
  /** Time for the readiness deadline, the restart backoff and the stop grace (default real). */
  time?: ClockAndTimers;
}

/** A process that stayed up this long counts as having started well: the backoff starts over. */
const STABLE_MS = 60_000;

const STOP_GRACE_MS = 10_000;
const TAIL_LINES = 40;

/** Where influxd is installed: $INFLUXD, then PATH, then Debian's place; null when absent. */
export function findInfluxd(): string | null {
  const fromEnv = process.env.INFLUXD;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const which = spawnSync('sh', ['-c', 'command -v influxd'], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  if (found && existsSync(found)) return found;
  return existsSync('/usr/bin/influxd') ? '/usr/bin/influxd' : null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function configText(dataDir: string, httpPort: number, rpcPort: number): string {
  const q = (s: string) => JSON.stringify(s);
  // Only the HTTP API runs: no monitor database, no retention/precreation/CQ services,
  // no usage reporting. wal-fsync-delay 0 = a write answered 204 is on disk.
  return `reporting-disabled = true
bind-address = ${q(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${q(join(dataDir, 'meta'))}
  logging-enabled = false

[data]
  dir = ${q(join(dataDir, 'data'))}
  wal-dir = ${q(join(dataDir, 'wal'))}
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = ${q(`127.0.0.1:${httpPort}`)}
  auth-enabled = false
  log-enabled = false
  suppress-write-log = true
  pprof-enabled = false
  max-body-size = 0

[logging]
  level = "warn"
  suppress-logo = true

[ifql]
  enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false
`;
}

// Every live influxd we started, so that the parent's exit takes them down too.
const live = new Set<ChildProcess>();
let exitHooked = false;

function hookParentExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      // When the application handles the signal itself it will stop us in order (drain
      // the spool first); only when nobody else listens do we stop influxd and then let
      // the signal do what it would have done.
      if (process.listenerCount(signal) > 1) return;
      for (const child of live) child.kill('SIGTERM');
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * A watchdog for the one case the exit hook cannot cover: the parent killed with SIGKILL.
 * Its stdin is a pipe from us; when we die the pipe closes, `read` returns and it kills influxd.
 */
function startWatchdog(pid: number): ChildProcess {
  const dog = spawn('sh', ['-c', `read _ignored; kill -9 ${pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
  dog.unref();
  dog.on('error', () => undefined);
  const pipe = dog.stdin as Socket;
  pipe.on('error', () => undefined);
  // Keep the pipe open without keeping our event loop alive.
  pipe.unref();
  return dog;
}

function delay(time: ClockAndTimers, ms: number): Promise<void> {
  return new Promise((r) => void time.setTimeout(r, ms));
}

async function pingOnce(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 204;
  } catch {
    return false;
  }
}

export async function startInfluxd(opts: StartInfluxdOptions): Promise<InfluxdProcess> {
  const binary = opts.binary ?? findInfluxd();
  if (!binary)
    throw new Error(
      'influxd (InfluxDB 1.x) is not installed: run `npm run setup` (it installs the Debian package "influxdb")',
    );
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const configPath = join(dataDir, 'influxd.conf');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const time = opts.time ?? realTime;
  hookParentExit();

  let port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let dog: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const tail: string[] = [];
  // Supervision: stopped on purpose (no restart), restarts so far, failures in a row, the pending restart.
  let stopping = false;
  let restarts = 0;
  let failuresInRow = 0;
  let startedAt = 0;
  let lastExit: { at: number; how: string } | undefined;
  let pendingRestart: unknown;
  let restarting = false;

  const superviseExit = (how: string) => {
    const sup = opts.supervise;
    if (!sup || stopping) return;
    lastExit = { at: time.now(), how };
    failuresInRow = time.now() - startedAt > STABLE_MS ? 1 : failuresInRow + 1;
    const wait = backoffDelay(failuresInRow, sup.firstBackoffMs ?? 500, sup.maxBackoffMs ?? 30_000);
    restarting = true;
    pendingRestart = time.setTimeout(() => {
      pendingRestart = undefined;
      if (stopping) return void (restarting = false);
      const attempt = ++restarts;
      spawnOnce().then(
        () => {
          restarting = false;
          sup.onRestart?.({ attempt, exit: how, ok: true });
        },
        (err: Error) => {
          sup.onRestart?.({ attempt, exit: how, ok: false, error: err.message });
          // It did not come back: try again, later.
          superviseExit(`could not restart: ${err.message.split('\n')[0]}`);
        },
      );
    }, wait);
    unref(pendingRestart);
  };

  const spawnOnce = async (): Promise<void> => {
    const rpcPort = await freePort();
    await writeFile(configPath, configText(dataDir, port, rpcPort));
    // A clean environment for influxd: INFLUXDB_* variables would override our config.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    const proc = spawn(binary, ['run', '-config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    child = proc;
    startedAt = time.now();
    let ready = false;
    live.add(proc);
    if (proc.pid !== undefined) dog = startWatchdog(proc.pid);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        opts.log?.(line);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    let exitInfo: string | undefined;
    exited = new Promise((done) => {
      proc.once('exit', (code, signal) => {
        exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`;
        live.delete(proc);
        dog?.kill('SIGKILL');
        done();
        // Died after it was up: the supervisor brings it back (a failed start is the starter's to report).
        if (ready) superviseExit(exitInfo);
      });
      proc.once('error', (err) => {
        exitInfo = `could not start: ${err.message}`;
        live.delete(proc);
        dog?.kill('SIGKILL');
        done();
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = time.now() + readyTimeoutMs;
    for (;;) {
      if (exitInfo)
        throw new Error(`influxd ${binary} stopped while starting (${exitInfo}); its last output:\n${tail.join('\n')}`);
      if (await pingOnce(url)) {
        ready = true;
        return;
      }
      if (time.now() > deadline) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(
          `influxd did not answer ${url}/ping within ${readyTimeoutMs} ms; its last output:\n${tail.join('\n')}`,
        );
      }
      await delay(time, 50);
    }
  };

  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    stopping = true;
    if (pendingRestart) time.clearTimeout(pendingRestart);
    pendingRestart = undefined;
    restarting = false;
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill(signal);
    const timer = time.setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    time.clearTimeout(timer);
  };

  // Another process may grab a port between our probe and influxd's bind: try new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      await spawnOnce();
      break;
    } catch (err) {
      const portClash = /address already in use/i.test((err as Error).message);
      if (!portClash || attempt >= 3 || opts.port !== undefined) throw err;
      port = await freePort();
      tail.length = 0;
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    stop: (signal = 'SIGTERM') => stopWith(signal),
    kill: () => stopWith('SIGKILL'),
    restart: async () => {
      await stopWith('SIGTERM');
      tail.length = 0;
      await spawnOnce();
      stopping = false;
    },
    get restarts() {
      return restarts;
    },
    get lastExit() {
      return lastExit;
    },
    get down() {
      return restarting || (!stopping && (child === undefined || child.exitCode !== null || child.signalCode !== null));
    },
  };
}
