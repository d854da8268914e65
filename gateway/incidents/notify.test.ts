import { describe, expect, it } from 'vitest';
import { fold, type IncidentEvent } from '../../rules/incidents/incident.js';
import { formatMessage } from './notify.js';
import { loadPlaybooks } from './playbooks.js';

const powerCut = loadPlaybooks().byId.get('power_cut')!;
const T0 = Date.parse('2026-12-01T10:00:00+08:00');

describe('escalation messages', () => {
  it('a late lift check is named by its title, as a task, to a robot and to a plain webhook', () => {
    const events: IncidentEvent[] = [
      {
        type: 'raised',
        incidentId: 'inc-7',
        playbook: 'power_cut',
        title: powerCut.title,
        severity: 'critical',
        building: 't1',
        at: T0,
      },
      {
        type: 'task_added',
        task: 'check_lift:t1-lift-a',
        title: { zh: '检查电梯 t1-lift-a 是否困人', en: 'Check lift t1-lift-a for trapped passengers' },
        deviceId: 't1-lift-a',
        at: T0,
      },
    ];
    const incident = fold(events, powerCut);
    const event = {
      type: 'task_escalated' as const,
      task: 'check_lift:t1-lift-a',
      level: 1,
      to: 'duty_manager' as const,
      at: T0 + 300_000,
    };
    const robot = formatMessage('wecom', { incident, playbook: powerCut, event }) as { markdown: { content: string } };
    expect(robot.markdown.content).toContain(
      '超时任务 Overdue task: 检查电梯 t1-lift-a 是否困人 / Check lift t1-lift-a for trapped passengers',
    );
    expect(formatMessage('webhook', { incident, playbook: powerCut, event })).toMatchObject({
      kind: 'escalation',
      task: 'check_lift:t1-lift-a',
      task_title: { en: 'Check lift t1-lift-a for trapped passengers' },
      level: 1,
      to: 'duty_manager',
    });
  });
});
