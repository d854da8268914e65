import { describe, expect, it } from 'vitest';
import { fold, type IncidentEvent } from '../../rules/incidents/incident.js';
import { createAnnouncer, formatMessage } from './notify.js';
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

describe('retries', () => {
  it('wait the one backoff, doubling from backoffMs, between attempts that fail', async () => {
    const waits: number[] = [];
    const announce = createAnnouncer({
      channels: [{ name: 'ops', type: 'webhook', url: 'http://127.0.0.1:9/hook', roles: ['duty_manager'] }],
      attempts: 4,
      backoffMs: 100,
      now: () => T0,
      sleep: async (ms) => void waits.push(ms),
      fetch: async () => new Response('down', { status: 503 }),
    });
    const sent = await announce({
      kind: 'meter_report',
      roles: ['duty_manager'],
      title: { zh: '报告', en: 'Report' },
      lines: [],
      data: {},
    });
    expect(sent).toMatchObject([{ channel: 'ops', sent: false }]);
    expect(waits).toEqual([100, 200, 400]);
  });
});
