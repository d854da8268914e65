import type { SiteConfig } from '../config/schema.js';
import type { Clock } from '../ports/clock.js';
import type { ReadingSink } from '../ports/readings.js';
import { DeviceRegistry } from '../registry.js';
import type { Point, StoreDriver } from '../store/driver.js';
import { writePoints } from '../store/write-points.js';
import { pointTags, pointWithTags } from './point.js';

/**
 * A ReadingSink writing straight into the database in the live pipeline's schema
 * (./point.ts): for histories written in bulk, which must not pass through the spool and
 * the rules. Connects the driver first; a reading from a device the site does not have is
 * refused (the whole batch), as the pipeline would.
 */
export async function openStoreSink(config: SiteConfig, driver: StoreDriver, clock: Clock): Promise<ReadingSink> {
  await driver.connect();
  const registry = new DeviceRegistry(config, clock);
  // Tags per device made once: a history is millions of readings from a few hundred meters.
  const tags = new Map<string, Record<string, string>>();
  const tagsOf = (deviceId: string): Record<string, string> => {
    let t = tags.get(deviceId);
    if (!t) {
      const place = registry.place(deviceId);
      if (!place) throw new Error(`no device "${deviceId}" on site ${config.site.id}`);
      t = pointTags(config.site.id, place, deviceId);
      tags.set(deviceId, t);
    }
    return t;
  };
  return {
    write: (readings) => {
      let points: Point[];
      try {
        points = readings.map((r) => pointWithTags(tagsOf(r.deviceId), r));
      } catch (err) {
        return Promise.reject(err);
      }
      return writePoints(driver, points);
    },
  };
}
