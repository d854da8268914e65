import {
  applyHandover,
  handOver,
  handoverCases,
  pendingFor,
  type Handover,
  type HandoverEvent,
} from '../../rules/incidents/handover.js';
import { IncidentError, type Incident, type IncidentCommand } from '../../rules/incidents/incident.js';
import type { Playbook } from '../../rules/incidents/playbook.js';
import { shiftAt, type Shift, type ShiftDef } from '../../rules/incidents/shifts.js';
import type { EventLog } from '../files/event-log.js';

// The shift handovers (S003 §3.6, §4.8–4.9), kept in their own append-only log: a handover is
// answered only once it is on disk. Confirming one moves every case the outgoing person still
// owns to the incoming person, each with the handover named on its timeline.

export interface HandoverIncidents {
  list(filter?: { status?: 'open' | 'closed' }): Incident[];
  playbook(id: string): Playbook | undefined;
  command(id: string, cmd: IncidentCommand): Promise<Incident>;
}

export interface HandoverDeskOptions {
  log: EventLog<HandoverEvent>;
  incidents: HandoverIncidents;
  rota: readonly ShiftDef[];
  timeZone: string;
  now: () => number;
}

export class HandoverDesk {
  private readonly state = new Map<string, Handover>();
  private next = 1;
  /** One change at a time: two "hand over" clicks never make two pending handovers. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: HandoverDeskOptions) {}

  async start(): Promise<void> {
    for (const { record } of await this.opts.log.open()) this.apply(record);
  }

  stop(): Promise<void> {
    return this.opts.log.close();
  }

  shift(at = this.opts.now()): Shift {
    return shiftAt(this.opts.rota, at, this.opts.timeZone);
  }

  /** Newest first; `since`: those recorded or still pending since then. */
  list(since?: number): Handover[] {
    return [...this.state.values()]
      .filter((h) => since === undefined || h.at >= since || h.status === 'pending')
      .reverse();
  }

  get(id: string): Handover | undefined {
    return this.state.get(id);
  }

  hand(by: string, to: string, note: string | undefined): Promise<Handover> {
    return this.serial(async () => {
      const now = this.opts.now();
      const cases = handoverCases(
        this.opts.incidents.list({ status: 'open' }),
        (id) => this.opts.incidents.playbook(id)!,
        by,
        now,
      );
      const e = handOver(
        this.state,
        { id: `ho-${this.next}`, by, to, ...(note ? { note } : {}), shift: this.shift(now), cases },
        now,
      );
      await this.record(e);
      return this.state.get(`ho-${this.next - 1}`)!;
    });
  }

  /** The incoming person takes over: the outgoing person's open cases become theirs. */
  confirm(id: string, by: string): Promise<Handover> {
    return this.serial(async () => {
      const h = pendingFor(this.state, id, by, 'recipient');
      const moved: string[] = [];
      for (const inc of this.opts.incidents.list({ status: 'open' }).filter((i) => i.owner === h.from)) {
        try {
          await this.opts.incidents.command(inc.id, {
            type: 'hand_over',
            by: h.from,
            to: h.to,
            note: `交接班 ${h.id}，${h.to} 已确认接班 / shift handover ${h.id}, confirmed by ${h.to}`,
          });
          moved.push(inc.id);
        } catch (err) {
          // Closed or taken over by a duty manager a moment ago: it is no longer the outgoing person's to give.
          if (!(err instanceof IncidentError)) throw err;
        }
      }
      await this.record({ type: 'confirmed', id, by, handedOver: moved, at: this.opts.now() });
      return this.state.get(id)!;
    });
  }

  cancel(id: string, by: string): Promise<Handover> {
    return this.serial(async () => {
      pendingFor(this.state, id, by, 'giver');
      await this.record({ type: 'cancelled', id, by, at: this.opts.now() });
      return this.state.get(id)!;
    });
  }

  private async record(e: HandoverEvent): Promise<void> {
    await this.opts.log.append([e]);
    this.apply(e);
  }

  private apply(e: HandoverEvent): void {
    applyHandover(this.state, e);
    if (e.type === 'handed') this.next = Math.max(this.next, Number(e.handover.id.slice(3)) + 1);
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
