import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { drillReport, type DrillFacts } from './drill-report.js';
import { fold, type IncidentEvent } from './incident.js';
import { playbookSchema } from './playbook.js';

const playbook = playbookSchema.parse(parse(readFileSync(fileURLToPath(new URL('../playbooks/trapped-lift.yaml', import.meta.url)), 'utf8')));
const T0 = Date.parse('2026-12-01T10:00:00Z');
const s = (sec: number) => T0 + sec * 1000;

const drill: DrillFacts = {
  id: 'drill-1',
  scenario: 'lift-entrapment',
  title: { zh: '电梯困人', en: 'Trapped lift' },
  status: 'running',
  startedAt: T0,
  startedBy: 'duty',
  log: [{ at: s(61), plannedAt: s(60), what: { zh: 'A梯困人', en: 'lift A stuck' } }],
  expects: {
    alarms: [
      { kind: 'lift_entrapment', device: 'lift-a', dueBy: s(120) },
      { kind: 'water_leak', device: 'leak-1', dueBy: s(90) },
      { kind: 'pump_failure', device: 'pump-1', dueBy: null },
    ],
  },
};

describe('drill report', () => {
  it('scores alarms against their due times and each response step against its target', () => {
    const events: IncidentEvent[] = [
      { type: 'raised', incidentId: 'inc-1', playbook: 'trapped_lift', title: playbook.title, severity: 'critical', drill: 'drill-1', at: s(85) },
      { type: 'step_done', step: 'confirm_location', by: 'duty', fields: { reported_at: 'x', car_floor: '7', passengers: 3 }, at: s(100) },
      { type: 'step_done', step: 'comfort_passengers', by: 'guard', fields: { security_on_site_at: 'x' }, at: s(85 + 240) },
    ];
    const real: IncidentEvent[] = [{ type: 'raised', incidentId: 'inc-2', playbook: 'trapped_lift', title: playbook.title, severity: 'critical', at: s(90) }];
    const raised = new Map([['lift_entrapment|lift-a', s(85)]]);
    const r = drillReport(drill, raised, [fold(events, playbook), fold(real, playbook)], () => playbook, s(400));
    expect(r.injected).toEqual([{ at: s(61), lateS: 1, what: { zh: 'A梯困人', en: 'lift A stuck' } }]);
    expect(r.alarms.map((a) => [a.kind, a.met])).toEqual([
      ['lift_entrapment', true],
      ['water_leak', false], // due at 90 s, never raised, now 400 s
      ['pump_failure', null], // its cause never came
    ]);
    const steps = Object.fromEntries(r.responses.map((x) => [x.step, x.met]));
    expect(steps).toMatchObject({ confirm_location: true, comfort_passengers: false, call_maintenance: false, maintenance_arrived: null, record_passengers: null });
    expect(r.responses.every((x) => x.incident === 'inc-1')).toBe(true); // the real incident is not the drill's
    expect(r.score).toEqual({ alarmsInTime: 1, alarmsExpected: 3, stepsOnTime: 1, stepsWithTarget: 5 });
  });
});
