import type { EventEmitter } from 'node:events';
import modbusSerial from 'modbus-serial';
import type { FunctionCode } from '../../profiles/datatypes.js';
import { classify, ModbusRequestError } from './errors.js';
import { systemClock, type Clock, type Timers } from '../../ports/clock.js';
import { Deadlines } from './deadlines.js';

// One connection to one line: a TCP endpoint (host:port) or a serial port. It opens on
// the first request, is reopened by the first request after it dropped, and every
// connection it lets go is destroyed with its listeners, so thousands of reconnects leave
// nothing behind. Each connection is a fresh modbus-serial client: reusing one across
// reconnects would keep the old port's listeners and pending transactions alive.
//
// Request timeouts are ours (injected clock and timers, one timer per line for all its
// requests: deadlines.ts), not modbus-serial's: its timer is not armed at all, which also
// keeps it from putting an idle timeout on the socket.

export type LinkTarget =
  { transport: 'tcp'; host: string; port: number } | { transport: 'rtu'; path: string; baudRate: number };

export interface LinkOptions {
  timers: Timers;
  /** The clock the request deadlines are measured on (default: the system's), the one the timers run on. */
  clock?: Clock;
  /** Longest wait for a TCP connection or for a serial port to open. */
  connectTimeoutMs: number;
  /** Called each time a connection opens (the first one included). */
  onOpen?: () => void;
}

// modbus-serial is CommonJS: its module object is the client class, also under .default.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

type ReadCallback = (err: unknown, res?: { data: number[] | boolean[] }) => void;
type Done = (err: unknown, data?: number[] | boolean[]) => void;
type Send = (client: ModbusRTU, done: Done) => void;

/** Where a request's answer goes while the request is unsettled. */
interface Answer {
  to: Done | undefined;
}

/**
 * The callback modbus-serial keeps for a request. It keeps it long after the answer: a
 * transaction stays in the client's table until its id comes round again, 256 requests later
 * on TCP. Made out here, the callback holds only `answer`, emptied once the request is
 * settled, and not the request's promise, timers and data: with them, a line kept its last 256
 * requests alive, 60 MB of heap with 100 converters (bench/README.md, Modbus). And the
 * answered transaction itself is taken out of the table: kept, each one outlived every
 * young-generation collection and left the old generation as garbage, 15,000 a second at
 * 5,000 devices.
 */
function relay(answer: Answer, client: ModbusRTU): Done {
  return (err, data) => {
    forgetAnswered(client);
    answer.to?.(err, data);
  };
}

/**
 * Drops the transaction modbus-serial has just answered from its table (TCP and UDP: the id
 * of the response being read; a serial line keeps one transaction at a time anyway). Called
 * from the request's callback, which modbus-serial calls while that id is current; called on
 * another path (a port already closed), the id is that of the last answer, which is done with.
 */
function forgetAnswered(client: ModbusRTU): void {
  const c = client as unknown as { _transactions?: Record<number, unknown>; _port?: { _transactionIdRead?: number } };
  const id = c._port?._transactionIdRead;
  if (id !== undefined && c._transactions) delete c._transactions[id];
}

export class ModbusLink {
  readonly name: string;
  private client: ModbusRTU | undefined;
  private opening: Promise<ModbusRTU> | undefined;
  /** Fails the requests on the wire when their connection goes. */
  private readonly inFlight = new Set<(err: ModbusRequestError) => void>();
  private closed = false;
  private opened = 0;
  private error: string | undefined;
  /** The timeouts of the requests on the wire, on one timer. */
  private readonly deadlines: Deadlines;

  constructor(
    readonly target: LinkTarget,
    private readonly opts: LinkOptions,
  ) {
    this.name = describeTarget(target);
    this.deadlines = new Deadlines(opts.clock ?? systemClock, opts.timers);
  }

  get connected(): boolean {
    return this.client?.isOpen === true;
  }
  /** Connections opened so far. */
  get opens(): number {
    return this.opened;
  }
  /** Why the last connection attempt failed or the last connection dropped; cleared on connect. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** One read request; rejects with a ModbusRequestError. */
  read(
    unitId: number,
    fn: FunctionCode,
    start: number,
    count: number,
    timeoutMs: number,
  ): Promise<number[] | boolean[]> {
    return this.request(unitId, timeoutMs, (client, done) => {
      const got: ReadCallback = (err, res) => {
        if (err) return done(err);
        const data = res?.data ?? [];
        if (data.length < count)
          return done(
            new ModbusRequestError('protocol', `asked unit ${unitId} for ${count} values, got ${data.length}`),
          );
        done(undefined, data.slice(0, count) as number[] | boolean[]);
      };
      // The callback API takes the unit id per request: no shared setID state between requests.
      switch (fn) {
        case 1:
          return client.writeFC1(unitId, start, count, got);
        case 2:
          return client.writeFC2(unitId, start, count, got);
        case 3:
          return client.writeFC3(unitId, start, count, got);
        case 4:
          return client.writeFC4(unitId, start, count, got);
      }
    });
  }

  /** Writes coils (FC05 one, FC15 several) or holding registers (FC06 one, FC16 several); rejects with a ModbusRequestError. */
  async write(
    unitId: number,
    table: 1 | 3,
    start: number,
    values: readonly number[] | readonly boolean[],
    timeoutMs: number,
  ): Promise<void> {
    await this.request(unitId, timeoutMs, (client, done) => {
      const ok = (err: unknown) => done(err ?? undefined, []);
      if (table === 1) {
        const bits = values as readonly boolean[];
        if (bits.length === 1) client.writeFC5(unitId, start, bits[0]!, ok);
        else client.writeFC15(unitId, start, [...bits], ok);
      } else {
        const words = values as readonly number[];
        if (words.length === 1) client.writeFC6(unitId, start, words[0]!, ok);
        else client.writeFC16(unitId, start, [...words], ok);
      }
    });
  }

  /** Sends one request with a timeout; a connection error releases the socket. */
  private request(unitId: number, timeoutMs: number, send: Send): Promise<number[] | boolean[]> {
    // On an open connection the request goes out at once, not a promise turn later.
    const client = this.client;
    if (client?.isOpen && !this.closed) return this.send(client, unitId, timeoutMs, send);
    return this.open().then((c) => this.send(c, unitId, timeoutMs, send));
  }

  private send(client: ModbusRTU, unitId: number, timeoutMs: number, send: Send): Promise<number[] | boolean[]> {
    return new Promise<number[] | boolean[]>((resolve, reject) => {
      let settled = false;
      const answer: Answer = {
        to: (err, data) =>
          err ? finish(err instanceof ModbusRequestError ? err : classify(err)) : finish(undefined, data ?? []),
      };
      const finish = (err: ModbusRequestError | undefined, data?: number[] | boolean[]) => {
        if (settled) return;
        settled = true;
        answer.to = undefined;
        this.deadlines.remove(deadline);
        this.inFlight.delete(abort);
        if (err) {
          if (err.failure === 'connection') this.release(client, err.message);
          reject(err);
        } else {
          resolve(data!);
        }
      };
      const abort = (err: ModbusRequestError) => finish(err);
      this.inFlight.add(abort);
      // Set before the request is written: a write that fails at once calls finish() synchronously.
      const deadline = this.deadlines.add(timeoutMs, () =>
        finish(new ModbusRequestError('timeout', `no answer from unit ${unitId} within ${timeoutMs} ms`)),
      );
      try {
        send(client, relay(answer, client));
      } catch (err) {
        finish(classify(err));
      }
    });
  }

  /** Drops the connection (a half-open socket, a confused serial buffer); the next read reopens it. */
  reset(reason: string): void {
    if (this.client) this.release(this.client, reason);
  }

  /** Drops the connection for good: reads fail from now on. */
  async close(): Promise<void> {
    this.closed = true;
    const opening = this.opening;
    this.reset('the Modbus adapter is stopping');
    this.deadlines.clear();
    // A connection still opening is released as soon as it opens (see connect()).
    if (opening) await opening.catch(() => undefined);
  }

  private open(): Promise<ModbusRTU> {
    if (this.closed) return Promise.reject(new ModbusRequestError('connection', `${this.name}: the link is closed`));
    if (this.client) {
      if (this.client.isOpen) return Promise.resolve(this.client);
      this.release(this.client, 'the connection was lost');
    }
    this.opening ??= this.connect().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(): Promise<ModbusRTU> {
    const { target } = this;
    const client = new ModbusRTU();
    const events = client as unknown as EventEmitter;
    events.on('error', (err: unknown) => {
      this.error = classify(err).message;
    });
    events.on('close', () => {
      if (this.client === client) this.release(client, 'the connection was closed by the other end');
    });
    try {
      const opening =
        target.transport === 'tcp'
          ? client.connectTCP(target.host, { port: target.port })
          : client.connectRTUBuffered(target.path, { baudRate: target.baudRate });
      await this.within(
        opening,
        this.opts.connectTimeoutMs,
        `could not connect within ${this.opts.connectTimeoutMs} ms`,
      );
    } catch (err) {
      dispose(client, target);
      const e = classify(err);
      const failure = new ModbusRequestError('connection', `${this.name}: ${e.message}`);
      this.error = failure.message;
      throw failure;
    }
    if (this.closed) {
      dispose(client, target);
      throw new ModbusRequestError('connection', `${this.name}: the link is closed`);
    }
    this.client = client;
    this.opened++;
    this.error = undefined;
    this.opts.onOpen?.();
    return client;
  }

  private release(client: ModbusRTU, reason: string): void {
    if (this.client === client) {
      this.client = undefined;
      this.error = reason;
    }
    const failure = new ModbusRequestError('connection', `${this.name}: ${reason}`);
    for (const abort of [...this.inFlight]) abort(failure);
    dispose(client, this.target);
  }

  private within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
    const { timers } = this.opts;
    return new Promise<T>((resolve, reject) => {
      const timer = timers.setTimeout(() => reject(new ModbusRequestError('connection', message)), ms);
      promise.then(
        (v) => {
          timers.clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          timers.clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}

/** The line's name in logs, health and stats; one serial port is one line whatever its speed. */
export function describeTarget(target: LinkTarget): string {
  return target.transport === 'tcp' ? `tcp://${target.host}:${target.port}` : `rtu:${target.path}`;
}

const noop = () => undefined;

/** Lets a client go for good: its listeners, its socket or serial port, its pending transactions. */
function dispose(client: ModbusRTU, target: LinkTarget): void {
  const events = client as unknown as EventEmitter;
  events.removeAllListeners();
  events.on('error', noop);
  if (target.transport === 'tcp') {
    // destroy(), not close(): close() ends the socket gracefully, which a dead peer never
    // finishes, and the half-closed socket would stay around.
    client.destroy(noop);
  } else {
    // modbus-serial's serial port has no destroy(); close() releases the device. It also
    // drops modbus-serial's error listener on the port, and a late error from the port
    // with no listener would crash the process.
    (client as unknown as { _port?: EventEmitter })._port?.on('error', noop);
    client.close(noop);
  }
}
