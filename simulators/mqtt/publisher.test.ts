import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../gateway/adapters/mqtt/decode.js';
import { loadPayloadProfiles } from '../../gateway/adapters/mqtt/profile.js';
import { DEVICE_KINDS } from '../../rules/model/fields.js';
import { hashSeed, seededRandom } from '../random.js';
import { initialState, published, step, type SimDevice } from './behaviour.js';
import { encode } from './publisher.js';

const profiles = loadPayloadProfiles();
const limits = { maxPayloadBytes: 65536, oldest: 0, newest: 1e15, maxBatch: 10 };

function sim(kind: SimDevice['kind'], vacant = false): SimDevice {
  return { id: `${kind}-1`, kind, vacant, floors: { lowest: -2, highest: 18 }, nominalVoltage: 220 };
}

describe('simulated devices', () => {
  it('publish payloads the gateway accepts, for every kind and every profile of that kind', () => {
    for (const kind of DEVICE_KINDS) {
      const d = sim(kind);
      const rnd = seededRandom(hashSeed(1, d.id));
      let s = initialState(d, rnd);
      for (let i = 0; i < 50; i++) {
        s = step(d, s, 30, i % 24, rnd);
        for (const profile of [...profiles.values()].filter((p) => p.kinds.includes(kind))) {
          const payload = Buffer.from(JSON.stringify(encode(published(s), profile)));
          const out = decodeMessage('t', payload, { id: d.id, kind, profile }, () => 1, limits);
          expect(out.rejections, `${kind} via ${profile.name}`).toEqual([]);
          if (profile.canonical) expect(out.readings[0]!.fields).toEqual(published(s));
        }
      }
    }
  });

  it('round-trip through a mapped profile (inverted float switch, renamed leak fields)', () => {
    const float = profiles.get('zigbee2mqtt-float-switch')!;
    expect(encode({ level_pct: 90, high_float: true }, float)).toEqual({ contact: false, linkquality: 120 });
    const leak = profiles.get('zigbee2mqtt-leak')!;
    expect(encode({ wet: true, battery_pct: 50, battery_low: false, tamper: false }, leak)).toMatchObject({ water_leak: true, battery: 50 });
  });

  it('use no water in a vacant unit and count up in an occupied one', () => {
    for (const vacant of [true, false]) {
      const d = sim('water_meter', vacant);
      const rnd = seededRandom(7);
      let s = initialState(d, rnd);
      const start = Number(s.total_m3);
      for (let h = 0; h < 24; h++) s = step(d, s, 3600, h, rnd);
      if (vacant) expect(Number(s.total_m3)).toBe(start);
      else expect(Number(s.total_m3)).toBeGreaterThan(start);
    }
  });

  it('are deterministic for a seed', () => {
    const run = () => {
      const d = sim('lift');
      const rnd = seededRandom(hashSeed(42, d.id));
      let s = initialState(d, rnd);
      const floors: number[] = [];
      for (let i = 0; i < 30; i++) floors.push(Number((s = step(d, s, 5, 12, rnd)).floor));
      return floors;
    };
    expect(run()).toEqual(run());
    expect(new Set(run()).size).toBeGreaterThan(1); // the lift does travel
  });
});
