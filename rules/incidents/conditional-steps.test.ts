import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPlaybooks } from '../../gateway/incidents/playbooks.js';
import type { DeviceFacts } from '../site-facts.js';
import { IncidentBoard } from './board.js';
import { IncidentError } from './incident.js';
import { buildReport } from './report.js';

// The seed rules that decide whether a step applies (S000 篇八 四.2(4)(5) heating; S001 篇3
// power cut 1 and 6), and the structured records the plans demand (S001 篇3 lift 5–7, 9).

const playbooks = loadPlaybooks();
const T0 = Date.parse('2026-12-01T10:00:00+08:00');
const min = (m: number) => T0 + m * 60_000;
const devices = new Map<string, DeviceFacts>([
  ['boiler-1', { id: 'boiler-1', kind: 'boiler', building: 't1', vacant: false, intervalS: 10 }],
]);

function board(tradingHours?: { from: string; to: string }) {
  return new IncidentBoard({
    facts: {
      site: 's',
      timezone: 'Asia/Shanghai',
      devices,
      buildings: new Map([
        ['t1', tradingHours ? { tradingHours } : {}],
        ['t2', {}],
      ]),
    },
    playbooks,
    alertRoles: [],
  });
}

function heating(repairHours: number, households: number, needsShutdown: boolean) {
  const b = board();
  const id = b.raise({ by: 'duty', playbook: 'heating_outage', building: 't1' }, T0)[0]!.incidentId;
  b.command(
    id,
    { type: 'complete_step', step: 'assess', by: 'duty', fields: { needs_shutdown: needsShutdown } },
    min(5),
  );
  const before = structuredClone(b.get(id).incident.steps);
  const records = b.command(
    id,
    { type: 'complete_step', step: 'estimate', by: 'duty', fields: { repair_hours: repairHours, households } },
    min(25),
  );
  return { b, id, before, records, steps: b.get(id).incident.steps };
}

describe('heating rules as rules (S000 篇八 四.2(4)(5))', () => {
  it('a short repair for few households: no plan and no resident notice, each skipped with the reason and the values on the timeline', () => {
    const { b, id, steps } = heating(3, 20, false);
    expect(steps.start_plan).toMatchObject({
      status: 'skipped',
      skipped: {
        en: 'Repair of 8 h or less and 50 households or fewer: no emergency plan (Expected repair hours: 3; Households affected: 20)',
      },
    });
    expect(steps.notify_residents!.status).toBe('skipped');
    expect(steps.report_head_office).toMatchObject({
      status: 'skipped',
      skipped: { zh: '无需停炉，不需 20 分钟内上报总部（需停炉：否）' },
    });
    // Nothing skipped escalates; the case closes once the rest is done.
    expect(
      b
        .tick(min(300), () => undefined, undefined)
        .filter((r) => r.event.type === 'escalated')
        .map((r) => (r.event as { step: string }).step),
    ).toEqual([]);
    b.command(
      id,
      { type: 'complete_step', step: 'restore', by: 'duty', fields: { restored_at: '2026-12-01T13:00:00+08:00' } },
      min(180),
    );
    b.command(id, { type: 'close', by: 'duty' }, min(181));
    const report = buildReport(b.get(id).incident, b.get(id).playbook, min(181));
    expect(report.missing).toEqual([]);
    expect(report.steps.find((s) => s.step === 'notify_residents')).toMatchObject({
      skipped: { en: expect.stringContaining('no 2-hour notice') },
    });
    expect(report.timeline.map((e) => e.text.en)).toContain(
      'does not apply, skipped: Notify residents within 2 h — Repair of 8 h or less and 50 households or fewer: no 2-hour notice to residents (Expected repair hours: 3; Households affected: 20)',
    );
  });

  it('over 8 hours or over 50 households (either): the plan starts and the 2-hour notice is required; a shutdown makes the 20-minute report required', () => {
    for (const [hours, households] of [
      [9, 10],
      [2, 51],
      [24, 400],
    ] as const) {
      const { steps, id, b } = heating(hours, households, true);
      expect([steps.start_plan!.status, steps.notify_residents!.status, steps.report_head_office!.status]).toEqual([
        'pending',
        'pending',
        'pending',
      ]);
      expect(() => b.command(id, { type: 'close', by: 'duty' }, min(30))).toThrow(
        /report_head_office.*start_plan.*notify_residents/,
      );
    }
    // Exactly 8 h and 50 households is not "more than".
    expect(heating(8, 50, true).steps.notify_residents!.status).toBe('skipped');
  });

  it('for any estimate, the notice is skipped exactly when hours ≤ 8 and households ≤ 50; until the estimate is recorded it stays due', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 48 }),
        fc.integer({ min: 0, max: 500 }),
        fc.boolean(),
        (hours, households, shutdown) => {
          const { before, steps } = heating(hours, households, shutdown);
          expect(before.notify_residents!.status).toBe('pending');
          expect(steps.notify_residents!.status === 'skipped').toBe(hours <= 8 && households <= 50);
          expect(steps.start_plan!.status === 'skipped').toBe(hours <= 8 && households <= 50);
          expect(steps.report_head_office!.status === 'skipped').toBe(!shutdown);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an undecided notice escalates like any due step (nothing is ruled out on missing evidence)', () => {
    const b = board();
    const id = b.raise({ by: 'duty', playbook: 'heating_outage', building: 't1' }, T0)[0]!.incidentId;
    const steps = b
      .tick(min(121), () => undefined, undefined)
      .flatMap((r) => (r.event.type === 'escalated' ? [r.event.step] : []));
    expect(steps).toEqual(expect.arrayContaining(['report_head_office', 'notify_residents']));
    expect(id).toBe('inc-1');
  });
});

describe('power cut: planned-outage notice and evening trading (S001 篇3 停电 1, 6)', () => {
  it('the advance notice applies only to a planned outage', () => {
    for (const planned of [true, false]) {
      const b = board();
      const id = b.raise({ by: 'duty', playbook: 'power_cut', building: 't1' }, T0)[0]!.incidentId;
      b.command(id, { type: 'complete_step', step: 'planned_or_not', by: 'duty', fields: { planned } }, min(1));
      expect(b.get(id).incident.steps.announce_planned_outage!.status).toBe(planned ? 'pending' : 'skipped');
    }
  });

  it('the evening-trading steps apply to a building with shops during its trading hours, from the moment the power went', () => {
    const at = (hhmm: string) => Date.parse(`2026-12-01T${hhmm}:00+08:00`);
    const cases: [string, { from: string; to: string } | undefined, string, boolean][] = [
      ['t1', { from: '17:00', to: '22:00' }, '19:30', true],
      ['t1', { from: '17:00', to: '22:00' }, '16:59', false],
      ['t1', { from: '17:00', to: '22:00' }, '22:00', false],
      ['t1', { from: '18:00', to: '02:00' }, '01:00', true],
      ['t1', undefined, '19:30', false],
      ['t2', { from: '17:00', to: '22:00' }, '19:30', false],
    ];
    for (const [building, hours, time, applies] of cases) {
      const b = board(hours);
      const id = b.raise({ by: 'duty', playbook: 'power_cut', building }, at(time))[0]!.incidentId;
      const st = b.get(id).incident.steps.evening_trading!;
      expect(st.status, `${building} ${JSON.stringify(hours)} ${time}`).toBe(applies ? 'pending' : 'skipped');
      if (!applies)
        expect(st.skipped!.en).toBe(
          "Not in a commercial building's trading hours when the power went (in trading hours: no)",
        );
    }
  });
});

describe('records the lift plan demands (S001 篇3 电梯困人 5–7, 9)', () => {
  const lift = () => {
    const b = board();
    const id = b.raise({ by: 'duty', playbook: 'trapped_lift', building: 't1' }, T0)[0]!.incidentId;
    return { b, id };
  };
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof IncidentError ? `${e.code}: ${e.message}` : String(e);
    }
    return 'accepted';
  };

  it('police or fire need who approved and when; an ambulance does not; each vehicle on its own', () => {
    const { b, id } = lift();
    const rescue = (services: unknown) => () =>
      b.command(
        id,
        {
          type: 'complete_step',
          step: 'rescue',
          by: 'duty',
          fields: { rescue_completed_at: '2026-12-01T10:25:00+08:00', emergency_services: services as never },
        },
        min(25),
      );
    expect(err(rescue([{ service: 'fire', called_at: '2026-12-01T10:15:00+08:00', vehicle: '粤A-119' }]))).toBe(
      'missing_field: rescue.emergency_services[0] needs: reason (Why they were called / 求助原因及情况), approved_by (Approved by (general manager or duty leader) / 批准人（总经理或值班领导）), approved_at (Approved at / 批准时间)',
    );
    expect(err(rescue([{ service: 'navy', called_at: '2026-12-01T10:15:00+08:00' }]))).toBe(
      'bad_field: rescue.emergency_services[0].service must be one of police, fire, ambulance',
    );
    expect(err(rescue([{ service: 'ambulance', called_at: 'soon' }]))).toBe(
      'bad_field: rescue.emergency_services[0].called_at must be a time (ISO 8601)',
    );
    expect(err(rescue([{ service: 'ambulance', called_at: '2026-12-01T10:15:00+08:00', colour: 'red' }]))).toMatch(
      /^bad_field: rescue.emergency_services\[0\] has no field "colour"/,
    );
    expect(err(rescue('110 came'))).toBe(
      'bad_field: rescue.emergency_services must be a list (one item per person or vehicle)',
    );
    expect(
      err(rescue(Array.from({ length: 51 }, () => ({ service: 'ambulance', called_at: '2026-12-01T10:15:00+08:00' })))),
    ).toBe('bad_field: rescue.emergency_services takes at most 50 items');
    expect(b.get(id).incident.steps.rescue!.status).toBe('pending');
    expect(
      err(
        rescue([
          {
            service: 'fire',
            reason: '维保 30 分钟未到 maintenance not here in 30 min',
            approved_by: '王总 GM Wang',
            approved_at: '2026-12-01T10:14:00+08:00',
            called_at: '2026-12-01T10:15:00+08:00',
            arrived_at: '2026-12-01T10:22:00+08:00',
            left_at: '2026-12-01T10:40:00+08:00',
            vehicle: '粤A-119',
          },
          { service: 'ambulance', called_at: '2026-12-01T10:16:00+08:00', vehicle: '粤A-120' },
        ]),
      ),
    ).toBe('accepted');
    const report = buildReport(b.get(id).incident, b.get(id).playbook, min(30));
    expect(
      report.steps.find((s) => s.step === 'rescue')!.fields.find((f) => f.name === 'emergency_services')!.text!.en,
    ).toBe(
      '1. Service: Fire service (119), Why they were called: 维保 30 分钟未到 maintenance not here in 30 min, Approved by (general manager or duty leader): 王总 GM Wang, Approved at: 2026-12-01T10:14:00+08:00, Called at: 2026-12-01T10:15:00+08:00, Arrived at: 2026-12-01T10:22:00+08:00, Left at: 2026-12-01T10:40:00+08:00, Vehicle number: 粤A-119; 2. Service: Ambulance (120), Called at: 2026-12-01T10:16:00+08:00, Vehicle number: 粤A-120',
    );
  });

  it('each passenger: name, phone, address and reason for the visit, or "left, would not give details"; the report flags the list while empty', () => {
    const { b, id } = lift();
    const rec = (passengers: unknown) => () =>
      b.command(
        id,
        { type: 'complete_step', step: 'record_passengers', by: 'desk', fields: { passengers: passengers as never } },
        min(40),
      );
    expect(buildReport(b.get(id).incident, b.get(id).playbook, min(39)).missing).toContain(
      'record_passengers.passengers',
    );
    expect(err(rec([]))).toBe(
      'missing_field: step "record_passengers" needs: passengers (Passengers (one entry each) / 被困人员（每人一条）)',
    );
    expect(err(rec([{ name: '张三', phone: '138…' }]))).toBe(
      'missing_field: rescue.passengers[0] needs: address (Address / 地址), visit_reason (Reason for the visit / 到本小区事由)'.replace(
        'rescue',
        'record_passengers',
      ),
    );
    expect(
      err(rec([{ name: '张三', phone: '138…', address: '3-1201', visit_reason: '探亲' }, { declined: true }])),
    ).toBe('accepted');
    expect(buildReport(b.get(id).incident, b.get(id).playbook, min(41)).missing).not.toContain(
      'record_passengers.passengers',
    );
  });
});
