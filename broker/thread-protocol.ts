import type { BrokerAccount } from './acl.js';
import type { BrokerOptions, BrokerStats } from './broker.js';
import type { ComponentHealth } from './types.js';

// The messages between the gateway's thread and the embedded broker's worker thread
// (broker/thread.ts and broker/thread-worker.ts).

/** What the worker is started with: BrokerOptions without the logger and the clock, which cannot cross threads. */
export type WorkerOptions = Omit<BrokerOptions, 'logger' | 'clock'> & {
  /** The gateway logger's level and bindings: the worker logs as a child of it. */
  log: { level: string; bindings: Record<string, unknown> };
};

/**
 * The messages of one turn of the worker's event loop for the in-process consumer: topics and
 * QoS side by side, the payloads end to end in one transferred buffer (`ends[i]` is where
 * payload i stops), so that a batch crosses the threads without copying each payload.
 */
export interface Batch {
  type: 'batch';
  id: number;
  topics: string[];
  qos: Uint8Array;
  ends: Uint32Array;
  data: ArrayBuffer;
}

/** How far behind the consumer is (LocalConsumer.congested and .overloaded). */
export type Congestion = 'clear' | 'congested' | 'overloaded';

export type ToWorker =
  /** The consumer's MQTT filters; null: no consumer. */
  | { type: 'consumer'; filters: string[] | null }
  /** The consumer is done with a batch; how congested it is now; the messages it could not keep (their indices). */
  | { type: 'done'; id: number; congestion: Congestion; notKept?: number[] }
  /** The consumer's congestion changed before it was done with a batch. */
  | { type: 'congestion'; congestion: Congestion }
  | { type: 'accounts'; accounts: BrokerAccount[] }
  /** A message from the gateway itself (its alarm and incident events), answered by `published`. */
  | { type: 'publish'; id: number; topic: string; payload: Uint8Array; retain: boolean }
  | { type: 'close' };

export interface BrokerState {
  stats: BrokerStats;
  health: ComponentHealth;
}

export type FromWorker =
  | ({ type: 'started'; ports: { mqtt: number; ws?: number; tls?: number }; url: string } & BrokerState)
  | { type: 'failed'; message: string }
  | Batch
  | { type: 'log'; line: string }
  | ({ type: 'state' } & BrokerState)
  /** A `publish` is done (aedes has it, retained ones stored), or failed. */
  | { type: 'published'; id: number; error?: string }
  | { type: 'closed' };

/** Packs the payloads of a batch into one buffer of its own (transferable: not from Buffer's shared pool). */
export function packPayloads(payloads: readonly Buffer[], bytes: number): { data: ArrayBuffer; ends: Uint32Array } {
  const data = new ArrayBuffer(bytes);
  const view = new Uint8Array(data);
  const ends = new Uint32Array(payloads.length);
  let at = 0;
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i]!;
    view.set(p, at);
    at += p.length;
    ends[i] = at;
  }
  return { data, ends };
}

/** Payload i of a packed batch, as a Buffer over the batch's memory (no copy). */
export function payloadAt(data: ArrayBuffer, ends: Uint32Array, i: number): Buffer {
  const start = i === 0 ? 0 : ends[i - 1]!;
  return Buffer.from(data, start, ends[i]! - start);
}
