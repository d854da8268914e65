import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfigFile, parseConfig } from './load.js';
import { floorsOf } from './schema.js';

const demoFile = fileURLToPath(new URL('../../config/demo-site.yaml', import.meta.url));
const HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

function problemsOf(text: string, env: Record<string, string> = {}) {
  try {
    parseConfig(text, 'site.yaml', { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const minimal = `
site:
  id: s1
  name: Test
buildings:
  - id: b1
    name: B1
    floors: { lowest: -1, highest: 3 }
    units: [{ id: u1, floor: "2", vacant: true }]
    rooms: [{ id: r1, floor: B1, type: pump_room }]
`;

describe('site config', () => {
  it('loads the shipped demo estate with its buildings, lifts, pumps, boiler room, meters and sensors', () => {
    const { config } = loadConfigFile(demoFile, { env: {} });
    expect(config.site.timezone).toBe('Asia/Shanghai');
    expect(config.buildings.length).toBeGreaterThanOrEqual(3);
    const kinds = new Set(config.devices.map((d) => d.kind));
    for (const k of ['lift', 'pump', 'boiler', 'water_meter', 'electricity_meter', 'leak_sensor', 'level_sensor'])
      expect(kinds).toContain(k);
    expect(config.buildings.some((b) => b.rooms.some((r) => r.type === 'boiler_room'))).toBe(true);
    expect(config.buildings.some((b) => b.rooms.some((r) => r.type === 'sump_pit'))).toBe(true);
    expect(config.buildings.some((b) => b.units.some((u) => u.vacant))).toBe(true);
    // env references fall back to their defaults
    expect(config.http.port).toBe(8080);
    expect(config.data_dir).toBe('../var/demo');
  });

  it('fills defaults: time zone, storage, spool, broker ports', () => {
    const cfg = parseConfig(minimal, 'site.yaml', { env: {} });
    expect(cfg.site.timezone).toBe('Asia/Shanghai');
    expect(cfg.storage.driver).toBe('influxdb1');
    expect(cfg.storage.spool.max_bytes).toBe(1024 ** 3);
    expect(cfg.broker.mqtt_port).toBe(1883);
    expect(cfg.buildings[0]!.units[0]!.vacant).toBe(true);
  });

  it('expands a floor range without a floor 0 (B1 sits under 1)', () => {
    const cfg = parseConfig(minimal, 'site.yaml', { env: {} });
    expect(floorsOf(cfg.buildings[0]!).map((f) => f.id)).toEqual(['B1', '1', '2', '3']);
  });

  it('names the path and line of every problem, not just the first', () => {
    const text = `${minimal}
devices:
  - id: m1
    kind: water_meter
    protocol: mqtt
    place: { building: b9 }
  - id: m2
    kind: water_metre
    protocol: mqtt
    place: { building: b1 }
  - id: m3
    kind: lift
    protocol: mqtt
    place: { building: b1, floor: "7" }
    colour: red
`;
    const problems = problemsOf(text);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath['devices[1].kind']).toMatchObject({ line: 18 });
    expect(byPath['devices[1].kind']!.message).toMatch(/water_meter/);
    expect(byPath['devices[2].colour']).toMatchObject({ line: 25, message: 'unknown key "colour"' });
    expect(problems.length).toBe(2);
  });

  it("refuses a device named like one of the gateway's own topics (dutyroom/<site>/events …)", () => {
    const text = `${minimal}devices:
  - { id: events, kind: leak_sensor, protocol: mqtt, place: { building: b1 } }
`;
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(/^devices\[0\]\.id: reserved: alarms, incidents, events, status, schema/),
    ]);
  });

  it('checks references: buildings, floors, units, feeders, drain pumps, duplicates, loops', () => {
    const text = `${minimal}
devices:
  - { id: m1, kind: water_meter, protocol: mqtt, place: { building: b9 } }
  - { id: m2, kind: water_meter, protocol: mqtt, place: { building: b1, unit: u7 } }
  - { id: m2, kind: lift, protocol: mqtt, place: { building: b1 }, feeder: m1 }
  - { id: e1, kind: electricity_meter, circuit: sub_circuit, feeder: e2, protocol: mqtt, place: { building: b1 } }
  - { id: e2, kind: electricity_meter, circuit: sub_circuit, feeder: e1, protocol: mqtt, place: { building: b1 } }
  - { id: l1, kind: level_sensor, drain_pump: m1, protocol: mqtt, place: { building: b1, floor: "2", room: r1 } }
  - { id: e3, kind: electricity_meter, circuit: sub_circuit, feeder: e2, protocol: mqtt, place: { building: b1 } }
  - { id: p1, kind: pump, feeder: e3, protocol: mqtt, place: { building: b1 } }
`;
    const messages = problemsOf(text).map((p) => `${p.line} ${p.path}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^13 devices\[0\]\.place\.building: no building "b9"/),
        expect.stringMatching(/^14 devices\[1\]\.place\.unit: building b1 has no unit "u7"/),
        expect.stringMatching(/^15 devices\[2\]\.id: duplicate id "m2"/),
        expect.stringMatching(/^15 devices\[2\]\.feeder: feeder "m1" is a water_meter/),
        expect.stringMatching(/^16 devices\[3\]\.feeder: feeder loop: e1 → e2 → e1/),
        expect.stringMatching(/^18 devices\[5\]\.drain_pump: "m1" is a water_meter, not a pump/),
        expect.stringMatching(
          /^18 devices\[5\]\.place\.floor: floor "2" differs from the floor of its unit\/room \("B1"\)/,
        ),
      ]),
    );
    // The loop is said once, not again for e2, nor for e3 and p1 that hang below it.
    expect(messages.filter((m) => m.includes('feeder loop'))).toEqual([
      '16 devices[3].feeder: feeder loop: e1 → e2 → e1',
    ]);
  });

  it('reports YAML syntax errors with their line, and the path as far as the parser got', () => {
    const problems = problemsOf('site:\n  id: s1\n  name: [unclosed\nbuildings: []\n');
    expect(problems[0]!.message).toMatch(/^YAML:/);
    expect(problems[0]!.line).toBeGreaterThan(0);
    const deep = problemsOf('site:\n  id: s1\n  name: S\nbroker:\n  accounts:\n    - { username: a, publish: ["x" }\n');
    expect(deep[0]).toMatchObject({ path: expect.stringMatching(/^broker\.accounts/), line: 6 });
  });

  it('points a missing required key at its parent', () => {
    const problems = problemsOf(
      'site:\n  id: s1\nbuildings:\n  - id: b1\n    name: B\n    floors: { lowest: 1, highest: 2 }\n',
    );
    expect(problems).toEqual([expect.objectContaining({ path: 'site.name', line: 2 })]);
  });

  it('takes secrets from the environment and names a missing variable with its line', () => {
    const text = `${minimal}
users:
  - { username: duty, role: operator, password_hash: "\${DUTY_HASH}" }
`;
    const cfg = parseConfig(text, 'site.yaml', { env: { DUTY_HASH: HASH } });
    expect(cfg.users[0]!.password_hash).toBe(HASH);
    const problems = problemsOf(text);
    expect(problems).toEqual([
      expect.objectContaining({
        line: 13,
        path: 'users[0].password_hash',
        message: 'environment variable DUTY_HASH is not set',
      }),
    ]);
  });

  it('MQTT_URL switches to an external broker, INFLUX_URL to an existing database', () => {
    const cfg = parseConfig(minimal, 'site.yaml', {
      env: { MQTT_URL: 'mqtt://broker.local:1883', INFLUX_URL: 'http://db:8086' },
    });
    expect(cfg.broker).toMatchObject({ embedded: false, url: 'mqtt://broker.local:1883' });
    expect(cfg.storage.url).toBe('http://db:8086');
  });

  it('takes threshold overrides and checks their names, buildings and devices', () => {
    const ok = parseConfig(
      `${minimal}thresholds:\n  site: { leak_wet_s: 10 }\n  kinds: { lift: { lift_trapped_s: 30 } }\n  buildings: { b1: { burst_flow_m3h: 20 } }\n`,
      'site.yaml',
      { env: {} },
    );
    expect(ok.thresholds).toEqual({
      site: { leak_wet_s: 10 },
      kinds: { lift: { lift_trapped_s: 30 } },
      buildings: { b1: { burst_flow_m3h: 20 } },
    });
    const problems = problemsOf(
      `${minimal}thresholds:\n  site: { leak_wet_seconds: 10 }\n  buildings: { b9: { leak_wet_s: 1 } }\n  devices: { ghost: { leak_wet_s: -1 } }\n`,
    );
    expect(problems.map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual([
      '12 thresholds.site.leak_wet_seconds: unknown key "leak_wet_seconds"',
      '13 thresholds.buildings.b9: no building "b9"',
      '14 thresholds.devices.ghost: no device "ghost"',
      '14 thresholds.devices.ghost.leak_wet_s: Too small: expected number to be >=0',
    ]);
  });

  it('an InfluxDB 2.x store must be named in full: url, org, bucket, token', () => {
    const problems = problemsOf(`${minimal}storage:\n  driver: influxdb2\n  org: estate\n`);
    expect(problems.map((p) => p.path).sort()).toEqual(['storage.bucket', 'storage.token', 'storage.url']);
    expect(problems.map((p) => p.line)).toEqual([12, 12, 12]); // the storage block: the keys are missing from it
    const ok = parseConfig(`${minimal}storage: { driver: influxdb2, org: o, bucket: b, token: t }\n`, 'site.yaml', {
      env: { INFLUX_URL: 'http://db:8086' },
    });
    expect(ok.storage).toMatchObject({ driver: 'influxdb2', url: 'http://db:8086', bucket: 'b' });
  });

  it('rejects a time zone that does not exist and a password that is not a hash', () => {
    const text =
      minimal.replace('name: Test', 'name: Test\n  timezone: Asia/Shangai') +
      `
users:
  - { username: duty, role: operator, password_hash: hunter2 }
`;
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual(['site.timezone', 'users[0].password_hash']);
    expect(problems[1]!.message).toMatch(/hash-password/);
  });

  it('reads a missing file as a clear error', () => {
    expect(() => loadConfigFile('/nonexistent/site.yaml')).toThrow(ConfigError);
  });
});
