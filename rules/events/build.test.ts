import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Alarm } from '../alarms/lifecycle.js';
import { due, fold, type IncidentEvent } from '../incidents/incident.js';
import { playbookSchema } from '../incidents/playbook.js';
import {
  alarmEvent,
  alarmState,
  incidentEvent,
  incidentState,
  publishedChange,
  siteStatus,
  type EventSite,
} from './build.js';
import { alarmStateSchema, busEventSchema, incidentStateSchema, siteStatusSchema } from './schema.js';
import { isoAt } from './time.js';
import { eventTopics, gatewayOnlyFilters } from './topics.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const min = (m: number) => T0 + m * 60_000;
const SITE: EventSite = {
  site: 'huayuan',
  timeZone: 'Asia/Shanghai',
  place: (id) => ({
    building: 't1',
    floor: '1',
    text: { zh: `1号楼 / 1 层 / ${id}`, en: `Tower 1 / floor 1 / ${id}` },
  }),
  building: (id) => ({ building: id, text: { zh: id, en: id } }),
};
const trapped = playbookSchema.parse(
  parse(readFileSync(fileURLToPath(new URL('../playbooks/trapped-lift.yaml', import.meta.url)), 'utf8')),
);

const leak: Alarm = {
  id: `water_leak:leak-1:${T0}`,
  kind: 'water_leak',
  deviceId: 'leak-1',
  severity: 'critical',
  status: 'firing',
  since: T0 - 5000,
  raisedAt: T0,
  evidence: { text: { zh: '漏水传感器检测到水', en: 'Leak sensor is wet' }, readings: [] },
  reopened: 0,
};

describe('times on the bus', () => {
  it("are ISO-8601 with the site's offset, the same instant", () => {
    expect(isoAt(T0 + 123, 'Asia/Shanghai')).toBe('2026-11-22T18:00:00.123+08:00');
    expect(isoAt(T0, 'UTC')).toBe('2026-11-22T10:00:00.000+00:00');
    expect(isoAt(T0, 'America/New_York')).toBe('2026-11-22T05:00:00.000-05:00');
    expect(Date.parse(isoAt(T0 + 7, 'Asia/Kolkata'))).toBe(T0 + 7);
  });
});

describe('alarm payloads', () => {
  it('carry the site, the alarm, its place and times, and say it is real (drill: null)', () => {
    const s = alarmState(leak, SITE);
    expect(alarmStateSchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({
      site: 'huayuan',
      alarmId: leak.id,
      kind: 'water_leak',
      title: { zh: '漏水', en: 'Water leak' },
      severity: 'critical',
      status: 'firing',
      place: { building: 't1', floor: '1' },
      drill: null,
      raisedAt: '2026-11-22T18:00:00.000+08:00',
      inhibited: false,
      silenced: false,
    });
  });

  it('mark a drill, an acknowledgement and a silence', () => {
    const s = alarmState(
      {
        ...leak,
        drill: 'drill-7',
        ack: { by: 'duty', at: min(1), comment: 'on my way' },
        silencedBy: { id: 's1', by: 'duty', reason: 'works', until: min(60), maintenance: true },
      },
      SITE,
    );
    expect(s).toMatchObject({ drill: 'drill-7', ack: { by: 'duty', comment: 'on my way' }, silenced: true });
    const e = alarmEvent(41, min(1), 'acknowledged', s, SITE.timeZone);
    expect(busEventSchema.parse(e)).toEqual(e);
    expect(e).toMatchObject({ seq: 41, source: 'alarm', change: 'acknowledged', drill: 'drill-7' });
  });

  it('leave out the changes nobody saw (pending, dropped)', () => {
    expect(publishedChange('pending')).toBeUndefined();
    expect(publishedChange('dropped')).toBeUndefined();
    expect(publishedChange('firing')).toBe('firing');
    expect(publishedChange('closed')).toBe('closed');
  });
});

describe('incident payloads', () => {
  const events: IncidentEvent[] = [
    {
      type: 'raised',
      incidentId: 'inc-3',
      playbook: 'trapped_lift',
      title: trapped.title,
      severity: 'critical',
      building: 't1',
      deviceId: 'lift-a',
      alarmId: 'lift_entrapment:lift-a:1',
      kind: 'lift_entrapment',
      at: T0,
    },
  ];

  it('give each step its due time and say which are overdue', () => {
    const late = [...events, ...due(fold(events, trapped), trapped, min(4))];
    const s = incidentState(fold(late, trapped), trapped, min(4), SITE);
    expect(incidentStateSchema.parse(s)).toEqual(s);
    const step = (id: string) => s.steps.find((x) => x.step === id)!;
    expect(step('comfort_passengers')).toMatchObject({
      dueAt: '2026-11-22T18:03:00.000+08:00',
      overdue: true,
      escalatedTo: ['duty_manager'],
    });
    expect(step('maintenance_arrived')).toMatchObject({ dueAt: '2026-11-22T18:15:00.000+08:00', overdue: false });
    expect(s.overdue).toBe(s.steps.filter((x) => x.overdue).length);
    expect(s).toMatchObject({ site: 'huayuan', incidentId: 'inc-3', status: 'open', drill: null, deviceId: 'lift-a' });
  });

  it('address an escalation to its role (head office at the second level)', () => {
    const late = [...events, ...due(fold(events, trapped), trapped, min(7))];
    const esc = late.find((e) => e.type === 'escalated' && e.level === 2)!;
    const s = incidentState(fold(late, trapped), trapped, min(7), SITE);
    const e = incidentEvent(9, esc, s, { zh: '升级', en: 'escalated' }, SITE.timeZone);
    expect(busEventSchema.parse(e)).toEqual(e);
    expect(e).toMatchObject({ source: 'incident', type: 'escalated', to: ['head_office'], level: 2, seq: 9 });
  });
});

describe('status and topics', () => {
  it('says online with the first sequence number of the run', () => {
    const s = siteStatus('huayuan', 'online', T0, 'Asia/Shanghai', 1001);
    expect(siteStatusSchema.parse(s)).toEqual(s);
    expect(s.firstSeq).toBe(1001);
  });

  it('keeps the gateway topics under the site, and protects each of them', () => {
    const t = eventTopics('huayuan');
    expect([t.alarm('a:b:1'), t.incident('inc-1'), t.events, t.status, t.schema]).toEqual([
      'dutyroom/huayuan/alarms/a:b:1',
      'dutyroom/huayuan/incidents/inc-1',
      'dutyroom/huayuan/events',
      'dutyroom/huayuan/status',
      'dutyroom/huayuan/schema',
    ]);
    expect(gatewayOnlyFilters('huayuan')).toContain('dutyroom/huayuan/events/#');
  });
});
