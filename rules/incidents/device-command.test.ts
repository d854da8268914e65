import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { commandAnswered, commandSent, DeviceCommandError, offeredCommands } from './device-command.js';
import { applyEvent, fold, type IncidentEvent } from './incident.js';
import { playbookSchema } from './playbook.js';
import { describeEvent } from './report.js';

const load = (file: string) =>
  playbookSchema.parse(parse(readFileSync(fileURLToPath(new URL(`../playbooks/${file}`, import.meta.url)), 'utf8')));
const vacant = load('vacant-unit-flow.yaml');
const leak = load('water-leak.yaml');
const T0 = Date.parse('2026-11-22T10:00:00Z');
const raised: IncidentEvent = {
  type: 'raised',
  incidentId: 'inc-7',
  playbook: 'vacant_unit_flow',
  title: vacant.title,
  severity: 'critical',
  building: 't2',
  deviceId: 'wm-0901',
  alarmId: 'a',
  at: T0,
};
const valve = (id: string) => (id === 'wm-0901' || id === 'wm-main' ? ['valve_open'] : []);

describe('device commands on an incident (pure)', () => {
  it('offers close_valve for each writable meter of the incident, on the close_valve step when the playbook has it', () => {
    const inc = fold(
      [raised, { type: 'alarm_attached', alarmId: 'b', kind: 'vacant_unit_flow', deviceId: 'wm-0902', at: T0 }],
      vacant,
    );
    expect(offeredCommands(inc, vacant, valve)).toEqual([
      {
        deviceId: 'wm-0901',
        command: 'close_valve',
        field: 'valve_open',
        value: false,
        step: 'close_valve',
        title: { zh: '关阀', en: 'close the valve' },
      },
    ]);
    // A flood with a burst on a main whose valve can be written: offered, with no step of its own.
    const flood = fold([{ ...raised, playbook: 'water_leak', title: leak.title, deviceId: 'wm-main' }], leak);
    expect(offeredCommands(flood, leak, valve)).toEqual([
      expect.objectContaining({ deviceId: 'wm-main', command: 'close_valve' }),
    ]);
    expect(offeredCommands(flood, leak, valve)[0]!.step).toBeUndefined();
  });

  it('the first to send a command owns the case; then the answer; neither closes the step', () => {
    const inc = fold([raised], vacant);
    const { sent, events } = commandSent(
      inc,
      vacant,
      { deviceId: 'wm-0901', command: 'close_valve', by: 'otto', writable: ['valve_open'] },
      T0 + 60_000,
    );
    expect(events).toEqual([{ type: 'acknowledged', by: 'otto', at: T0 + 60_000 }, sent]);
    for (const e of events) applyEvent(inc, e);
    const answer = commandAnswered(sent, { outcome: 'confirmed', readBack: false }, T0 + 61_000);
    applyEvent(inc, answer);
    expect(inc.owner).toBe('otto');
    expect(inc.steps.close_valve!.status).toBe('pending');
    expect(describeEvent(answer, vacant, inc)).toEqual({
      zh: 'wm-0901 回读确认：已关阀（valve_open = false）',
      en: 'wm-0901 read back: close the valve confirmed (valve_open = false)',
    });
    // Owned now: a second command by someone else takes nothing.
    expect(
      commandSent(
        inc,
        vacant,
        { deviceId: 'wm-0901', command: 'close_valve', by: 'max', writable: ['valve_open'] },
        T0 + 90_000,
      ).events.map((e) => e.type),
    ).toEqual(['device_command']);
  });

  it('refuses what cannot be sent, with the reason in both languages', () => {
    const inc = fold([raised], vacant);
    const refused = (ask: Partial<Parameters<typeof commandSent>[2]>, on = inc) => {
      try {
        commandSent(
          on,
          vacant,
          { deviceId: 'wm-0901', command: 'close_valve', by: 'otto', writable: ['valve_open'], ...ask },
          T0,
        );
      } catch (err) {
        expect(err).toBeInstanceOf(DeviceCommandError);
        return [(err as DeviceCommandError).code, (err as DeviceCommandError).zh];
      }
      throw new Error('not refused');
    };
    expect(refused({ deviceId: 'wm-0902' })).toEqual([
      'not_in_incident',
      'wm-0902 不属于事件 inc-7（该事件的设备：wm-0901）',
    ]);
    expect(refused({ writable: [] })).toEqual([
      'not_writable',
      'wm-0901 无法远程关阀：网关不能写入其 valve_open（可写：无）',
    ]);
    expect(refused({ command: 'toString' })[0]).toBe('unknown_command');
    expect(refused({ by: 'sensor' })[0]).toBe('not_a_person');
    expect(refused({}, fold([raised, { type: 'closed', by: 'otto', at: T0 }], vacant))[0]).toBe('closed');
  });
});
