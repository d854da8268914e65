import type { Text } from './i18n.js';

export type Severity = 'critical' | 'major' | 'minor' | 'warning';

export interface Alarm {
  id: string;
  kind: string;
  deviceId: string;
  severity: Severity;
  status: 'pending' | 'firing' | 'cleared' | 'closed';
  since: number;
  raisedAt?: number;
  ack?: { by: string; at: number; comment?: string };
  evidence: { text: Text; readings: { deviceId: string; field: string; value: unknown; ts: number }[] };
  reopened: number;
  drill?: string;
  inhibitedBy?: { alarmId: string; kind: string; deviceId: string } | { link: string };
  silencedBy?: { id: string; by: string; reason: string; until: number };
}

export interface Device {
  id: string;
  kind: string;
  name?: Text | string;
  protocol: string;
  place: { building: string; floor?: string; unit?: string; room?: string };
  online: boolean;
  lastSeen: string | null;
  lastReading: { ts: string; fields: Record<string, unknown> } | null;
  /** Poll or publish interval: offline, and its values stale, after 3 of them without a reading. */
  intervalSeconds?: number;
}

/** What feeds a device and what it is, from the site file (GET /api/site `devices`). */
export interface DeviceTopology {
  id: string;
  /** Every meter above it, nearest first. */
  supplies: string[];
  circuit?: 'incomer' | 'sub_circuit';
  nominalVoltage?: number;
  role?: string;
  floorRange?: { lowest: number; highest: number };
}

export interface Site {
  id: string;
  name: Text | string;
  timezone: string;
  now: number;
  buildings: {
    id: string;
    name: Text | string;
    floors: { id: string; level: number }[];
    units: { id: string; floor: string; vacant?: boolean; name?: Text | string }[];
    rooms: { id: string; floor: string; type: string; name?: Text | string }[];
  }[];
  devices?: DeviceTopology[];
}

export interface StepState {
  status: 'pending' | 'started' | 'done' | 'skipped';
  /** It does not apply to this incident: why (the playbook's words and the values read). */
  skipped?: Text;
  doneAt?: number;
  /** A person's name, or `sensor` (then `evidence` says what the sensors showed). */
  by?: string;
  fields: Record<string, unknown>;
  evidence?: Text;
  /** Who added the records to a step the sensors closed. */
  recordedBy?: string;
  /** The sensors showed what the step asks; it waits for a person's record. */
  evidenceSeenAt?: number;
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
  owner?: string;
  closedReason?: 'drill_ended';
  alarms: { alarmId: string; kind?: string; deviceId?: string; cleared: boolean }[];
  steps: Record<string, StepState>;
  tasks: Record<
    string,
    { title: Text; deviceId?: string; done: boolean; by?: string; evidence?: Text; reopened: number }
  >;
  timeline: ({ type: string; at: number } & Record<string, unknown>)[];
}

export interface Playbook {
  id: string;
  title: Text;
  steps: StepDef[];
}

/** A field a step records (rules/incidents/playbook.ts). */
export interface RecordFieldDef {
  name: string;
  type: 'time' | 'number' | 'text' | 'bool' | 'choice' | 'group';
  label: Text;
  required: boolean;
  required_when?: { field: string; in: unknown[] };
  required_unless?: { field: string; in: unknown[] };
  options?: { value: string; label: Text }[];
  fields?: RecordFieldDef[];
}

export interface StepDef {
  id: string;
  title: Text;
  role: string;
  deadline_min?: number;
  record: RecordFieldDef[];
}
