import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../gateway/config/load.js';
import type { SiteConfig } from '../../gateway/config/schema.js';
import { playbookCheck, profileCheck } from '../../gateway/config/site.js';

export { uniqueDb, waitFor } from './wait.js';

/** "secret-device" hashed: the password every test device (and the operator `duty`) logs in with. */
export const DEVICE_PASSWORD = 'secret-device';
export const DEVICE_HASH = 'scrypt$16384$8$1$CUeF3vGIBvU1/rL7tHG9+Q==$UFCeAXNGYfgDzu9adxOO+mkdTdts3W5ZADN7bIekmQs=';
/** "secret-bridge": the zigbee2mqtt bridge's password, and the viewer API token `ci`. */
export const BRIDGE_PASSWORD = 'secret-bridge';
export const BRIDGE_HASH = 'scrypt$16384$8$1$kSaZZNu1Mp/BG0HK/0uwLw==$H1lJs3KS6QFRUWXUy8O4Urfc0WqnIr6LHOi5VSUZsqI=';

/** A small estate for integration tests: one building, a few MQTT devices, its own database and data dir. */
/** `spoolMaxBytes`: a small spool, to see what happens when it is full; `influxUrl: null`: the gateway starts its own influxd; `minFreeMb`: the data disk's floor; `brokerLimits`: broker.limits as flow YAML. */
export function testSite(opts: {
  influxUrl: string | null;
  database: string;
  extra?: string;
  env?: Record<string, string>;
  spoolMaxBytes?: number;
  fsyncIntervalMs?: number;
  minFreeMb?: number;
  brokerLimits?: string;
}): { config: SiteConfig; baseDir: string } {
  const baseDir = mkdtempSync(join(tmpdir(), 'dutyroom-test-'));
  const yaml = `
site: { id: testsite, name: Test estate }
data_dir: ${baseDir}/data
http: { host: 127.0.0.1, port: 0 }
broker:
  host: 127.0.0.1
  mqtt_port: 0
${opts.brokerLimits ? `  limits: ${opts.brokerLimits}\n` : ''}  accounts:
    - { username: zigbee2mqtt, password_hash: "${BRIDGE_HASH}", publish: ["zigbee2mqtt/#"], subscribe: ["zigbee2mqtt/#"] }
    - { username: screen, password_hash: "${BRIDGE_HASH}", subscribe: ["dutyroom/testsite/#"] }
    - { username: nbiot-bridge, password_hash: "${BRIDGE_HASH}", publish: ["dutyroom/testsite/#"] }
users:
  - { username: duty, role: operator, password_hash: "${DEVICE_HASH}" }
  - { username: relief, role: operator, name: { zh: 李接班, en: Li Relief }, password_hash: "${DEVICE_HASH}" }
api_tokens:
  - { name: ci, role: viewer, token_hash: "${BRIDGE_HASH}" }
storage:
${opts.influxUrl ? `  url: ${opts.influxUrl}\n` : ''}  database: ${opts.database}
  batch_size: 500
  flush_interval_ms: 50
${opts.minFreeMb ? `  min_free_mb: ${opts.minFreeMb}\n` : ''}  spool: { fsync_interval_ms: ${opts.fsyncIntervalMs ?? 5}${opts.spoolMaxBytes ? `, max_bytes: ${opts.spoolMaxBytes}` : ''} }
buildings:
  - id: b1
    name: { zh: 1号楼, en: Building 1 }
    floors: { lowest: -1, highest: 10 }
    units: [{ id: u101, floor: "1" }, { id: u102, floor: "1", vacant: true }]
    rooms: [{ id: pump-room, floor: B1, type: pump_room }]
devices:
  - { id: wm-101, kind: water_meter, protocol: mqtt, publish_interval_s: 10, place: { building: b1, unit: u101 }, connection: { password_hash: "${DEVICE_HASH}" } }
  - { id: wm-102, kind: water_meter, protocol: mqtt, publish_interval_s: 10, place: { building: b1, unit: u102 }, connection: { password_hash: "${DEVICE_HASH}" } }
  - { id: lift-a, kind: lift, protocol: mqtt, publish_interval_s: 5, place: { building: b1, floor: "1" }, connection: { password_hash: "${DEVICE_HASH}" } }
  - { id: leak-1, kind: leak_sensor, protocol: mqtt, profile: zigbee2mqtt-leak, place: { building: b1, room: pump-room }, connection: { topic: zigbee2mqtt/leak-1 } }
${opts.extra ?? ''}
`;
  return {
    config: parseConfig(yaml, 'test-site.yaml', { env: opts.env ?? {}, extraChecks: [profileCheck, playbookCheck] }),
    baseDir,
  };
}
