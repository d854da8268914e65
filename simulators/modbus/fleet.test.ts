import { describe, expect, it } from 'vitest';
import { readImage, writeImage } from '../../gateway/adapters/modbus/codec.js';
import { planReads } from '../../gateway/adapters/modbus/plan.js';
import { pollDevice } from '../../gateway/adapters/modbus/poll.js';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import { DEFAULT_CONFIG, loadSite } from '../../gateway/site.js';
import { Estate } from '../estate/estate.js';

const registerProfiles = loadRegisterProfiles();
const { config } = loadSite(DEFAULT_CONFIG, {});

describe('Modbus registers of the simulated estate', () => {
  it('hold every observed field the profile has, and the gateway decodes them back (to the register resolution)', async () => {
    const start = Date.parse('2026-11-22T18:00:00+08:00');
    const estate = new Estate({ config, profiles: registerProfiles, seed: 5, start });
    const obs = estate.advance(start + 5 * 60_000);
    const modbus = new Map(config.devices.flatMap((d) => (d.protocol === 'modbus' ? [[d.id, d] as const] : [])));
    let checked = 0;
    for (const o of obs) {
      const d = modbus.get(o.deviceId);
      if (!d || !('fields' in o)) continue;
      const profile = registerProfiles.get(d.profile)!;
      const values = Object.fromEntries(Object.entries(o.fields).filter(([k]) => k in profile.fields));
      expect(Object.keys(values).sort(), d.id).toEqual(Object.keys(profile.fields).sort());
      const image = writeImage(profile, values);
      const read = await pollDevice(d.kind, profile, planReads(profile), async (fn, s, n) => readImage(image, fn, s, n));
      expect(read.problems, d.id).toEqual([]);
      for (const [name, value] of Object.entries(values)) {
        if (typeof value === 'number') expect(Number(read.fields[name]), `${d.id}.${name}`).toBeCloseTo(value, 1);
        else expect(read.fields[name], `${d.id}.${name}`).toBe(value);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });
});
