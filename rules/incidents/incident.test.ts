import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  decide,
  due,
  fold,
  IncidentError,
  type IncidentCommand,
  type IncidentEvent,
  type RecordValue,
} from './incident.js';
import { playbookSchema, type Playbook, type RecordField } from './playbook.js';

const dir = fileURLToPath(new URL('../playbooks/', import.meta.url));
const PLAYBOOKS = new Map<string, Playbook>(
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => {
      const p = playbookSchema.parse(parse(readFileSync(dir + f, 'utf8')));
      return [p.id, p];
    }),
);
const T0 = Date.parse('2026-11-22T10:00:00Z');
const min = (m: number) => T0 + m * 60_000;

/** Runs commands against an incident, keeping its events, as the runtime would. */
function incident(playbookId: string) {
  const playbook = PLAYBOOKS.get(playbookId)!;
  const events: IncidentEvent[] = [
    {
      type: 'raised',
      incidentId: 'inc-1',
      playbook: playbookId,
      title: playbook.title,
      severity: 'critical',
      building: 't1',
      deviceId: 'lift-a',
      alarmId: 'lift_entrapment:lift-a:1',
      at: T0,
    },
  ];
  const state = () => fold(events, playbook);
  return {
    playbook,
    events,
    state,
    act(cmd: IncidentCommand, at: number) {
      const out = decide(state(), playbook, cmd, at);
      events.push(...out);
      return out;
    },
    tick(at: number) {
      const out = due(state(), playbook, at);
      events.push(...out);
      return out;
    },
  };
}

describe('playbooks', () => {
  it('ship the plans of DOMAIN.md §3 and those of the other critical alarms, bilingual, each opened by the alarms it answers', () => {
    expect([...PLAYBOOKS.keys()].sort()).toEqual([
      'gateway_fault',
      'heating_outage',
      'lift_fault',
      'power_cut',
      'pump_failure',
      'trapped_lift',
      'vacant_unit_flow',
      'vacant_unit_power',
      'water_leak',
    ]);
    expect(PLAYBOOKS.get('trapped_lift')!.opened_by).toEqual(['lift_entrapment']);
    expect(PLAYBOOKS.get('power_cut')!.opened_by).toContain('power_cut_external');
    for (const p of PLAYBOOKS.values())
      for (const s of p.steps) expect(s.title.zh && s.title.en, `${p.id}.${s.id}`).toBeTruthy();
    for (const p of PLAYBOOKS.values())
      for (const t of p.tasks) expect(t.title.zh && t.title.en, `${p.id} task ${t.id}`).toBeTruthy();
  });

  it('records every time the trapped-lift plan says must be recorded', () => {
    const fields = PLAYBOOKS.get('trapped_lift')!.steps.flatMap((s) => s.record.map((r) => r.name));
    for (const f of [
      'reported_at',
      'car_floor',
      'passengers',
      'security_on_site_at',
      'engineering_on_site_at',
      'maintenance_notified_at',
      'maintenance_arrived_at',
      'rescue_completed_at',
      'emergency_services',
      'injuries',
      'lift_restored_at',
      'fault_cause',
    ])
      expect(fields).toContain(f);
  });

  it('refuses duplicate steps and fields, with their paths', () => {
    const bad = playbookSchema.safeParse({
      id: 'x',
      title: { zh: 'x', en: 'x' },
      steps: [
        {
          id: 'a',
          title: { zh: 'a', en: 'a' },
          role: 'security',
          record: [
            { name: 'f', type: 'text', label: { zh: 'f', en: 'f' } },
            { name: 'f', type: 'text', label: { zh: 'f', en: 'f' } },
          ],
        },
        { id: 'a', title: { zh: 'a', en: 'a' }, role: 'security' },
      ],
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'steps.0.record.1.name: duplicate field "f"',
      'steps.1.id: duplicate step "a"',
    ]);
  });
});

describe('incident (trapped lift) from alarm to closed report, in virtual time', () => {
  it('is worked through: the first to act owns it, steps record their fields, deadlines met', () => {
    const i = incident('trapped_lift');
    i.act({ type: 'acknowledge', by: 'duty' }, T0 + 20_000);
    i.act(
      {
        type: 'complete_step',
        step: 'confirm_location',
        by: 'duty',
        fields: { reported_at: '2026-11-22T10:00:00Z', car_floor: '7-8', passengers: 2 },
      },
      T0 + 25_000,
    );
    i.act(
      {
        type: 'complete_step',
        step: 'comfort_passengers',
        by: 'guard-li',
        fields: { security_on_site_at: '2026-11-22T10:02:00Z' },
      },
      min(2),
    );
    i.act(
      {
        type: 'complete_step',
        step: 'call_maintenance',
        by: 'duty',
        fields: { maintenance_notified_at: '2026-11-22T10:01:00Z' },
      },
      min(2.5),
    );
    expect(i.tick(min(10))).toEqual([]);
    i.act(
      {
        type: 'complete_step',
        step: 'maintenance_arrived',
        by: 'duty',
        fields: { maintenance_arrived_at: '2026-11-22T10:12:00Z' },
      },
      min(12),
    );
    i.act(
      { type: 'complete_step', step: 'rescue', by: 'duty', fields: { rescue_completed_at: '2026-11-22T10:20:00Z' } },
      min(20),
    );
    i.act(
      {
        type: 'complete_step',
        step: 'record_passengers',
        by: 'cs-wang',
        fields: {
          passengers: [
            { name: '张先生', phone: '138…', address: '3-1201', visit_reason: '探亲 visiting family' },
            { declined: true },
          ],
        },
      },
      min(25),
    );
    i.act(
      {
        type: 'complete_step',
        step: 'restore_lift',
        by: 'duty',
        fields: { lift_restored_at: '2026-11-22T11:00:00Z', fault_cause: '门锁回路故障 door lock circuit' },
      },
      min(60),
    );
    i.act({ type: 'close', by: 'duty' }, min(61));
    const s = i.state();
    expect(s).toMatchObject({ status: 'closed', owner: 'duty', acknowledgedAt: T0 + 20_000, closedAt: min(61) });
    expect(Object.values(s.steps).every((x) => x.status === 'done' && x.escalated === 0)).toBe(true);
    expect(s.steps.confirm_location!.fields).toEqual({
      reported_at: '2026-11-22T10:00:00Z',
      car_floor: '7-8',
      passengers: 2,
    });
    expect(i.events.map((e) => e.type)).toEqual(['raised', 'acknowledged', ...Array(7).fill('step_done'), 'closed']);
  });

  it('escalates a missed deadline to the duty manager, then head office at twice the deadline, once each', () => {
    const i = incident('trapped_lift');
    i.act(
      {
        type: 'complete_step',
        step: 'confirm_location',
        by: 'duty',
        fields: { reported_at: '2026-11-22T10:00:00Z', car_floor: '7', passengers: 1 },
      },
      T0 + 20_000,
    );
    expect(i.tick(min(2.999))).toEqual([]);
    expect(i.tick(min(3)).map((e) => e.type === 'escalated' && `${e.step}→${e.to}`)).toEqual([
      'comfort_passengers→duty_manager',
      'call_maintenance→duty_manager',
    ]);
    expect(i.tick(min(4))).toEqual([]);
    expect(i.tick(min(6)).map((e) => e.type === 'escalated' && `${e.step}→${e.to}`)).toEqual([
      'comfort_passengers→head_office',
      'call_maintenance→head_office',
    ]);
    expect(i.tick(min(100)).map((e) => e.type === 'escalated' && `${e.step}→${e.to}`)).toEqual([
      'maintenance_arrived→duty_manager',
      'maintenance_arrived→head_office',
      'rescue→duty_manager',
      'rescue→head_office',
    ]);
    expect(i.tick(min(200))).toEqual([]);
  });

  it('refuses bad input with a clear reason and records nothing', () => {
    const i = incident('trapped_lift');
    const refused = (cmd: IncidentCommand) => {
      const before = i.events.length;
      try {
        i.act(cmd, min(1));
      } catch (err) {
        expect(i.events.length).toBe(before);
        return err as IncidentError;
      }
      throw new Error('expected a refusal');
    };
    expect(refused({ type: 'complete_step', step: 'teleport', by: 'duty' }).message).toMatch(
      /^no step "teleport" in playbook trapped_lift \(steps: confirm_location, /,
    );
    expect(
      refused({ type: 'complete_step', step: 'confirm_location', by: 'duty', fields: { car_floor: '7' } }),
    ).toMatchObject({
      code: 'missing_field',
      message:
        'step "confirm_location" needs: reported_at (Reported or discovered at / 报告/发现时间), passengers (Passengers / 被困人数)',
    });
    expect(
      refused({ type: 'complete_step', step: 'confirm_location', by: 'duty', fields: { passengers: 'two' } }).message,
    ).toBe('confirm_location.passengers must be a number');
    expect(
      refused({ type: 'complete_step', step: 'confirm_location', by: 'duty', fields: { reported_at: 'yesterday-ish' } })
        .message,
    ).toBe('confirm_location.reported_at must be a time (ISO 8601)');
    expect(
      refused({ type: 'complete_step', step: 'confirm_location', by: 'duty', fields: { colour: 'red' } }).code,
    ).toBe('bad_field');
    expect(refused({ type: 'close', by: 'duty' }).message).toMatch(
      /^steps not done yet: confirm_location, comfort_passengers/,
    );
    expect(refused({ type: 'complete_task', task: 'nope', by: 'duty' }).code).toBe('unknown_task');
  });

  it('nothing more is recorded on a closed incident', () => {
    const i = incident('vacant_unit_flow');
    i.act(
      { type: 'complete_step', step: 'close_valve', by: 'duty', fields: { valve_closed_at: '2026-11-22T10:05:00Z' } },
      min(5),
    );
    i.act({ type: 'complete_step', step: 'tell_front_desk', by: 'duty' }, min(6));
    i.act(
      { type: 'complete_step', step: 'call_owner', by: 'cs', fields: { owner_contacted: false, notice_left: true } },
      min(30),
    );
    i.act({ type: 'close', by: 'duty' }, min(31));
    expect(() => i.act({ type: 'note', by: 'duty', text: 'late' }, min(40))).toThrow(/incident inc-1 is closed/);
  });

  it('refuses a command under a name sensors and the gateway record under (I7)', () => {
    const i = incident('trapped_lift');
    for (const by of ['sensor', 'system'])
      expect(() =>
        i.act(
          { type: 'complete_step', step: 'record_passengers', by, fields: { passengers: [{ declined: true }] } },
          min(1),
        ),
      ).toThrow(/is not a person/);
    expect(i.events).toHaveLength(1);
  });

  it('a step the sensors closed stays closed by them when a person adds its records (I7)', () => {
    const i = incident('power_cut');
    i.events.push({
      type: 'step_done',
      step: 'planned_or_not',
      by: 'sensor',
      fields: {},
      evidence: { zh: '传感器', en: 'sensors' },
      at: min(1),
    });
    i.act({ type: 'complete_step', step: 'planned_or_not', by: 'duty', fields: { planned: false } }, min(2));
    expect(i.state().steps.planned_or_not).toMatchObject({
      status: 'done',
      by: 'sensor',
      doneAt: min(1),
      recordedBy: 'duty',
      fields: { planned: false },
    });
  });

  it('hands over: the new owner holds the case', () => {
    const i = incident('trapped_lift');
    i.act({ type: 'acknowledge', by: 'night-duty' }, min(1));
    i.act({ type: 'acknowledge', by: 'someone-else' }, min(2));
    expect(i.state().owner).toBe('night-duty');
    i.act({ type: 'hand_over', by: 'night-duty', to: 'day-duty', note: '08:30 交接 handover' }, min(600));
    expect(i.state().owner).toBe('day-duty');
    expect(i.events.at(-1)).toMatchObject({ type: 'handed_over', from: 'night-duty', to: 'day-duty' });
  });
});

describe('the first receiver owns the case (S003 §3.5)', () => {
  it('only the owner closes or hands over; others add notes and records; a duty manager takes it over with a reason, recorded', () => {
    const i = incident('trapped_lift');
    i.act({ type: 'acknowledge', by: 'night-duty' }, min(1));
    i.act({ type: 'note', by: 'guard-2', text: '到场 on site' }, min(2));
    i.act(
      {
        type: 'complete_step',
        step: 'confirm_location',
        by: 'guard-2',
        fields: { reported_at: '2026-11-22T10:00:00+08:00', car_floor: '7', passengers: 1, passenger_condition: 'ok' },
      },
      min(3),
    );
    expect(() => i.act({ type: 'hand_over', by: 'guard-2', to: 'guard-2' }, min(4))).toThrow(
      /night-duty owns incident .*: only the owner, a duty manager or an admin may hand over it/,
    );
    expect(() => i.act({ type: 'close', by: 'guard-2' }, min(4))).toThrow(
      /only the owner, a duty manager or an admin may close it/,
    );
    expect(() => i.act({ type: 'hand_over', by: 'manager', to: 'day-duty', manager: true }, min(5))).toThrow(/say why/);
    expect(i.state().owner).toBe('night-duty');
    i.act(
      { type: 'hand_over', by: 'manager', to: 'day-duty', note: '夜班人员送医 night duty taken ill', manager: true },
      min(6),
    );
    expect(i.state().owner).toBe('day-duty');
    expect(i.events.at(-1)).toMatchObject({
      type: 'handed_over',
      from: 'night-duty',
      to: 'day-duty',
      by: 'manager',
      note: '夜班人员送医 night duty taken ill',
    });
    // The owner hands over without a reason; a manager acting on their own case is just the owner.
    i.act({ type: 'hand_over', by: 'day-duty', to: 'manager' }, min(7));
    expect(i.events.at(-1)).not.toHaveProperty('by');
  });
});

describe('every playbook, from raised to closed report, in virtual time', () => {
  const sample = (f: RecordField): RecordValue =>
    f.type === 'group'
      ? [Object.fromEntries((f.fields ?? []).map((g) => [g.name, sample(g) as string]))]
      : f.type === 'choice'
        ? f.options![0]!.value
        : f.type === 'number'
          ? 3
          : f.type === 'bool'
            ? true
            : f.type === 'time'
              ? '2026-11-22T10:05:00+08:00'
              : '记录 recorded';

  for (const id of PLAYBOOKS.keys()) {
    it(`${id}: every step done on time closes with no escalation; done late, each late step escalated once per level`, () => {
      const onTime = incident(id);
      for (const step of onTime.playbook.steps) {
        const at = T0 + Math.min(step.deadline_min ?? 1, 1) * 30_000; // half a minute at most: inside every deadline
        onTime.act(
          {
            type: 'complete_step',
            step: step.id,
            by: 'duty',
            fields: Object.fromEntries(step.record.filter((f) => f.required).map((f) => [f.name, sample(f)])),
          },
          at,
        );
        expect(onTime.tick(at)).toEqual([]);
      }
      onTime.act({ type: 'close', by: 'duty' }, min(2));
      expect(onTime.state().status).toBe('closed');
      expect(onTime.events.some((e) => e.type === 'escalated')).toBe(false);

      const late = incident(id);
      const longest = Math.max(...late.playbook.steps.map((s) => s.deadline_min ?? 0));
      const escalations = late.tick(T0 + longest * 2 * 60_000);
      const withDeadline = late.playbook.steps.filter((s) => s.deadline_min !== undefined);
      expect(escalations).toHaveLength(withDeadline.length * 2);
      expect(late.tick(T0 + longest * 4 * 60_000)).toEqual([]);
      for (const step of late.playbook.steps)
        late.act(
          {
            type: 'complete_step',
            step: step.id,
            by: 'duty',
            fields: Object.fromEntries(step.record.filter((f) => f.required).map((f) => [f.name, sample(f)])),
          },
          T0 + longest * 4 * 60_000,
        );
      late.act({ type: 'close', by: 'duty' }, T0 + longest * 5 * 60_000);
      expect(Object.values(late.state().steps).filter((s) => s.escalated === 2)).toHaveLength(withDeadline.length);
    });
  }
});
