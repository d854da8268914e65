import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import type { Incident } from '../rules/incidents/incident.js';
import type { IncidentReport } from '../rules/incidents/report.js';
import { DEVICE_PASSWORD, testSite, uniqueDb, waitFor } from './support/site.js';

// A trapped lift from the device's MQTT message to a closed incident and its printed report,
// through the real broker, rules, incident runtime and HTTP API.

let gw: RunningGateway;
let cookie: string;

beforeAll(async () => {
  const { config, baseDir } = testSite({ influxUrl: inject('influxUrl'), database: uniqueDb('incidents') });
  gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
  await gw.adapter.waitReady();
  const login = await fetch(`${gw.httpUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'duty', password: DEVICE_PASSWORD }),
  });
  cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
});
afterAll(async () => gw?.stop());

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { cookie, origin: gw.httpUrl, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    body: res.headers.get('content-type')?.includes('json')
      ? ((await res.json()) as Record<string, unknown>)
      : await res.text(),
  };
};

describe('trapped lift, end to end', () => {
  it('the alarm button opens an incident that is worked through the API to a printable report', async () => {
    const lift = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'lift-a',
      password: DEVICE_PASSWORD,
      reconnectPeriod: 0,
    });
    await lift.publishAsync(
      'dutyroom/testsite/lift-a/reading',
      JSON.stringify({
        floor: 7,
        direction: 'stopped',
        in_door_zone: false,
        door: 'closed',
        occupied: true,
        alarm_button: true,
        mode: 'normal',
      }),
      { qos: 1 },
    );
    const incident = await waitFor(
      async () =>
        ((await api('GET', '/api/incidents?status=open')).body as { incidents: Incident[] }).incidents.find(
          (i) => i.playbook === 'trapped_lift',
        ),
      'the trapped-lift incident',
    );
    expect(incident).toMatchObject({ deviceId: 'lift-a', building: 'b1', severity: 'critical' });
    const cmd = (body: unknown) => api('POST', `/api/incidents/${incident.id}/commands`, body);

    const missing = await cmd({ type: 'complete_step', step: 'confirm_location', fields: { car_floor: '7' } });
    expect(missing.status).toBe(400);
    expect((missing.body as { message: string }).message).toMatch(/needs: reported_at/);
    expect((await cmd({ type: 'complete_step', step: 'no_such_step' })).status).toBe(400);
    expect((await cmd({ type: 'close' })).status).toBe(409);

    const steps: [string, Record<string, unknown>][] = [
      [
        'confirm_location',
        {
          reported_at: '2026-11-22T10:00:05+08:00',
          car_floor: '7-8',
          passengers: 2,
          passenger_condition: '情绪稳定 calm',
        },
      ],
      [
        'comfort_passengers',
        { security_on_site_at: '2026-11-22T10:02:00+08:00', engineering_on_site_at: '2026-11-22T10:04:00+08:00' },
      ],
      ['call_maintenance', { maintenance_notified_at: '2026-11-22T10:01:00+08:00' }],
      ['maintenance_arrived', { maintenance_arrived_at: '2026-11-22T10:13:00+08:00' }],
      [
        'rescue',
        {
          rescue_completed_at: '2026-11-22T10:21:00+08:00',
          emergency_services: [
            {
              service: 'ambulance',
              called_at: '2026-11-22T10:06:00+08:00',
              arrived_at: '2026-11-22T10:15:00+08:00',
              left_at: '2026-11-22T10:30:00+08:00',
              vehicle: '粤A-12010',
            },
          ],
          injuries: '一人头晕，未送医 one dizzy, not taken to hospital',
        },
      ],
      [
        'record_passengers',
        {
          passengers: [
            { name: '张先生', phone: '138****0000', address: '3-1201', visit_reason: '探亲 visiting family' },
            { declined: true },
          ],
        },
      ],
      [
        'restore_lift',
        { lift_restored_at: '2026-11-22T11:05:00+08:00', fault_cause: '门锁回路接触不良 door-lock circuit contact' },
      ],
    ];
    // Police or fire without the approval the plan demands: refused, naming the item and the fields.
    const unapproved = await cmd({
      type: 'complete_step',
      step: 'rescue',
      fields: {
        rescue_completed_at: '2026-11-22T10:21:00+08:00',
        emergency_services: [{ service: 'fire', called_at: '2026-11-22T10:15:00+08:00' }],
      },
    });
    expect([unapproved.status, (unapproved.body as { message: string }).message]).toEqual([
      400,
      expect.stringMatching(/^rescue\.emergency_services\[0\] needs: reason .*approved_by .*approved_at/),
    ]);
    expect(
      (
        await cmd({
          type: 'complete_step',
          step: 'record_passengers',
          fields: { passengers: [{ name: 'x'.repeat(2001) }] },
        })
      ).status,
    ).toBe(400);
    for (const [step, fields] of steps) {
      const r = await cmd({ type: 'complete_step', step, fields });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    const closed = await cmd({ type: 'close', note: '已复盘 reviewed' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', owner: 'duty' });
    expect((await cmd({ type: 'note', text: 'too late' })).status).toBe(409);

    const report = (await api('GET', `/api/incidents/${incident.id}/report?format=json`))
      .body as unknown as IncidentReport;
    expect(report.missing).toEqual([]);
    expect(report.steps.every((s) => s.by === 'duty')).toBe(true);
    const html = (await api('GET', `/api/incidents/${incident.id}/report`)).body as string;
    for (const seen of [
      '电梯困人 Trapped lift',
      '保安到场时间',
      'Maintenance arrived at',
      '2026-11-22T10:13:00+08:00',
      '门锁回路接触不良',
      '@media print',
    ])
      expect(html).toContain(seen);
    const csv = (await api('GET', `/api/incidents/${incident.id}/report?format=csv`)).body as string;
    expect(csv.split('\r\n')[0]).toBe(
      'incident,step,title_zh,title_en,role,deadline_min,done_after_min,met,by,recorded_by,escalated,records',
    );
    await lift.endAsync();
  });
});
