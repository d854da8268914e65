import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../gateway/adapters/mqtt/decode.js';
import { loadPayloadProfiles } from '../../gateway/profiles/payload.js';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import { DEFAULT_CONFIG, loadSite } from '../../gateway/config/site.js';
import { DEVICE_KINDS } from '../../rules/model/fields.js';
import { Estate } from '../estate/estate.js';
import { encode, payloadOf } from './publisher.js';

const profiles = loadPayloadProfiles();
const limits = { maxPayloadBytes: 65536, oldest: 0, newest: 1e15, maxBatch: 10 };
const { config } = loadSite(DEFAULT_CONFIG, {});
const start = Date.parse('2026-11-22T17:00:00+08:00');

describe('MQTT payloads of the simulated estate', () => {
  it('are accepted by the gateway decoder for every kind and every payload profile of that kind, with the observation time', () => {
    const estate = new Estate({ config, profiles: loadRegisterProfiles(), seed: 3, start });
    const obs = estate.advance(start + 10 * 60_000);
    const seen = new Set<string>();
    for (const o of obs) {
      if (!('fields' in o)) continue;
      const info = estate.devices().find((d) => d.id === o.deviceId)!;
      for (const profile of [...profiles.values()].filter((p) => p.kinds.includes(info.kind))) {
        const payload = Buffer.from(JSON.stringify(payloadOf(o.fields, o.ts, profile)));
        const out = decodeMessage('t', payload, { id: info.id, kind: info.kind, profile }, () => 1, limits);
        expect(out.rejections, `${info.id} via ${profile.name}`).toEqual([]);
        expect(out.readings[0]!.ts, `${info.id} via ${profile.name}`).toBe(o.ts);
        if (profile.canonical) expect(out.readings[0]!.fields).toEqual(o.fields);
        seen.add(info.kind);
      }
    }
    expect([...seen].sort()).toEqual([...DEVICE_KINDS].sort());
  });

  it('run a mapped profile backwards (inverted float switch, renamed leak fields)', () => {
    const float = profiles.get('zigbee2mqtt-float-switch')!;
    expect(encode({ level_pct: 90, high_float: true }, float)).toEqual({ contact: false, linkquality: 120 });
    const leak = profiles.get('zigbee2mqtt-leak')!;
    expect(encode({ wet: true, battery_pct: 50, battery_low: false, tamper: false }, leak)).toMatchObject({
      water_leak: true,
      battery: 50,
    });
    expect(payloadOf({ wet: false }, Date.UTC(2026, 10, 22), leak)).toMatchObject({
      water_leak: false,
      last_seen: '2026-11-22T00:00:00.000Z',
    });
    expect(payloadOf({ wet: false }, 1_795_000_000_000, profiles.get('canonical')!)).toEqual({
      wet: false,
      ts: 1_795_000_000_000,
    });
  });
});
