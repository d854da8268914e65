import { isAlarmKind, severityRank, type AlarmKind, type Severity } from '../alarms/kinds.js';
import type { FieldValue } from '../model/reading.js';
import { fieldsText } from './values.js';
import {
  MAX_GROUP_ITEMS,
  NOT_A_PERSON,
  type DutyRole,
  type Playbook,
  type RecordField,
  type ScalarRecordField,
  type Step,
} from './playbook.js';

// An incident is the fold of its events; events are appended, never edited (ARCHITECTURE.md
// seam 5). `decide` turns a person's command into events, or refuses it with a clear reason
// and records nothing; `due` turns the passing of time into escalations. Which incident an
// alarm joins, which tasks it spawns and what the sensors may close is decided in board.ts.
// All pure: the runtime at the edge stores the events and owns the clock.

type Text = { zh: string; en: string };

/** What a person records in a field: a value, or for a group (passengers, vehicles) one item per person or vehicle. */
export type RecordValue = FieldValue | Record<string, FieldValue>[];

export type IncidentEvent = { at: number } & (
  | {
      type: 'raised';
      incidentId: string;
      playbook: string;
      title: Text;
      severity: Severity;
      building?: string;
      deviceId?: string;
      alarmId?: string;
      kind?: AlarmKind;
      by?: string;
      drill?: string;
      trading?: boolean;
    }
  | { type: 'alarm_attached'; alarmId: string; kind: AlarmKind; deviceId: string; severity?: Severity }
  /** An attached alarm that had cleared fires again (a second cut, a re-trapped car). */
  | { type: 'alarm_refired'; alarmId: string }
  | { type: 'acknowledged'; by: string }
  | { type: 'step_started'; step: string; by: string }
  /** Done by a person, or by the sensors (`by: 'sensor'` with the evidence); a person's records on a step the sensors closed come as another step_done. */
  | { type: 'step_done'; step: string; by: string; fields: Record<string, RecordValue>; note?: string; evidence?: Text }
  /** The step does not apply to this incident (its `applies_when`), with the reason and the values read. */
  | { type: 'step_skipped'; step: string; reason: Text }
  /** The sensors show what a step asks, but its record needs a person: noted, the step stays open (I7). */
  | { type: 'evidence_seen'; step: string; evidence: Text }
  | { type: 'escalated'; step: string; level: number; to: DutyRole }
  /** A task past its own deadline (from when it opened or re-opened): told like a late step. */
  | { type: 'task_escalated'; task: string; level: number; to: DutyRole }
  /** A critical incident: these roles are told at once (I6). */
  | { type: 'alerted'; to: DutyRole[] }
  | { type: 'note'; by: string; text: string }
  /** `by`: a duty manager who moved a case someone else owned (with the reason in `note`). */
  | { type: 'handed_over'; from: string; to: string; note?: string; by?: string }
  /** `condition`: the evidence condition that closes it by itself, read on `deviceId`. */
  | { type: 'task_added'; task: string; title: Text; deviceId?: string; condition?: string }
  | { type: 'task_done'; task: string; by: string; note?: string; evidence?: Text }
  /** A task done before that must be done again (its lift's supply was lost anew). */
  | { type: 'task_reopened'; task: string; reason: Text }
  | { type: 'alarm_cleared'; alarmId: string }
  /** One attempt to tell someone (an alert, an escalation): sent, failed, or held back because it is a drill. */
  | {
      type: 'notification';
      channel: string;
      to: DutyRole;
      step?: string;
      task?: string;
      attempt: number;
      outcome: 'sent' | 'failed' | 'drill_not_sent';
      detail?: string;
    }
  /**
   * A command a person sent to one of the incident's devices (close a vacant flat's valve,
   * device-command.ts), recorded when it goes out (`sent`) and again with the device's answer:
   * `confirmed` (read back as asked), `refused` (it said no, or reads back otherwise),
   * `no_answer` (no answer or no read-back: it may have happened all the same).
   */
  | {
      type: 'device_command';
      deviceId: string;
      command: 'close_valve';
      by: string;
      step?: string;
      outcome: 'sent' | 'confirmed' | 'refused' | 'no_answer';
      readBack?: FieldValue | null;
      detail?: string;
    }
  /** A photo from the scene (a phone's camera), kept under the data directory as `name`. */
  | { type: 'photo'; by: string; name: string; mime: string; bytes: number; caption?: string }
  /** `reason: drill_ended`: closed by the gateway when its drill ended (I8). */
  | { type: 'closed'; by: string; note?: string; reason?: 'drill_ended' }
);

export interface StepState {
  /** skipped: it does not apply (see `skipped`); a person may still do it and record it. */
  status: 'pending' | 'started' | 'done' | 'skipped';
  startedAt?: number;
  doneAt?: number;
  /** Who closed it: a person, or `sensor`. */
  by?: string;
  fields: Record<string, RecordValue>;
  note?: string;
  /** Why it does not apply (the playbook's words and the values that decided it). */
  skipped?: Text;
  /** Closed by sensor evidence rather than by a person: what the sensors showed. */
  evidence?: Text;
  /** The person who added the records to a step the sensors closed. */
  recordedBy?: string;
  /** The sensors showed what the step asks, but it waits for a person's record. */
  evidenceSeenAt?: number;
  /** Escalation levels reached (1 = first role of the playbook's escalation list). */
  escalated: number;
}

export interface TaskState {
  title: Text;
  deviceId?: string;
  /** The evidence condition that closes it by itself. */
  condition?: string;
  done: boolean;
  doneAt?: number;
  by?: string;
  evidence?: Text;
  /** When it was added, or last reopened. */
  openedAt: number;
  reopened: number;
  /** Escalation levels reached since it last opened. */
  escalated?: number;
}

export interface IncidentAlarm {
  alarmId: string;
  kind?: AlarmKind;
  deviceId?: string;
  severity?: Severity;
  cleared: boolean;
}

export interface Incident {
  id: string;
  playbook: string;
  title: Text;
  /** The most severe of its alarms (and of how it was raised). */
  severity: Severity;
  status: 'open' | 'closed';
  raisedAt: number;
  /** Who opened it by hand (a phone call); absent when an alarm opened it. */
  raisedBy?: string;
  building?: string;
  deviceId?: string;
  drill?: string;
  /** Its building was in its trading hours when it began (the evening-trading steps apply). */
  trading?: boolean;
  /** The first person to acknowledge owns the case until it is closed or handed over (S003). */
  owner?: string;
  acknowledgedAt?: number;
  /** When the roles to be told at once were alerted (critical incidents). */
  alertedAt?: number;
  alarms: IncidentAlarm[];
  steps: Record<string, StepState>;
  tasks: Record<string, TaskState>;
  closedAt?: number;
  closedReason?: 'drill_ended';
  timeline: IncidentEvent[];
}

export function fold(events: readonly IncidentEvent[], playbook: Playbook): Incident {
  const first = events[0];
  if (!first || first.type !== 'raised') throw new Error('an incident starts with a raised event');
  const inc = open(first, playbook);
  for (const e of events.slice(1)) applyEvent(inc, e);
  return inc;
}

/** A new incident from its `raised` event. */
export function open(first: Extract<IncidentEvent, { type: 'raised' }>, playbook: Playbook): Incident {
  return {
    id: first.incidentId,
    playbook: first.playbook,
    title: first.title,
    severity: first.severity,
    status: 'open',
    raisedAt: first.at,
    ...(first.by ? { raisedBy: first.by } : {}),
    ...(first.building ? { building: first.building } : {}),
    ...(first.deviceId ? { deviceId: first.deviceId } : {}),
    ...(first.drill ? { drill: first.drill } : {}),
    ...(first.trading !== undefined ? { trading: first.trading } : {}),
    alarms: first.alarmId
      ? [
          {
            alarmId: first.alarmId,
            cleared: false,
            severity: first.severity,
            ...kindOf(first),
            ...(first.deviceId ? { deviceId: first.deviceId } : {}),
          },
        ]
      : [],
    steps: Object.fromEntries(
      playbook.steps.map((s) => [s.id, { status: 'pending', fields: {}, escalated: 0 } satisfies StepState]),
    ),
    tasks: {},
    timeline: [first],
  };
}

/** The kind of the alarm that opened it (older logs: from the alarm id, `kind:device:time`). */
function kindOf(first: Extract<IncidentEvent, { type: 'raised' }>): { kind?: AlarmKind } {
  const kind = first.kind ?? first.alarmId?.split(':')[0];
  return kind && isAlarmKind(kind) ? { kind } : {};
}

/** Applies one event to an incident in place (the owner of the state calls this, in log order). */
// eslint-disable-next-line max-lines-per-function -- the fold of the event log: one short case per event type, read as a table
export function applyEvent(inc: Incident, e: IncidentEvent): void {
  inc.timeline.push(e);
  switch (e.type) {
    case 'raised':
      break;
    case 'alarm_attached':
      if (!inc.alarms.some((a) => a.alarmId === e.alarmId))
        inc.alarms.push({
          alarmId: e.alarmId,
          kind: e.kind,
          deviceId: e.deviceId,
          cleared: false,
          ...(e.severity ? { severity: e.severity } : {}),
        });
      if (e.severity && severityRank(e.severity) < severityRank(inc.severity)) inc.severity = e.severity;
      break;
    case 'alarm_refired': {
      const a = inc.alarms.find((x) => x.alarmId === e.alarmId);
      if (a) a.cleared = false;
      break;
    }
    case 'acknowledged':
      inc.owner ??= e.by;
      inc.acknowledgedAt ??= e.at;
      break;
    case 'alerted':
      inc.alertedAt ??= e.at;
      break;
    case 'step_started': {
      const s = inc.steps[e.step];
      if (!s) break;
      s.status = 'started';
      s.startedAt = e.at;
      s.by = e.by;
      break;
    }
    case 'step_done': {
      const s = inc.steps[e.step];
      if (!s) break;
      s.fields = { ...s.fields, ...e.fields };
      if (e.note) s.note = e.note;
      if (s.status === 'done' && s.evidence) {
        // The sensors closed it; a person adds the records. It stays closed by the sensors (I7).
        s.recordedBy = e.by;
        break;
      }
      s.status = 'done';
      s.doneAt = e.at;
      s.by = e.by;
      if (e.evidence) s.evidence = e.evidence;
      break;
    }
    case 'step_skipped': {
      const s = inc.steps[e.step];
      if (!s || s.status === 'done') break;
      s.status = 'skipped';
      s.skipped = e.reason;
      break;
    }
    case 'evidence_seen': {
      const s = inc.steps[e.step];
      if (s) s.evidenceSeenAt ??= e.at;
      break;
    }
    case 'escalated': {
      const s = inc.steps[e.step];
      if (s) s.escalated = Math.max(s.escalated, e.level);
      break;
    }
    case 'task_escalated': {
      const t = inc.tasks[e.task];
      if (t) t.escalated = Math.max(t.escalated ?? 0, e.level);
      break;
    }
    case 'handed_over':
      inc.owner = e.to;
      break;
    case 'task_added':
      inc.tasks[e.task] = {
        title: e.title,
        ...(e.deviceId ? { deviceId: e.deviceId } : {}),
        ...(e.condition ? { condition: e.condition } : {}),
        done: false,
        openedAt: e.at,
        reopened: 0,
      };
      break;
    case 'task_done': {
      const t = inc.tasks[e.task];
      if (!t) break;
      t.done = true;
      t.doneAt = e.at;
      t.by = e.by;
      if (e.evidence) t.evidence = e.evidence;
      else delete t.evidence;
      break;
    }
    case 'task_reopened': {
      const t = inc.tasks[e.task];
      if (!t) break;
      t.done = false;
      t.openedAt = e.at;
      t.reopened += 1;
      // Its clock starts again, and so do its escalations.
      delete t.escalated;
      delete t.doneAt;
      delete t.by;
      delete t.evidence;
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
      if (e.reason) inc.closedReason = e.reason;
      break;
    case 'note':
    case 'notification':
    case 'device_command':
    case 'photo':
      break;
  }
}

/** Why a command was refused: `code` for machines (and the HTTP status), `message` for people. */
export class IncidentError extends Error {
  constructor(
    readonly code:
      | 'closed'
      | 'unknown_step'
      | 'unknown_task'
      | 'step_done'
      | 'missing_field'
      | 'bad_field'
      | 'open_steps'
      | 'not_a_person'
      | 'not_owner'
      | 'reason_required',
    message: string,
  ) {
    super(message);
    this.name = 'IncidentError';
  }
}

export type IncidentCommand =
  | { type: 'acknowledge'; by: string }
  | { type: 'start_step'; step: string; by: string }
  | { type: 'complete_step'; step: string; by: string; fields?: Record<string, RecordValue>; note?: string }
  | { type: 'complete_task'; task: string; by: string; note?: string }
  | { type: 'note'; by: string; text: string }
  | { type: 'hand_over'; by: string; to: string; note?: string; manager?: boolean }
  | { type: 'close'; by: string; note?: string; manager?: boolean };

/** The events a command produces, or an IncidentError (nothing is recorded then). */
export function decide(inc: Incident, playbook: Playbook, cmd: IncidentCommand, now: number): IncidentEvent[] {
  mayRecord(inc, cmd.by);
  switch (cmd.type) {
    case 'acknowledge':
      return inc.owner ? [] : [{ type: 'acknowledged', by: cmd.by, at: now }];
    case 'start_step': {
      const s = stepOf(inc, playbook, cmd.step);
      if (s.state.status === 'done') throw new IncidentError('step_done', `step "${cmd.step}" is already done`);
      return [...autoAck(inc, cmd.by, now), { type: 'step_started', step: cmd.step, by: cmd.by, at: now }];
    }
    case 'complete_step':
      return completeStep(inc, playbook, cmd, now);
    case 'complete_task':
      return completeTask(inc, cmd, now);
    case 'note':
      return [{ type: 'note', by: cmd.by, text: cmd.text, at: now }];
    case 'hand_over':
      mayDispose(inc, cmd, 'hand over');
      return [
        {
          type: 'handed_over',
          from: inc.owner ?? cmd.by,
          to: cmd.to,
          ...(cmd.note ? { note: cmd.note } : {}),
          ...(overriding(inc, cmd) ? { by: cmd.by } : {}),
          at: now,
        },
      ];
    case 'close':
      return close(inc, playbook, cmd, now);
  }
}

function mayRecord(inc: Incident, by: string): void {
  if (inc.status === 'closed')
    throw new IncidentError('closed', `incident ${inc.id} is closed: nothing more can be recorded on it`);
  // What sensors and the gateway record under is never a person's name (I7).
  if ((NOT_A_PERSON as readonly string[]).includes(by))
    throw new IncidentError(
      'not_a_person',
      `"${by}" is not a person: commands are recorded under the name of who gives them`,
    );
}

function completeStep(
  inc: Incident,
  playbook: Playbook,
  cmd: Extract<IncidentCommand, { type: 'complete_step' }>,
  now: number,
): IncidentEvent[] {
  const s = stepOf(inc, playbook, cmd.step);
  // A step the sensors closed still takes the records a person must add (who, the cause…).
  if (s.state.status === 'done' && s.state.evidence === undefined)
    throw new IncidentError('step_done', `step "${cmd.step}" is already done`);
  const fields = checkFields(s.def.record, { ...s.state.fields, ...cmd.fields }, cmd.step);
  return [
    ...autoAck(inc, cmd.by, now),
    { type: 'step_done', step: cmd.step, by: cmd.by, fields, ...(cmd.note ? { note: cmd.note } : {}), at: now },
  ];
}

function completeTask(
  inc: Incident,
  cmd: Extract<IncidentCommand, { type: 'complete_task' }>,
  now: number,
): IncidentEvent[] {
  const t = inc.tasks[cmd.task];
  if (!t)
    throw new IncidentError(
      'unknown_task',
      `no task "${cmd.task}" on incident ${inc.id} (tasks: ${Object.keys(inc.tasks).join(', ') || 'none'})`,
    );
  if (t.done) return [];
  return [
    ...autoAck(inc, cmd.by, now),
    { type: 'task_done', task: cmd.task, by: cmd.by, ...(cmd.note ? { note: cmd.note } : {}), at: now },
  ];
}

function close(
  inc: Incident,
  playbook: Playbook,
  cmd: Extract<IncidentCommand, { type: 'close' }>,
  now: number,
): IncidentEvent[] {
  mayDispose(inc, cmd, 'close');
  const open = playbook.steps.filter((s) => !settled(inc.steps[s.id])).map((s) => s.id);
  if (open.length)
    throw new IncidentError(
      'open_steps',
      `steps not done yet: ${open.join(', ')}; finish them (or note why they do not apply and mark them done) before closing`,
    );
  return [{ type: 'closed', by: cmd.by, ...(cmd.note ? { note: cmd.note } : {}), at: now }];
}

/** A duty manager (or an admin) acting on a case someone else owns. */
function overriding(inc: Incident, cmd: { by: string; manager?: boolean }): boolean {
  return inc.owner !== undefined && inc.owner !== cmd.by && cmd.manager === true;
}

/**
 * The first receiver owns the case (S003 §3.5): only the owner closes it or hands it over; a
 * duty manager may take it over, and says why (recorded on the timeline). Anyone on duty may
 * still add notes and records.
 */
function mayDispose(inc: Incident, cmd: { by: string; note?: string; manager?: boolean }, what: string): void {
  if (inc.owner === undefined || inc.owner === cmd.by) return;
  if (!cmd.manager)
    throw new IncidentError(
      'not_owner',
      `${inc.owner} owns incident ${inc.id}: only the owner, a duty manager or an admin may ${what} it (anyone on duty may add notes and records)`,
    );
  if (!cmd.note?.trim())
    throw new IncidentError(
      'reason_required',
      `${inc.owner} owns incident ${inc.id}: say why you ${what} someone else's case (note)`,
    );
}

function autoAck(inc: Incident, by: string, now: number): IncidentEvent[] {
  // Acting on an unacknowledged incident is taking it: the first to act owns it (S003).
  return inc.owner ? [] : [{ type: 'acknowledged', by, at: now }];
}

function stepOf(inc: Incident, playbook: Playbook, id: string) {
  const def = playbook.steps.find((s) => s.id === id);
  if (!def)
    throw new IncidentError(
      'unknown_step',
      `no step "${id}" in playbook ${playbook.id} (steps: ${playbook.steps.map((s) => s.id).join(', ')})`,
    );
  return { def, state: inc.steps[id]! };
}

function checkFields(
  defs: readonly RecordField[],
  given: Record<string, RecordValue>,
  step: string,
): Record<string, RecordValue> {
  const known = new Map(defs.map((d) => [d.name, d]));
  for (const [name, value] of Object.entries(given)) {
    const def = known.get(name);
    if (!def)
      throw new IncidentError(
        'bad_field',
        `step "${step}" records no field "${name}" (fields: ${defs.map((d) => d.name).join(', ') || 'none'})`,
      );
    if (def.type !== 'group') {
      checkValue(def, value, `${step}.${name}`);
      continue;
    }
    if (!Array.isArray(value))
      throw new IncidentError('bad_field', `${step}.${name} must be a list (one item per person or vehicle)`);
    if (value.length > MAX_GROUP_ITEMS)
      throw new IncidentError('bad_field', `${step}.${name} takes at most ${MAX_GROUP_ITEMS} items`);
    const sub = def.fields ?? [];
    value.forEach((item, i) => {
      const at = `${step}.${name}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw new IncidentError(
          'bad_field',
          `${at} must be an object of fields (${sub.map((f) => f.name).join(', ')})`,
        );
      for (const [k, v] of Object.entries(item)) {
        const f = sub.find((x) => x.name === k);
        if (!f)
          throw new IncidentError(
            'bad_field',
            `${at} has no field "${k}" (fields: ${sub.map((x) => x.name).join(', ')})`,
          );
        checkValue(f, v, `${at}.${k}`);
      }
      const missing = missingIn(sub, item);
      if (missing.length) throw new IncidentError('missing_field', `${at} needs: ${missing.join(', ')}`);
    });
  }
  const missing = missingIn(defs, given);
  if (missing.length) throw new IncidentError('missing_field', `step "${step}" needs: ${missing.join(', ')}`);
  return given;
}

function checkValue(def: RecordField | ScalarRecordField, value: RecordValue, at: string): void {
  const ok =
    def.type === 'number'
      ? typeof value === 'number' && Number.isFinite(value)
      : def.type === 'bool'
        ? typeof value === 'boolean'
        : def.type === 'time'
          ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
          : def.type === 'choice'
            ? (def.options ?? []).some((o) => o.value === value)
            : typeof value === 'string';
  if (ok) return;
  const what =
    def.type === 'time'
      ? 'a time (ISO 8601)'
      : def.type === 'choice'
        ? `one of ${(def.options ?? []).map((o) => o.value).join(', ')}`
        : `a ${def.type}`;
  throw new IncidentError('bad_field', `${at} must be ${what}`);
}

/** Whether a field must be recorded, given the other fields beside it. */
export function isRequired(
  def: RecordField | ScalarRecordField,
  values: Record<string, RecordValue | undefined>,
): boolean {
  if (def.required_unless && def.required_unless.in.some((v) => values[def.required_unless!.field] === v)) return false;
  if (def.required_when) return def.required_when.in.some((v) => values[def.required_when!.field] === v);
  return def.required;
}

/** The fields (in both languages) required and not recorded, with a group counted by its items. */
export function missingIn(
  defs: readonly (RecordField | ScalarRecordField)[],
  values: Record<string, RecordValue | undefined>,
): string[] {
  return defs
    .filter((d) => {
      const v = values[d.name];
      if (d.type === 'group')
        return (
          (isRequired(d, values) || ('min_items' in d && (d.min_items ?? 0) > 0)) &&
          (!Array.isArray(v) || v.length < Math.max(1, ('min_items' in d ? d.min_items : undefined) ?? 1))
        );
      return isRequired(d, values) && (v === undefined || v === '');
    })
    .map((d) => `${d.name} (${d.label.en} / ${d.label.zh})`);
}

/** Done, or does not apply: nothing more is asked of it. */
export function settled(s: StepState | undefined): boolean {
  return s?.status === 'done' || s?.status === 'skipped';
}

/**
 * Steps that turn out not to apply, from what is recorded and how the incident began: every
 * condition of `applies_when` known and none holding. A step with a condition still unknown
 * applies (a notice not yet ruled out stays due).
 */
export function stepSkips(inc: Incident, playbook: Playbook, now: number): IncidentEvent[] {
  const out: IncidentEvent[] = [];
  for (const step of playbook.steps) {
    const st = inc.steps[step.id];
    if (!step.applies_when || !st || st.status === 'done' || st.status === 'skipped') continue;
    const read: Text[] = [];
    let holds: boolean | undefined = false;
    for (const c of step.applies_when.any) {
      const v = 'step' in c ? conditionValue(inc, c) : inc.trading;
      if (v === undefined) {
        holds = undefined;
        break;
      }
      if ('step' in c)
        read.push(
          fieldsText(playbook.steps.find((x) => x.id === c.step)?.record ?? [], {
            [c.field]: inc.steps[c.step]?.fields[c.field],
          }),
        );
      else
        read.push(
          inc.trading
            ? { zh: '营业时段：是', en: 'in trading hours: yes' }
            : { zh: '营业时段：否', en: 'in trading hours: no' },
        );
      if (v) {
        holds = true;
        break;
      }
    }
    if (holds !== false) continue;
    out.push({
      type: 'step_skipped',
      step: step.id,
      reason: {
        zh: `${step.applies_when.says.zh}（${read.map((r) => r.zh).join('；')}）`,
        en: `${step.applies_when.says.en} (${read.map((r) => r.en).join('; ')})`,
      },
      at: now,
    });
  }
  return out;
}

function conditionValue(
  inc: Incident,
  c: Extract<NonNullable<Step['applies_when']>['any'][number], { step: string }>,
): boolean | undefined {
  const v = inc.steps[c.step]?.fields[c.field];
  if (v === undefined || Array.isArray(v)) return undefined;
  if (c.equals !== undefined) return v === c.equals;
  return typeof v === 'number' && v > c.above!;
}

/** Escalations due now: a step past its deadline reaches level 1, past twice its deadline level 2, … */
export function due(inc: Incident, playbook: Playbook, now: number): IncidentEvent[] {
  if (inc.status === 'closed') return [];
  const out: IncidentEvent[] = [];
  for (const step of playbook.steps) {
    const s = inc.steps[step.id];
    if (!s || step.deadline_min === undefined || settled(s)) continue;
    const deadline = step.deadline_min * 60_000;
    const level = Math.min(playbook.escalation.length, Math.floor((now - inc.raisedAt) / deadline));
    for (let l = s.escalated + 1; l <= level; l++)
      out.push({ type: 'escalated', step: step.id, level: l, to: playbook.escalation[l - 1]!, at: now });
  }
  // A task with a deadline of its own (each lift's check) escalates the same way, timed from when it opened.
  for (const [id, t] of Object.entries(inc.tasks)) {
    const def = playbook.tasks.find((d) => d.id === id || id.startsWith(`${d.id}:`));
    if (t.done || def?.deadline_min === undefined) continue;
    const level = Math.min(playbook.escalation.length, Math.floor((now - t.openedAt) / (def.deadline_min * 60_000)));
    for (let l = (t.escalated ?? 0) + 1; l <= level; l++)
      out.push({ type: 'task_escalated', task: id, level: l, to: playbook.escalation[l - 1]!, at: now });
  }
  return out;
}

/** Steps whose sensor evidence may close them now: not done, and every step before them done (a lift is "back in service" only after the rescue). */
export function evidenceCandidates(inc: Incident, playbook: Playbook): Playbook['steps'] {
  const out: Playbook['steps'] = [];
  for (const step of playbook.steps) {
    const done = settled(inc.steps[step.id]);
    if (!done && step.evidence) out.push(step);
    if (!done) break;
  }
  return out;
}
