import { describe, expect, it } from 'vitest';
import { loadPlaybooks } from '../../gateway/incidents/playbooks.js';
import type { DeviceFacts } from '../site-facts.js';
import { IncidentBoard, type IncidentRecord } from './board.js';
import { describeEvent } from './report.js';

// A trapped passenger is never silent: each lift's check after a power cut has a deadline of
// its own (5 min from when it opened or re-opened) and, missed, is escalated like a late
// step — to the duty manager, then at twice the deadline to head office.

const playbooks = loadPlaybooks();
const T0 = Date.parse('2026-12-01T10:00:00+08:00');
const min = (m: number) => T0 + m * 60_000;
const base = { building: 't1', vacant: false, intervalS: 5 };
const devices = new Map<string, DeviceFacts>([
  ['t1-incomer', { ...base, id: 't1-incomer', kind: 'electricity_meter', circuit: 'incomer', nominalVoltage: 220 }],
  [
    't1-lift-a',
    { ...base, id: 't1-lift-a', kind: 'lift', feeder: 't1-incomer', floorRange: { lowest: -1, highest: 18 } },
  ],
  [
    't1-lift-b',
    { ...base, id: 't1-lift-b', kind: 'lift', feeder: 't1-incomer', floorRange: { lowest: -1, highest: 18 } },
  ],
]);
const tasksOf = (records: IncidentRecord[]) =>
  records.flatMap((r) => (r.event.type === 'task_escalated' ? [`${r.event.task}@${r.event.level}:${r.event.to}`] : []));

describe('per-lift checks against their own deadline', () => {
  it('escalate at 5 and 10 min from when they opened, once per level; a done check is silent; a re-opened one starts again', () => {
    const b = new IncidentBoard({ facts: { site: 's', devices }, playbooks, alertRoles: [] });
    const opened = b.alarm(
      'firing',
      {
        id: 'power_cut_external:t1-incomer:1',
        kind: 'power_cut_external',
        deviceId: 't1-incomer',
        severity: 'critical',
      },
      T0,
    );
    const id = opened[0]!.incidentId;
    expect(
      Object.keys(b.get(id).incident.tasks)
        .filter((t) => t.startsWith('check_lift:'))
        .sort(),
    ).toEqual(['check_lift:t1-lift-a', 'check_lift:t1-lift-b']);
    expect(tasksOf(b.tick(min(4.9), () => undefined, undefined))).toEqual([]);
    b.command(id, { type: 'complete_task', task: 'check_lift:t1-lift-b', by: 'guard' }, min(4.95));
    expect(tasksOf(b.tick(min(5), () => undefined, undefined))).toEqual(['check_lift:t1-lift-a@1:duty_manager']);
    expect(tasksOf(b.tick(min(7), () => undefined, undefined))).toEqual([]);
    expect(tasksOf(b.tick(min(10), () => undefined, undefined))).toEqual(['check_lift:t1-lift-a@2:head_office']);
    expect(tasksOf(b.tick(min(60), () => undefined, undefined))).toEqual([]);
    const { incident, playbook } = b.get(id);
    const said = incident.timeline
      .filter((e) => e.type === 'task_escalated')
      .map((e) => describeEvent(e, playbook, incident).en);
    expect(said[0]).toBe(
      'task overdue, escalated to the duty manager (level 1): Check lift t1-lift-a for trapped passengers',
    );

    // The supply lost again: lift b's check opens again, with its own clock and no escalation carried over.
    b.alarm(
      'cleared',
      {
        id: 'power_cut_external:t1-incomer:1',
        kind: 'power_cut_external',
        deviceId: 't1-incomer',
        severity: 'critical',
      },
      min(61),
    );
    b.alarm(
      'firing',
      {
        id: 'power_cut_external:t1-incomer:1',
        kind: 'power_cut_external',
        deviceId: 't1-incomer',
        severity: 'critical',
      },
      min(62),
    );
    expect(b.get(id).incident.tasks['check_lift:t1-lift-b']).toMatchObject({ done: false, openedAt: min(62) });
    expect(tasksOf(b.tick(min(66.9), () => undefined, undefined))).toEqual([]);
    expect(tasksOf(b.tick(min(67), () => undefined, undefined))).toEqual(['check_lift:t1-lift-b@1:duty_manager']);
  });
});
