import type { FastifyReply, FastifyRequest } from 'fastify';
import { every, realTimers, type Timers } from '../ports/clock.js';

/** Heartbeats keep proxies from closing a quiet stream and let the browser notice a dead one. */
const HEARTBEAT_MS = 15_000;

export type SendEvent = (id: number, event: string, data: unknown) => void;

/**
 * Turns the request into a server-sent-events stream. `subscribe` gets a sender and the
 * sequence number the client saw last (Last-Event-ID header, else `?last_event_id`), replays
 * what came after it, then sends live; it returns its unsubscribe, called when the client goes.
 */
export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  lastEventIdQuery: number | undefined,
  subscribe: (send: SendEvent, afterSeq: number) => () => void,
  timers: Timers = realTimers,
): void {
  const header = request.headers['last-event-id'];
  const after = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : lastEventIdQuery;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const unsubscribe = subscribe(
    (id, event, data) => res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    after ?? Number.MAX_SAFE_INTEGER,
  );
  const stopHeartbeat = every(timers, HEARTBEAT_MS, () => res.write(': heartbeat\n\n'));
  request.raw.on('close', () => {
    stopHeartbeat();
    unsubscribe();
  });
}
