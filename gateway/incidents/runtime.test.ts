import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alarm, AlarmEventType } from '../../rules/alarms/lifecycle.js';
import type { AlarmKind } from '../../rules/alarms/kinds.js';
import type { FieldValue } from '../../rules/model/reading.js';
import type { Live } from '../../rules/site-facts.js';
import type { AlarmListener } from '../alarms/runtime.js';
import { parseConfig } from '../config/load.js';
import { EventLog } from '../files/event-log.js';
import { createNotifier } from './notify.js';
import { placeOf } from './place.js';
import { loadPlaybooks } from './playbooks.js';
import { IncidentRuntime, type IncidentRecord } from './runtime.js';
import { ManualClock } from '../ports/manual-clock.js';
import { waitFor } from '../../test/support/wait.js';

const config = parseConfig(
  `
site: { id: s1, name: S }
buildings:
  - id: t1
    name: T1
    floors: { lowest: -1, highest: 18 }
    rooms: [{ id: sw, floor: B1, type: switch_room }, { id: pr, floor: B1, type: pump_room }, { id: shaft, floor: B1, type: lift_shaft }]
devices:
  - { id: inc, kind: electricity_meter, circuit: incomer, protocol: mqtt, place: { building: t1, room: sw } }
  - { id: lift-circ, kind: electricity_meter, circuit: sub_circuit, feeder: inc, protocol: mqtt, place: { building: t1, room: sw } }
  - { id: lift-a, kind: lift, feeder: lift-circ, protocol: mqtt, place: { building: t1, floor: "1" } }
  - { id: lift-b, kind: lift, feeder: lift-circ, protocol: mqtt, place: { building: t1, floor: "1" } }
  - { id: booster, kind: pump, role: secondary_water, feeder: inc, protocol: mqtt, place: { building: t1, room: pr } }
  - { id: leak-shaft, kind: leak_sensor, protocol: mqtt, place: { building: t1, room: shaft } }
`,
  't.yaml',
  { env: {} },
);
const playbooks = loadPlaybooks();
const T0 = Date.parse('2026-11-22T10:00:00Z');
const quiet = pino({ level: 'silent' });

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function alarm(kind: AlarmKind, deviceId: string, drill?: string): Alarm {
  return {
    id: `${kind}:${deviceId}:${T0}`,
    kind,
    deviceId,
    severity: 'critical',
    status: 'firing',
    since: T0,
    raisedAt: T0,
    evidence: { text: { zh: 'x', en: 'x' }, readings: [] },
    reopened: 0,
    ...(drill ? { drill } : {}),
  };
}

async function harness(
  opts: { dir?: string; notify?: Omit<Parameters<typeof createNotifier>[0], 'now'>; drill?: string } = {},
) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'incidents-'));
  const clock = new ManualClock(T0);
  let listener: AlarmListener | undefined;
  const table = new Map<string, Live>();
  /** A device's readings now (stamped with the clock), as the rule engine's live table holds them. */
  const live = {
    set(id: string, fields: Record<string, FieldValue>) {
      const l = table.get(id) ?? { fields: new Map(), heardAt: clock.now() };
      for (const [k, v] of Object.entries(fields)) l.fields.set(k, { value: v, ts: clock.now() });
      l.heardAt = clock.now();
      table.set(id, l);
    },
  };
  const rt = new IncidentRuntime({
    config,
    clock,
    log: new EventLog<IncidentRecord>(join(dir, 'incidents.jsonl')),
    playbooks,
    alarms: { subscribe: (l) => ((listener = l), () => (listener = undefined)) },
    live: (id) => table.get(id),
    activeDrill: () => opts.drill,
    ...(opts.notify
      ? { notify: createNotifier({ ...opts.notify, now: () => clock.now(), timers: clock, placeOf: placeOf(config) }) }
      : {}),
    logger: quiet,
    // The tests tick by hand, at the instants they choose.
    timers: clock,
    tickMs: 3_600_000,
  });
  await rt.start();
  cleanups.push(() => rt.stop());
  let seq = 0;
  const fire = async (type: AlarmEventType, a: Alarm) => {
    listener!({ seq: ++seq, at: clock.now(), type, alarm: a });
    await new Promise((r) => setImmediate(r));
    await rt.settled();
  };
  return { rt, clock, live, fire, dir };
}

describe('incident runtime', () => {
  it("a power cut opens one incident with a trapped-passenger check per lift on the lost supply, closed by the lifts' live state", async () => {
    const h = await harness();
    await h.fire('firing', alarm('power_cut_external', 'inc'));
    const [cut] = h.rt.list();
    expect(cut).toMatchObject({ playbook: 'power_cut', building: 't1', status: 'open' });
    expect(Object.keys(cut!.tasks)).toEqual(['check_lift:lift-a', 'check_lift:lift-b']);
    // Lift A level, open and in service for 30 s on fresh readings; lift B stuck between floors.
    const safe = { occupied: false, in_door_zone: true, door: 'open', mode: 'normal', fault_code: 0, floor: 3 };
    for (let s = 0; s <= 30; s += 5) {
      h.live.set('lift-a', safe);
      h.live.set('lift-b', {
        occupied: true,
        in_door_zone: false,
        door: 'closed',
        mode: 'normal',
        fault_code: 30,
        floor: 7,
      });
      await h.rt.tick();
      h.clock.advance(5000);
    }
    const after = h.rt.get(cut!.id).incident;
    expect(after.tasks['check_lift:lift-a']).toMatchObject({
      done: true,
      by: 'sensor',
      evidence: { en: expect.stringContaining('no fault code') },
    });
    expect(after.tasks['check_lift:lift-b']!.done).toBe(false);

    // Lift B's trapped-passenger alarm joins the cut and has an incident of its own.
    await h.fire('firing', alarm('lift_entrapment', 'lift-b'));
    expect(h.rt.get(cut!.id).incident.alarms.map((a) => a.alarmId)).toEqual([
      'power_cut_external:inc:' + T0,
      'lift_entrapment:lift-b:' + T0,
    ]);
    expect(
      h.rt
        .list()
        .map((i) => i.playbook)
        .sort(),
    ).toEqual(['power_cut', 'trapped_lift']);

    // Power back: post-restoration checks appear; the pump running and the voltage close theirs.
    h.clock.advance(20 * 60_000);
    await h.fire('cleared', { ...alarm('power_cut_external', 'inc'), status: 'cleared' });
    const restored = h.rt.get(cut!.id).incident;
    expect(Object.keys(restored.tasks).filter((t) => t.startsWith('post_check'))).toEqual([
      'post_check_pump:booster',
      'post_check_lift:lift-a',
      'post_check_lift:lift-b',
      'post_check_access_control',
      'post_check_cctv',
      'post_check_fire_alarm',
    ]);
    const holdFor30s = async (set: () => void) => {
      for (let s = 0; s <= 30; s += 5) {
        set();
        await h.rt.tick();
        h.clock.advance(5000);
      }
    };
    await holdFor30s(() => {
      h.live.set('booster', { running: true, fault: false });
      h.live.set('inc', { voltage_l1_v: 221, voltage_l2_v: 222, voltage_l3_v: 220 });
    });
    expect(h.rt.get(cut!.id).incident.tasks['post_check_pump:booster']!.done).toBe(true);
    // The voltage closes "power restored" only once the steps before it are done.
    expect(h.rt.get(cut!.id).incident.steps.power_restored!.status).toBe('pending');
    for (const [step, fields] of [
      ['planned_or_not', { planned: false }],
      ['internal_or_external', { cause_side: 'external' }],
      ['isolate_or_call_grid', {}],
      ['check_lifts', {}],
      ['notify_residents', { residents_notified_at: '2026-11-22T10:10:00Z' }],
      ['staff_entrances', {}],
    ] as const) {
      await h.rt.command(cut!.id, { type: 'complete_step', step, by: 'duty', fields });
    }
    const heldFrom = h.clock.now();
    await holdFor30s(() => h.live.set('inc', { voltage_l1_v: 221, voltage_l2_v: 222, voltage_l3_v: 220 }));
    const later = h.rt.get(cut!.id).incident;
    // Closed by the sensors, with the time the voltage was back: the sensors fill it in.
    expect(later.steps.power_restored).toMatchObject({
      status: 'done',
      by: 'sensor',
      evidence: { en: 'Every phase back above 187 V (held 30 s)' },
      fields: { power_restored_at: new Date(heldFrom).toISOString() },
    });
    // A person's correction is recorded as theirs; the step stays closed by the sensors.
    await h.rt.command(cut!.id, {
      type: 'complete_step',
      step: 'power_restored',
      by: 'duty',
      fields: { power_restored_at: '2026-11-22T10:20:00Z' },
    });
    expect(h.rt.get(cut!.id).incident.steps.power_restored).toMatchObject({
      by: 'sensor',
      recordedBy: 'duty',
      fields: { power_restored_at: '2026-11-22T10:20:00Z' },
    });
  });

  it("a drill's alarms open the drill's own incidents, never joining a real one; they close when the drill ends", async () => {
    const h = await harness({ drill: 'drill-1' });
    await h.fire('firing', alarm('circuit_fault_internal', 'lift-circ'));
    await h.fire('firing', { ...alarm('power_cut_external', 'inc', 'drill-1'), id: 'drill-cut' });
    const cuts = h.rt.list().filter((i) => i.playbook === 'power_cut');
    expect(cuts.map((i) => i.drill ?? 'real').sort()).toEqual(['drill-1', 'real']);
    expect(cuts.find((i) => !i.drill)!.alarms.map((a) => a.alarmId)).toEqual([
      `circuit_fault_internal:lift-circ:${T0}`,
    ]);
    const ended = await harness({ dir: h.dir });
    await ended.rt.tick();
    expect(ended.rt.list().map((i) => [i.drill ?? 'real', i.status, i.closedReason ?? null])).toEqual(
      expect.arrayContaining([
        ['drill-1', 'closed', 'drill_ended'],
        ['real', 'open', null],
      ]),
    );
  });

  it('a leak in a lift shaft adds "send the lifts up and cut their power"', async () => {
    const h = await harness();
    await h.fire('firing', alarm('water_leak', 'leak-shaft'));
    expect(Object.keys(h.rt.list()[0]!.tasks)).toEqual(['lifts_up_cut_power']);
    expect(h.rt.list()[0]!.tasks.lifts_up_cut_power!.title.en).toMatch(/^Send the lifts to the top floor/);
  });

  it('commands: refused ones record nothing; a restart brings back the same incidents, owners and timers', async () => {
    const h = await harness();
    await h.fire('firing', alarm('lift_entrapment', 'lift-a'));
    const [inc] = h.rt.list();
    await h.rt.command(inc!.id, {
      type: 'complete_step',
      step: 'confirm_location',
      by: 'duty',
      fields: { reported_at: '2026-11-22T10:00:10Z', car_floor: '7', passengers: 2 },
    });
    await expect(
      h.rt.command(inc!.id, { type: 'complete_step', step: 'call_maintenance', by: 'duty' }),
    ).rejects.toThrow(/needs: maintenance_notified_at/);
    h.clock.advance(4 * 60_000);
    await h.rt.tick();
    const before = h.rt.get(inc!.id).incident;
    expect(before.owner).toBe('duty');
    expect(before.steps.call_maintenance!.escalated).toBe(1);
    await h.rt.stop();
    cleanups.splice(0);

    const again = await harness({ dir: h.dir });
    again.clock.setTime(h.clock.now());
    const after = again.rt.get(inc!.id).incident;
    expect(after).toEqual(before);
    await again.rt.tick(); // the same moment: no escalation twice
    expect(again.rt.get(inc!.id).incident.timeline.length).toBe(before.timeline.length);
    const fresh = await again.rt.raise('duty', 'water_leak', 't1', '住户来电 resident called');
    expect(Number(fresh.id.slice(4))).toBeGreaterThan(Number(inc!.id.slice(4)));
  });

  it('a critical incident alerts the on_open roles at once, escalations name the late step, real webhooks in their formats; a drill is never sent (I6)', async () => {
    const got: { path: string; body: Record<string, unknown> }[] = [];
    let failFirst = true;
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/wecom' && failFirst) {
          failFirst = false;
          res.writeHead(500).end('busy');
          return;
        }
        got.push({ path: req.url!, body: JSON.parse(body) as Record<string, unknown> });
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(req.url === '/hook' ? '' : '{"errcode":0,"errmsg":"ok"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const h = await harness({
      drill: 'drill-1',
      notify: {
        channels: [
          { name: 'ops-hook', type: 'webhook', url: `${base}/hook`, roles: ['duty_manager'] },
          { name: 'wecom-eng', type: 'wecom', url: `${base}/wecom`, roles: ['engineering_manager'] },
          { name: 'ding-hq', type: 'dingtalk', url: `${base}/ding`, roles: ['head_office'] },
        ],
        backoffMs: 1,
      },
    });
    await h.fire('firing', alarm('lift_entrapment', 'lift-a'));
    await h.fire('firing', alarm('lift_entrapment', 'lift-b', 'drill-1'));
    // WeCom refused the first attempt: the retry waits its backoff, in the clock's time.
    await waitFor(() => h.clock.delays().includes(1), "the WeCom retry's backoff");
    h.clock.advance(1);
    await waitFor(
      () => h.rt.list().every((i) => i.timeline.some((e) => e.type === 'notification')) && got.length >= 2,
      'both incidents to record their notifications',
    );
    await h.rt.settled();
    // Told at once: the duty manager (webhook) and the engineering manager (WeCom), naming place, playbook and first step.
    expect(got.map((g) => g.path).sort()).toEqual(['/hook', '/wecom']);
    expect(got.find((g) => g.path === '/hook')!.body).toMatchObject({
      kind: 'incident_opened',
      device: 'lift-a',
      playbook: 'trapped_lift',
      drill: null,
      to: ['duty_manager', 'engineering_manager'],
      first_step: {
        id: 'confirm_location',
        title: { en: 'Confirm the location, car floor, number of people and their condition' },
      },
    });
    const wecom = (got.find((g) => g.path === '/wecom')!.body as { markdown: { content: string } }).markdown.content;
    expect(wecom).toContain('电梯困人 Trapped lift');
    expect(wecom).toContain('T1 / floor 1 / lift-a');
    expect(wecom).toContain('第一步 First step: 确认被困位置、轿厢楼层、人数及状况 / Confirm the location');
    const real = h.rt.list().find((i) => !i.drill)!;
    const attempts = (i: typeof real) =>
      i.timeline
        .filter((e) => e.type === 'notification')
        .map((e) => e.type === 'notification' && `${e.channel} #${e.attempt} ${e.outcome}`);
    expect(attempts(real).sort()).toEqual(['ops-hook #1 sent', 'wecom-eng #1 failed', 'wecom-eng #2 sent']);
    const drill = h.rt.list().find((i) => i.drill)!;
    expect(attempts(drill).sort()).toEqual(['ops-hook #0 drill_not_sent', 'wecom-eng #0 drill_not_sent']);

    got.length = 0;
    h.clock.advance(31_000); // confirm_location (30 s) is overdue on both
    await h.rt.tick();
    await waitFor(() => got.length >= 1, 'the escalation to the duty manager');
    await h.rt.settled();
    expect(got.map((g) => g.path)).toEqual(['/hook']);
    expect(got[0]!.body).toMatchObject({
      kind: 'escalation',
      step: 'confirm_location',
      step_title: { zh: '确认被困位置、轿厢楼层、人数及状况' },
      to: 'duty_manager',
      level: 1,
      drill: null,
    });
    expect(String(got[0]!.body.text)).toContain('超时步骤 Overdue step: 确认被困位置');

    h.clock.advance(60_000); // twice the deadline: head office, through DingTalk
    await h.rt.tick();
    await waitFor(() => got.some((g) => g.path === '/ding'), 'the escalation at DingTalk');
    expect(got.find((g) => g.path === '/ding')!.body).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: expect.stringContaining('升级 Escalation') },
    });
  });
});
