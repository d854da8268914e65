import { describe, expect, it } from 'vitest';
import { decodeField, readImage, writeImage } from '../../gateway/profiles/codec.js';
import { ModbusLink } from '../../gateway/adapters/modbus/link.js';
import { planReads } from '../../gateway/adapters/modbus/plan.js';
import { pollDevice } from '../../gateway/adapters/modbus/poll.js';
import { realTimers } from '../../gateway/ports/clock.js';
import type { SiteConfig } from '../../gateway/config/schema.js';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import { DEFAULT_CONFIG, loadSite } from '../../gateway/config/site.js';
import { Estate } from '../estate/estate.js';
import { startModbusFleet } from './fleet.js';

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
      const read = await pollDevice(d.kind, profile, planReads(profile), async (fn, s, n) =>
        readImage(image, fn, s, n),
      );
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

describe('a write to the simulated fleet reaches the estate', () => {
  it("closing a vacant flat's valve over Modbus TCP stops its flow: the registers show it at once, the estate's readings after it, until the drill releases it", async () => {
    const id = 't2-wm-0901';
    // Only that meter, on a free port (the demo's 15024 may be taken by a demo running here).
    const one: SiteConfig = {
      ...config,
      devices: config.devices.map((d) =>
        d.id === id && d.protocol === 'modbus' ? { ...d, connection: { ...d.connection, port: 0 } } : d,
      ),
    };
    const start = Date.parse('2026-11-22T10:00:00+08:00');
    const estate = new Estate({ config: one, profiles: registerProfiles, seed: 5, start });
    estate.inject(id, { type: 'flow', m3h: 0.4 });
    const refused: string[] = [];
    const fleet = await startModbusFleet({
      config: one,
      profiles: registerProfiles,
      estate,
      only: [id],
      onRefusedWrite: (d, err) => refused.push(`${d}: ${err.message}`),
    });
    const at = fleet.deviceAt(id)!;
    const link = new ModbusLink(
      { transport: 'tcp', host: at.server.host, port: at.server.port },
      { timers: realTimers, connectTimeoutMs: 2000 },
    );
    const profile = registerProfiles.get('generic-water-meter')!;
    const flow = async () => {
      const d = decodeField(profile.fields.flow_m3h!, await link.read(at.unitId, 3, 2, 2, 1000));
      return d.ok ? d.value : d.detail;
    };
    try {
      for (const o of estate.advance(start + 60_000)) fleet.apply(o);
      expect(await flow()).toBe(0.4);
      expect(await link.read(at.unitId, 1, 0, 1, 1000)).toEqual([true]);

      await link.write(at.unitId, 1, 0, [false], 1000);
      expect(await link.read(at.unitId, 1, 0, 1, 1000)).toEqual([false]);
      expect(await flow()).toBe(0);
      // The estate's own reports after it keep the valve shut and the water stopped, the tap still running behind it.
      const later = estate.advance(start + 5 * 60_000).filter((o) => o.deviceId === id);
      for (const o of later) fleet.apply(o);
      expect(later.length).toBeGreaterThan(5);
      expect(later.map((o) => ('fields' in o ? [o.fields.valve_open, o.fields.flow_m3h] : 'dark'))).toEqual(
        later.map(() => [false, 0]),
      );
      expect(await link.read(at.unitId, 1, 0, 1, 1000)).toEqual([false]);
      expect(estate.faults(id)).toEqual([{ type: 'flow', m3h: 0.4 }]);
      expect(refused).toEqual([]);

      // The drill's end: the valve opens again, and with the tap still on the water runs.
      expect(estate.release(id)).toEqual({ valve_open: true });
      for (const o of estate.advance(start + 6 * 60_000)) fleet.apply(o);
      expect(await link.read(at.unitId, 1, 0, 1, 1000)).toEqual([true]);
      expect(await flow()).toBe(0.4);
    } finally {
      await link.close();
      await fleet.stop();
    }
  });
});
