import { z } from 'zod';
import { ALARM_KIND_NAMES, type AlarmKind } from '../alarms/kinds.js';
import { DEVICE_KINDS } from '../model/fields.js';
import { ROOM_TYPES } from '../site.js';

// A playbook is data: the users' emergency plan (S001 篇3 工程部工作应急预案, DOMAIN.md §3) as
// ordered steps, each with a role, a deadline from the incident start, the fields the plan
// says must be recorded, and (optionally) the sensor evidence that closes it by itself; and
// the tasks its alarms spawn (a check per lift on a lost supply, post-restoration checks).
// Files live in rules/playbooks/*.yaml, the evidence conditions they name in
// rules/evidence/*.yaml; the gateway loads and validates both at start-up.

const text = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });
const name = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case');

export const DUTY_ROLES = ['duty_engineer', 'security', 'duty_manager', 'engineering_manager', 'maintenance_contractor', 'customer_service', 'head_office'] as const;
export type DutyRole = (typeof DUTY_ROLES)[number];

/** Names that are never a person's: what sensors and the gateway itself record under. */
export const NOT_A_PERSON = ['sensor', 'system'] as const;

/** One field test of an evidence condition. */
const fieldTest = z
  .strictObject({
    field: z.string().min(1),
    equals: z.union([z.number(), z.boolean(), z.string()]).optional(),
    /** Numbers: at most this. */
    below: z.number().optional(),
    /** Numbers: at least this. */
    above: z.number().optional(),
    /** A device that never reports the field passes (a reported one must pass, and be fresh). */
    missing_ok: z.boolean().default(false),
  })
  .refine((t) => t.equals !== undefined || t.below !== undefined || t.above !== undefined, { message: 'a test needs equals, below or above' });
export type FieldTest = z.infer<typeof fieldTest>;

const clause = z.union([fieldTest, z.strictObject({ any: z.array(fieldTest).min(2) })]);
export type EvidenceClause = z.infer<typeof clause>;

/**
 * What sensor readings must show before a step or task is called done by them (invariant I3):
 * every clause, on readings newer than `fresh_intervals` of the device's reporting interval,
 * without a break for `hold_s`. A stale or missing reading shows nothing.
 */
export const evidenceConditionSchema = z.strictObject({
  id: name,
  kind: z.enum(DEVICE_KINDS),
  /** Shown on the timeline when it closes something: what the sensors showed. */
  says: text,
  all: z.array(clause).min(1),
  fresh_intervals: z.number().positive().default(2),
  hold_s: z.number().min(0).default(30),
});
export type EvidenceCondition = z.infer<typeof evidenceConditionSchema>;

/** Which devices, seen from the alarm that spawns the task (or the incident's building when a person opened it). */
const deviceSelector = z.strictObject({
  kind: z.enum(DEVICE_KINDS),
  role: z.string().optional(),
  /**
   * fed: the devices powered through the alarm's device (for a building's incomer, the whole
   * building; opened by hand, the whole building, or the site when no building is named).
   * building: every device of the incident's building.
   */
  scope: z.enum(['fed', 'building']),
});
export type DeviceSelector = z.infer<typeof deviceSelector>;

/** A task an alarm of the incident spawns: one per device the selector names, or one. */
const taskSchema = z.strictObject({
  id: name,
  /** alarm: an alarm of the incident fires, fires again, or the incident is opened by hand; alarm_cleared: one clears. */
  on: z.enum(['alarm', 'alarm_cleared']),
  /** Only for an alarm on a device in a room of one of these types. */
  room_types: z.array(z.enum(ROOM_TYPES)).optional(),
  for_each: deviceSelector.optional(),
  /** `{device}` is replaced by the task's device. */
  title: text,
  /** The evidence condition (rules/evidence) that closes it by itself, read on the task's device. */
  closed_by: name.optional(),
  /** Done before, it opens again when its device loses (alarm) or regains (alarm_cleared) its supply anew. */
  reopen: z.boolean().default(false),
});
export type TaskDef = z.infer<typeof taskSchema>;

const recordField = z.strictObject({
  name,
  type: z.enum(['time', 'number', 'text', 'bool']),
  label: text,
  required: z.boolean().default(false),
});
export type RecordField = z.infer<typeof recordField>;

/**
 * Sensor evidence for a step: the condition, read on the devices of its kind among the
 * incident's alarms (else of its building). It closes the step only when every required
 * field is one it `fills` (with the time the condition began to hold); otherwise the step
 * needs a person's record and the evidence is only noted on the timeline (invariant I7).
 */
const stepEvidence = z.strictObject({
  condition: name,
  role: z.string().optional(),
  /** Time fields of the step set to the moment the condition began to hold. */
  fills: z.array(name).default([]),
});
export type StepEvidence = z.infer<typeof stepEvidence>;

export const stepSchema = z.strictObject({
  id: name,
  title: text,
  role: z.enum(DUTY_ROLES),
  /** Minutes from the incident start by which it must be done; escalated when missed. */
  deadline_min: z.number().positive().optional(),
  record: z.array(recordField).default([]),
  evidence: stepEvidence.optional(),
});
export type Step = z.infer<typeof stepSchema>;

const alarmKind = ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]];

export const playbookSchema = z
  .strictObject({
    id: name,
    title: text,
    /** Alarm kinds that open an incident with this playbook. */
    opened_by: z.array(z.enum(alarmKind)).default([]),
    /**
     * Which open incident another alarm of these kinds joins: one per building (a power cut,
     * a flood), or one per device (each trapped lift has its own).
     */
    group_by: z.enum(['building', 'device']).default('building'),
    /** Alarms of other kinds attached to the incident when their device is in its scope (a trapped lift on the lost supply). */
    attaches: z.array(z.strictObject({ kind: z.enum(alarmKind), scope: z.literal('fed') })).default([]),
    /** Who is told when a step misses its deadline: first level, then the next after as long again. */
    escalation: z.array(z.enum(DUTY_ROLES)).default(['duty_manager', 'head_office']),
    steps: z.array(stepSchema).min(1),
    tasks: z.array(taskSchema).default([]),
  })
  .superRefine((p, ctx) => {
    const tasks = new Set<string>();
    p.tasks.forEach((t, i) => {
      if (tasks.has(t.id)) ctx.addIssue({ code: 'custom', path: ['tasks', i, 'id'], message: `duplicate task "${t.id}"` });
      tasks.add(t.id);
    });
    p.steps.forEach((s, i) => {
      if (!s.evidence) return;
      s.evidence.fills.forEach((f, j) => {
        const field = s.record.find((r) => r.name === f);
        if (!field || field.type !== 'time') ctx.addIssue({ code: 'custom', path: ['steps', i, 'evidence', 'fills', j], message: `step "${s.id}" records no time field "${f}"` });
      });
    });
    const ids = new Set<string>();
    p.steps.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step "${s.id}"` });
      ids.add(s.id);
      const names = new Set<string>();
      s.record.forEach((f, j) => {
        if (names.has(f.name)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'record', j, 'name'], message: `duplicate field "${f.name}"` });
        names.add(f.name);
      });
    });
  });

export type Playbook = z.infer<typeof playbookSchema>;

/** The playbooks of a site, and the evidence conditions they name (loaded and cross-checked by the gateway). */
export interface PlaybookSet {
  byId: ReadonlyMap<string, Playbook>;
  /** The playbook an alarm kind opens, if any. */
  forKind(kind: AlarmKind): Playbook | undefined;
  conditions: ReadonlyMap<string, EvidenceCondition>;
}

/** Names of evidence conditions a playbook uses that are not defined. */
export function unknownConditions(p: Playbook, conditions: ReadonlyMap<string, unknown>): { path: (string | number)[]; name: string }[] {
  const out: { path: (string | number)[]; name: string }[] = [];
  p.steps.forEach((s, i) => s.evidence && !conditions.has(s.evidence.condition) && out.push({ path: ['steps', i, 'evidence', 'condition'], name: s.evidence.condition }));
  p.tasks.forEach((t, i) => t.closed_by && !conditions.has(t.closed_by) && out.push({ path: ['tasks', i, 'closed_by'], name: t.closed_by }));
  return out;
}

/** What a site changes in a shipped playbook: deadlines of its steps, and steps of its own. */
export const playbookOverrideSchema = z.strictObject({
  /** Step id → minutes from the incident start. */
  deadlines: z.record(z.string(), z.number().positive()).optional(),
  /** Extra steps, each placed after an existing step (or first, with `after` absent). */
  add_steps: z.array(stepSchema.extend({ after: z.string().optional() })).optional(),
});
export type PlaybookOverride = z.infer<typeof playbookOverrideSchema>;

/** The playbook with a site's overrides applied; `problems` name what does not fit (unknown steps, duplicates). */
export function applyOverride(p: Playbook, o: PlaybookOverride): { playbook: Playbook; problems: { path: (string | number)[]; message: string }[] } {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const steps = p.steps.map((s) => ({ ...s }));
  for (const [id, minutes] of Object.entries(o.deadlines ?? {})) {
    const st = steps.find((s) => s.id === id);
    if (!st) problems.push({ path: ['deadlines', id], message: `playbook ${p.id} has no step "${id}" (steps: ${p.steps.map((s) => s.id).join(', ')})` });
    else st.deadline_min = minutes;
  }
  (o.add_steps ?? []).forEach(({ after, ...step }, i) => {
    if (steps.some((s) => s.id === step.id)) {
      problems.push({ path: ['add_steps', i, 'id'], message: `playbook ${p.id} already has a step "${step.id}"` });
      return;
    }
    const at = after === undefined ? 0 : steps.findIndex((s) => s.id === after) + 1;
    if (after !== undefined && at === 0) {
      problems.push({ path: ['add_steps', i, 'after'], message: `playbook ${p.id} has no step "${after}"` });
      return;
    }
    steps.splice(at, 0, step);
  });
  return { playbook: { ...p, steps }, problems };
}
