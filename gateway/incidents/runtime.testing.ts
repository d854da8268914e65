import { join } from 'node:path';
import pino from 'pino';
import type { SiteConfig } from '../config/schema.js';
import { EventLog } from '../files/event-log.js';
import { loadPlaybooks } from './playbooks.js';
import { IncidentRuntime, type IncidentRecord } from './runtime.js';

/** An incident runtime for tests: the shipped playbooks, no alarm stream, its log in `dir`, started; ticks only when asked. */
export async function testIncidentRuntime(opts: {
  config: SiteConfig;
  clock: { now(): number };
  dir: string;
  file?: string;
}): Promise<IncidentRuntime> {
  const rt = new IncidentRuntime({
    config: opts.config,
    clock: opts.clock,
    log: new EventLog<IncidentRecord>(join(opts.dir, opts.file ?? 'events.jsonl')),
    playbooks: loadPlaybooks(),
    alarms: { subscribe: () => () => undefined },
    live: () => undefined,
    logger: pino({ level: 'silent' }),
    tickMs: 3_600_000,
  });
  await rt.start();
  return rt;
}
