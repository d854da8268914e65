import type { AlarmKind, Severity } from '../alarms/kinds.js';
import type { FieldValue } from '../model/reading.js';
import type { DutyRole, EvidenceRule, Playbook } from './playbook.js';

// An incident is the fold of its events; events are appended, never edited (ARCHITECTURE.md
// seam 5). `decide` turns a person's command into events, or refuses it with a clear reason
// and records nothing; `due` and `evidenceMet` turn the passing of time and sensor readings
// into events. All pure: the runtime at the edge stores the events and owns the clock.

type Text = { zh: string; en: string };

export type IncidentEvent = { at: number } & (
  | { type: 'raised'; incidentId: string; playbook: string; title: Text; severity: Severity; building?: string; deviceId?: string; alarmId?: string; by?: string; drill?: string }
  | { type: 'alarm_attached'; alarmId: string; kind: AlarmKind; deviceId: string }
  | { type: 'acknowledged'; by: string }
  | { type: 'step_started'; step: string; by: string }
  | { type: 'step_done'; step: string; by: string; fields: Record<string, FieldValue>; note?: string; evidence?: Text }
  | { type: 'escalated'; step: string; level: number; to: DutyRole }
  | { type: 'note'; by: string; text: string }
  | { type: 'handed_over'; from: string; to: string; note?: string }
  | { type: 'task_added'; task: string; title: Text; deviceId?: string }
  | { type: 'task_done'; task: string; by: string; note?: string; evidence?: Text }
  | { type: 'alarm_cleared'; alarmId: string }
  /** One attempt to tell someone (an escalation): sent, failed, or held back because it is a drill. */
  | { type: 'notification'; channel: string; to: DutyRole; step?: string; attempt: number; outcome: 'sent' | 'failed' | 'drill_not_sent'; detail?: string }
  | { type: 'closed'; by: string; note?: string }
);

export interface StepState {
  status: 'pending' | 'started' | 'done';
  startedAt?: number;
  doneAt?: number;
  by?: string;
  fields: Record<string, FieldValue>;
  note?: string;
  /** Closed by sensor evidence rather than by a person. */
  evidence?: Text;
  /** Escalation levels reached (1 = first role of the playbook's escalation list). */
  escalated: number;
}

export interface Incident {
  id: string;
  playbook: string;
  title: Text;
  severity: Severity;
  status: 'open' | 'closed';
  raisedAt: number;
  building?: string;
  deviceId?: string;
  drill?: string;
  /** The first person to acknowledge owns the case until it is closed or handed over (S003). */
  owner?: string;
  acknowledgedAt?: number;
  alarms: { alarmId: string; kind?: AlarmKind; deviceId?: string; cleared: boolean }[];
  steps: Record<string, StepState>;
  tasks: Record<string, { title: Text; deviceId?: string; done: boolean; doneAt?: number; by?: string; evidence?: Text }>;
  closedAt?: number;
  timeline: IncidentEvent[];
}

export function fold(events: readonly IncidentEvent[], playbook: Playbook): Incident {
  const first = events[0];
  if (!first || first.type !== 'raised') throw new Error('an incident starts with a raised event');
  const inc: Incident = {
    id: first.incidentId,
    playbook: first.playbook,
    title: first.title,
    severity: first.severity,
    status: 'open',
    raisedAt: first.at,
    ...(first.building ? { building: first.building } : {}),
    ...(first.deviceId ? { deviceId: first.deviceId } : {}),
    ...(first.drill ? { drill: first.drill } : {}),
    alarms: first.alarmId ? [{ alarmId: first.alarmId, cleared: false, ...(first.deviceId ? { deviceId: first.deviceId } : {}) }] : [],
    steps: Object.fromEntries(playbook.steps.map((s) => [s.id, { status: 'pending', fields: {}, escalated: 0 } satisfies StepState])),
    tasks: {},
    timeline: [...events],
  };
  for (const e of events.slice(1)) apply(inc, e);
  return inc;
}

function apply(inc: Incident, e: IncidentEvent): void {
  switch (e.type) {
    case 'raised':
      break;
    case 'alarm_attached':
      if (!inc.alarms.some((a) => a.alarmId === e.alarmId)) inc.alarms.push({ alarmId: e.alarmId, kind: e.kind, deviceId: e.deviceId, cleared: false });
      break;
    case 'acknowledged':
      inc.owner ??= e.by;
      inc.acknowledgedAt ??= e.at;
      break;
    case 'step_started': {
      const s = inc.steps[e.step]!;
      s.status = 'started';
      s.startedAt = e.at;
      s.by = e.by;
      break;
    }
    case 'step_done': {
      const s = inc.steps[e.step]!;
      s.status = 'done';
      s.doneAt = e.at;
      s.by = e.by;
      s.fields = { ...s.fields, ...e.fields };
      if (e.note) s.note = e.note;
      if (e.evidence) s.evidence = e.evidence;
      break;
    }
    case 'escalated':
      inc.steps[e.step]!.escalated = Math.max(inc.steps[e.step]!.escalated, e.level);
      break;
    case 'handed_over':
      inc.owner = e.to;
      break;
    case 'task_added':
      inc.tasks[e.task] = { title: e.title, ...(e.deviceId ? { deviceId: e.deviceId } : {}), done: false };
      break;
    case 'task_done': {
      const t = inc.tasks[e.task]!;
      t.done = true;
      t.doneAt = e.at;
      t.by = e.by;
      if (e.evidence) t.evidence = e.evidence;
      break;
    }
    case 'alarm_cleared': {
      const a = inc.alarms.find((x) => x.alarmId === e.alarmId);
      if (a) a.cleared = true;
      break;
    }
    case 'closed':
      inc.status = 'closed';
      inc.closedAt = e.at;
      break;
    case 'note':
    case 'notification':
      break;
  }
}

/** Why a command was refused: `code` for machines (and the HTTP status), `message` for people. */
export class IncidentError extends Error {
  constructor(
    readonly code: 'closed' | 'unknown_step' | 'unknown_task' | 'step_done' | 'missing_field' | 'bad_field' | 'open_steps',
    message: string,
  ) {
    super(message);
    this.name = 'IncidentError';
  }
}

export type IncidentCommand =
  | { type: 'acknowledge'; by: string }
  | { type: 'start_step'; step: string; by: string }
  | { type: 'complete_step'; step: string; by: string; fields?: Record<string, FieldValue>; note?: string }
  | { type: 'complete_task'; task: string; by: string; note?: string }
  | { type: 'note'; by: string; text: string }
  | { type: 'hand_over'; by: string; to: string; note?: string }
  | { type: 'close'; by: string; note?: string };

/** The events a command produces, or an IncidentError (nothing is recorded then). */
export function decide(inc: Incident, playbook: Playbook, cmd: IncidentCommand, now: number): IncidentEvent[] {
  if (inc.status === 'closed') throw new IncidentError('closed', `incident ${inc.id} is closed: nothing more can be recorded on it`);
  switch (cmd.type) {
    case 'acknowledge':
      return inc.owner ? [] : [{ type: 'acknowledged', by: cmd.by, at: now }];
    case 'start_step': {
      const s = stepOf(inc, playbook, cmd.step);
      if (s.state.status === 'done') throw new IncidentError('step_done', `step "${cmd.step}" is already done`);
      return [...autoAck(inc, cmd.by, now), { type: 'step_started', step: cmd.step, by: cmd.by, at: now }];
    }
    case 'complete_step': {
      const s = stepOf(inc, playbook, cmd.step);
      // A step the sensors closed still takes the records a person must add (who, the cause…).
      if (s.state.status === 'done' && s.state.evidence === undefined) throw new IncidentError('step_done', `step "${cmd.step}" is already done`);
      const fields = checkFields(s.def.record, { ...s.state.fields, ...cmd.fields }, cmd.step);
      return [...autoAck(inc, cmd.by, now), { type: 'step_done', step: cmd.step, by: cmd.by, fields, ...(cmd.note ? { note: cmd.note } : {}), at: now }];
    }
    case 'complete_task': {
      const t = inc.tasks[cmd.task];
      if (!t) throw new IncidentError('unknown_task', `no task "${cmd.task}" on incident ${inc.id} (tasks: ${Object.keys(inc.tasks).join(', ') || 'none'})`);
      if (t.done) return [];
      return [...autoAck(inc, cmd.by, now), { type: 'task_done', task: cmd.task, by: cmd.by, ...(cmd.note ? { note: cmd.note } : {}), at: now }];
    }
    case 'note':
      return [{ type: 'note', by: cmd.by, text: cmd.text, at: now }];
    case 'hand_over':
      return [{ type: 'handed_over', from: inc.owner ?? cmd.by, to: cmd.to, ...(cmd.note ? { note: cmd.note } : {}), at: now }];
    case 'close': {
      const open = playbook.steps.filter((s) => inc.steps[s.id]?.status !== 'done').map((s) => s.id);
      if (open.length) throw new IncidentError('open_steps', `steps not done yet: ${open.join(', ')}; finish them (or note why they do not apply and mark them done) before closing`);
      return [{ type: 'closed', by: cmd.by, ...(cmd.note ? { note: cmd.note } : {}), at: now }];
    }
  }
}

function autoAck(inc: Incident, by: string, now: number): IncidentEvent[] {
  // Acting on an unacknowledged incident is taking it: the first to act owns it (S003).
  return inc.owner ? [] : [{ type: 'acknowledged', by, at: now }];
}

function stepOf(inc: Incident, playbook: Playbook, id: string) {
  const def = playbook.steps.find((s) => s.id === id);
  if (!def) throw new IncidentError('unknown_step', `no step "${id}" in playbook ${playbook.id} (steps: ${playbook.steps.map((s) => s.id).join(', ')})`);
  return { def, state: inc.steps[id]! };
}

function checkFields(defs: Playbook['steps'][number]['record'], given: Record<string, FieldValue>, step: string): Record<string, FieldValue> {
  const known = new Map(defs.map((d) => [d.name, d]));
  for (const [name, value] of Object.entries(given)) {
    const def = known.get(name);
    if (!def) throw new IncidentError('bad_field', `step "${step}" records no field "${name}" (fields: ${defs.map((d) => d.name).join(', ') || 'none'})`);
    const ok = def.type === 'number' ? typeof value === 'number' && Number.isFinite(value) : def.type === 'bool' ? typeof value === 'boolean' : def.type === 'time' ? typeof value === 'string' && !Number.isNaN(Date.parse(value)) : typeof value === 'string';
    if (!ok) throw new IncidentError('bad_field', `${step}.${name} must be ${def.type === 'time' ? 'a time (ISO 8601)' : `a ${def.type}`}`);
  }
  const missing = defs.filter((d) => d.required && (given[d.name] === undefined || given[d.name] === '')).map((d) => `${d.name} (${d.label.en} / ${d.label.zh})`);
  if (missing.length) throw new IncidentError('missing_field', `step "${step}" needs: ${missing.join(', ')}`);
  return given;
}

/** Escalations due now: a step past its deadline reaches level 1, past twice its deadline level 2, … */
export function due(inc: Incident, playbook: Playbook, now: number): IncidentEvent[] {
  if (inc.status === 'closed') return [];
  const out: IncidentEvent[] = [];
  for (const step of playbook.steps) {
    const s = inc.steps[step.id]!;
    if (step.deadline_min === undefined || s.status === 'done') continue;
    const deadline = step.deadline_min * 60_000;
    const level = Math.min(playbook.escalation.length, Math.floor((now - inc.raisedAt) / deadline));
    for (let l = s.escalated + 1; l <= level; l++) out.push({ type: 'escalated', step: step.id, level: l, to: playbook.escalation[l - 1]!, at: now });
  }
  return out;
}

/** Steps whose sensor evidence may close them now: not done, and every step before them done (a lift is "back in service" only after the rescue). */
export function evidenceCandidates(inc: Incident, playbook: Playbook): Playbook['steps'] {
  const out: Playbook['steps'] = [];
  for (const step of playbook.steps) {
    const done = inc.steps[step.id]?.status === 'done';
    if (!done && step.evidence) out.push(step);
    if (!done) break;
  }
  return out;
}

/** Whether every device the rule looks at reads what it asks (and there is at least one). */
export function evidenceMet(rule: EvidenceRule, devices: { fields: Record<string, FieldValue> }[]): boolean {
  if (devices.length === 0) return false;
  return devices.every((d) => {
    const v = d.fields[rule.field];
    if (v === undefined) return false;
    if (rule.equals !== undefined && v !== rule.equals) return false;
    if (rule.below !== undefined && !(typeof v === 'number' && v <= rule.below)) return false;
    if (rule.above !== undefined && !(typeof v === 'number' && v >= rule.above)) return false;
    return true;
  });
}
