import { z } from 'zod';
import type { AlarmView } from '../../../rules/alarms/view.js';
import type { Silence } from '../../../rules/alarms/silence.js';
import type { Incident } from '../../../rules/incidents/incident.js';
import type { Playbook } from '../../../rules/incidents/playbook.js';
import { bilingual } from './common.js';

// What the rules decide, as the API sends it: alarms, silences, incidents, playbooks, drills,
// handovers and reports. Their TypeScript types are the rules' own (rules/, pure; the dashboard
// imports them too), so these schemas describe them for the OpenAPI document: the fields a
// client relies on, typed, and the rest let through (loose objects). openapi.test.ts checks
// real answers against them.

const ms = z.number().describe('epoch ms');

/**
 * A schema that describes a type defined elsewhere (the rules' interfaces): the document and
 * the run-time check use the schema, the routes' handlers are typed with `T`.
 */
export const describes =
  <T>() =>
  (schema: z.ZodType): z.ZodType<T, T> =>
    schema as unknown as z.ZodType<T, T>;

const severity = z.enum(['critical', 'major', 'minor', 'warning']);

export const alarm = describes<AlarmView>()(
  z
    .looseObject({
      id: z.string(),
      kind: z.string(),
      deviceId: z.string(),
      severity,
      status: z.enum(['pending', 'firing', 'cleared', 'closed']),
      since: ms,
      raisedAt: ms.optional(),
      clearedAt: ms.optional(),
      ack: z.object({ by: z.string(), at: ms, comment: z.string().optional() }).optional(),
      evidence: z.looseObject({}),
      reopened: z.number(),
      drill: z.string().optional(),
      comments: z.array(z.object({ by: z.string(), at: ms, text: z.string() })).optional(),
      inhibitedBy: z.looseObject({}).optional().describe('muted by a lost supply above it, or a link down'),
      silencedBy: z.looseObject({ id: z.string(), until: ms }).optional().describe('muted by a silence (still shown)'),
    })
    .meta({ id: 'Alarm' }),
);

export const alarmKinds = z.record(
  z.string(),
  z.object({
    severity,
    category: z.enum(['water', 'power', 'lift', 'heating', 'device', 'system']),
    title: bilingual,
    inhibitable: z.boolean().describe('may a power cut on its feeder inhibit it (never a trapped lift)'),
  }),
);

export const alarmSound = z.object({ muted: z.boolean(), by: z.string().nullable(), at: z.string().nullable() });

export const silence = describes<Silence>()(
  z
    .object({
      id: z.string(),
      by: z.string(),
      reason: z.string(),
      from: ms,
      until: ms,
      maintenance: z.boolean(),
      match: z.object({
        deviceId: z.string().optional(),
        building: z.string().optional(),
        kind: z.string().optional(),
      }),
    })
    .meta({ id: 'Silence' }),
);

export const incident = describes<Incident>()(
  z
    .looseObject({
      id: z.string(),
      playbook: z.string(),
      title: bilingual,
      severity,
      status: z.enum(['open', 'closed']),
      raisedAt: ms,
      raisedBy: z.string().optional(),
      building: z.string().optional(),
      deviceId: z.string().optional(),
      drill: z.string().optional(),
      owner: z.string().optional(),
      acknowledgedAt: ms.optional(),
      alarms: z.array(z.looseObject({})),
      steps: z.record(z.string(), z.looseObject({})),
      tasks: z.record(z.string(), z.looseObject({})),
      closedAt: ms.optional(),
      timeline: z.array(z.looseObject({ at: ms, type: z.string() })),
    })
    .meta({ id: 'Incident' }),
);

export const playbook = describes<Playbook>()(
  z.looseObject({ id: z.string(), title: bilingual, steps: z.array(z.looseObject({})) }).meta({ id: 'Playbook' }),
);

/** An object the rules build, described by its name only (its fields: the linked source). */
export const described = <T>(what: string) => describes<T>()(z.looseObject({}).describe(what));

const anyObject = z.looseObject({});

/** GET /api/devices/:id/readings: raw rows, or rows per interval (`every`). */
export const history = describes<unknown>()(
  z.looseObject({
    device: z.string(),
    from: z.string(),
    to: z.string(),
    every: z.string().optional().describe('per interval only'),
    everyMs: z.number().optional(),
    timezone: z.string().optional(),
    aggregation: z.record(z.string(), z.enum(['use', 'mean', 'max'])).optional(),
    rows: z.array(
      z.looseObject({
        time: z.string(),
        fields: z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.null()])),
        max: z.record(z.string(), z.number().nullable()).optional(),
      }),
    ),
  }),
);

export const fieldCatalogue = z.object({
  device: z.string(),
  kind: z.string(),
  fields: z.array(
    z.looseObject({
      name: z.string(),
      type: z.enum(['float', 'int', 'bool', 'enum']),
      label: bilingual,
      unit: z.string().optional(),
      writable: z.boolean(),
    }),
  ),
});

export const readingAccepted = z.looseObject({ accepted: z.literal(true), device_id: z.string(), ts: z.string() });

export const commandResult = z.looseObject({
  deviceId: z.string(),
  field: z.string(),
  written: z.union([z.number(), z.boolean(), z.string()]),
  confirmed: z.boolean(),
  at: z.string(),
  by: z.string(),
  comment: z.string().optional(),
});

export const commandRecords = z.object({
  device: z.string(),
  commands: z.array(
    z.looseObject({
      at: z.string(),
      by: z.string(),
      via: z.enum(['session', 'token']).optional(),
      field: z.string(),
      outcome: z.enum(['done', 'unconfirmed', 'refused', 'failed']),
    }),
  ),
});

export const incidentList = describes<{ incidents: Incident[] }>()(z.object({ incidents: z.array(incident) }));

/** GET /api/incidents/:id: the incident with its playbook, roles, people and the timeline in words. */
export const incidentDetail = describes<unknown>()(
  z.looseObject({
    incident,
    playbook,
    roles: z.record(z.string(), bilingual),
    people: z.array(z.looseObject({ username: z.string() })),
    timeline: z.array(z.looseObject({ at: ms, type: z.string(), text: bilingual })),
  }),
);

export const drill = described<unknown>(
  'a drill: scenario, who, when, what was injected and expected (simulators/drill)',
);
export const drills = describes<unknown>()(
  z.looseObject({ available: z.boolean(), now: ms, current: anyObject.nullable(), history: z.array(anyObject) }),
);
export const scenarios = describes<unknown>()(
  z.looseObject({ available: z.boolean(), message: z.string().optional(), scenarios: z.array(anyObject) }),
);
export const drillReport = described<unknown>("the drill's score (rules/incidents/drill-report.ts DrillReport)");
export const meterReport = described<unknown>('the meter-anomaly report (rules/reports/meter-report.ts MeterReport)');
export const storedMeterReports = describes<unknown>()(
  z.object({
    reports: z.array(
      z.looseObject({
        name: z.string(),
        schedule: z.string(),
        from: z.string(),
        to: z.string(),
        generatedAt: z.number(),
      }),
    ),
  }),
);
export const heatingReports = describes<unknown>()(
  z.looseObject({ inSeason: z.boolean(), reports: z.array(z.looseObject({ date: z.string(), status: z.string() })) }),
);
export const heatingReport = described<unknown>('one daily heating report (StoredHeatingReport)');
export const incidentReport = described<unknown>('the incident report (gateway/incidents/report.ts)');
export const handover = described<unknown>('a shift handover (rules/incidents/handover.ts Handover)');
export const handoverReportBody = describes<unknown>()(
  z.looseObject({
    shift: z.looseObject({ from: ms, to: ms }),
    handovers: z.array(anyObject),
    people: z.array(z.looseObject({ username: z.string() })),
  }),
);
export const offeredCommandList = describes<unknown>()(
  z.object({
    commands: z.array(
      z.looseObject({ deviceId: z.string(), command: z.string(), field: z.string(), title: bilingual }),
    ),
  }),
);
export const incidentCommandDone = describes<unknown>()(
  z.looseObject({
    device: z.string(),
    command: z.string(),
    outcome: z.literal('confirmed'),
    at: z.string(),
    by: z.string(),
    incident,
  }),
);
export const photoSaved = z.object({ incident: z.string(), name: z.string(), bytes: z.number(), mime: z.string() });

/** A file sent as it is (a photo): binary. */
export const binary = describes<Buffer>()(z.string().meta({ format: 'binary' }));
