import { z } from 'zod';
import { ALARM_KIND_NAMES, SEVERITIES, type AlarmKind } from '../alarms/kinds.js';
import type { IncidentEvent } from '../incidents/incident.js';
import { DUTY_ROLES } from '../incidents/playbook.js';

// What the gateway publishes on the bus (topics.ts), defined once: the TypeScript types come
// from these schemas (z.infer), and so does the published JSON Schema (json-schema.ts,
// events.schema.json beside this file). Names are the HTTP API's (alarmId, deviceId, raisedAt);
// times are ISO-8601 with the site's offset (time.ts), not epoch ms. Every payload names its
// site and says whether it is a drill (`drill`: the drill's id, or null for a real event), so a
// head-office console that follows many sites never mistakes a drill for the real thing.

/** The version of these payloads; a change that breaks a consumer bumps it. */
export const EVENTS_VERSION = 1;

const text = z.strictObject({ zh: z.string(), en: z.string() }).describe('The same words in Chinese and English');
const time = z.iso.datetime({ offset: true }).describe("ISO-8601 with the site's UTC offset");
const id = z.string().min(1);
const role = z.enum(DUTY_ROLES);
const version = z.literal(EVENTS_VERSION);
const drill = z.string().nullable().describe('The drill this belongs to; null: real');

/** Where a device is: its building, floor, unit or room, and the same in words. */
const place = z.strictObject({
  building: id.optional(),
  floor: z.string().optional(),
  unit: z.string().optional(),
  room: z.string().optional(),
  text,
});

export const ALARM_STATUSES = ['firing', 'cleared', 'closed'] as const;

export const alarmStateSchema = z
  .strictObject({
    v: version,
    site: id,
    alarmId: id,
    kind: z.enum(ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]]),
    title: text,
    severity: z.enum(SEVERITIES),
    status: z.enum(ALARM_STATUSES),
    deviceId: id,
    place,
    drill,
    /** The condition first held. */
    since: time,
    raisedAt: time.optional(),
    clearedAt: time.optional(),
    closedAt: time.optional(),
    /** The acknowledgement of the current episode. */
    ack: z.strictObject({ by: id, at: time, comment: z.string().optional() }).optional(),
    reopened: z.number().int().nonnegative(),
    evidence: text,
    /** Muted by a lost supply above the device, or by the gateway's own link being down (still shown). */
    inhibited: z.boolean(),
    /** Muted by a silence or maintenance window (still shown). */
    silenced: z.boolean(),
  })
  .describe('dutyroom/<site>/alarms/<alarm id>, retained; an empty retained payload once closed');
export type AlarmState = z.infer<typeof alarmStateSchema>;

const stepSchema = z.strictObject({
  step: id,
  title: text,
  role,
  status: z.enum(['pending', 'started', 'done', 'skipped']),
  /** The step's deadline (the incident's start plus the playbook's minutes), if it has one. */
  dueAt: time.optional(),
  doneAt: time.optional(),
  /** Past its deadline and not done (or escalated for it). */
  overdue: z.boolean(),
  /** Escalation levels reached, and who they went to. */
  escalatedTo: z.array(role),
});

const taskSchema = z.strictObject({
  task: id,
  title: text,
  deviceId: id.optional(),
  done: z.boolean(),
  openedAt: time,
  dueAt: time.optional(),
  doneAt: time.optional(),
  overdue: z.boolean(),
  escalatedTo: z.array(role),
});

export const incidentStateSchema = z
  .strictObject({
    v: version,
    site: id,
    incidentId: id,
    playbook: id,
    title: text,
    severity: z.enum(SEVERITIES),
    status: z.enum(['open', 'closed']),
    drill,
    raisedAt: time,
    raisedBy: id.optional(),
    deviceId: id.optional(),
    place: place.optional(),
    owner: id.optional(),
    acknowledgedAt: time.optional(),
    closedAt: time.optional(),
    alarms: z.array(
      z.strictObject({
        alarmId: id,
        kind: z.enum(ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]]).optional(),
        deviceId: id.optional(),
        cleared: z.boolean(),
      }),
    ),
    steps: z.array(stepSchema),
    tasks: z.array(taskSchema),
    /** Steps and tasks overdue now. */
    overdue: z.number().int().nonnegative(),
  })
  .describe('dutyroom/<site>/incidents/<incident id>, retained; an empty retained payload once closed');
export type IncidentState = z.infer<typeof incidentStateSchema>;

export const ALARM_CHANGES = ['firing', 'reopened', 'acknowledged', 'commented', 'cleared', 'closed'] as const;
export type AlarmChangeName = (typeof ALARM_CHANGES)[number];

export const INCIDENT_EVENT_TYPES = [
  'raised',
  'alarm_attached',
  'alarm_refired',
  'acknowledged',
  'step_started',
  'step_done',
  'step_skipped',
  'evidence_seen',
  'escalated',
  'task_escalated',
  'alerted',
  'note',
  'handed_over',
  'task_added',
  'task_done',
  'task_reopened',
  'alarm_cleared',
  'notification',
  'device_command',
  'photo',
  'closed',
] as const satisfies readonly IncidentEvent['type'][];
// Every type of the timeline is listed (a new one fails to compile here until it is).
type Missing = Exclude<IncidentEvent['type'], (typeof INCIDENT_EVENT_TYPES)[number]>;
const everyType: [Missing] extends [never] ? true : Missing = true;
void everyType;

const envelope = {
  v: version,
  site: id,
  /** Per site, one more for each event published: a consumer that sees a gap missed events. */
  seq: z.number().int().positive(),
  at: time,
  drill,
};

export const alarmEventSchema = z.strictObject({
  ...envelope,
  source: z.literal('alarm'),
  change: z.enum(ALARM_CHANGES),
  alarm: alarmStateSchema,
});

export const incidentEventSchema = z.strictObject({
  ...envelope,
  source: z.literal('incident'),
  incidentId: id,
  type: z.enum(INCIDENT_EVENT_TYPES),
  /** The event in words, as on the incident's timeline. */
  text,
  /** Who the event is addressed to (an escalation, an alert); head office looks for `head_office`. */
  to: z.array(role),
  step: id.optional(),
  task: id.optional(),
  /** Escalations: the level reached. */
  level: z.number().int().positive().optional(),
  /** The incident as it is once this event is applied. */
  incident: incidentStateSchema,
});

export const busEventSchema = z
  .discriminatedUnion('source', [alarmEventSchema, incidentEventSchema])
  .describe('dutyroom/<site>/events, QoS 1, not retained: every alarm change and incident event, in order');
export type BusEvent = z.infer<typeof busEventSchema>;
export type AlarmBusEvent = z.infer<typeof alarmEventSchema>;
export type IncidentBusEvent = z.infer<typeof incidentEventSchema>;

export const siteStatusSchema = z
  .strictObject({
    v: version,
    site: id,
    state: z.enum(['online', 'offline']),
    at: time,
    /** Online: the first sequence number of this run (a jump to it is a restart; see README). */
    firstSeq: z.number().int().positive().optional(),
  })
  .describe("dutyroom/<site>/status, retained: 'online' from the gateway, 'offline' at its stop or as its MQTT will");
export type SiteStatus = z.infer<typeof siteStatusSchema>;
