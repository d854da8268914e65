import { z } from 'zod';
import { ALARM_KIND_NAMES, type AlarmKind } from '../alarms/kinds.js';

// A playbook is data: the users' emergency plan (S002 工程部工作应急预案, DOMAIN.md §3) as
// ordered steps, each with a role, a deadline from the incident start, the fields the plan
// says must be recorded, and (optionally) the sensor evidence that closes it by itself.
// Files live in rules/playbooks/*.yaml; the gateway loads and validates them at start-up.

const text = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });

export const DUTY_ROLES = ['duty_engineer', 'security', 'duty_manager', 'maintenance_contractor', 'customer_service', 'head_office'] as const;
export type DutyRole = (typeof DUTY_ROLES)[number];

const recordField = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case'),
  type: z.enum(['time', 'number', 'text', 'bool']),
  label: text,
  required: z.boolean().default(false),
});
export type RecordField = z.infer<typeof recordField>;

/** Sensor evidence that closes a step: a field of a device of the incident's scope reaching a value. */
const evidenceRule = z.strictObject({
  /** Which devices: those of this kind in the incident's building (optionally with a pump role). */
  kind: z.enum(['water_meter', 'electricity_meter', 'lift', 'pump', 'boiler', 'leak_sensor', 'level_sensor']),
  role: z.string().optional(),
  field: z.string().min(1),
  /** All of them must read this (numbers: at most `below` / at least `above`). */
  equals: z.union([z.number(), z.boolean(), z.string()]).optional(),
  below: z.number().optional(),
  above: z.number().optional(),
  /** Shown on the timeline when it closes the step. */
  says: text,
});
export type EvidenceRule = z.infer<typeof evidenceRule>;

export const stepSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case'),
  title: text,
  role: z.enum(DUTY_ROLES),
  /** Minutes from the incident start by which it must be done; escalated when missed. */
  deadline_min: z.number().positive().optional(),
  record: z.array(recordField).default([]),
  evidence: evidenceRule.optional(),
});
export type Step = z.infer<typeof stepSchema>;

export const playbookSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case'),
    title: text,
    /** Alarm kinds that open an incident with this playbook. */
    opened_by: z.array(z.enum(ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]])).default([]),
    /** Who is told when a step misses its deadline: first level, then the next after as long again. */
    escalation: z.array(z.enum(DUTY_ROLES)).default(['duty_manager', 'head_office']),
    steps: z.array(stepSchema).min(1),
  })
  .superRefine((p, ctx) => {
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
