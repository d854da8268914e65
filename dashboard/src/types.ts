import type { Text } from './i18n.js';

// What the API sends. Alarms, incidents, playbooks and meter reports are the server's own types (rules/,
// pure, imported for their types only: nothing of the server reaches the page's code), so a
// field added on the server is seen here, and one renamed breaks this build, not the page.
export type { Severity } from '../../rules/alarms/kinds.js';
export type { AlarmView as Alarm } from '../../rules/alarms/view.js';
export type { Incident, StepState } from '../../rules/incidents/incident.js';
export type { Playbook, RecordField as RecordFieldDef, Step as StepDef } from '../../rules/incidents/playbook.js';
/** The meter-anomaly report as GET /api/reports/meters answers it. */
export type { MeterReport, MeterRow } from '../../rules/reports/meter-report.js';
export type { MeterAnomaly, MeterKind } from '../../rules/reports/meter-model.js';

export interface Device {
  id: string;
  kind: string;
  name?: Text | string;
  protocol: string;
  place: { building: string; floor?: string; unit?: string; room?: string };
  online: boolean;
  lastSeen: string | null;
  lastReading: { ts: string; fields: Record<string, unknown> } | null;
  /** Poll or publish interval. */
  intervalSeconds?: number;
  /** Silent this long → offline, by the rules' offline_intervals; a reading this much older than when it was heard is stale. */
  offlineAfterSeconds: number;
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
