import { describe, expect, it } from 'vitest';
import { fold, type IncidentEvent } from '../../rules/incidents/incident.js';
import { buildReport } from '../../rules/incidents/report.js';
import { loadPlaybooks } from './playbooks.js';
import { reportCsv, reportHtml } from './render.js';

const playbook = loadPlaybooks().byId.get('power_cut')!;
const T0 = Date.parse('2026-12-01T10:00:00+08:00');

describe('the printed incident report', () => {
  it('says what the sensors closed is the sensors, not a person, and who added the records (I7)', () => {
    const events: IncidentEvent[] = [
      {
        type: 'raised',
        incidentId: 'inc-3',
        playbook: 'power_cut',
        title: playbook.title,
        severity: 'critical',
        building: 't1',
        deviceId: 'inc',
        alarmId: 'power_cut_external:inc:1',
        at: T0,
      },
      {
        type: 'task_added',
        task: 'check_lift:lift-a',
        title: { zh: '检查电梯 lift-a 是否困人', en: 'Check lift lift-a for trapped passengers' },
        deviceId: 'lift-a',
        condition: 'lift_safe',
        at: T0,
      },
      {
        type: 'task_done',
        task: 'check_lift:lift-a',
        by: 'sensor',
        evidence: { zh: '轿厢平层', en: 'Car level' },
        at: T0 + 40_000,
      },
      {
        type: 'task_reopened',
        task: 'check_lift:lift-a',
        reason: { zh: '再次停电', en: 'lost again' },
        at: T0 + 60_000,
      },
      {
        type: 'step_done',
        step: 'planned_or_not',
        by: 'sensor',
        fields: {},
        evidence: { zh: '传感器', en: 'sensors' },
        at: T0 + 70_000,
      },
      { type: 'step_done', step: 'planned_or_not', by: 'duty', fields: { planned: false }, at: T0 + 80_000 },
    ];
    const report = buildReport(fold(events, playbook), playbook, T0 + 90_000);
    const html = reportHtml(report, 'Asia/Shanghai', 'Huayuan');
    expect(html).toContain('传感器（非人工）sensors, not a person');
    expect(html).toContain('记录 records: duty');
    expect(html).toContain('重新打开 re-opened ×1');
    expect(html).toContain('task open again: Check lift lift-a for trapped passengers (lost again)');
    // Where, which devices, how long, and the lines to sign.
    const named = reportHtml(report, 'Asia/Shanghai', 'Huayuan', {
      place: (d) => ({ zh: `1号楼 / ${d}`, en: `Tower 1 / ${d}` }),
      building: () => ({ zh: '1号楼', en: 'Tower 1' }),
    });
    expect(named).toContain('Huayuan · 1号楼 / Tower 1<br>1号楼 / inc <small>Tower 1 / inc</small>');
    expect(named).toMatch(/data-field="duration">2 min \(至今 so far\)/);
    expect(named).toContain('值班工程师 Duty engineer');
    expect(named).toContain('值班经理 Duty manager');
    const csv = reportCsv(report).split('\r\n');
    expect(csv[1]).toMatch(/^inc-3,planned_or_not,.*,sensor,duty,0,planned=no$/);
  });
});
