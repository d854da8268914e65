import type { RunningDrill } from '../alarms/drill.js';
import { RuleEngine, type AlarmChange } from '../engine.js';
import type { FieldValue } from '../model/reading.js';
import type { SiteFacts } from '../site-facts.js';
import { IncidentBoard, type IncidentRecord } from './board.js';
import type { IncidentCommand } from './incident.js';
import type { DutyRole, PlaybookSet } from './playbook.js';

// The duty room in virtual time, wired as the gateway wires it (readings → rule engine →
// alarm changes → incident board; alarms re-evaluated and incidents ticked every second) but
// with no I/O at all: for replaying
// recorded or invented orders of events, the golden cases of rules/incidents/testcases and the
// invariant properties. Inputs are applied at the replay's clock, which only moves forward.

export interface ReplayOptions {
  facts: SiteFacts;
  playbooks: PlaybookSet;
  alertRoles: readonly DutyRole[];
  start: number;
  /** How often alarms are re-evaluated and incidents ticked while time passes (the gateway: 1000 ms). */
  tickMs?: number;
  /**
   * After a reading, the devices that changed are checked first, then everything (as the
   * gateway does: gateway/alarms/runtime.ts). Default true; false checks everything in one go.
   */
  changedFirst?: boolean;
}

export class Replay {
  readonly engine: RuleEngine;
  readonly board: IncidentBoard;
  /** Every alarm change, in order. */
  readonly alarmChanges: AlarmChange[] = [];
  /** Every incident record, in order. */
  readonly records: IncidentRecord[] = [];
  /** Every reading taken, in order (the invariants check claims against them). */
  readonly readings: { deviceId: string; ts: number; fields: Record<string, FieldValue> }[] = [];
  /** For each record, how many readings had been taken when it was made (things happen in the same ms). */
  readonly readingsBefore: number[] = [];
  private t: number;
  private drill: RunningDrill | undefined;
  private readonly tickMs: number;
  private readonly facts: SiteFacts;
  private readonly changedFirst: boolean;

  constructor(opts: ReplayOptions) {
    this.t = opts.start;
    this.changedFirst = opts.changedFirst ?? true;
    this.tickMs = opts.tickMs ?? 1000;
    this.facts = opts.facts;
    this.engine = new RuleEngine({ facts: opts.facts, start: opts.start });
    this.board = new IncidentBoard({ facts: opts.facts, playbooks: opts.playbooks, alertRoles: opts.alertRoles });
  }

  get now(): number {
    return this.t;
  }

  get runningDrill(): RunningDrill | undefined {
    return this.drill;
  }

  /** Lets time pass to `until`, ticking as the gateway does. */
  advanceTo(until: number): void {
    while (this.t + this.tickMs <= until) {
      this.t += this.tickMs;
      this.tick();
    }
    if (until > this.t) {
      this.t = until;
      this.tick();
    }
  }

  /** A device reports, now. */
  read(deviceId: string, fields: Record<string, FieldValue>): void {
    const kind = this.facts.devices.get(deviceId)?.kind;
    if (!kind) throw new RangeError(`no device "${deviceId}"`);
    this.readings.push({ deviceId, ts: this.t, fields });
    this.engine.observe({ deviceId, kind, ts: this.t, fields, quality: 'good' }, this.t);
    this.board.reading(deviceId, (id) => this.engine.liveOf(id), this.t);
    // The gateway checks the reading's device at once, and everything on the next turn of its event loop.
    if (this.changedFirst) this.feed(this.engine.evaluateChanged(this.t, this.drill));
    this.evaluate();
  }

  acknowledgeAlarm(alarmId: string, by: string): void {
    this.feed(this.engine.acknowledge(alarmId, by, undefined, this.t));
  }

  command(incidentId: string, cmd: IncidentCommand): void {
    this.keep(this.board.command(incidentId, cmd, this.t));
  }

  raise(r: { by: string; playbook: string; building?: string; note?: string }): string {
    const records = this.board.raise(r, this.t);
    this.keep(records);
    return records[0]!.incidentId;
  }

  startDrill(id: string, scope: Iterable<string>): void {
    this.drill = { id, scope: new Set(scope) };
  }

  stopDrill(): void {
    this.drill = undefined;
  }

  /** The gateway's one-second timers: alarms re-evaluated (silence, time held), then incidents ticked. */
  private tick(): void {
    this.evaluate();
    this.keep(this.board.tick(this.t, (id) => this.engine.liveOf(id), this.drill?.id));
  }

  private evaluate(): void {
    this.feed(this.engine.evaluate(this.t, this.drill));
  }

  private keep(records: IncidentRecord[]): void {
    for (const r of records) {
      this.records.push(r);
      this.readingsBefore.push(this.readings.length);
    }
  }

  private feed(changes: AlarmChange[]): void {
    for (const c of changes) {
      this.alarmChanges.push(c);
      const type = c.event.type;
      if (type === 'firing' || type === 'reopened' || type === 'cleared' || type === 'closed') {
        this.keep(
          this.board.alarm(
            type,
            {
              id: c.alarm.id,
              kind: c.alarm.kind,
              deviceId: c.alarm.deviceId,
              severity: c.alarm.severity,
              ...(c.alarm.drill ? { drill: c.alarm.drill } : {}),
            },
            this.t,
          ),
        );
      }
    }
  }
}
