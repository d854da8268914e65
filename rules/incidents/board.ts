import type { AlarmKind, Severity } from '../alarms/kinds.js';
import type { DeviceFacts, SiteFacts } from '../site-facts.js';
import { holdsOnAll, type LiveOf } from './evidence.js';
import { localStamp } from '../reports/calendar.js';
import {
  applyEvent,
  decide,
  due,
  evidenceCandidates,
  open,
  stepSkips,
  type Incident,
  type IncidentCommand,
  type IncidentEvent,
} from './incident.js';
import type { DeviceSelector, DutyRole, EvidenceCondition, Playbook, PlaybookSet, TaskDef } from './playbook.js';
import { feeds, fedBy, inBuilding } from './topology.js';

// The duty room's board of incidents, and every decision about them (ARCHITECTURE.md seam 5):
// which incident an alarm opens or joins, which tasks a playbook spawns and re-opens, what the
// sensors may close, who is told at once, and when a drill's incidents end. Inputs are alarm
// changes, readings, people's commands and the passing of time; outputs are incident events,
// already applied here. No I/O and no clock: the runtime (gateway/incidents) persists the
// events, announces them and sends the notifications they ask for.
//
// The invariants it keeps, over any order of inputs (tested as properties in board.test.ts):
//   I1/I8 a drill's alarms never join a real incident, nor real alarms a drill's; a drill's
//         incidents close when it ends ("drill ended").
//   I3    a step or task is closed by sensors only on fresh readings that showed its condition
//         without a break for the condition's hold time.
//   I4    a power cut, whatever came first (a lift alarm, the incomer, an internal fault, a
//         person), ends with one check per lift its lost supplies feed, every trapped lift on
//         them attached, and a second loss re-opening the checks done before it.
//   I6    a critical incident alerts the site's roles at once (a drill's only on its record).
//   I7    sensors close only what needs no person's record; anything else is noted as seen.

export type Text = { zh: string; en: string };

/** An alarm as the board needs it (from the alarm stream). */
export interface AlarmRef {
  id: string;
  kind: AlarmKind;
  deviceId: string;
  severity: Severity;
  drill?: string;
}

export type AlarmChangeType = 'firing' | 'reopened' | 'cleared' | 'closed';

export interface IncidentRecord {
  incidentId: string;
  event: IncidentEvent;
}

export interface IncidentFilter {
  status?: 'open' | 'closed';
  building?: string;
  drill?: boolean;
}

export interface BoardOptions {
  facts: SiteFacts;
  playbooks: PlaybookSet;
  /** Roles told at once when a critical incident opens (S001 篇3: the shift leader and the engineering manager). */
  alertRoles: readonly DutyRole[];
}

export class UnknownIncidentError extends Error {}

/** Where a trigger comes from: an alarm's device (a supply lost or back), or a person (a building, or the site). */
type Source = { alarmId: string; deviceId: string } | { manual: true; building?: string };

const REOPENED_LOST: Text = { zh: '该设备的供电再次中断，需重新检查', en: 'Its supply was lost again: check again' };
const REOPENED_BACK: Text = { zh: '该设备的供电再次恢复，需重新检查', en: 'Its supply came back again: check again' };

export class IncidentBoard {
  private readonly incidents = new Map<string, Incident>();
  /** Alarms not closed, as last seen on the alarm stream. */
  private readonly active = new Map<string, AlarmRef & { status: 'firing' | 'cleared' }>();
  /** Evidence holding since (key: incident|step|id or incident|task|id), and the devices it reads. */
  private readonly holds = new Map<string, { since: number; condition: EvidenceCondition; devices: DeviceFacts[] }>();
  private readonly holdsByDevice = new Map<string, Set<string>>();
  private next = 1;

  constructor(private readonly opts: BoardOptions) {}

  // ---- state in ----

  /** Folds stored records back (in log order): the same incidents, owners and timers. */
  restore(records: Iterable<IncidentRecord>): void {
    for (const r of records) this.apply(r.incidentId, r.event);
  }

  /** The alarms active when the board starts (a restart): a power cut opened later still finds the trapped lifts. */
  seed(alarms: Iterable<AlarmRef & { status: 'firing' | 'cleared' }>): void {
    for (const a of alarms) this.active.set(a.id, { ...a });
  }

  // ---- reads ----

  list(filter: IncidentFilter = {}): Incident[] {
    return [...this.incidents.values()]
      .filter(
        (i) =>
          (!filter.status || i.status === filter.status) &&
          (!filter.building || i.building === filter.building) &&
          (filter.drill === undefined || (i.drill !== undefined) === filter.drill),
      )
      .sort((a, b) => b.raisedAt - a.raisedAt || Number(b.id.slice(4)) - Number(a.id.slice(4)));
  }

  get(id: string): { incident: Incident; playbook: Playbook } {
    const incident = this.incidents.get(id);
    if (!incident) throw new UnknownIncidentError(`no incident "${id}"`);
    return { incident, playbook: this.playbookOf(incident) };
  }

  playbook(id: string): Playbook | undefined {
    return this.opts.playbooks.byId.get(id);
  }

  // ---- inputs: each returns the records it decided, already applied ----

  /** A change on the alarm stream. */
  alarm(change: AlarmChangeType, a: AlarmRef, now: number): IncidentRecord[] {
    if (change === 'closed') {
      this.active.delete(a.id);
      return [];
    }
    if (change === 'cleared') {
      const prev = this.active.get(a.id);
      this.active.set(a.id, { ...(prev ?? a), status: 'cleared' });
      return this.onCleared(a, now);
    }
    this.active.set(a.id, { ...a, status: 'firing' });
    return this.onFiring(a, now);
  }

  /** An incident opened by a person (a phone call, a resident at the desk). */
  raise(
    r: { by: string; playbook: string; building?: string; note?: string; drill?: string },
    now: number,
  ): IncidentRecord[] {
    const pb = this.opts.playbooks.byId.get(r.playbook);
    if (!pb)
      throw new UnknownIncidentError(
        `no playbook "${r.playbook}" (have: ${[...this.opts.playbooks.byId.keys()].join(', ')})`,
      );
    const id = this.newId();
    const out = this.commit(id, [
      {
        type: 'raised',
        incidentId: id,
        playbook: pb.id,
        title: pb.title,
        severity: 'critical',
        by: r.by,
        ...(r.building ? { building: r.building } : {}),
        ...(r.drill ? { drill: r.drill } : {}),
        ...this.trading(r.building, now),
        at: now,
      },
      ...(r.note ? [{ type: 'note' as const, by: r.by, text: r.note, at: now }] : []),
    ]);
    const inc = this.incidents.get(id)!;
    // A person said the power is out: every lift of the building (of the site, when none is named) is checked.
    out.push(
      ...this.commit(id, [
        ...this.spawn(
          inc,
          pb,
          'alarm',
          { manual: true, ...(r.building ? { building: r.building } : {}) },
          () => true,
          now,
        ),
        ...this.alertIfDue(inc, now),
      ]),
    );
    out.push(...this.attachPending(inc, now));
    return out;
  }

  /** A person's command; throws IncidentError (nothing recorded) or UnknownIncidentError. */
  command(id: string, cmd: IncidentCommand, now: number): IncidentRecord[] {
    const { incident, playbook } = this.get(id);
    return this.commit(id, decide(incident, playbook, cmd, now));
  }

  /** A reading came in: a hold of evidence on this device breaks if the device no longer shows it. */
  reading(deviceId: string, liveOf: LiveOf, now: number): void {
    const keys = this.holdsByDevice.get(deviceId);
    if (!keys) return;
    for (const key of [...keys]) {
      const h = this.holds.get(key);
      if (h && !holdsOnAll(h.condition, h.devices, liveOf, now)) this.dropHold(key);
    }
  }

  /** The passing of time: escalations, evidence, and the incidents of a drill that is no longer running. */
  tick(now: number, liveOf: LiveOf, runningDrill: string | undefined): IncidentRecord[] {
    const out: IncidentRecord[] = [];
    for (const inc of this.list({ status: 'open' })) {
      if (inc.drill !== undefined && inc.drill !== runningDrill) {
        out.push(
          ...this.commit(inc.id, [
            {
              type: 'closed',
              by: 'system',
              reason: 'drill_ended',
              note: `演练已结束 / drill ${inc.drill} ended`,
              at: now,
            },
          ]),
        );
        continue;
      }
      const pb = this.playbookOf(inc);
      out.push(
        ...this.commit(inc.id, [
          ...due(inc, pb, now),
          ...this.stepEvidence(inc, pb, liveOf, now),
          ...this.taskEvidence(inc, liveOf, now),
        ]),
      );
    }
    return out;
  }

  /** Events made elsewhere (the outcome of sending a notification), recorded on an incident. */
  append(id: string, events: IncidentEvent[]): IncidentRecord[] {
    if (!this.incidents.has(id)) throw new UnknownIncidentError(`no incident "${id}"`);
    return this.commit(id, events);
  }

  // ---- alarms ----

  private onFiring(a: AlarmRef, now: number): IncidentRecord[] {
    const out: IncidentRecord[] = [];
    // A trapped lift on a lost supply belongs to the power cut as well as to its own incident.
    for (const inc of this.openIn(a.drill)) {
      const pb = this.playbookOf(inc);
      if (pb.attaches.some((r) => r.kind === a.kind) && !attached(inc, a.id) && this.inFedScope(inc, pb, a.deviceId))
        out.push(...this.commit(inc.id, [attach(a, now, false)]));
    }
    const pb = this.opts.playbooks.forKind(a.kind);
    if (!pb) return out;

    const mine = this.openIn(a.drill).find((i) => i.playbook === pb.id && attached(i, a.id));
    if (mine) {
      if (!mine.alarms.find((x) => x.alarmId === a.id)!.cleared) return out;
      // The same alarm again on an open incident: a second cut, a car stuck again.
      const stillLost = this.stillLost(mine, pb, a.id);
      out.push(
        ...this.commit(mine.id, [
          { type: 'alarm_refired', alarmId: a.id, at: now },
          ...this.spawn(mine, pb, 'alarm', { alarmId: a.id, deviceId: a.deviceId }, stillLost, now),
        ]),
      );
      out.push(...this.attachPending(mine, now));
      return out;
    }

    const join = this.joinable(pb, a);
    if (join) {
      const stillLost = this.stillLost(join, pb, a.id);
      out.push(...this.commit(join.id, [attach(a, now, true)]));
      out.push(
        ...this.commit(join.id, [
          ...this.spawn(join, pb, 'alarm', { alarmId: a.id, deviceId: a.deviceId }, stillLost, now),
          ...this.alertIfDue(join, now),
        ]),
      );
      out.push(...this.attachPending(join, now));
      return out;
    }

    out.push(...this.raiseFor(a, pb, now));
    return out;
  }

  /** A new incident for the alarm, its tasks spawned and its alert sent when due. */
  private raiseFor(a: AlarmRef, pb: Playbook, now: number): IncidentRecord[] {
    const out: IncidentRecord[] = [];
    const id = this.newId();
    const building = this.opts.facts.devices.get(a.deviceId)?.building;
    out.push(
      ...this.commit(id, [
        {
          type: 'raised',
          incidentId: id,
          playbook: pb.id,
          title: pb.title,
          severity: a.severity,
          deviceId: a.deviceId,
          alarmId: a.id,
          kind: a.kind,
          ...(building ? { building } : {}),
          ...(a.drill ? { drill: a.drill } : {}),
          ...this.trading(building, now),
          at: now,
        },
      ]),
    );
    const inc = this.incidents.get(id)!;
    out.push(
      ...this.commit(id, [
        ...this.spawn(inc, pb, 'alarm', { alarmId: a.id, deviceId: a.deviceId }, () => false, now),
        ...this.alertIfDue(inc, now),
      ]),
    );
    out.push(...this.attachPending(inc, now));
    return out;
  }

  private onCleared(a: AlarmRef, now: number): IncidentRecord[] {
    const out: IncidentRecord[] = [];
    for (const inc of this.list({ status: 'open' })) {
      const at = inc.alarms.find((x) => x.alarmId === a.id);
      if (!at || at.cleared) continue;
      const pb = this.playbookOf(inc);
      const stillLost = this.stillLost(inc, pb, a.id);
      const supply = pb.opened_by.includes(a.kind);
      out.push(
        ...this.commit(inc.id, [
          { type: 'alarm_cleared', alarmId: a.id, at: now },
          ...(supply
            ? this.spawn(inc, pb, 'alarm_cleared', { alarmId: a.id, deviceId: a.deviceId }, stillLost, now)
            : []),
        ]),
      );
    }
    return out;
  }

  /** The open incident an alarm of this playbook joins: same world (real or the same drill), same building or same device. */
  private joinable(pb: Playbook, a: AlarmRef): Incident | undefined {
    const building = this.opts.facts.devices.get(a.deviceId)?.building;
    const candidates = this.openIn(a.drill).filter((i) => i.playbook === pb.id);
    if (pb.group_by === 'building') return candidates.find((i) => i.building !== undefined && i.building === building);
    // One per device; a case a person opened for the building with no alarm yet takes the first.
    return (
      candidates.find((i) => i.alarms.some((x) => x.deviceId === a.deviceId)) ??
      candidates.find(
        (i) =>
          i.raisedBy !== undefined && i.alarms.length === 0 && (i.building === undefined || i.building === building),
      )
    );
  }

  /** Active alarms that an incident's `attaches` rules take and it does not hold yet (a lift trapped before the incomer's alarm). */
  private attachPending(inc: Incident, now: number): IncidentRecord[] {
    const pb = this.playbookOf(inc);
    if (pb.attaches.length === 0) return [];
    const events: IncidentEvent[] = [];
    for (const a of this.active.values()) {
      if (a.status !== 'firing' || (a.drill ?? null) !== (inc.drill ?? null) || attached(inc, a.id)) continue;
      if (pb.attaches.some((r) => r.kind === a.kind) && this.inFedScope(inc, pb, a.deviceId))
        events.push(attach(a, now, false));
    }
    return this.commit(inc.id, events);
  }

  /** Devices powered by any supply the incident has lost (its alarms of the playbook's kinds), or by the building a person named. */
  private inFedScope(inc: Incident, pb: Playbook, deviceId: string): boolean {
    const facts = this.opts.facts;
    if (this.manualScope(inc, pb)) return inBuilding(facts, inc.building).some((d) => d.id === deviceId);
    return supplies(inc, pb).some((s) => s.deviceId !== undefined && feeds(facts, s.deviceId, deviceId));
  }

  /** Opened by a person and no supply alarm has joined yet: the person's word (the building) is the scope. */
  private manualScope(inc: Incident, pb: Playbook): boolean {
    return inc.raisedBy !== undefined && supplies(inc, pb).length === 0;
  }

  /** Whether a device is still without power from another loss of the incident than `except`, as things stand before it changes. */
  private stillLost(inc: Incident, pb: Playbook, except: string): (deviceId: string) => boolean {
    const facts = this.opts.facts;
    const manual = this.manualScope(inc, pb) ? new Set(inBuilding(facts, inc.building).map((d) => d.id)) : undefined;
    const lost = supplies(inc, pb).filter((s) => !s.cleared && s.alarmId !== except && s.deviceId !== undefined);
    return (deviceId) => manual?.has(deviceId) === true || lost.some((s) => feeds(facts, s.deviceId!, deviceId));
  }

  // ---- tasks ----

  /** The tasks a trigger spawns: missing ones added; done ones re-opened where the playbook says so and the device's supply really changed. */
  private spawn(
    inc: Incident,
    pb: Playbook,
    on: TaskDef['on'],
    source: Source,
    stillLost: (deviceId: string) => boolean,
    now: number,
  ): IncidentEvent[] {
    const events: IncidentEvent[] = [];
    const anyStillLost = on === 'alarm_cleared' && [...this.opts.facts.devices.keys()].some(stillLost);
    for (const def of pb.tasks) {
      if (def.on !== on) continue;
      if (def.room_types) {
        const d = 'deviceId' in source ? this.opts.facts.devices.get(source.deviceId) : undefined;
        if (!d?.roomType || !def.room_types.includes(d.roomType)) continue;
      }
      const targets: (string | undefined)[] = def.for_each
        ? this.select(def.for_each, source, inc).map((d) => d.id)
        : [undefined];
      for (const deviceId of targets) {
        // Back from a loss: only what has its power again now (and the site-wide checks once all is back).
        if (on === 'alarm_cleared' && (deviceId === undefined ? anyStillLost : stillLost(deviceId))) continue;
        const taskId = deviceId === undefined ? def.id : `${def.id}:${deviceId}`;
        const t = inc.tasks[taskId];
        if (!t) {
          events.push({
            type: 'task_added',
            task: taskId,
            title: titleFor(def.title, deviceId),
            ...(deviceId ? { deviceId } : {}),
            ...(def.closed_by ? { condition: def.closed_by } : {}),
            at: now,
          });
        } else if (t.done && def.reopen && 'alarmId' in source && (deviceId === undefined || !stillLost(deviceId))) {
          events.push({
            type: 'task_reopened',
            task: taskId,
            reason: on === 'alarm' ? REOPENED_LOST : REOPENED_BACK,
            at: now,
          });
        }
      }
    }
    return events;
  }

  private select(sel: DeviceSelector, source: Source, inc: Incident): DeviceFacts[] {
    const facts = this.opts.facts;
    let pool: DeviceFacts[];
    if (sel.scope === 'fed')
      pool = 'deviceId' in source ? fedBy(facts, source.deviceId) : inBuilding(facts, source.building);
    else
      pool = inBuilding(
        facts,
        inc.building ?? ('deviceId' in source ? facts.devices.get(source.deviceId)?.building : source.building),
      );
    return pool.filter((d) => d.kind === sel.kind && (sel.role === undefined || d.role === sel.role));
  }

  // ---- evidence ----

  private stepEvidence(inc: Incident, pb: Playbook, liveOf: LiveOf, now: number): IncidentEvent[] {
    const events: IncidentEvent[] = [];
    for (const step of evidenceCandidates(inc, pb)) {
      const ev = step.evidence!;
      const cond = this.opts.playbooks.conditions.get(ev.condition);
      const state = inc.steps[step.id];
      if (!cond || !state) continue;
      const key = `${inc.id}|step|${step.id}`;
      const since = this.held(key, cond, this.evidenceDevices(inc, cond, ev.role), liveOf, now);
      if (since === undefined) continue;
      // A step whose record needs a person is never closed by the sensors: what they show is noted once (I7).
      const needsPerson = step.record.some((r) => r.required && !ev.fills.includes(r.name));
      if (needsPerson) {
        if (state.evidenceSeenAt === undefined)
          events.push({ type: 'evidence_seen', step: step.id, evidence: cond.says, at: now });
        continue;
      }
      this.dropHold(key);
      const fields = Object.fromEntries(ev.fills.map((f) => [f, new Date(since).toISOString()]));
      events.push({ type: 'step_done', step: step.id, by: 'sensor', fields, evidence: cond.says, at: now });
    }
    return events;
  }

  private taskEvidence(inc: Incident, liveOf: LiveOf, now: number): IncidentEvent[] {
    const events: IncidentEvent[] = [];
    for (const [taskId, t] of Object.entries(inc.tasks)) {
      const key = `${inc.id}|task|${taskId}`;
      if (t.done || !t.condition || !t.deviceId) continue;
      const cond = this.opts.playbooks.conditions.get(t.condition);
      if (!cond) continue;
      if (this.held(key, cond, [this.opts.facts.devices.get(t.deviceId)!].filter(Boolean), liveOf, now) === undefined)
        continue;
      this.dropHold(key);
      events.push({ type: 'task_done', task: taskId, by: 'sensor', evidence: cond.says, at: now });
    }
    return events;
  }

  /** When the condition began to hold without a break, if it has held its hold time by now. */
  private held(
    key: string,
    cond: EvidenceCondition,
    devices: DeviceFacts[],
    liveOf: LiveOf,
    now: number,
  ): number | undefined {
    if (!holdsOnAll(cond, devices, liveOf, now)) {
      this.dropHold(key);
      return undefined;
    }
    let h = this.holds.get(key);
    // Another set of devices (an alarm joined meanwhile): what held before says nothing of the new one.
    if (h && (h.devices.length !== devices.length || h.devices.some((d, i) => d.id !== devices[i]!.id))) {
      this.dropHold(key);
      h = undefined;
    }
    if (!h) {
      h = { since: now, condition: cond, devices };
      this.holds.set(key, h);
      for (const d of devices) {
        let keys = this.holdsByDevice.get(d.id);
        if (!keys) this.holdsByDevice.set(d.id, (keys = new Set()));
        keys.add(key);
      }
    }
    return now - h.since >= cond.hold_s * 1000 ? h.since : undefined;
  }

  private dropHold(key: string): void {
    const h = this.holds.get(key);
    if (!h) return;
    this.holds.delete(key);
    for (const d of h.devices) {
      const keys = this.holdsByDevice.get(d.id);
      keys?.delete(key);
      if (keys?.size === 0) this.holdsByDevice.delete(d.id);
    }
  }

  /** The devices a step's evidence reads: those of its kind among the incident's alarms, else of its building. */
  private evidenceDevices(inc: Incident, cond: EvidenceCondition, role: string | undefined): DeviceFacts[] {
    const fits = (d: DeviceFacts | undefined): d is DeviceFacts =>
      d !== undefined && d.kind === cond.kind && (role === undefined || d.role === role);
    const ofAlarms = [...new Set(inc.alarms.map((a) => a.deviceId))]
      .map((id) => (id ? this.opts.facts.devices.get(id) : undefined))
      .filter(fits);
    if (ofAlarms.length) return ofAlarms;
    return inc.building === undefined ? [] : inBuilding(this.opts.facts, inc.building).filter(fits);
  }

  // ---- telling people ----

  /** I6: a critical incident not yet alerted alerts the site's roles now. */
  private alertIfDue(inc: Incident, now: number): IncidentEvent[] {
    if (inc.severity !== 'critical' || inc.alertedAt !== undefined || this.opts.alertRoles.length === 0) return [];
    return [{ type: 'alerted', to: [...this.opts.alertRoles], at: now }];
  }

  // ---- state ----

  private openIn(drill: string | undefined): Incident[] {
    return this.list({ status: 'open' }).filter((i) => (i.drill ?? null) === (drill ?? null));
  }

  private commit(id: string, events: IncidentEvent[]): IncidentRecord[] {
    for (const e of events) this.apply(id, e);
    const out = events.map((event) => ({ incidentId: id, event }));
    // What was just recorded (or how it began) may rule a step out: skipped, with the reason.
    const last = events.findLast((e) => e.type === 'raised' || e.type === 'step_done');
    const inc = this.incidents.get(id);
    if (last && inc) out.push(...this.commit(id, stepSkips(inc, this.playbookOf(inc), last.at)));
    return out;
  }

  /** Whether a building with trading hours (shops) is in them at `now`: unknown buildings and those without shops are not. */
  private trading(building: string | undefined, now: number): { trading?: boolean } {
    if (!building) return {};
    const hours = this.opts.facts.buildings?.get(building)?.tradingHours;
    if (!hours) return { trading: false };
    const stamp = localStamp(now, this.opts.facts.timezone ?? 'Asia/Shanghai');
    const t = stamp.slice(11, 16);
    return { trading: hours.from <= hours.to ? t >= hours.from && t < hours.to : t >= hours.from || t < hours.to };
  }

  private apply(id: string, e: IncidentEvent): void {
    const n = Number(/^inc-(\d+)$/.exec(id)?.[1] ?? 0);
    this.next = Math.max(this.next, n + 1);
    if (e.type === 'raised') {
      const pb = this.opts.playbooks.byId.get(e.playbook);
      if (!pb) throw new Error(`incident log names a playbook that is not loaded: ${e.playbook}`);
      this.incidents.set(id, open(e, pb));
      return;
    }
    const inc = this.incidents.get(id);
    if (!inc) return;
    applyEvent(inc, e);
    if (e.type === 'closed') for (const key of [...this.holds.keys()]) if (key.startsWith(`${id}|`)) this.dropHold(key);
  }

  private newId(): string {
    return `inc-${this.next++}`;
  }

  private playbookOf(inc: Incident): Playbook {
    const pb = this.opts.playbooks.byId.get(inc.playbook);
    if (!pb) throw new Error(`incident ${inc.id} names a playbook that is not loaded: ${inc.playbook}`);
    return pb;
  }
}

const attached = (inc: Incident, alarmId: string) => inc.alarms.some((a) => a.alarmId === alarmId);

/**
 * An alarm joins an incident. Only its own kinds (`own`: the playbook opens on them) set how
 * severe the incident is; an alarm attached for its relation (a trapped lift on a cut supply)
 * has an incident of its own, alerted there.
 */
const attach = (a: AlarmRef, now: number, own: boolean): IncidentEvent => ({
  type: 'alarm_attached',
  alarmId: a.id,
  kind: a.kind,
  deviceId: a.deviceId,
  ...(own ? { severity: a.severity } : {}),
  at: now,
});

/** The incident's alarms of the kinds that open its playbook: for a power cut, its lost (or lost and back) supplies. */
function supplies(inc: Incident, pb: Playbook): Incident['alarms'] {
  return inc.alarms.filter((a) => a.kind !== undefined && pb.opened_by.includes(a.kind));
}

function titleFor(t: Text, deviceId: string | undefined): Text {
  return deviceId === undefined
    ? t
    : { zh: t.zh.replaceAll('{device}', deviceId), en: t.en.replaceAll('{device}', deviceId) };
}
