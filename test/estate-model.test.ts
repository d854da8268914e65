import type { AlarmKind } from '../rules/alarms/kinds.js';
import { describe, expect, it } from 'vitest';
import type { Alarm, Device, Site } from '../dashboard/src/types.js';
import { buildModel, cellState, deviceState, isStale, lossOf } from '../dashboard/src/views/estate/model.js';

// What the picture decides before it draws: a value is live or stale, a supply is lost and
// why, and which cells grey out because of it.

const T = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function device(
  id: string,
  kind: Device['kind'],
  fields: NonNullable<Device['lastReading']>['fields'],
  opts: { online?: boolean; ageS?: number; unit?: string } = {},
): Device {
  return {
    id,
    kind,
    protocol: 'modbus',
    place: { building: 'b', ...(opts.unit ? { unit: opts.unit } : {}) },
    online: opts.online ?? true,
    lastSeen: iso(T),
    lastReading: { ts: iso(T - (opts.ageS ?? 0) * 1000), fields, quality: 'good' },
    intervalSeconds: 5,
    offlineAfterSeconds: 15,
  };
}

const site: Site = {
  id: 's',
  name: 's',
  timezone: 'Asia/Shanghai',
  now: T,
  buildings: [],
  devices: [
    { id: 'inc', supplies: [], circuit: 'incomer', nominalVoltage: 220 },
    { id: 'lifts', supplies: ['inc'], circuit: 'sub_circuit', nominalVoltage: 220 },
    { id: 'lift', supplies: ['lifts', 'inc'] },
    { id: 'wm', supplies: [] },
  ],
};

const alarm = (kind: AlarmKind, deviceId: string, extra: Partial<Alarm> = {}): Alarm => ({
  id: `${kind}:${deviceId}`,
  kind,
  deviceId,
  severity: 'critical',
  status: 'firing',
  since: T,
  evidence: { text: { zh: '', en: '' }, readings: [] },
  reopened: 0,
  ...extra,
});
const kinds = { power_cut_external: { title: { zh: '市电停电', en: 'Power cut (external supply)' } } };

describe('the estate model', () => {
  it('calls a value stale when the device is offline or its reading is older than three intervals when heard', () => {
    expect(isStale(device('a', 'pump', {}))).toBe(false);
    expect(isStale(device('a', 'pump', {}, { online: false }))).toBe(true);
    expect(isStale(device('a', 'pump', {}, { ageS: 16 }))).toBe(true);
    expect(isStale(device('a', 'pump', {}, { ageS: 14 }))).toBe(false);
  });

  it('a cut incomer loses its feeders and greys what they feed, the cause named once; a dark feeder does not keep its last 221 V', () => {
    const devices = [
      device('inc', 'electricity_meter', { voltage_l1_v: 0 }),
      device('lifts', 'electricity_meter', { voltage_l1_v: 221 }, { online: false }),
      device('lift', 'lift', { floor: 3 }),
      device('wm', 'water_meter', {}),
    ];
    const m = buildModel(
      site,
      devices,
      [
        alarm('power_cut_external', 'inc'),
        alarm('device_offline', 'lifts', {
          inhibitedBy: { alarmId: 'power_cut_external:inc', kind: 'power_cut_external', deviceId: 'inc' },
        }),
      ],
      kinds,
    );
    expect(m.lost.get('inc')).toEqual({ root: 'inc', why: kinds.power_cut_external.title });
    expect(m.lost.get('lifts')?.root).toBe('inc');
    expect(lossOf(m, 'lift')?.root).toBe('inc');
    expect(deviceState(m, 'lift')).toBe('nopower');
    expect(deviceState(m, 'lifts')).toBe('nopower');
    expect(deviceState(m, 'wm')).toBe('normal');
  });

  it('takes a live voltage far below nominal as a loss, but not a stale one', () => {
    const live = buildModel(site, [device('inc', 'electricity_meter', { voltage_l1_v: 150 })], [], {});
    expect(live.lost.get('inc')?.why.en).toBe('150 V');
    const stale = buildModel(
      site,
      [device('inc', 'electricity_meter', { voltage_l1_v: 0 }, { online: false })],
      [],
      {},
    );
    expect(stale.lost.has('inc')).toBe(false);
    expect(deviceState(stale, 'inc')).toBe('offline');
  });

  it('draws a cell as its worst device; a vacant unit shows vacant until something is wrong in it', () => {
    const devices = [
      device('inc', 'electricity_meter', { voltage_l1_v: 221 }),
      device('wm', 'water_meter', {}, { unit: 'u' }),
    ];
    const calm = buildModel(site, devices, [], {});
    expect(cellState(calm, ['wm'], true)).toBe('vacant');
    expect(cellState(calm, ['wm'], false)).toBe('normal');
    const flowing = buildModel(site, devices, [alarm('vacant_unit_flow', 'wm')], {});
    expect(cellState(flowing, ['wm'], true)).toBe('alarm');
    const silenced = buildModel(
      site,
      devices,
      [
        alarm('vacant_unit_flow', 'wm', {
          silencedBy: { id: 's1', by: 'duty', reason: 'r', until: T + 1, maintenance: false },
        }),
      ],
      {},
    );
    expect(cellState(silenced, ['wm'], true)).toBe('inhibited');
  });
});
