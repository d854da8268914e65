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

/** Devices and the site as GET /api/devices and GET /api/site send them: the server's zod schemas
 * (gateway/http/schemas/device.ts) give these types and the OpenAPI document alike. */
export type { DeviceStatus as Device, DeviceTopology, Site } from '../../gateway/http/schemas/device.js';
