import { z } from 'zod';
import { ALARM_KIND_NAMES, type AlarmKind } from '../alarms/kinds.js';
import { DEVICE_KINDS } from '../model/fields.js';
import { ROOM_TYPES } from '../site-facts.js';

// A playbook is data: the users' emergency plan (S001 篇3 工程部工作应急预案, DOMAIN.md §3) as
// ordered steps, each with a role, a deadline from the incident start, the fields the plan
// says must be recorded, and (optionally) the sensor evidence that closes it by itself; and
// the tasks its alarms spawn (a check per lift on a lost supply, post-restoration checks).
// Files live in rules/playbooks/*.yaml, the evidence conditions they name in
// rules/evidence/*.yaml; the gateway loads and validates both at start-up.

const text = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });
const name = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case');

export const DUTY_ROLES = [
  'duty_engineer',
  'security',
  'duty_manager',
  'engineering_manager',
  'maintenance_contractor',
  'customer_service',
  'head_office',
] as const;
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
  .refine((t) => t.equals !== undefined || t.below !== undefined || t.above !== undefined, {
    message: 'a test needs equals, below or above',
  });
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
  /**
   * Minutes from when the task was opened (or last re-opened) by which it must be done: its
   * own clock, since a task can come long after the incident started (a second loss re-opens
   * the lift checks, a lift attached later). Scored in drill reports (met / late / missed).
   */
  deadline_min: z.number().positive().optional(),
});
export type TaskDef = z.infer<typeof taskSchema>;

/** A field required only when another field of the same record (or group item) has one of these values. */
const requiredWhen = z.strictObject({
  field: name,
  in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
});

const scalarField = {
  name,
  type: z.enum(['time', 'number', 'text', 'bool', 'choice']),
  label: text,
  required: z.boolean().default(false),
  /** Required when another field has one of the values (an approval only for police and fire). */
  required_when: requiredWhen.optional(),
  /** Not required when another field has one of the values (a passenger who left without giving details). */
  required_unless: requiredWhen.optional(),
  /** `choice`: the values it may take, each with its words. */
  options: z
    .array(z.strictObject({ value: name, label: text }))
    .min(2)
    .optional(),
};
const scalarRecordField = z.strictObject(scalarField);
export type ScalarRecordField = z.infer<typeof scalarRecordField>;

/**
 * What a step asks people to record. A `group` repeats its fields once per person or vehicle
 * (each passenger, each police car, fire engine or ambulance): its value is a list of items.
 */
const recordField = z.strictObject({
  ...scalarField,
  type: z.enum(['time', 'number', 'text', 'bool', 'choice', 'group']),
  fields: z.array(scalarRecordField).min(1).optional(),
  /** `group`: at least this many items once recorded (a required group needs one). */
  min_items: z.number().int().min(0).max(50).optional(),
});
export type RecordField = z.infer<typeof recordField>;

/** Most items a group takes: memory stays bounded whatever a client sends. */
export const MAX_GROUP_ITEMS = 50;

/**
 * When a step applies, decided from what was recorded (a planned outage; a heating repair
 * over 8 h or 50 households) or from where and when the incident began (a commercial
 * building in its trading hours). Until it is known the step applies; once every condition is
 * known and none holds it is skipped, with `says` (and the values read) on the timeline.
 */
const stepCondition = z.union([
  z
    .strictObject({
      step: name,
      field: name,
      equals: z.union([z.boolean(), z.string(), z.number()]).optional(),
      /** Numbers: more than this. */
      above: z.number().optional(),
    })
    .refine((c) => c.equals !== undefined || c.above !== undefined, { message: 'a condition needs equals or above' }),
  z.strictObject({ trading_hours: z.literal(true) }),
]);
export type StepCondition = z.infer<typeof stepCondition>;

const appliesWhen = z.strictObject({ any: z.array(stepCondition).min(1), says: text });
export type AppliesWhen = z.infer<typeof appliesWhen>;

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
  /** Only when this holds; otherwise skipped with the reason (absent: always). */
  applies_when: appliesWhen.optional(),
});
export type Step = z.infer<typeof stepSchema>;

const alarmKind = ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]];

/** Answer an alarm within 30 s: S000 §2 工程部考核 (30秒内回复对讲), DOMAIN.md §4. A playbook may set its own `ack_target_s`. */
export const DEFAULT_ACK_TARGET_S = 30;

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
    /**
     * Seconds within which each critical alarm of the incident must be acknowledged: the drill
     * report scores every one against it. Default: S000 §2 工程部考核 "30秒内回复对讲" (answer
     * the intercom within 30 s; DOMAIN.md §4), the same 30 s DOMAIN.md §2 gives an operator to
     * answer a trapped lift's alarm.
     */
    ack_target_s: z.number().positive().default(DEFAULT_ACK_TARGET_S),
    /** Who is told when a step misses its deadline: first level, then the next after as long again. */
    escalation: z.array(z.enum(DUTY_ROLES)).default(['duty_manager', 'head_office']),
    steps: z.array(stepSchema).min(1),
    tasks: z.array(taskSchema).default([]),
  })
  .superRefine((p, ctx) => {
    const tasks = new Set<string>();
    p.tasks.forEach((t, i) => {
      if (tasks.has(t.id))
        ctx.addIssue({ code: 'custom', path: ['tasks', i, 'id'], message: `duplicate task "${t.id}"` });
      tasks.add(t.id);
    });
    p.steps.forEach((s, i) => {
      if (!s.evidence) return;
      s.evidence.fills.forEach((f, j) => {
        const field = s.record.find((r) => r.name === f);
        if (!field || field.type !== 'time')
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'evidence', 'fills', j],
            message: `step "${s.id}" records no time field "${f}"`,
          });
      });
    });
    const ids = new Set<string>();
    p.steps.forEach((s, i) => {
      if (ids.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step "${s.id}"` });
      ids.add(s.id);
      const names = new Set<string>();
      s.record.forEach((f, j) => {
        if (names.has(f.name))
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'record', j, 'name'],
            message: `duplicate field "${f.name}"`,
          });
        names.add(f.name);
        checkField(f, s.record, ['steps', i, 'record', j], ctx);
        if (f.type === 'group')
          (f.fields ?? []).forEach((g, k) =>
            checkField(g, f.fields ?? [], ['steps', i, 'record', j, 'fields', k], ctx),
          );
      });
      s.applies_when?.any.forEach((c, k) => {
        if (!('step' in c)) return;
        const at = p.steps.findIndex((x) => x.id === c.step);
        const field = p.steps[at]?.record.find((r) => r.name === c.field);
        if (at < 0 || at >= i)
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'applies_when', 'any', k, 'step'],
            message: `step "${s.id}" can depend only on a step before it (not "${c.step}")`,
          });
        else if (!field)
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'applies_when', 'any', k, 'field'],
            message: `step "${c.step}" records no field "${c.field}"`,
          });
      });
    });
  });

export type Playbook = z.infer<typeof playbookSchema>;

/** A field's own shape: options for a choice, sub-fields for a group only, conditions on known fields. */
function checkField(
  f: RecordField | ScalarRecordField,
  siblings: readonly (RecordField | ScalarRecordField)[],
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const problem = (at: string, message: string) => ctx.addIssue({ code: 'custom', path: [...path, at], message });
  if ((f.type === 'choice') !== (f.options !== undefined))
    problem(
      'options',
      f.type === 'choice' ? `choice "${f.name}" needs options` : `only a choice has options ("${f.name}" is ${f.type})`,
    );
  if ('fields' in f && (f.type === 'group') !== (f.fields !== undefined))
    problem(
      'fields',
      f.type === 'group' ? `group "${f.name}" needs fields` : `only a group has fields ("${f.name}" is ${f.type})`,
    );
  for (const key of ['required_when', 'required_unless'] as const) {
    const c = f[key];
    if (c && !siblings.some((x) => x.name === c.field && x.name !== f.name))
      problem(key, `"${f.name}" depends on "${c.field}", which is not a field beside it`);
  }
}

/** The playbooks of a site, and the evidence conditions they name (loaded and cross-checked by the gateway). */
export interface PlaybookSet {
  byId: ReadonlyMap<string, Playbook>;
  /** The playbook an alarm kind opens, if any. */
  forKind(kind: AlarmKind): Playbook | undefined;
  conditions: ReadonlyMap<string, EvidenceCondition>;
}

/** Names of evidence conditions a playbook uses that are not defined. */
export function unknownConditions(
  p: Playbook,
  conditions: ReadonlyMap<string, unknown>,
): { path: (string | number)[]; name: string }[] {
  const out: { path: (string | number)[]; name: string }[] = [];
  p.steps.forEach(
    (s, i) =>
      s.evidence &&
      !conditions.has(s.evidence.condition) &&
      out.push({ path: ['steps', i, 'evidence', 'condition'], name: s.evidence.condition }),
  );
  p.tasks.forEach(
    (t, i) =>
      t.closed_by && !conditions.has(t.closed_by) && out.push({ path: ['tasks', i, 'closed_by'], name: t.closed_by }),
  );
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
export function applyOverride(
  p: Playbook,
  o: PlaybookOverride,
): { playbook: Playbook; problems: { path: (string | number)[]; message: string }[] } {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const steps = p.steps.map((s) => ({ ...s }));
  for (const [id, minutes] of Object.entries(o.deadlines ?? {})) {
    const st = steps.find((s) => s.id === id);
    if (!st)
      problems.push({
        path: ['deadlines', id],
        message: `playbook ${p.id} has no step "${id}" (steps: ${p.steps.map((s) => s.id).join(', ')})`,
      });
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
