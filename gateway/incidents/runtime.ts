import type { Logger } from 'pino';
import type { AlarmView } from '../../rules/engine.js';
import { decide, due, evidenceCandidates, evidenceMet, fold, type Incident, type IncidentCommand, type IncidentEvent } from '../../rules/incidents/incident.js';
import type { EvidenceRule, Playbook } from '../../rules/incidents/playbook.js';
import type { FieldValue } from '../../rules/model/reading.js';
import { feederChain } from '../../rules/site.js';
import type { AlarmListener } from '../alarms/runtime.js';
import { siteFacts } from '../alarms/facts.js';
import type { Clock } from '../clock.js';
import type { SiteConfig } from '../config/schema.js';
import type { EventLog, Logged } from '../event-log.js';
import type { ComponentHealth, HealthSource } from '../health.js';
import type { Playbooks } from './playbooks.js';

// The edge around the pure incident model: alarms open and feed incidents, the clock drives
// deadlines and escalation, live readings close steps and tasks by evidence, people act
// through commands. Every event is fsynced before it is announced; a restart folds the log
// back into the same incidents, owners and timers.

export interface IncidentRecord {
  incidentId: string;
  event: IncidentEvent;
}

export interface IncidentChange {
  seq: number;
  incidentId: string;
  event: IncidentEvent;
}

export interface Escalation {
  incident: Incident;
  event: Extract<IncidentEvent, { type: 'escalated' }>;
}

/** Sends escalations; returns the attempts as timeline events (see notify.ts). */
export type EscalationSender = (e: Escalation) => Promise<IncidentEvent[]>;

export interface IncidentRuntimeOptions {
  config: SiteConfig;
  clock: Clock;
  log: EventLog<IncidentRecord>;
  playbooks: Playbooks;
  alarms: { subscribe(listener: AlarmListener, afterSeq?: number): () => void };
  /** A device's latest values (the device registry). */
  live: (deviceId: string) => Record<string, FieldValue> | undefined;
  escalate?: EscalationSender;
  logger: Logger;
  tickMs?: number;
}

export class UnknownIncidentError extends Error {}

export class IncidentRuntime implements HealthSource {
  readonly component = 'incidents';
  private readonly events = new Map<string, IncidentEvent[]>();
  private readonly listeners = new Set<(c: IncidentChange) => void>();
  private readonly recent: IncidentChange[] = [];
  private readonly facts;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  private next = 1;

  constructor(private readonly opts: IncidentRuntimeOptions) {
    this.facts = siteFacts(opts.config);
  }

  async start(): Promise<void> {
    const logged = await this.opts.log.open((line, detail) => this.opts.logger.warn({ line, detail }, 'incident log: damaged line skipped'));
    for (const { seq, record } of logged) {
      this.eventsOf(record.incidentId).push(record.event);
      this.remember({ seq, incidentId: record.incidentId, event: record.event });
      const n = Number(/^inc-(\d+)$/.exec(record.incidentId)?.[1] ?? 0);
      this.next = Math.max(this.next, n + 1);
    }
    this.unsubscribe = this.opts.alarms.subscribe((e) => {
      if (e.type === 'firing' || e.type === 'reopened') void this.onAlarmFiring(e.alarm as AlarmView);
      if (e.type === 'cleared') void this.onAlarmCleared(e.alarm as AlarmView);
    });
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  list(filter: { status?: 'open' | 'closed'; building?: string; drill?: boolean } = {}): Incident[] {
    return [...this.events.keys()]
      .map((id) => this.state(id))
      .filter((i) => (!filter.status || i.status === filter.status) && (!filter.building || i.building === filter.building) && (filter.drill === undefined || (i.drill !== undefined) === filter.drill))
      .sort((a, b) => b.raisedAt - a.raisedAt);
  }

  get(id: string): { incident: Incident; playbook: Playbook } {
    const events = this.events.get(id);
    if (!events) throw new UnknownIncidentError(`no incident "${id}"`);
    const playbook = this.playbookOf(events);
    return { incident: fold(events, playbook), playbook };
  }

  playbook(playbookId: string): Playbook | undefined {
    return this.opts.playbooks.byId.get(playbookId);
  }

  /** A person's action; throws IncidentError (nothing recorded) or UnknownIncidentError. */
  async command(id: string, cmd: IncidentCommand): Promise<Incident> {
    const { incident, playbook } = this.get(id);
    await this.record(id, decide(incident, playbook, cmd, this.opts.clock.now()));
    return this.state(id);
  }

  /** Opens an incident by hand (a phone call, a resident at the desk). */
  async raise(by: string, playbookId: string, building: string | undefined, note: string | undefined, drill?: string): Promise<Incident> {
    const playbook = this.opts.playbooks.byId.get(playbookId);
    if (!playbook) throw new UnknownIncidentError(`no playbook "${playbookId}" (have: ${[...this.opts.playbooks.byId.keys()].join(', ')})`);
    const id = `inc-${this.next++}`;
    const now = this.opts.clock.now();
    const events: IncidentEvent[] = [{ type: 'raised', incidentId: id, playbook: playbook.id, title: playbook.title, severity: 'critical', by, ...(building ? { building } : {}), ...(drill ? { drill } : {}), at: now }];
    if (note) events.push({ type: 'note', by, text: note, at: now });
    await this.record(id, events);
    return this.state(id);
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
    return { status: 'ok', open: open.length, overdue: open.filter((i) => Object.values(i.steps).some((s) => s.escalated > 0 && s.status !== 'done')).length };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.writing.catch(() => undefined);
    await this.opts.log.close();
  }

  /** Deadlines, evidence and causal tasks of every open incident, at the current time. */
  async tick(): Promise<void> {
    const now = this.opts.clock.now();
    for (const incident of this.list({ status: 'open' })) {
      const playbook = this.opts.playbooks.byId.get(incident.playbook)!;
      const events: IncidentEvent[] = [...due(incident, playbook, now)];
      for (const step of evidenceCandidates(incident, playbook)) {
        if (evidenceMet(step.evidence!, this.evidenceDevices(incident, step.evidence!))) {
          events.push({ type: 'step_done', step: step.id, by: 'sensor', fields: {}, evidence: step.evidence!.says, at: now });
        }
      }
      for (const [taskId, task] of Object.entries(incident.tasks)) {
        if (task.done || !task.deviceId) continue;
        const says = taskEvidence(taskId, this.opts.live(task.deviceId));
        if (says) events.push({ type: 'task_done', task: taskId, by: 'sensor', evidence: says, at: now });
      }
      if (events.length === 0) continue;
      await this.record(incident.id, events);
      const escalations = events.filter((e): e is Escalation['event'] => e.type === 'escalated');
      if (escalations.length && this.opts.escalate) {
        const fresh = this.state(incident.id);
        for (const event of escalations) void this.opts.escalate({ incident: fresh, event }).then((attempts) => this.record(incident.id, attempts));
      }
    }
  }

  private async onAlarmFiring(alarm: AlarmView): Promise<void> {
    const playbook = this.opts.playbooks.forKind(alarm.kind);
    const device = this.facts.devices.get(alarm.deviceId);
    const building = device?.building;
    const now = this.opts.clock.now();
    const attach: IncidentEvent = { type: 'alarm_attached', alarmId: alarm.id, kind: alarm.kind, deviceId: alarm.deviceId, at: now };
    // A drill's alarms never join a real incident, nor real alarms a drill's.
    const sameWorld = (i: Incident) => (i.drill ?? null) === (alarm.drill ?? null);
    // A trapped lift during a power cut joins that incident's tasks, and has its own incident too.
    if (alarm.kind === 'lift_entrapment') {
      for (const cut of this.list({ status: 'open' }).filter((i) => i.playbook === 'power_cut' && i.building === building && sameWorld(i))) {
        if (!cut.alarms.some((a) => a.alarmId === alarm.id)) await this.record(cut.id, [attach]);
      }
    }
    if (!playbook) return;
    const already = this.list({ status: 'open' }).find((i) => i.playbook === playbook.id && i.alarms.some((a) => a.alarmId === alarm.id));
    if (already) return;
    const same = this.list({ status: 'open' }).find((i) => i.playbook === playbook.id && i.building === building && sameWorld(i) && alarm.kind !== 'lift_entrapment');
    if (same) {
      await this.record(same.id, [attach]);
      return;
    }
    const id = `inc-${this.next++}`;
    const events: IncidentEvent[] = [
      { type: 'raised', incidentId: id, playbook: playbook.id, title: playbook.title, severity: alarm.severity, deviceId: alarm.deviceId, alarmId: alarm.id, ...(building ? { building } : {}), ...(alarm.drill ? { drill: alarm.drill } : {}), at: now },
      ...this.causalTasks(playbook.id, alarm, now),
    ];
    await this.record(id, events);
  }

  private async onAlarmCleared(alarm: AlarmView): Promise<void> {
    const now = this.opts.clock.now();
    for (const i of this.list({ status: 'open' }).filter((x) => x.alarms.some((a) => a.alarmId === alarm.id && !a.cleared))) {
      const events: IncidentEvent[] = [{ type: 'alarm_cleared', alarmId: alarm.id, at: now }];
      if (i.playbook === 'power_cut' && (alarm.kind === 'power_cut_external' || alarm.kind === 'circuit_fault_internal')) events.push(...this.postRestorationTasks(i, now));
      await this.record(i.id, events);
    }
  }

  /** A power cut: one "check for trapped passengers" task per lift on the lost supply. A flood in a lift shaft: send the lifts up. */
  private causalTasks(playbookId: string, alarm: AlarmView, now: number): IncidentEvent[] {
    const device = this.facts.devices.get(alarm.deviceId);
    if (!device) return [];
    const lifts = [...this.facts.devices.values()].filter((d) => d.kind === 'lift' && d.building === device.building);
    if (playbookId === 'power_cut') {
      // Lifts fed through the dead meter; for the incomer that is every lift of the building.
      const fed = lifts.filter((l) => device.circuit === 'incomer' || feederChain(this.facts, l.id).includes(device.id));
      return fed.map((l) => ({ type: 'task_added', task: `check_lift:${l.id}`, title: { zh: `检查电梯 ${l.id} 是否困人`, en: `Check lift ${l.id} for trapped passengers` }, deviceId: l.id, at: now }));
    }
    if (playbookId === 'water_leak') {
      const room = this.opts.config.buildings.find((b) => b.id === device.building)?.rooms.find((r) => r.id === device.room);
      if (room && /lift/.test(room.type)) return [{ type: 'task_added', task: 'lifts_up_cut_power', title: { zh: '电梯开至顶层并断电（轿厢进水立即断电）', en: 'Send the lifts to the top floor and cut their power (car panel wet: cut at once)' }, at: now }];
    }
    return [];
  }

  /** After the power returns: a check per monitored secondary-water pump and lift, and the systems nobody monitors. */
  private postRestorationTasks(incident: Incident, now: number): IncidentEvent[] {
    const inBuilding = [...this.facts.devices.values()].filter((d) => d.building === incident.building);
    const tasks: IncidentEvent[] = [];
    for (const p of inBuilding.filter((d) => d.kind === 'pump' && d.role === 'secondary_water')) tasks.push({ type: 'task_added', task: `post_check_pump:${p.id}`, title: { zh: `二次供水泵 ${p.id} 恢复运行`, en: `Secondary-water pump ${p.id} running again` }, deviceId: p.id, at: now });
    for (const l of inBuilding.filter((d) => d.kind === 'lift')) tasks.push({ type: 'task_added', task: `post_check_lift:${l.id}`, title: { zh: `电梯 ${l.id} 恢复正常`, en: `Lift ${l.id} back in normal service` }, deviceId: l.id, at: now });
    for (const [id, zh, en] of [
      ['access_control', '检查门禁系统', 'Check access control'],
      ['cctv', '检查监控系统', 'Check CCTV'],
      ['fire_alarm', '检查消防报警系统', 'Check the fire alarm system'],
    ] as const) {
      tasks.push({ type: 'task_added', task: `post_check:${id}`, title: { zh, en }, at: now });
    }
    return tasks.filter((t) => t.type === 'task_added' && !(t.task in incident.tasks));
  }

  /** The devices a step's evidence reads: those of its kind among the incident's alarms, else of its building. */
  private evidenceDevices(incident: Incident, rule: EvidenceRule): { fields: Record<string, FieldValue> }[] {
    const fits = (id: string) => {
      const d = this.facts.devices.get(id);
      return d !== undefined && d.kind === rule.kind && (rule.role === undefined || d.role === rule.role);
    };
    let ids = incident.alarms.map((a) => a.deviceId).filter((id): id is string => id !== undefined && fits(id));
    if (ids.length === 0) ids = [...this.facts.devices.values()].filter((d) => d.building === incident.building && fits(d.id)).map((d) => d.id);
    return [...new Set(ids)].map((id) => ({ fields: this.opts.live(id) ?? {} }));
  }

  private record(incidentId: string, events: IncidentEvent[]): Promise<void> {
    if (events.length === 0) return this.writing.then(() => undefined);
    // Applied in memory at once (so the next decision sees them), announced once on disk.
    this.eventsOf(incidentId).push(...events);
    const done = this.writing.then(() => this.opts.log.append(events.map((event) => ({ incidentId, event }))));
    this.writing = done.then(
      (logged: Logged<IncidentRecord>[]) => {
        for (const { seq, record } of logged) {
          const change = { seq, incidentId: record.incidentId, event: record.event };
          this.remember(change);
          for (const l of this.listeners) l(change);
        }
      },
      (err: Error) => this.opts.logger.error({ err: err.message, incident: incidentId }, 'incident log write failed'),
    );
    return this.writing.then(() => undefined);
  }

  private remember(c: IncidentChange): void {
    this.recent.push(c);
    if (this.recent.length > 5000) this.recent.shift();
  }

  private eventsOf(id: string): IncidentEvent[] {
    let list = this.events.get(id);
    if (!list) this.events.set(id, (list = []));
    return list;
  }

  private state(id: string): Incident {
    const events = this.events.get(id)!;
    return fold(events, this.playbookOf(events));
  }

  private playbookOf(events: IncidentEvent[]): Playbook {
    const first = events[0];
    const playbook = first?.type === 'raised' ? this.opts.playbooks.byId.get(first.playbook) : undefined;
    if (!playbook) throw new Error(`incident log names a playbook that is not loaded: ${first?.type === 'raised' ? first.playbook : '?'}`);
    return playbook;
  }
}

/** Tasks tied to a device close by themselves when it shows they are done. */
function taskEvidence(taskId: string, fields: Record<string, FieldValue> | undefined): { zh: string; en: string } | undefined {
  if (!fields) return undefined;
  if (taskId.startsWith('check_lift:') && fields.occupied === false) return { zh: '轿厢内无人', en: 'Nobody in the car' };
  if (taskId.startsWith('post_check_lift:') && fields.mode === 'normal' && fields.in_door_zone === true) return { zh: '电梯正常运行、平层', en: 'Lift in normal service, level at a floor' };
  if (taskId.startsWith('post_check_pump:') && fields.running === true) return { zh: '水泵运行中', en: 'Pump running' };
  return undefined;
}
