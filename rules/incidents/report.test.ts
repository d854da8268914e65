import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fold, type IncidentEvent } from './incident.js';
import { handoverReport } from './handover.js';
import { playbookSchema } from './playbook.js';
import { buildReport } from './report.js';

const playbook = playbookSchema.parse(
  parse(readFileSync(fileURLToPath(new URL('../playbooks/vacant-unit-flow.yaml', import.meta.url)), 'utf8')),
);
const T0 = Date.parse('2026-11-22T10:00:00Z');
const min = (m: number) => T0 + m * 60_000;
const events: IncidentEvent[] = [
  {
    type: 'raised',
    incidentId: 'inc-7',
    playbook: 'vacant_unit_flow',
    title: playbook.title,
    severity: 'major',
    building: 't1',
    deviceId: 'wm-0302',
    alarmId: 'a',
    at: T0,
  },
  { type: 'acknowledged', by: 'duty', at: min(1) },
  {
    type: 'step_done',
    step: 'close_valve',
    by: 'sensor',
    fields: {},
    evidence: { zh: '水表流量为 0', en: 'The meter reads no flow' },
    at: min(9),
  },
  { type: 'escalated', step: 'tell_front_desk', level: 1, to: 'duty_manager', at: min(20) },
  { type: 'step_done', step: 'tell_front_desk', by: 'duty', fields: {}, at: min(25) },
];

describe('incident report', () => {
  it('puts every step against its target, flags missing records, and tells the timeline in both languages', () => {
    const r = buildReport(fold(events, playbook), playbook, min(70));
    expect(r.steps.map((s) => [s.step, s.doneAfterMin, s.met, s.by])).toEqual([
      ['close_valve', 9, true, 'sensor'],
      ['tell_front_desk', 25, false, 'duty'],
      ['call_owner', undefined, false, undefined], // not done, 70 min > 60 min
    ]);
    expect(r.acknowledgedAfterS).toBe(60);
    expect(r.durationMin).toBe(70); // still open: up to now
    expect(r.devices).toEqual(['wm-0302']);
    expect(r.missing).toEqual(['close_valve.valve_closed_at', 'call_owner.owner_contacted']);
    expect(r.timeline.map((e) => e.text.en)).toEqual([
      'raised by alarm a',
      'acknowledged by duty, who owns the case',
      "closed by the sensors, not a person: Close the unit's water valve (The meter reads no flow)",
      'overdue, escalated to the duty manager (level 1): Tell the front desk',
      'duty done: Tell the front desk',
    ]);
  });

  it('the handover lists the open case with its owner and what is overdue', () => {
    const h = handoverReport([fold(events, playbook)], () => playbook, min(0), min(120));
    expect(h.opened.map((o) => o.id)).toEqual(['inc-7']);
    expect(h.open[0]).toMatchObject({
      owner: 'duty',
      ownedForMin: 119,
      pending: [{ step: 'call_owner', overdue: true }],
    });
  });
});
