import type { Logger } from 'pino';
import type { AlarmView } from '../../rules/engine.js';
import {
  IncidentBoard,
  UnknownIncidentError,
  type AlarmRef,
  type IncidentFilter,
  type IncidentRecord,
} from '../../rules/incidents/board.js';
import type { LiveOf } from '../../rules/incidents/evidence.js';
import type { Incident, IncidentCommand, IncidentEvent } from '../../rules/incidents/incident.js';
import type { DutyRole, Playbook } from '../../rules/incidents/playbook.js';
import type { AlarmListener } from '../alarms/runtime.js';
import { siteFacts } from '../alarms/facts.js';
import { every, realTimers, type Clock, type Timers } from '../ports/clock.js';
import type { SiteConfig } from '../config/schema.js';
import type { EventLog, Logged } from '../files/event-log.js';
import type { ComponentHealth, HealthSource } from '../health.js';
import type { Playbooks } from './playbooks.js';

// The edge around the pure incident board (rules/incidents/board.ts): it feeds the board the
// alarm stream, the readings, people's commands and the clock; stores every event the board
// decides (fsynced before it is announced); and sends the notifications those events ask for
// (an alert when a critical incident opens, an escalation when a step runs late). A restart
// folds the log back into the same incidents, owners and timers.

export type { IncidentRecord };
export { UnknownIncidentError };

export interface IncidentChange {
  seq: number;
  incidentId: string;
  event: IncidentEvent;
}

/** Something to tell people about an incident: its opening (alerted) or a late step (escalated). */
export interface Notice {
  incident: Incident;
  playbook: Playbook;
  event: Extract<IncidentEvent, { type: 'escalated' | 'task_escalated' | 'alerted' }>;
}

/** Sends a notice; returns the attempts as timeline events (see notify.ts). */
export type NoticeSender = (n: Notice) => Promise<IncidentEvent[]>;

export interface IncidentRuntimeOptions {
  config: SiteConfig;
  clock: Clock;
  /** Timers in the clock's time (default real ones). */
  timers?: Timers;
  log: EventLog<IncidentRecord>;
  playbooks: Playbooks;
  alarms: { subscribe(listener: AlarmListener): () => void; list?(): AlarmView[] };
  /** A device's latest values, each with its time (the rule engine's live table). */
  live: LiveOf;
  /** The drill running now: incidents of any other drill are closed ("drill ended"). */
  activeDrill?: () => string | undefined;
  notify?: NoticeSender;
  logger: Logger;
  tickMs?: number;
}

export class IncidentRuntime implements HealthSource {
  readonly component = 'incidents';
  private readonly board: IncidentBoard;
  private readonly listeners = new Set<(c: IncidentChange) => void>();
  private readonly recent: IncidentChange[] = [];
  private stopTicking: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: IncidentRuntimeOptions) {
    const alertRoles: DutyRole[] = opts.config.notifications.on_open;
    this.board = new IncidentBoard({ facts: siteFacts(opts.config), playbooks: opts.playbooks, alertRoles });
  }

  async start(): Promise<void> {
    const logged = await this.opts.log.open((line, detail) =>
      this.opts.logger.warn({ line, detail }, 'incident log: damaged line skipped'),
    );
    this.board.restore(logged.map((l) => l.record));
    for (const { seq, record } of logged) this.remember({ seq, incidentId: record.incidentId, event: record.event });
    const active = this.opts.alarms.list?.() ?? [];
    this.board.seed(
      active
        .filter((a) => a.status === 'firing' || a.status === 'cleared')
        .map((a) => ({ ...ref(a), status: a.status as 'firing' | 'cleared' })),
    );
    this.unsubscribe = this.opts.alarms.subscribe((e) => {
      if (e.type === 'firing' || e.type === 'reopened' || e.type === 'cleared' || e.type === 'closed')
        this.handle(this.board.alarm(e.type, ref(e.alarm), this.opts.clock.now()));
    });
    this.stopTicking = every(this.opts.timers ?? realTimers, this.opts.tickMs ?? 1000, () => void this.tick(), {
      background: true,
    });
  }

  list(filter: IncidentFilter = {}): Incident[] {
    return this.board.list(filter);
  }

  get(id: string): { incident: Incident; playbook: Playbook } {
    return this.board.get(id);
  }

  playbook(playbookId: string): Playbook | undefined {
    return this.board.playbook(playbookId);
  }

  /** A person's action; throws IncidentError (nothing recorded) or UnknownIncidentError. */
  async command(id: string, cmd: IncidentCommand): Promise<Incident> {
    await this.handle(this.board.command(id, cmd, this.opts.clock.now()));
    return this.board.get(id).incident;
  }

  /**
   * Records events decided elsewhere on an incident (a device command going out and its
   * answer, gateway/http/incident-commands.ts), stored and announced like the board's own.
   */
  async record(id: string, events: IncidentEvent[]): Promise<Incident> {
    await this.handle(this.board.append(id, events));
    return this.board.get(id).incident;
  }

  /** Opens an incident by hand (a phone call, a resident at the desk). */
  async raise(
    by: string,
    playbookId: string,
    building: string | undefined,
    note: string | undefined,
    drill?: string,
  ): Promise<Incident> {
    const records = this.board.raise(
      {
        by,
        playbook: playbookId,
        ...(building ? { building } : {}),
        ...(note ? { note } : {}),
        ...(drill ? { drill } : {}),
      },
      this.opts.clock.now(),
    );
    await this.handle(records);
    return this.board.get(records[0]!.incidentId).incident;
  }

  /** A reading came in (after the rule engine took it): evidence held on its device breaks if it no longer shows. */
  observe(deviceId: string): void {
    this.board.reading(deviceId, this.opts.live, this.opts.clock.now());
  }

  subscribe(listener: (c: IncidentChange) => void, afterSeq?: number): () => void {
    if (afterSeq !== undefined) for (const c of this.recent) if (c.seq > afterSeq) listener(c);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once everything recorded so far is on disk and announced. */
  async settled(): Promise<void> {
    await this.writing;
  }

  health(): ComponentHealth {
    const open = this.list({ status: 'open' });
    return {
      status: 'ok',
      open: open.length,
      overdue: open.filter((i) => Object.values(i.steps).some((s) => s.escalated > 0 && s.status !== 'done')).length,
    };
  }

  async stop(): Promise<void> {
    this.stopTicking?.();
    this.stopTicking = undefined;
    this.unsubscribe?.();
    await this.writing.catch(() => undefined);
    await this.opts.log.close();
  }

  /** Deadlines, evidence and ended drills of every open incident, at the current time. */
  async tick(): Promise<void> {
    await this.handle(this.board.tick(this.opts.clock.now(), this.opts.live, this.opts.activeDrill?.()));
  }

  /** Stores and announces what the board decided, then sends the notices it asks for. */
  private handle(records: IncidentRecord[]): Promise<void> {
    const done = this.persist(records);
    for (const r of records) {
      if (
        (r.event.type === 'escalated' || r.event.type === 'task_escalated' || r.event.type === 'alerted') &&
        this.opts.notify
      ) {
        const { incident, playbook } = this.board.get(r.incidentId);
        const event = r.event;
        void this.opts
          .notify({ incident: structuredClone(incident), playbook, event })
          .then((attempts) => this.persist(this.board.append(r.incidentId, attempts)))
          .catch((err: Error) =>
            this.opts.logger.error({ err: err.message, incident: r.incidentId }, 'notification failed'),
          );
      }
    }
    return done;
  }

  private persist(records: IncidentRecord[]): Promise<void> {
    if (records.length === 0) return this.writing.then(() => undefined);
    // Applied in memory at once (so the next decision sees them), announced once on disk.
    const done = this.writing.then(() => this.opts.log.append(records));
    this.writing = done.then(
      (logged: Logged<IncidentRecord>[]) => {
        for (const { seq, record } of logged) {
          const change = { seq, incidentId: record.incidentId, event: record.event };
          this.remember(change);
          for (const l of this.listeners) l(change);
        }
      },
      (err: Error) =>
        this.opts.logger.error({ err: err.message, incident: records[0]!.incidentId }, 'incident log write failed'),
    );
    return this.writing.then(() => undefined);
  }

  private remember(c: IncidentChange): void {
    this.recent.push(c);
    if (this.recent.length > 5000) this.recent.shift();
  }
}

function ref(a: {
  id: string;
  kind: AlarmRef['kind'];
  deviceId: string;
  severity: AlarmRef['severity'];
  drill?: string;
}): AlarmRef {
  return { id: a.id, kind: a.kind, deviceId: a.deviceId, severity: a.severity, ...(a.drill ? { drill: a.drill } : {}) };
}
