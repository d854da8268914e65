import type { FunctionCode } from '../../profiles/datatypes.js';
import { ModbusRequestError } from './errors.js';
import type { ModbusLink } from './link.js';
import { RequestQueue, type Priority } from './queue.js';

export interface EndpointOptions {
  /** Requests on the wire at once: 1 for RTU, 1 by default for TCP (see the README). */
  maxInFlight: number;
  /**
   * Timeouts in a row, with no answer from any unit in between, after which the connection
   * is reopened: a converter that rebooted without closing its sockets leaves a half-open
   * connection that only a reconnect cures. 0 = never.
   */
  reconnectAfterTimeouts: number;
  /**
   * Reopen the connection after every timeout. For serial lines: RTU frames carry no
   * transaction id, and a slave's late answer left in the port's buffer could otherwise be
   * taken for the answer to the next request to the same slave.
   */
  resetOnTimeout: boolean;
}

export interface EndpointHealth {
  endpoint: string;
  connected: boolean;
  /** Connections opened since start; more than 1 means reconnects. */
  connections: number;
  queued: number;
  /** Epoch ms of the last answer (data or exception) from any unit on the line. */
  lastAnswerAt: number | null;
  lastError?: string;
}

/** A line (TCP endpoint or serial port) shared by the devices on it: one queue, one connection. */
export class Endpoint {
  private readonly queue: RequestQueue;
  private timeoutsInARow = 0;
  private lastAnswerAt: number | null = null;

  constructor(
    readonly link: ModbusLink,
    private readonly opts: EndpointOptions,
    private readonly now: () => number,
  ) {
    this.queue = new RequestQueue(opts.maxInFlight);
  }

  get name(): string {
    return this.link.name;
  }

  /** One read, after the requests queued before it (a failing device passes `low`). */
  read(
    unitId: number,
    fn: FunctionCode,
    start: number,
    count: number,
    timeoutMs: number,
    priority: Priority,
  ): Promise<number[] | boolean[]> {
    return this.queue.run(() => this.watched(this.link.read(unitId, fn, start, count, timeoutMs)), priority);
  }

  /** One write, ahead of every poll waiting for the line (a person is waiting for it). */
  write(
    unitId: number,
    table: 1 | 3,
    start: number,
    values: readonly number[] | readonly boolean[],
    timeoutMs: number,
  ): Promise<void> {
    return this.queue.run(() => this.watched(this.link.write(unitId, table, start, values, timeoutMs)), 'high');
  }

  health(): EndpointHealth {
    const lastError = this.link.lastError;
    return {
      endpoint: this.name,
      connected: this.link.connected,
      connections: this.link.opens,
      queued: this.queue.pending,
      lastAnswerAt: this.lastAnswerAt,
      ...(lastError ? { lastError } : {}),
    };
  }

  async close(): Promise<void> {
    this.queue.close();
    await this.link.close();
  }

  /** A request's outcome tells whether the line works; a write's counts as much as a read's. */
  private watched<T>(request: Promise<T>): Promise<T> {
    return request.then(
      (result) => {
        this.answered();
        return result;
      },
      (err: unknown) => {
        if (err instanceof ModbusRequestError) {
          if (err.failure === 'timeout') this.timedOut();
          // An exception is an answer too: the line works.
          else if (err.failure === 'exception') this.answered();
        }
        throw err;
      },
    );
  }

  private answered(): void {
    this.timeoutsInARow = 0;
    this.lastAnswerAt = this.now();
  }

  private timedOut(): void {
    this.timeoutsInARow++;
    const { reconnectAfterTimeouts, resetOnTimeout } = this.opts;
    if (resetOnTimeout) {
      this.link.reset('reopened after a timeout (stale bytes on a serial line)');
    } else if (reconnectAfterTimeouts > 0 && this.timeoutsInARow >= reconnectAfterTimeouts) {
      this.timeoutsInARow = 0;
      this.link.reset(
        `reconnecting: ${reconnectAfterTimeouts} requests in a row got no answer (half-open connection?)`,
      );
    }
  }
}
