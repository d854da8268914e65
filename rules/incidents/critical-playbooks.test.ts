import { describe, expect, it } from 'vitest';
import { loadPlaybooks } from '../../gateway/incidents/playbooks.js';
import { ALARM_KIND_NAMES, ALARM_KINDS, type AlarmKind } from '../alarms/kinds.js';
import { isSystemKind } from '../alarms/system.js';
import { ALL_DETECTORS, alarmSeverity } from '../engine.js';
import { DEVICE_KINDS } from '../model/fields.js';
import { PUMP_ROLES, type DeviceFacts } from '../site-facts.js';
import { IncidentBoard } from './board.js';

// I5: every critical alarm has a playbook. Every device a site can have (each kind, each pump
// role, incomers and sub-circuits, vacant units, lift shafts), every detector that applies to
// it, every alarm kind it can raise at critical severity: that alarm must open or join an
// incident. A new critical detector without a plan fails here.

const playbooks = loadPlaybooks();
const T0 = Date.parse('2026-12-01T10:00:00+08:00');

function everyDevice(): DeviceFacts[] {
  const base = { building: 't1', vacant: false, intervalS: 10 };
  const out: DeviceFacts[] = [];
  for (const kind of DEVICE_KINDS) {
    if (kind === 'pump')
      for (const role of [undefined, ...PUMP_ROLES])
        out.push({ ...base, id: `pump-${role ?? 'none'}`, kind, ...(role ? { role } : {}) });
    else if (kind === 'electricity_meter')
      for (const circuit of [undefined, 'incomer', 'sub_circuit'] as const)
        out.push({
          ...base,
          id: `meter-${circuit ?? 'none'}`,
          kind,
          nominalVoltage: 220,
          ...(circuit ? { circuit } : {}),
        });
    else if (kind === 'water_meter')
      for (const vacant of [false, true]) out.push({ ...base, id: `wm-${vacant}`, kind, vacant, unit: 'u1' });
    else if (kind === 'lift')
      out.push({ ...base, id: 'lift', kind, floorRange: { lowest: -2, highest: 18 }, roomType: 'lift_shaft' });
    else if (kind === 'level_sensor') out.push({ ...base, id: 'sump-level', kind, drainPump: 'pump-sump' });
    else out.push({ ...base, id: kind, kind });
  }
  return out;
}

describe('I5 every critical alarm has a playbook', () => {
  const devices = everyDevice();
  const critical: { device: DeviceFacts; kind: AlarmKind }[] = [];
  for (const device of devices)
    for (const d of ALL_DETECTORS)
      if (
        d.applies(device) &&
        alarmSeverity(device, d.kind) === 'critical' &&
        !critical.some((c) => c.device === device && c.kind === d.kind)
      )
        critical.push({ device, kind: d.kind });

  // The gateway's own alarms (rules/alarms/system.ts) are raised on a subject, not a device.
  const gateway: DeviceFacts = { id: 'gateway', kind: 'electricity_meter', building: '', vacant: false, intervalS: 1 };
  for (const kind of ALARM_KIND_NAMES)
    if (isSystemKind(kind) && ALARM_KINDS[kind].severity === 'critical') critical.push({ device: gateway, kind });

  it('finds the critical alarms the detectors and the system watch can raise (so the check below is not empty)', () => {
    expect(new Set(critical.map((c) => c.kind))).toEqual(
      new Set([
        'water_leak',
        'pipe_burst',
        'sump_pump_failure',
        'power_cut_external',
        'lift_entrapment',
        'lift_door_fault',
        'lift_overtravel',
        'boiler_overheat',
        'boiler_pressure',
        'boiler_fault',
        'pump_failure',
        'spool_nearly_full',
        'spool_refusing',
        'broker_down',
        'disk_low',
      ]),
    );
    expect(
      critical
        .filter((c) => c.kind === 'pump_failure')
        .map((c) => c.device.role)
        .sort(),
    ).toEqual(['secondary_water', 'sump']);
  });

  for (const { device, kind } of critical) {
    it(`${kind} on ${device.id === 'gateway' ? 'the gateway' : `a ${device.kind}${device.role ? ` (${device.role})` : ''}`} opens or joins an incident, alerted at once`, () => {
      expect(playbooks.forKind(kind), `no playbook opens on ${kind}`).toBeDefined();
      const board = new IncidentBoard({
        facts: { site: 's', devices: new Map(devices.map((d) => [d.id, d])) },
        playbooks,
        alertRoles: ['duty_manager', 'engineering_manager'],
      });
      const id = `${kind}:${device.id}:${T0}`;
      board.alarm('firing', { id, kind, deviceId: device.id, severity: 'critical' }, T0);
      const holding = board.list().filter((i) => i.alarms.some((a) => a.alarmId === id));
      expect(holding.map((i) => i.playbook)).toEqual([playbooks.forKind(kind)!.id]);
      expect(holding[0]!.timeline.some((e) => e.type === 'alerted')).toBe(true);
      const pb = playbooks.byId.get(holding[0]!.playbook)!;
      for (const s of pb.steps) expect(s.title.zh && s.title.en, `${pb.id}.${s.id} in both languages`).toBeTruthy();
    });
  }
});
