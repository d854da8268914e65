import { describe, expect, it } from 'vitest';
import { parseConfig } from './config/load.js';
import { toPoint } from './pipeline/point.js';
import { DeviceRegistry } from './registry.js';

const cfg = parseConfig(
  `
site: { id: s1, name: S }
buildings:
  - id: b1
    name: B1
    floors: { lowest: -1, highest: 5 }
    units: [{ id: u3, floor: "3", vacant: true }]
    rooms: [{ id: pumps, floor: B1, type: pump_room }]
devices:
  - { id: wm, kind: water_meter, protocol: mqtt, publish_interval_s: 10, place: { building: b1, unit: u3 } }
  - { id: pump, kind: pump, protocol: mqtt, publish_interval_s: 60, place: { building: b1, room: pumps } }
  - { id: lift, kind: lift, protocol: mqtt, place: { building: b1, floor: "1" } }
`,
  't.yaml',
  { env: {} },
);

function registry(start = 1_000_000) {
  const clock = {
    t: start,
    now() {
      return this.t;
    },
  };
  return { reg: new DeviceRegistry(cfg, clock), clock };
}

describe('device registry', () => {
  it('derives the floor of a device from its unit or room', () => {
    const { reg } = registry();
    expect(reg.place('wm')).toEqual({ building: 'b1', floor: '3', unit: 'u3' });
    expect(reg.place('pump')).toEqual({ building: 'b1', floor: 'B1', room: 'pumps' });
    expect(reg.place('lift')).toEqual({ building: 'b1', floor: '1' });
  });

  it('is offline before the first reading and after 3 silent intervals', () => {
    const { reg, clock } = registry();
    expect(reg.get('wm')).toMatchObject({
      online: false,
      lastSeen: null,
      lastReading: null,
      intervalSeconds: 10,
      offlineAfterSeconds: 30,
    });
    reg.observe({ deviceId: 'wm', kind: 'water_meter', ts: clock.t, fields: { total_m3: 5 }, quality: 'good' });
    clock.t += 30_000;
    expect(reg.get('wm')!.online).toBe(true);
    clock.t += 1;
    expect(reg.get('wm')!.online).toBe(false);
  });

  it('counts a device emptying its buffer of old readings as online', () => {
    const { reg, clock } = registry();
    reg.observe({
      deviceId: 'wm',
      kind: 'water_meter',
      ts: clock.t - 3_600_000,
      fields: { total_m3: 5 },
      quality: 'good',
    });
    expect(reg.get('wm')).toMatchObject({
      online: true,
      lastSeen: new Date(clock.t).toISOString(),
      lastReading: { ts: new Date(clock.t - 3_600_000).toISOString() },
    });
    clock.t += 31_000;
    reg.observe({
      deviceId: 'wm',
      kind: 'water_meter',
      ts: clock.t - 7_200_000,
      fields: { total_m3: 4 },
      quality: 'good',
    });
    expect(reg.get('wm')).toMatchObject({ online: true, lastReading: { fields: { total_m3: 5 } } });
  });

  it('keeps the latest value of every field across partial updates, and ignores late readings', () => {
    const { reg, clock } = registry();
    reg.observe({ deviceId: 'lift', kind: 'lift', ts: clock.t, fields: { floor: 3, door: 'open' }, quality: 'good' });
    reg.observe({ deviceId: 'lift', kind: 'lift', ts: clock.t + 1000, fields: { door: 'closed' }, quality: 'good' });
    reg.observe({ deviceId: 'lift', kind: 'lift', ts: clock.t - 5000, fields: { floor: 9 }, quality: 'good' });
    expect(reg.get('lift')!.lastReading).toEqual({
      ts: new Date(clock.t + 1000).toISOString(),
      fields: { floor: 3, door: 'closed' },
      quality: 'good',
    });
  });

  it('lists every configured device', () => {
    expect(
      registry()
        .reg.list()
        .map((d) => d.id),
    ).toEqual(['wm', 'pump', 'lift']);
  });
});

describe('InfluxDB point of a reading', () => {
  it('uses the kind as measurement, the place as tags and µs time; quality only when not good', () => {
    const { reg } = registry();
    const ts = Date.parse('2026-11-22T00:00:00.123Z') + 0.456;
    expect(
      toPoint('s1', reg.place('wm')!, {
        deviceId: 'wm',
        kind: 'water_meter',
        ts,
        fields: { total_m3: 1.5 },
        quality: 'good',
      }),
    ).toEqual({
      measurement: 'water_meter',
      tags: { site: 's1', building: 'b1', floor: '3', unit: 'u3', device: 'wm' },
      fields: { total_m3: 1.5 },
      tsUs: 1795305600123456,
    });
    expect(
      toPoint('s1', reg.place('pump')!, {
        deviceId: 'pump',
        kind: 'pump',
        ts,
        fields: { running: true },
        quality: 'uncertain',
      }).fields,
    ).toEqual({
      running: true,
      quality: 'uncertain',
    });
  });
});
