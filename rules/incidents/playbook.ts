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

const step = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case'),
  title: text,
  role: z.enum(DUTY_ROLES),
  /** Minutes from the incident start by which it must be done; escalated when missed. */
  deadline_min: z.number().positive().optional(),
  record: z.array(recordField).default([]),
  evidence: evidenceRule.optional(),
});
export type Step = z.infer<typeof step>;

export const playbookSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case'),
    title: text,
    /** Alarm kinds that open an incident with this playbook. */
    opened_by: z.array(z.enum(ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]])).default([]),
    /** Who is told when a step misses its deadline: first level, then the next after as long again. */
    escalation: z.array(z.enum(DUTY_ROLES)).default(['duty_manager', 'head_office']),
    steps: z.array(step).min(1),
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
