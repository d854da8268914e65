import { z } from 'zod';
import { ALARM_KINDS, ALARM_KIND_NAMES, type AlarmKind } from '../../rules/alarms/kinds.js';
import { ALL_DETECTORS } from '../../rules/engine.js';
import { FIELDS, type DeviceKind } from '../../rules/model/fields.js';
import type { DeviceFacts } from '../../rules/site-facts.js';
import type { Fault, FaultType, SimDeviceInfo } from '../estate/types.js';

// A scenario is data: a timeline of faults injected into the simulated estate and what the
// duty room should then see (alarms, the playbook they open, values in the stored readings).
// The same file is a drill for people and an end-to-end test for the code, so a bad one must
// say exactly where it is wrong: the schema below is checked by gateway/data-file.ts, which
// names the file, path and line of every problem. Keys are snake_case like every other YAML
// file of the project; the faults come out as the estate contract's `Fault` (types.ts).

export type Text = { zh: string; en: string };
const text = z.strictObject({ zh: z.string().trim().min(1), en: z.string().trim().min(1) });

const OFFSET_HELP = 'must be seconds from the start (90) or "mm:ss" ("01:30", "1:02:00")';

/** Seconds from a scenario's start: a number of seconds, "mm:ss" or "h:mm:ss"; undefined if it is neither. */
export function parseOffset(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^(?:(\d+):)?(\d+):([0-5]\d)$/.exec(value.trim());
  if (!m) return undefined;
  const [, h, mm, ss] = m;
  // With hours, minutes are a clock field; without, "90:00" is ninety minutes.
  if (h !== undefined && Number(mm) > 59) return undefined;
  return Number(h ?? 0) * 3600 + Number(mm) * 60 + Number(ss);
}

/** "mm:ss" (or "h:mm:ss" from an hour on), as scenarios are written and drill logs shown. */
export function formatOffset(seconds: number): string {
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

const offset = z.union([z.number(), z.string()], { error: OFFSET_HELP }).transform((v, ctx) => {
  const s = parseOffset(v);
  if (s === undefined) {
    ctx.addIssue({ code: 'custom', message: OFFSET_HELP });
    return z.NEVER;
  }
  return s;
});

const deviceId = z.string().min(1).max(64);
const stepId = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'lower-case letters, digits, - and _ (starting with a letter)');

/**
 * Which device kinds each fault fits (as the contract in estate/types.ts says); `any` for every
 * kind. A Record over `FaultType`, so a fault type added to the contract fails to compile here
 * until scenarios know it.
 */
export const FAULT_FITS: Record<FaultType, readonly DeviceKind[] | 'any'> = {
  power_cut: ['electricity_meter'],
  phase_loss: ['electricity_meter'],
  breaker_trip: ['electricity_meter'],
  lift_stuck: ['lift'],
  pump_fail: ['pump'],
  leak: ['leak_sensor'],
  inflow: ['level_sensor'],
  flow: ['water_meter'],
  boiler_fault: ['boiler'],
  silent: 'any',
  hold: 'any',
};
export const FAULT_TYPES = Object.keys(FAULT_FITS) as [FaultType, ...FaultType[]];

const fieldValue = z.union([z.number(), z.boolean(), z.string()]);

const faultSchema = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('power_cut') }),
      z.strictObject({
        type: z.literal('phase_loss'),
        phases: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'a phase is 1, 2 or 3' })).min(1),
      }),
      z.strictObject({ type: z.literal('breaker_trip') }),
      z.strictObject({
        type: z.literal('lift_stuck'),
        level: z.boolean().optional(),
        passengers: z.number().int().min(0).max(30).optional(),
        alarm_button: z.boolean().optional(),
      }),
      z.strictObject({
        type: z.literal('pump_fail'),
        alarm_code: z.number().int().min(0).max(65535).optional(),
        after_power_return: z.boolean().optional(),
      }),
      z.strictObject({ type: z.literal('leak') }),
      z.strictObject({ type: z.literal('inflow'), pct_per_min: z.number().positive().max(100) }),
      z.strictObject({ type: z.literal('flow'), m3h: z.number().positive().max(10_000) }),
      z.strictObject({ type: z.literal('boiler_fault'), fault_code: z.number().int().min(0).max(65535).optional() }),
      z.strictObject({ type: z.literal('silent') }),
      z.strictObject({
        type: z.literal('hold'),
        fields: z.record(z.string(), fieldValue).refine((f) => Object.keys(f).length > 0, 'hold at least one field'),
      }),
    ],
    { error: (iss) => (iss.code === 'invalid_union' ? `type must be one of ${FAULT_TYPES.join(', ')}` : undefined) },
  )
  .transform((f): Fault => {
    switch (f.type) {
      case 'lift_stuck':
        return {
          type: f.type,
          ...(f.level !== undefined ? { level: f.level } : {}),
          ...(f.passengers !== undefined ? { passengers: f.passengers } : {}),
          ...(f.alarm_button !== undefined ? { alarmButton: f.alarm_button } : {}),
        };
      case 'pump_fail':
        return {
          type: f.type,
          ...(f.alarm_code !== undefined ? { alarmCode: f.alarm_code } : {}),
          ...(f.after_power_return !== undefined ? { afterPowerReturn: f.after_power_return } : {}),
        };
      case 'inflow':
        return { type: f.type, pctPerMin: f.pct_per_min };
      case 'boiler_fault':
        return { type: f.type, ...(f.fault_code !== undefined ? { faultCode: f.fault_code } : {}) };
      default:
        return f;
    }
  });

const stepSchema = z
  .strictObject({
    /** Lets expectations name the step that causes them (`after`). */
    id: stepId.optional(),
    at: offset,
    inject: z.strictObject({ device: deviceId, fault: faultSchema }).optional(),
    clear: z.strictObject({ device: deviceId, type: z.enum(FAULT_TYPES).optional() }).optional(),
    /** Shown in the drill log: what the step stands for in the story ("heavy rain since 02:00"). */
    note: text.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.inject && s.clear)
      ctx.addIssue({ code: 'custom', message: 'a step either injects or clears; make two steps' });
    if (!s.inject && !s.clear && !s.note)
      ctx.addIssue({ code: 'custom', message: 'a step needs inject, clear or note' });
  });

const alarmExpectation = z.strictObject({
  kind: z.enum(ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]], {
    error: `must be an alarm kind of DOMAIN.md §2 (${ALARM_KIND_NAMES.join(', ')})`,
  }),
  device: deviceId,
  /** The step that causes it (its id); default: the first step injecting into the same device. */
  after: stepId.optional(),
  /** Seconds (or "mm:ss") after that step by which it must be firing. */
  within: offset,
  /** Fires but is muted by a lost supply above the device (shown with its cause). */
  inhibited: z.boolean().optional(),
  /** Only expected in that season: out of it the boilers stand by and there is no heating to lose. */
  season: z.enum(['heating']).optional(),
});

const readingExpectation = z
  .strictObject({
    device: deviceId,
    field: z.string().min(1),
    equals: fieldValue.optional(),
    above: z.number().optional(),
    below: z.number().optional(),
    after: stepId.optional(),
    within: offset,
  })
  .superRefine((r, ctx) => {
    if (r.equals === undefined && r.above === undefined && r.below === undefined)
      ctx.addIssue({ code: 'custom', message: 'say what the value must be: equals, above or below' });
    if (r.equals !== undefined && (r.above !== undefined || r.below !== undefined))
      ctx.addIssue({ code: 'custom', message: 'equals cannot go with above or below' });
  });

const rawScenario = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case words joined by - (e.g. grid-outage)'),
  title: text,
  description: text,
  /** Id of the site (site.id of its site file) whose device ids it uses. */
  site: z.string().min(1).optional(),
  duration: offset,
  steps: z.array(stepSchema).min(1),
  expects: z
    .strictObject({
      alarms: z.array(alarmExpectation).default([]),
      /** Playbooks (rules/playbooks) the alarms should open incidents with. */
      playbooks: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, 'a playbook id (lower_snake_case)')).default([]),
      readings: z.array(readingExpectation).default([]),
    })
    .refine(
      (e) => e.alarms.length + e.readings.length > 0,
      'expect at least one alarm or reading: a scenario doubles as a test',
    ),
});

type RawScenario = z.infer<typeof rawScenario>;
type RawStep = RawScenario['steps'][number];
type RawAlarm = RawScenario['expects']['alarms'][number];
type RawReading = RawScenario['expects']['readings'][number];

export type ScenarioStep = RawScenario['steps'][number];
/** An expectation with the step that causes it resolved to its index in `steps`. */
export type AlarmExpectation = RawAlarm & { afterStep: number };
export type ReadingExpectation = RawReading & { afterStep: number };

export interface Scenario {
  name: string;
  title: Text;
  description: Text;
  site?: string;
  /** Seconds of simulated time; the drill ends (and its faults are cleared) then. */
  duration: number;
  steps: ScenarioStep[];
  expects: { alarms: AlarmExpectation[]; playbooks: string[]; readings: ReadingExpectation[] };
}

type Ctx = z.RefinementCtx;
const issue = (ctx: Ctx, path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

/** The step an expectation hangs on: named by `after`, or the first one injecting into its device. */
function causeOf(s: RawScenario, e: { device: string; after?: string | undefined }): number {
  if (e.after !== undefined) return s.steps.findIndex((st) => st.id === e.after);
  return s.steps.findIndex((st) => st.inject?.device === e.device);
}

/** What a file must get right on its own, before any site is looked at. */
function checkTimeline(s: RawScenario, ctx: Ctx): void {
  checkSteps(s, ctx);
  checkCauses(s, ctx);
  checkInhibited(s, ctx);
}

/** Steps: unique ids, in time order, inside the scenario, clearing only what an earlier step injected. */
function checkSteps(s: RawScenario, ctx: Ctx): void {
  const ids = new Map<string, number>();
  s.steps.forEach((st, i) => {
    if (st.id !== undefined) {
      if (ids.has(st.id))
        issue(ctx, ['steps', i, 'id'], `duplicate step id "${st.id}" (also steps[${ids.get(st.id)}])`);
      else ids.set(st.id, i);
    }
    const prev = s.steps[i - 1];
    if (prev && st.at < prev.at)
      issue(
        ctx,
        ['steps', i, 'at'],
        `steps must be in time order: this one is at ${formatOffset(st.at)}, the one before at ${formatOffset(prev.at)}`,
      );
    if (st.at > s.duration)
      issue(
        ctx,
        ['steps', i, 'at'],
        `at ${formatOffset(st.at)} is after the end of the scenario (duration ${formatOffset(s.duration)})`,
      );
    if (st.clear) checkClear(s, i, st.clear, ctx);
  });
}

/** A clear needs an earlier step injecting that fault (or any fault, without a type) into the device. */
function checkClear(s: RawScenario, i: number, clear: NonNullable<RawStep['clear']>, ctx: Ctx): void {
  const { device, type } = clear;
  const before = s.steps
    .slice(0, i)
    .some((p) => p.inject?.device === device && (type === undefined || p.inject.fault.type === type));
  if (!before)
    issue(ctx, ['steps', i, 'clear'], `nothing to clear: no earlier step injects ${type ?? 'a fault'} into ${device}`);
}

/** Every expectation hangs on a step, and is due before the scenario ends. */
function checkCauses(s: RawScenario, ctx: Ctx): void {
  const expectations: [string, (RawAlarm | RawReading)[]][] = [
    ['alarms', s.expects.alarms],
    ['readings', s.expects.readings],
  ];
  for (const [list, items] of expectations) {
    items.forEach((e, j) => {
      const at = causeOf(s, e);
      if (at < 0) {
        if (e.after !== undefined) issue(ctx, ['expects', list, j, 'after'], `no step with id "${e.after}"`);
        else
          issue(
            ctx,
            ['expects', list, j],
            `no step injects into ${e.device}: say which step causes it (after: <step id>)`,
          );
        return;
      }
      const due = s.steps[at]!.at + e.within;
      if (due > s.duration)
        issue(
          ctx,
          ['expects', list, j, 'within'],
          `due at ${formatOffset(due)}, after the scenario ends (${formatOffset(s.duration)}): the drill would be over before it shows`,
        );
    });
  }
}

/** Only inhibitable alarm kinds may be expected inhibited. */
function checkInhibited(s: RawScenario, ctx: Ctx): void {
  s.expects.alarms.forEach((a, j) => {
    if (a.inhibited && !ALARM_KINDS[a.kind].inhibitable)
      issue(
        ctx,
        ['expects', 'alarms', j, 'inhibited'],
        `${a.kind} is never inhibited (only ${ALARM_KIND_NAMES.filter((k) => ALARM_KINDS[k].inhibitable).join(', ')} are)`,
      );
  });
}

/** The schema of a scenario file on its own: shape, time order, references between steps and expectations. */
export const scenarioSchema = rawScenario.superRefine(checkTimeline).transform((s): Scenario => ({
  ...s,
  expects: {
    alarms: s.expects.alarms.map((a) => ({ ...a, afterStep: causeOf(s, a) })),
    playbooks: s.expects.playbooks,
    readings: s.expects.readings.map((r) => ({ ...r, afterStep: causeOf(s, r) })),
  },
}));

/** What a scenario is checked against: the simulated estate's devices and, when known, the site id and playbooks. */
export interface ScenarioSite {
  /** site.id of the site file. */
  id?: string;
  devices: readonly SimDeviceInfo[];
  /** The playbooks of rules/playbooks: which one an alarm kind opens (gateway/incidents/playbooks.ts). */
  playbooks?: { ids: ReadonlySet<string>; forKind(kind: AlarmKind): string | undefined };
}

/** The rules' view of a simulated device, enough to ask a detector whether it watches it. */
function factsOf(d: SimDeviceInfo): DeviceFacts {
  return {
    id: d.id,
    kind: d.kind,
    building: d.building,
    vacant: d.vacant,
    ...(d.feeder ? { feeder: d.feeder } : {}),
    ...(d.circuit ? { circuit: d.circuit } : {}),
    nominalVoltage: d.nominalVoltage,
    ...(d.role ? { role: d.role } : {}),
    ...(d.drainPump ? { drainPump: d.drainPump } : {}),
    ...(d.kind === 'lift' ? { floorRange: d.floors } : {}),
    intervalS: d.intervalS,
  };
}

/** Whether some rule of DOMAIN.md §2 can raise `kind` on this device (the rules' own `applies`). */
export function alarmCanFire(kind: AlarmKind, device: SimDeviceInfo): boolean {
  const facts = factsOf(device);
  return ALL_DETECTORS.some((d) => d.kind === kind && d.applies(facts));
}

type Path = (string | number)[];
type Problem = { path: Path; message: string };
type AddProblem = (path: Path, message: string) => void;
/** The site's device of that id, or undefined with a problem added at `path`. */
type DeviceLookup = (id: string, path: Path) => SimDeviceInfo | undefined;

/** Problems of a scenario against a site: devices that do not exist, faults and alarms that do not fit them. */
export function siteProblems(s: Scenario, site: ScenarioSite): Problem[] {
  const out: Problem[] = [];
  const add: AddProblem = (path, message) => out.push({ path, message });
  const devices = new Map(site.devices.map((d) => [d.id, d]));
  const device: DeviceLookup = (id, path) => {
    const d = devices.get(id);
    if (!d) add(path, `no device "${id}" in ${site.id ? `site ${site.id}` : 'this site'}`);
    return d;
  };
  if (site.id && s.site && s.site !== site.id) add(['site'], `written for site "${s.site}", this is site "${site.id}"`);
  stepProblems(s, device, add);
  alarmProblems(s, device, add);
  readingProblems(s, device, add);
  if (site.playbooks) playbookProblems(s, site.playbooks, add);
  return out;
}

/** Steps inject into and clear devices of the site, with faults that fit them. */
function stepProblems(s: Scenario, device: DeviceLookup, add: AddProblem): void {
  s.steps.forEach((st, i) => {
    if (st.inject) {
      const d = device(st.inject.device, ['steps', i, 'inject', 'device']);
      if (d)
        for (const p of faultProblems(st.inject.fault, d)) add(['steps', i, 'inject', 'fault', ...p.path], p.message);
    }
    if (st.clear) device(st.clear.device, ['steps', i, 'clear', 'device']);
  });
}

/** Expected alarms are on devices of the site that some rule can raise them on. */
function alarmProblems(s: Scenario, device: DeviceLookup, add: AddProblem): void {
  s.expects.alarms.forEach((a, j) => {
    const d = device(a.device, ['expects', 'alarms', j, 'device']);
    if (d && !alarmCanFire(a.kind, d))
      add(
        ['expects', 'alarms', j, 'kind'],
        `no rule raises ${a.kind} on ${d.id} (${d.kind}${d.circuit ? `, ${d.circuit}` : ''}${d.kind === 'water_meter' && !d.vacant ? ', not in a vacant unit' : ''})`,
      );
  });
}

/** Expected readings name a field the device has, with a value of its type. */
function readingProblems(s: Scenario, device: DeviceLookup, add: AddProblem): void {
  s.expects.readings.forEach((r, j) => {
    const d = device(r.device, ['expects', 'readings', j, 'device']);
    if (!d) return;
    const def = FIELDS[d.kind][r.field];
    if (!def) {
      add(
        ['expects', 'readings', j, 'field'],
        `${d.kind} has no field "${r.field}" (it has ${Object.keys(FIELDS[d.kind]).join(', ')})`,
      );
      return;
    }
    const want = def.type === 'bool' ? 'boolean' : def.type === 'enum' ? 'string' : 'number';
    if (r.equals !== undefined && typeof r.equals !== want)
      add(['expects', 'readings', j, 'equals'], `${r.field} is a ${want}`);
    if (def.values && r.equals !== undefined && !def.values.includes(String(r.equals)))
      add(['expects', 'readings', j, 'equals'], `${r.field} is one of ${def.values.join(', ')}`);
    if ((r.above !== undefined || r.below !== undefined) && want !== 'number')
      add(['expects', 'readings', j], `above/below need a number; ${r.field} is a ${want}`);
  });
}

/** Expected playbooks exist and are opened by the expected alarms, and every playbook those open is listed. */
function playbookProblems(s: Scenario, pb: NonNullable<ScenarioSite['playbooks']>, add: AddProblem): void {
  // Any firing alarm of a kind with a playbook opens (or joins) an incident, muted or not.
  const opened = new Map<string, AlarmKind[]>();
  for (const a of s.expects.alarms) {
    const id = pb.forKind(a.kind);
    if (id) opened.set(id, [...(opened.get(id) ?? []), a.kind]);
  }
  s.expects.playbooks.forEach((id, j) => {
    if (!pb.ids.has(id))
      add(['expects', 'playbooks', j], `no playbook "${id}" (have ${[...pb.ids].sort().join(', ')})`);
    else if (!opened.has(id)) add(['expects', 'playbooks', j], `none of the expected alarms opens playbook ${id}`);
  });
  for (const [id, kinds] of opened) {
    if (!s.expects.playbooks.includes(id))
      add(
        ['expects', 'playbooks'],
        `${[...new Set(kinds)].join(', ')} open${kinds.length === 1 ? 's' : ''} playbook ${id}: list it`,
      );
  }
}

/** Whether a fault fits a device, as the estate will judge it when injected (estate.ts checkFault). */
export function faultProblems(fault: Fault, d: SimDeviceInfo): { path: (string | number)[]; message: string }[] {
  const fits = FAULT_FITS[fault.type];
  if (fits !== 'any' && !fits.includes(d.kind)) {
    const takes = FAULT_TYPES.filter((t) => {
      const f = FAULT_FITS[t];
      return f === 'any' || f.includes(d.kind);
    });
    return [
      {
        path: ['type'],
        message: `${d.id} (${d.kind}): a ${fault.type} fault does not fit it (it takes ${takes.join(', ')})`,
      },
    ];
  }
  switch (fault.type) {
    case 'phase_loss': {
      const bad = fault.phases.filter((p) => p > d.phases);
      return bad.length
        ? [{ path: ['phases'], message: `${d.id} is a ${d.phases}-phase meter: no phase ${bad.join(', ')}` }]
        : [];
    }
    case 'pump_fail':
      return fault.afterPowerReturn && !d.feeder
        ? [
            {
              path: ['after_power_return'],
              message: `${d.id} has no feeder in the site file, so no power cut ever reaches it`,
            },
          ]
        : [];
    case 'hold':
      return Object.entries(fault.fields).flatMap(([name, value]) => {
        const def = FIELDS[d.kind][name];
        if (!def)
          return [
            {
              path: ['fields', name],
              message: `${d.kind} has no field "${name}" (it has ${Object.keys(FIELDS[d.kind]).join(', ')})`,
            },
          ];
        const want = def.type === 'bool' ? 'boolean' : def.type === 'enum' ? 'string' : 'number';
        if (typeof value !== want) return [{ path: ['fields', name], message: `${name} is a ${want}` }];
        if (def.values && !def.values.includes(String(value)))
          return [{ path: ['fields', name], message: `${name} is one of ${def.values.join(', ')}` }];
        return [];
      });
    default:
      return [];
  }
}

/**
 * The schema of one scenario file: everything `scenarioSchema` checks, plus that `name` is the
 * file's name and, given a site, `siteProblems`.
 */
export function scenarioSchemaFor(opts: { site?: ScenarioSite; fileName?: string }) {
  return scenarioSchema.superRefine((s, ctx) => {
    if (opts.fileName !== undefined && s.name !== opts.fileName)
      issue(ctx, ['name'], `the file is ${opts.fileName}.yaml: name it "${opts.fileName}" (or rename the file)`);
    if (opts.site) for (const p of siteProblems(s, opts.site)) issue(ctx, p.path, p.message);
  });
}

/** The devices a scenario injects into or clears. */
export function targets(s: Scenario): string[] {
  const ids = new Set<string>();
  for (const st of s.steps) {
    if (st.inject) ids.add(st.inject.device);
    if (st.clear) ids.add(st.clear.device);
  }
  return [...ids];
}
