import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadPlaybooks } from '../../gateway/incidents/playbooks.js';
import type { Alarm } from '../alarms/lifecycle.js';
import type { FieldValue } from '../model/reading.js';
import { ROOM_TYPES, type DeviceFacts, type SiteFacts } from '../site-facts.js';
import { DEVICE_KINDS } from '../model/fields.js';
import type { Incident, IncidentCommand } from './incident.js';
import { Replay } from './replay.js';

// The golden cases (Telegraf-style testcases/): real orders of events, each a data file of
// readings, people's actions and drills in virtual time, run through the real rule engine and
// the real incident board, with the incidents, tasks, attachments, acknowledgements and
// alerts it must end with. A new order that broke something once becomes a file here.

const dir = fileURLToPath(new URL('./testcases/', import.meta.url));
const START = Date.parse('2026-12-01T10:00:00+08:00');

const siteSchema = z.strictObject({
  site: z.string(),
  timezone: z.string(),
  devices: z.array(
    z.strictObject({
      id: z.string(),
      kind: z.enum(DEVICE_KINDS),
      building: z.string(),
      floor: z.string().optional(),
      room: z.string().optional(),
      roomType: z.enum(ROOM_TYPES).optional(),
      feeder: z.string().optional(),
      circuit: z.enum(['incomer', 'sub_circuit']).optional(),
      nominalVoltage: z.number().optional(),
      role: z.string().optional(),
      drainPump: z.string().optional(),
      floorRange: z.strictObject({ lowest: z.number(), highest: z.number() }).optional(),
      intervalS: z.number(),
    }),
  ),
});

const fields = z.record(z.string(), z.union([z.number(), z.boolean(), z.string()]));
const step = z.union([
  z.strictObject({
    at: z.number().optional(),
    from: z.number().optional(),
    to: z.number().optional(),
    every: z.number().optional(),
    read: z.record(z.string(), fields),
  }),
  z.strictObject({ at: z.number(), ack: z.string(), by: z.string() }),
  z.strictObject({
    at: z.number(),
    raise: z.strictObject({ playbook: z.string(), building: z.string().optional(), note: z.string().optional() }),
    by: z.string(),
  }),
  z.strictObject({
    at: z.number(),
    command: z.looseObject({ incident: z.string(), type: z.string() }),
    by: z.string(),
  }),
  z.strictObject({ at: z.number(), drill_start: z.strictObject({ id: z.string(), scope: z.array(z.string()) }) }),
  z.strictObject({ at: z.number(), drill_stop: z.literal(true) }),
]);
const state = z.string(); // open | sensor | <who did it>
const caseSchema = z.strictObject({
  name: z.string(),
  states: z.record(z.string(), z.unknown()).optional(),
  steps: z.array(step),
  until: z.number(),
  expect: z.strictObject({
    incidents: z.array(
      z.strictObject({
        playbook: z.string(),
        device: z.string().optional(),
        building: z.string().optional(),
        drill: z.string().nullable().default(null),
        status: z.enum(['open', 'closed']),
        severity: z.string().optional(),
        raised_by: z.string().optional(),
        owner: z.string().nullable().optional(),
        closed_reason: z.string().optional(),
        alarms: z.array(z.string()).optional(),
        alarms_cleared: z.array(z.string()).optional(),
        tasks: z.record(z.string(), state).optional(),
        steps: z.record(z.string(), state).optional(),
        evidence_seen: z.array(z.string()).optional(),
        reopened: z.number().optional(),
        alerted: z.array(z.string()).nullable().optional(),
        alerts: z.number().optional(),
      }),
    ),
    alarms: z
      .record(
        z.string(),
        z.strictObject({
          status: z.string(),
          ack: z.string().nullable().optional(),
          earlier_acks: z.array(z.string()).optional(),
          episodes: z.number().optional(),
          drill: z.string().nullable().default(null),
        }),
      )
      .optional(),
  }),
});
type Case = z.infer<typeof caseSchema>;
type Action = { at: number; order: number; run: (r: Replay) => void };

const site = siteSchema.parse(parse(readFileSync(dir + 'site.yaml', 'utf8')));
const facts: SiteFacts = {
  site: site.site,
  timezone: site.timezone,
  devices: new Map(site.devices.map((d) => [d.id, { vacant: false, ...d } as DeviceFacts])),
};
const playbooks = loadPlaybooks();

/** `playbook@device-or-building`: the newest incident that fits, open ones first. */
function findIncident(r: Replay, key: string): Incident {
  const [playbook, where] = key.split('@') as [string, string];
  const fits = r.board
    .list()
    .filter(
      (i) =>
        i.playbook === playbook &&
        (i.deviceId === where || i.building === where || i.alarms.some((a) => a.deviceId === where)),
    );
  const found = fits.find((i) => i.status === 'open') ?? fits[0];
  if (!found) throw new Error(`no incident ${key}`);
  return found;
}

function actions(c: Case): Action[] {
  const out: Action[] = [];
  c.steps.forEach((s, order) => {
    if ('read' in s) {
      const times = s.at !== undefined ? [s.at] : range(s.from!, s.to!, s.every!);
      for (const at of times)
        out.push({
          at,
          order,
          run: (r) => Object.entries(s.read).forEach(([id, f]) => r.read(id, f as Record<string, FieldValue>)),
        });
    } else if ('ack' in s) {
      out.push({ at: s.at, order, run: (r) => r.acknowledgeAlarm(latestAlarm(r, s.ack)!.id, s.by) });
    } else if ('raise' in s) {
      out.push({ at: s.at, order, run: (r) => r.raise({ ...s.raise, by: s.by }) });
    } else if ('command' in s) {
      const { incident, ...cmd } = s.command;
      out.push({
        at: s.at,
        order,
        run: (r) => r.command(findIncident(r, incident).id, { ...cmd, by: s.by } as IncidentCommand),
      });
    } else if ('drill_start' in s) {
      out.push({ at: s.at, order, run: (r) => r.startDrill(s.drill_start.id, s.drill_start.scope) });
    } else {
      out.push({ at: s.at, order, run: (r) => r.stopDrill() });
    }
  });
  return out.sort((a, b) => a.at - b.at || a.order - b.order);
}

function range(from: number, to: number, every: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t += every) out.push(t);
  return out;
}

/** The latest alarm of `kind@device`, as the engine holds it now. */
function latestAlarm(r: Replay, key: string): Alarm | undefined {
  const [kind, device] = key.split('@');
  const last = r.alarmChanges.filter((c) => c.alarm.kind === kind && c.alarm.deviceId === device).at(-1);
  return last && r.engine.findById(last.alarm.id);
}

const doneBy = (x: { done?: boolean; status?: string; by?: string; evidence?: unknown }) =>
  !(x.done ?? x.status === 'done') ? 'open' : x.evidence ? 'sensor' : (x.by ?? '?');
const alarmKey = (a: Incident['alarms'][number]) => `${a.kind}@${a.deviceId}`;

describe('golden cases: real orders of events through the real rule engine and incident board', () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'site.yaml')
    .sort()) {
    const c = caseSchema.parse(parse(readFileSync(dir + file, 'utf8')));
    it(`${file}: ${c.name}`, () => {
      const r = new Replay({ facts, playbooks, alertRoles: ['duty_manager', 'engineering_manager'], start: START });
      for (const a of actions(c)) {
        r.advanceTo(START + a.at * 1000);
        a.run(r);
      }
      r.advanceTo(START + c.until * 1000);

      const incidents = r.board.list().reverse();
      const keyOf = (i: Incident) =>
        `${i.playbook}@${playbooks.byId.get(i.playbook)!.group_by === 'device' ? i.deviceId : i.building}${i.drill ? ` (${i.drill})` : ''}`;
      expect(incidents.map(keyOf).join(', '), 'incidents, in the order they opened').toEqual(
        c.expect.incidents
          .map((e) => `${e.playbook}@${e.device ?? e.building}${e.drill ? ` (${e.drill})` : ''}`)
          .join(', '),
      );
      c.expect.incidents.forEach((e, n) => {
        const i = incidents[n]!;
        const what = `${file} incident ${n + 1} (${i.id} ${i.playbook})`;
        expect(i.drill ?? null, `${what}: drill`).toBe(e.drill);
        expect(i.status, `${what}: status`).toBe(e.status);
        if (e.building) expect(i.building, `${what}: building`).toBe(e.building);
        if (e.severity) expect(i.severity, `${what}: severity`).toBe(e.severity);
        if (e.raised_by) expect(i.raisedBy, `${what}: raised by`).toBe(e.raised_by);
        if (e.owner !== undefined) expect(i.owner ?? null, `${what}: owner`).toBe(e.owner);
        if (e.closed_reason) expect(i.closedReason, `${what}: closed because`).toBe(e.closed_reason);
        if (e.alarms) expect(i.alarms.map(alarmKey), `${what}: alarms attached`).toEqual(e.alarms);
        if (e.alarms_cleared)
          expect(i.alarms.filter((a) => a.cleared).map(alarmKey), `${what}: alarms cleared`).toEqual(e.alarms_cleared);
        if (e.tasks)
          expect(
            Object.fromEntries(Object.entries(i.tasks).map(([id, t]) => [id, doneBy(t)])),
            `${what}: tasks`,
          ).toEqual(e.tasks);
        if (e.steps)
          for (const [id, s] of Object.entries(e.steps)) expect(doneBy(i.steps[id]!), `${what}: step ${id}`).toBe(s);
        if (e.evidence_seen)
          expect(
            Object.entries(i.steps)
              .filter(([, s]) => s.evidenceSeenAt !== undefined)
              .map(([id]) => id),
            `${what}: evidence noted`,
          ).toEqual(e.evidence_seen);
        if (e.reopened !== undefined)
          expect(
            Object.values(i.tasks).reduce((n, t) => n + t.reopened, 0),
            `${what}: tasks re-opened`,
          ).toBe(e.reopened);
        const alerts = i.timeline.filter((x) => x.type === 'alerted');
        if (e.alerted !== undefined)
          expect(alerts[0]?.type === 'alerted' ? alerts[0].to : null, `${what}: alerted`).toEqual(e.alerted);
        if (e.alerts !== undefined) expect(alerts.length, `${what}: alerts`).toBe(e.alerts);
      });
      for (const [key, e] of Object.entries(c.expect.alarms ?? {})) {
        const a = latestAlarm(r, key);
        expect(a, `${file}: alarm ${key}`).toBeDefined();
        expect(a!.status, `${file}: alarm ${key} status`).toBe(e.status);
        expect(a!.drill ?? null, `${file}: alarm ${key} drill`).toBe(e.drill);
        if (e.ack !== undefined) expect(a!.ack?.by ?? null, `${file}: alarm ${key} acknowledged by`).toBe(e.ack);
        if (e.earlier_acks)
          expect(
            (a!.earlierAcks ?? []).map((x) => x.by),
            `${file}: alarm ${key} earlier acknowledgements`,
          ).toEqual(e.earlier_acks);
        if (e.episodes !== undefined) expect(a!.reopened + 1, `${file}: alarm ${key} episodes`).toBe(e.episodes);
      }
    });
  }
});
