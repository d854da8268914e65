// One queue per line: a serial bus (and most TCP-to-serial converters) carries one request
// at a time, so requests of every device on the line wait here for their turn. Requests of
// devices that are failing go behind those of healthy devices, so a dead slave's retries
// never take a healthy neighbour's place in the queue (it can still hold the line for one
// timeout while its own request is on the wire).
//
// The line is handed on one event-loop turn after it frees up, not at once: a device
// sends its next request as soon as the previous one is answered, and polls due at the
// same moment arrive in the same turn, so waiting one turn lets all of them queue before
// the next request is chosen by priority. Handing the line on at once would let a dead
// slave's waiting request slip in between two requests of a healthy device's poll.

/** `high`: a command from a person (close a valve now); `low`: a device that keeps failing. */
export type Priority = 'high' | 'normal' | 'low';

interface Waiting {
  task: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class QueueClosedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'QueueClosedError';
  }
}

export class RequestQueue {
  private readonly waiting: Record<Priority, Waiting[]> = { high: [], normal: [], low: [] };
  private running = 0;
  private dispatching = false;
  private closedReason: string | undefined;

  /** `maxInFlight` = requests on the wire at once: 1 on a serial line. */
  constructor(readonly maxInFlight = 1) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new RangeError(`maxInFlight must be a whole number ≥ 1, got ${maxInFlight}`);
  }

  /** Runs `task` when the line is free; settles as the task does. */
  run<T>(task: () => Promise<T>, priority: Priority = 'normal'): Promise<T> {
    if (this.closedReason !== undefined) return Promise.reject(new QueueClosedError(this.closedReason));
    return new Promise<T>((resolve, reject) => {
      this.waiting[priority].push({ task, resolve: resolve as (v: unknown) => void, reject });
      this.dispatchSoon();
    });
  }

  /** Requests waiting for the line (not counting those on it). */
  get pending(): number {
    return this.waiting.high.length + this.waiting.normal.length + this.waiting.low.length;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Refuses new requests and fails the waiting ones; those on the wire finish on their own. */
  close(reason = 'the Modbus adapter is stopping'): void {
    this.closedReason = reason;
    for (const w of [...this.waiting.high.splice(0), ...this.waiting.normal.splice(0), ...this.waiting.low.splice(0)])
      w.reject(new QueueClosedError(reason));
  }

  private dispatchSoon(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    setImmediate(() => {
      this.dispatching = false;
      this.next();
    });
  }

  /** Settles a request that left the line, which is then free for the next one. */
  private done(settle: (outcome: unknown) => void, outcome: unknown): void {
    settle(outcome);
    this.running--;
    this.dispatchSoon();
  }

  private next(): void {
    while (this.running < this.maxInFlight) {
      const w = this.waiting.high.shift() ?? this.waiting.normal.shift() ?? this.waiting.low.shift();
      if (!w) return;
      this.running++;
      let started: Promise<unknown>;
      try {
        started = w.task();
      } catch (err) {
        started = Promise.reject(err);
      }
      started.then(
        (value) => this.done(w.resolve, value),
        (err: unknown) => this.done(w.reject, err),
      );
    }
  }
}
