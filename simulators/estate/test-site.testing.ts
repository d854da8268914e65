import { parseConfig } from '../../gateway/config/load.js';
import type { SiteConfig } from '../../gateway/ports/site.js';

// A small estate with one device of each kind and role and a three-level power tree, for the
// simulator's unit tests:
//
//   inc (incomer, SDM630)
//    ├─ lift-circ ─ lift-a, lift-b
//    ├─ pump-circ ─ booster (secondary water), sump-pump ◄─ sump-level (drain_pump)
//    ├─ em-0301 (flat), em-0302 (vacant flat, SDM120 over Modbus)
//    ├─ boiler, heat-pump
//  wm-0301, wm-0302 (vacant), main, leak-1: no feeder (battery, or mains from elsewhere)

const HASH = 'scrypt$16384$8$1$CUeF3vGIBvU1/rL7tHG9+Q==$UFCeAXNGYfgDzu9adxOO+mkdTdts3W5ZADN7bIekmQs=';

export const TEST_SITE_YAML = `
site: { id: sim, name: Simulated estate, timezone: Asia/Shanghai }
broker:
  accounts:
    - { username: zigbee2mqtt, password_hash: "${HASH}", publish: ["zigbee2mqtt/#"] }
buildings:
  - id: b1
    name: Block 1
    floors: { lowest: -2, highest: 10 }
    units: [{ id: u0301, floor: "3" }, { id: u0302, floor: "3", vacant: true }]
    rooms:
      - { id: pump-room, floor: B2, type: pump_room }
      - { id: sump, floor: B2, type: sump_pit }
      - { id: switch-room, floor: B1, type: switch_room }
      - { id: boiler-room, floor: B1, type: boiler_room }
      - { id: shaft-a, floor: "1", type: lift_shaft }
devices:
  - { id: inc, kind: electricity_meter, circuit: incomer, protocol: modbus, profile: eastron-sdm630, place: { building: b1, room: switch-room }, connection: { host: 127.0.0.1, port: 15520, unit_id: 1 }, poll_interval_s: 5 }
  - { id: lift-circ, kind: electricity_meter, circuit: sub_circuit, feeder: inc, protocol: modbus, profile: eastron-sdm630, place: { building: b1, room: switch-room }, connection: { host: 127.0.0.1, port: 15520, unit_id: 2 }, poll_interval_s: 5 }
  - { id: pump-circ, kind: electricity_meter, circuit: sub_circuit, feeder: inc, protocol: modbus, profile: eastron-sdm630, place: { building: b1, room: switch-room }, connection: { host: 127.0.0.1, port: 15520, unit_id: 3 }, poll_interval_s: 5 }
  - { id: em-0301, kind: electricity_meter, circuit: sub_circuit, feeder: inc, protocol: mqtt, publish_interval_s: 30, place: { building: b1, unit: u0301 }, connection: { password_hash: "${HASH}" } }
  - { id: em-0302, kind: electricity_meter, circuit: sub_circuit, feeder: inc, protocol: modbus, profile: eastron-sdm120, place: { building: b1, unit: u0302 }, connection: { host: 127.0.0.1, port: 15521, unit_id: 1 }, poll_interval_s: 30 }
  - { id: lift-a, kind: lift, feeder: lift-circ, protocol: mqtt, publish_interval_s: 5, place: { building: b1, room: shaft-a }, connection: { password_hash: "${HASH}" } }
  - { id: lift-b, kind: lift, feeder: lift-circ, protocol: modbus, profile: generic-lift-terminal, place: { building: b1, room: shaft-a }, connection: { host: 127.0.0.1, port: 15522, unit_id: 1 }, poll_interval_s: 5 }
  - { id: booster, kind: pump, role: secondary_water, feeder: pump-circ, protocol: modbus, profile: grundfos-cim, place: { building: b1, room: pump-room }, connection: { host: 127.0.0.1, port: 15523, unit_id: 1 }, poll_interval_s: 5 }
  - { id: sump-pump, kind: pump, role: sump, feeder: pump-circ, protocol: modbus, profile: grundfos-cim, place: { building: b1, room: sump }, connection: { host: 127.0.0.1, port: 15523, unit_id: 2 }, poll_interval_s: 5 }
  - { id: sump-level, kind: level_sensor, drain_pump: sump-pump, protocol: mqtt, publish_interval_s: 10, place: { building: b1, room: sump }, connection: { password_hash: "${HASH}" } }
  - { id: boiler, kind: boiler, feeder: inc, protocol: modbus, profile: generic-boiler, place: { building: b1, room: boiler-room }, connection: { host: 127.0.0.1, port: 15524, unit_id: 1 }, poll_interval_s: 10 }
  - { id: heat-pump, kind: pump, role: heating_circulation, feeder: inc, protocol: modbus, profile: grundfos-cim, place: { building: b1, room: boiler-room }, connection: { host: 127.0.0.1, port: 15523, unit_id: 3 }, poll_interval_s: 5 }
  - { id: wm-0301, kind: water_meter, protocol: mqtt, publish_interval_s: 30, place: { building: b1, unit: u0301 }, connection: { password_hash: "${HASH}" } }
  - { id: wm-0302, kind: water_meter, protocol: modbus, profile: generic-water-meter, place: { building: b1, unit: u0302 }, connection: { host: 127.0.0.1, port: 15525, unit_id: 1 }, poll_interval_s: 30 }
  - { id: main, kind: water_meter, protocol: modbus, profile: tuf-2000m, place: { building: b1, room: pump-room }, connection: { host: 127.0.0.1, port: 15525, unit_id: 2 }, poll_interval_s: 10 }
  - { id: leak-1, kind: leak_sensor, protocol: mqtt, profile: zigbee2mqtt-leak, publish_interval_s: 60, place: { building: b1, room: pump-room }, connection: { topic: zigbee2mqtt/leak-1 } }
`;

/** The test estate's site file; `ports` moves its Modbus converters (integration tests take free ones). */
export function testSiteConfig(ports?: (port: number) => number): SiteConfig {
  const yaml = ports
    ? TEST_SITE_YAML.replace(/port: (\d+)/g, (_m, p: string) => `port: ${ports(Number(p))}`)
    : TEST_SITE_YAML;
  return parseConfig(yaml, 'test-site.yaml', { env: {} });
}

/** 2026-11-22 (heating season), local time Asia/Shanghai. */
export function localMs(iso: string): number {
  return Date.parse(`${iso}+08:00`);
}
