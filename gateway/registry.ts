import type { DeviceConfig, SiteConfig } from './config/schema.js';
import type { FieldValue, Quality, Reading } from '../rules/model/reading.js';
import type { DeviceStatus, Place } from './http/schemas/device.js';
import type { Clock } from './clock.js';
import { isOffline, offlineAfterMs } from '../rules/offline.js';
import { thresholdsResolver, type ThresholdConfig, type Thresholds } from '../rules/thresholds.js';

// The device's status as the API sends it: one zod schema (gateway/http/schemas/device.ts) gives
// the type, the OpenAPI document and the dashboard's type.
export type { DeviceStatus, Place } from './http/schemas/device.js';

interface Live {
  /** Receive time of the latest reading (a device emptying its buffer is alive, whatever its timestamps say). */
  heardAt: number;
  lastTs: number;
  fields: Record<string, FieldValue>;
  quality: Quality;
}

/** Devices of the site with their live state (last values, online). */
export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceConfig>();
  private readonly places = new Map<string, Place>();
  /** Each device's resolved thresholds: the rules' own, so "offline" means the same here as in the alarms. */
  private readonly thresholds = new Map<string, Thresholds>();
  private readonly live = new Map<string, Live>();

  constructor(
    readonly config: SiteConfig,
    private readonly clock: Clock,
  ) {
    const unitFloor = new Map<string, string>();
    for (const b of config.buildings) {
      for (const u of b.units) unitFloor.set(`${b.id}/${u.id}`, u.floor);
      for (const r of b.rooms) unitFloor.set(`${b.id}/${r.id}`, r.floor);
    }
    const thresholdsOf = thresholdsResolver(config.thresholds as ThresholdConfig | undefined);
    for (const d of config.devices) {
      this.devices.set(d.id, d);
      const p = d.place;
      const floor =
        p.floor ??
        (p.unit && unitFloor.get(`${p.building}/${p.unit}`)) ??
        (p.room && unitFloor.get(`${p.building}/${p.room}`)) ??
        undefined;
      this.thresholds.set(d.id, thresholdsOf({ id: d.id, kind: d.kind, building: p.building }));
      this.places.set(d.id, {
        building: p.building,
        ...(floor ? { floor } : {}),
        ...(p.unit ? { unit: p.unit } : {}),
        ...(p.room ? { room: p.room } : {}),
      });
    }
  }

  device(id: string): DeviceConfig | undefined {
    return this.devices.get(id);
  }

  place(id: string): Place | undefined {
    return this.places.get(id);
  }

  observe(r: Reading): void {
    const prev = this.live.get(r.deviceId);
    const heardAt = this.clock.now();
    // A late reading (replayed from a device's buffer) must not overwrite newer live values.
    if (prev && r.ts < prev.lastTs) {
      prev.heardAt = heardAt;
      return;
    }
    if (!prev) {
      this.live.set(r.deviceId, { heardAt, lastTs: r.ts, fields: { ...r.fields }, quality: r.quality });
      return;
    }
    // In place: this runs for every reading, and status() hands out copies only.
    prev.heardAt = heardAt;
    prev.lastTs = r.ts;
    Object.assign(prev.fields, r.fields);
    prev.quality = r.quality;
  }

  get(id: string): DeviceStatus | undefined {
    const d = this.devices.get(id);
    return d ? this.status(d, this.clock.now()) : undefined;
  }

  list(): DeviceStatus[] {
    const now = this.clock.now();
    return [...this.devices.values()].map((d) => this.status(d, now));
  }

  onlineCount(): number {
    return this.list().filter((d) => d.online).length;
  }

  private status(d: DeviceConfig, now: number): DeviceStatus {
    const live = this.live.get(d.id);
    const intervalSeconds = d.protocol === 'mqtt' ? d.publish_interval_s : d.poll_interval_s;
    return {
      id: d.id,
      kind: d.kind,
      ...(d.name !== undefined ? { name: d.name } : {}),
      protocol: d.protocol,
      place: this.places.get(d.id)!,
      online: live !== undefined && !isOffline(live.heardAt, now, intervalSeconds, this.thresholds.get(d.id)!),
      lastSeen: live ? new Date(live.heardAt).toISOString() : null,
      lastReading: live
        ? { ts: new Date(live.lastTs).toISOString(), fields: { ...live.fields }, quality: live.quality }
        : null,
      intervalSeconds,
      offlineAfterSeconds: offlineAfterMs(this.thresholds.get(d.id)!, intervalSeconds) / 1000,
    };
  }
}
