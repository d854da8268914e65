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
  hookParentExit();
  const influxd = new LocalInfluxd(opts, binary, dataDir, opts.port ?? (await freePort()));
  // Another process may grab a port between our probe and influxd's bind: try new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      await influxd.spawnOnce();
      return influxd;
    } catch (err) {
      const portClash = /address already in use/i.test((err as Error).message);
      if (!portClash || attempt >= 3 || opts.port !== undefined) throw err;
      influxd.port = await freePort();
      influxd.tail.length = 0;
    }
  }
}

/** One private influxd: its process, the last lines it wrote, and its supervision. */
class LocalInfluxd implements InfluxdProcess {
  readonly tail: string[] = [];
  restarts = 0;
  lastExit: { at: number; how: string } | undefined;
  private readonly time: ClockAndTimers;
  private readonly configPath: string;
  private child: ChildProcess | undefined;
  private dog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  // Supervision: stopped on purpose (no restart), failures in a row, the pending restart.
  private stopping = false;
  private failuresInRow = 0;
  private startedAt = 0;
  private pendingRestart: unknown;
  private restarting = false;

  constructor(
    private readonly opts: StartInfluxdOptions,
    private readonly binary: string,
    readonly dataDir: string,
    public port: number,
  ) {
    this.time = opts.time ?? realTime;
    this.configPath = join(dataDir, 'influxd.conf');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    const { child } = this;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  get down(): boolean {
    const { child } = this;
    return (
      this.restarting ||
      (!this.stopping && (child === undefined || child.exitCode !== null || child.signalCode !== null))
    );
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return this.stopWith(signal);
  }

  kill(): Promise<void> {
    return this.stopWith('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stopWith('SIGTERM');
    this.tail.length = 0;
    await this.spawnOnce();
    this.stopping = false;
  }

  /** Starts the process and waits until it answers /ping. */
  async spawnOnce(): Promise<void> {
    const rpcPort = await freePort();
    await writeFile(this.configPath, configText(this.dataDir, this.port, rpcPort));
    // A clean environment for influxd: INFLUXDB_* variables would override our config.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    const proc = spawn(this.binary, ['run', '-config', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child = proc;
    this.startedAt = this.time.now();
    live.add(proc);
    if (proc.pid !== undefined) this.dog = startWatchdog(proc.pid);
    this.keepOutput(proc);
    let ready = false;
    const exit = this.watchExit(proc, (how) => {
      // Died after it was up: the supervisor brings it back (a failed start is the starter's to report).
      if (ready) this.superviseExit(how);
    });
    await this.untilReady(proc, exit);
    ready = true;
  }

  private keepOutput(proc: ChildProcess): void {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        this.opts.log?.(line);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
  }

  /** Sets `exited` for this process; the returned box says how it ended, once it has. */
  private watchExit(proc: ChildProcess, onExit: (how: string) => void): { how: string | undefined } {
    const exit: { how: string | undefined } = { how: undefined };
    this.exited = new Promise((done) => {
      proc.once('exit', (code, signal) => {
        exit.how = signal ? `killed by ${signal}` : `exit code ${code}`;
        live.delete(proc);
        this.dog?.kill('SIGKILL');
        done();
        onExit(exit.how);
      });
      proc.once('error', (err) => {
        exit.how = `could not start: ${err.message}`;
        live.delete(proc);
        this.dog?.kill('SIGKILL');
        done();
      });
    });
    return exit;
  }

  private async untilReady(proc: ChildProcess, exit: { how: string | undefined }): Promise<void> {
    const readyTimeoutMs = this.opts.readyTimeoutMs ?? 30_000;
    const deadline = this.time.now() + readyTimeoutMs;
    const last = () => `its last output:\n${this.tail.join('\n')}`;
    for (;;) {
      if (exit.how) throw new Error(`influxd ${this.binary} stopped while starting (${exit.how}); ${last()}`);
      if (await pingOnce(this.url)) return;
      if (this.time.now() > deadline) {
        proc.kill('SIGKILL');
        await this.exited;
        throw new Error(`influxd did not answer ${this.url}/ping within ${readyTimeoutMs} ms; ${last()}`);
      }
      await delay(this.time, 50);
    }
  }

  private superviseExit(how: string): void {
    const sup = this.opts.supervise;
    if (!sup || this.stopping) return;
    this.lastExit = { at: this.time.now(), how };
    this.failuresInRow = this.time.now() - this.startedAt > STABLE_MS ? 1 : this.failuresInRow + 1;
    const wait = backoffDelay(this.failuresInRow, sup.firstBackoffMs ?? 500, sup.maxBackoffMs ?? 30_000);
    this.restarting = true;
    this.pendingRestart = this.time.setTimeout(() => {
      this.pendingRestart = undefined;
      if (this.stopping) return void (this.restarting = false);
      const attempt = ++this.restarts;
      this.spawnOnce().then(
        () => {
          this.restarting = false;
          sup.onRestart?.({ attempt, exit: how, ok: true });
        },
        (err: Error) => {
          sup.onRestart?.({ attempt, exit: how, ok: false, error: err.message });
          // It did not come back: try again, later.
          this.superviseExit(`could not restart: ${err.message.split('\n')[0]}`);
        },
      );
    }, wait);
    unref(this.pendingRestart);
  }

  private async stopWith(signal: NodeJS.Signals): Promise<void> {
    this.stopping = true;
    if (this.pendingRestart) this.time.clearTimeout(this.pendingRestart);
    this.pendingRestart = undefined;
    this.restarting = false;
    const proc = this.child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return this.exited;
    proc.kill(signal);
    const timer = this.time.setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    this.time.clearTimeout(timer);
  }
}
