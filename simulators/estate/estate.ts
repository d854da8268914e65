import { floorsOf, type SiteConfig } from '../../gateway/ports/site.js';
import type { RegisterProfile } from '../../gateway/profiles/profile.js';
import { FIELDS } from '../../rules/model/fields.js';
import type { FieldValue } from '../../rules/model/reading.js';
import { hashSeed, seededRandom } from '../random.js';
import { LocalCalendar, NORTH_CHINA_HEATING, type LocalTime, type Season } from './local-time.js';
import { MODELS, type DeviceModel, type EstateView, type StepEnv } from './models/index.js';
import type { FaultSet } from './models/model.js';
import { unmeteredBuildingM3h } from './models/water-meter.js';
import { simDevices } from './site.js';
import { PowerTopology, type FeederFaults, type Supply } from './topology.js';
import type { EstateControl, Fault, FaultType, Fields, Observation, SimDeviceInfo } from './types.js';

// The simulated estate: every device of a site file with its behaviour model, the power
// tree between them and the faults set on them. It does no I/O and reads no clock: it is
// advanced to a simulated time and says what each device reported on the way, so a test can
// run a day of estate in a second and get the same readings for the same seed every time.
//
// Time moves in ticks (1 simulated second by default). At each tick the devices whose step
// is due are advanced (lifts, pumps and pits every second, meters every 5–10 s, leak
// sensors every minute), meters last and the deepest first so that each one sums loads that
// are already up to date; then every device whose interval has elapsed reports, and so
// does any device whose event fields changed (a leak sensor getting wet).

export interface EstateOptions {
  config: SiteConfig;
  /** Register profiles (loadRegisterProfiles()): tell a three-phase Modbus meter from a single-phase one. */
  profiles?: ReadonlyMap<string, RegisterProfile>;
  seed: number;
  /** Simulated epoch ms the estate starts at; every device reports once at this time. */
  start: number;
  /** Simulated ms per tick (default 1000). */
  tickMs?: number;
  heatingSeason?: Season;
}

interface Sim {
  info: SimDeviceInfo;
  model: DeviceModel<unknown>;
  state: unknown;
  rnd: () => number;
  faults: Map<FaultType, Fault>;
  intervalMs: number;
  /** Fields changed by commands, with the value each had before the first of them (for release). */
  commanded: Map<string, FieldValue>;
  /** Offset of its report grid from the start, so that devices spread over their interval. */
  phaseMs: number;
  stepTicks: number;
  nextReport: number;
  /** Event fields as last reported (JSON), for devices that report on change. */
  lastEvent?: string;
  /** Reused for every step and report of this device (hundreds of devices a simulated second). */
  env: StepEnv;
}

export class Estate implements EstateControl {
  private readonly sims = new Map<string, Sim>();
  private readonly infos: SimDeviceInfo[];
  private readonly stepOrder: Sim[];
  private readonly topology: PowerTopology;
  private readonly calendar: LocalCalendar;
  private readonly tickMs: number;
  private readonly start: number;
  /** Level sensor of each pump that drains a pit. */
  private readonly pitOf = new Map<string, Sim>();
  private readonly unitWaterMeters = new Map<string, Sim[]>();
  private readonly unmeteredFlats = new Map<string, number>();
  private readonly power = new Map<string, { supply: Supply; lost: number[] }>();
  private tick = 0;
  private startReported = false;
  private nowMs: number;
  private local: LocalTime;
  private readonly view: EstateView;

  constructor(opts: EstateOptions) {
    this.tickMs = opts.tickMs ?? 1000;
    if (!(this.tickMs > 0)) throw new RangeError(`tickMs must be > 0, got ${this.tickMs}`);
    this.start = opts.start;
    this.nowMs = opts.start;
    this.calendar = new LocalCalendar(opts.config.site.timezone, opts.heatingSeason ?? NORTH_CHINA_HEATING);
    this.local = this.calendar.at(opts.start);
    this.infos = simDevices(opts.config, opts.profiles);
    this.topology = new PowerTopology(this.infos);
    this.view = this.makeView();

    for (const info of this.infos) this.addSim(this.newSim(info, opts.seed));
    this.linkNeighbours(opts.config);
    for (const sim of this.sims.values()) sim.state = sim.model.init(sim.info, sim.rnd, this.envOf(sim));
    this.stepOrder = this.metersLast();
    // A step of no time lets each device settle on what its neighbours do (pumps on their
    // pits, meters on their loads), so the very first reports are already consistent.
    this.stepAll(() => true, 0);
  }

  /** A device with its model and its own random stream, due to report at the start. */
  private newSim(info: SimDeviceInfo, seed: number): Sim {
    const model = MODELS[info.kind];
    const rnd = seededRandom(hashSeed(seed, info.id));
    const sim: Sim = {
      info,
      model,
      state: undefined,
      rnd,
      faults: new Map(),
      commanded: new Map(),
      intervalMs: info.intervalS * 1000,
      stepTicks: Math.max(1, Math.round((model.stepS * 1000) / this.tickMs)),
      nextReport: this.start,
      // Devices do not all report in the same second: after the first report, each keeps its
      // own phase within its interval (from its id, not its random stream).
      phaseMs:
        Math.round(((hashSeed(seed, `${info.id}/phase`) % 1000) / 1000) * ((info.intervalS * 1000) / this.tickMs)) *
        this.tickMs,
      env: {
        now: this.start,
        local: this.local,
        powered: true,
        supplyCut: false,
        lostPhases: [],
        faults: undefined as unknown as FaultSet,
        view: this.view,
        dtS: 0,
        rnd,
      },
    };
    sim.env.faults = faultSet(sim.faults);
    return sim;
  }

  private addSim(sim: Sim): void {
    this.sims.set(sim.info.id, sim);
    if (sim.info.kind === 'water_meter' && sim.info.unit) {
      const list = this.unitWaterMeters.get(sim.info.building) ?? [];
      list.push(sim);
      this.unitWaterMeters.set(sim.info.building, list);
    }
  }

  /** What devices know of each other: the pit each pump drains, the flats no meter of their own counts. */
  private linkNeighbours(config: SiteConfig): void {
    for (const sim of this.sims.values()) {
      if (sim.info.drainPump && this.sims.get(sim.info.drainPump)?.info.kind === 'pump')
        this.pitOf.set(sim.info.drainPump, sim);
    }
    for (const b of config.buildings) {
      // About 8 flats a floor above ground; the ones with a meter of their own are counted by it.
      const aboveGround = floorsOf(b).filter((f) => f.level > 0).length;
      this.unmeteredFlats.set(b.id, Math.max(0, aboveGround * 8 - (this.unitWaterMeters.get(b.id)?.length ?? 0)));
    }
  }

  /** Consumers before meters, meters deepest first: a meter's step sums what hangs below it. */
  private metersLast(): Sim[] {
    const meters = this.topology
      .bottomUp()
      .map((id) => this.sims.get(id)!)
      .filter((s) => s.info.kind === 'electricity_meter');
    return [...[...this.sims.values()].filter((s) => s.info.kind !== 'electricity_meter'), ...meters];
  }

  now(): number {
    return this.nowMs;
  }

  devices(): readonly SimDeviceInfo[] {
    return this.infos;
  }

  /** Devices fed from this meter, at any depth (what a power cut there takes down). */
  fedFrom(meterId: string): string[] {
    this.sim(meterId);
    return this.topology.descendants(meterId);
  }

  inject(deviceId: string, fault: Fault): void {
    const sim = this.sim(deviceId);
    checkFault(sim, fault);
    sim.faults.set(fault.type, structuredClone(fault));
    this.power.clear();
  }

  clear(deviceId: string, type?: FaultType): void {
    const sim = this.sim(deviceId);
    if (type === undefined) sim.faults.clear();
    else sim.faults.delete(type);
    this.power.clear();
  }

  clearAll(): void {
    for (const sim of this.sims.values()) sim.faults.clear();
    this.power.clear();
  }

  faults(deviceId: string): readonly Fault[] {
    return [...this.sim(deviceId).faults.values()].map((f) => structuredClone(f));
  }

  powered(deviceId: string): boolean {
    this.sim(deviceId);
    return this.powerOf(deviceId).supply === 'live';
  }

  observe(deviceId: string): Observation {
    return this.observation(this.sim(deviceId), this.nowMs);
  }

  command(deviceId: string, field: string, value: FieldValue): void {
    const sim = this.sim(deviceId);
    if (!sim.model.command) throw new Error(`estate: ${deviceId} is a ${sim.info.kind}; its model takes no commands`);
    const before = sim.model.fields(sim.state, sim.info, this.envOf(sim))[field];
    sim.model.command(sim.state, sim.info, field, value);
    if (!sim.commanded.has(field) && before !== undefined) sim.commanded.set(field, before);
  }

  release(deviceId: string): Fields {
    const sim = this.sim(deviceId);
    const now = sim.commanded.size ? sim.model.fields(sim.state, sim.info, this.envOf(sim)) : {};
    const restored: Fields = {};
    for (const [field, value] of sim.commanded) {
      if (now[field] === value) continue;
      sim.model.command!(sim.state, sim.info, field, value);
      restored[field] = value;
    }
    sim.commanded.clear();
    return restored;
  }

  /**
   * Runs the estate up to `toMs` (simulated epoch ms) and returns what the devices reported
   * on the way, in time order. Never goes back: an earlier time returns nothing.
   */
  advance(toMs: number): Observation[] {
    const out: Observation[] = [];
    if (toMs < this.start) return out;
    if (!this.startReported) {
      this.startReported = true;
      this.report(this.start, out);
    }
    for (;;) {
      const at = this.start + (this.tick + 1) * this.tickMs;
      if (at > toMs) break;
      this.tick++;
      this.nowMs = at;
      this.local = this.calendar.at(at);
      this.stepAll((sim) => this.tick % sim.stepTicks === 0);
      this.report(at, out);
    }
    this.nowMs = Math.max(this.nowMs, toMs);
    return out;
  }

  private stepAll(due: (sim: Sim) => boolean, dtS?: number): void {
    for (const sim of this.stepOrder) {
      if (!due(sim)) continue;
      const env = this.envOf(sim);
      env.dtS = dtS ?? (sim.stepTicks * this.tickMs) / 1000;
      sim.model.step(sim.state, sim.info, env);
    }
  }

  private report(at: number, out: Observation[]): void {
    for (const sim of this.sims.values()) {
      let due = false;
      if (sim.nextReport <= at) {
        due = true;
        if (at === this.start && sim.phaseMs > 0) sim.nextReport = this.start + sim.phaseMs;
        else while (sim.nextReport <= at) sim.nextReport += sim.intervalMs;
      }
      const events = sim.model.eventFields;
      if (!due && !events) continue;
      const obs = this.observation(sim, at);
      if (events) {
        const sig = 'fields' in obs ? JSON.stringify(events.map((f) => obs.fields[f])) : undefined;
        if (sig !== undefined && sig !== sim.lastEvent) {
          due = true;
          sim.lastEvent = sig;
        }
      }
      if (due) out.push(obs);
    }
  }

  private observation(sim: Sim, ts: number): Observation {
    const { supply } = this.powerOf(sim.info.id);
    if (supply === 'off' && !sim.model.batteryBacked)
      return { deviceId: sim.info.id, ts, dark: true, why: 'unpowered' };
    if (sim.faults.has('silent')) return { deviceId: sim.info.id, ts, dark: true, why: 'silent' };
    let fields: Fields = sim.model.fields(sim.state, sim.info, this.envOf(sim));
    const hold = sim.faults.get('hold');
    if (hold?.type === 'hold') fields = { ...fields, ...hold.fields };
    return { deviceId: sim.info.id, ts, fields };
  }

  private envOf(sim: Sim): StepEnv {
    const { supply, lost } = this.powerOf(sim.info.id);
    const env = sim.env;
    env.now = this.nowMs;
    env.local = this.local;
    env.powered = supply === 'live';
    env.supplyCut = supply === 'cut';
    env.lostPhases = lost;
    return env;
  }

  private powerOf(id: string): { supply: Supply; lost: number[] } {
    let p = this.power.get(id);
    if (!p) {
      const faultsOf = (meterId: string): FeederFaults | undefined => {
        const f = this.sims.get(meterId)?.faults;
        if (!f || f.size === 0) return undefined;
        const loss = f.get('phase_loss');
        return {
          cut: f.has('power_cut'),
          tripped: f.has('breaker_trip'),
          lostPhases: loss?.type === 'phase_loss' ? loss.phases : [],
        };
      };
      p = { supply: this.topology.supply(id, faultsOf), lost: this.topology.lostPhases(id, faultsOf) };
      this.power.set(id, p);
    }
    return p;
  }

  private makeView(): EstateView {
    const loadOf = (id: string): number => {
      const sim = this.sims.get(id);
      if (!sim || this.powerOf(id).supply !== 'live') return 0;
      return sim.model.loadKw?.(sim.state, sim.info) ?? 0;
    };
    return {
      childLoadKw: (meterId) => this.topology.children(meterId).reduce((sum, c) => sum + loadOf(c), 0),
      pumpRunning: (pumpId) => {
        const sim = this.sims.get(pumpId);
        if (sim?.info.kind !== 'pump') return undefined;
        return sim.model.running?.(sim.state) ?? false;
      },
      pitLevel: (pumpId) => {
        const sensor = this.pitOf.get(pumpId);
        return sensor ? sensor.model.levelPct?.(sensor.state) : undefined;
      },
      buildingWaterM3h: (building) => {
        const units = this.unitWaterMeters.get(building) ?? [];
        const metered = units.reduce((sum, s) => sum + (s.model.flowM3h?.(s.state) ?? 0), 0);
        return unmeteredBuildingM3h(this.local.hour, this.unmeteredFlats.get(building) ?? 0) + metered;
      },
    };
  }

  private sim(id: string): Sim {
    const sim = this.sims.get(id);
    if (!sim) throw new Error(`estate: no device "${id}"`);
    return sim;
  }
}

function faultSet(faults: Map<FaultType, Fault>): FaultSet {
  return {
    get: (type) => faults.get(type) as never,
    has: (type) => faults.has(type),
  };
}

/** Refuses a fault the device's kind cannot show, or one with impossible parameters. */
function checkFault(sim: Sim, fault: Fault): void {
  const { id, kind, phases } = sim.info;
  const fits: readonly FaultType[] = ['silent', 'hold', ...sim.model.faults];
  if (!fits.includes(fault.type))
    throw new Error(`estate: ${id} is a ${kind}; a ${fault.type} fault does not fit it (it takes ${fits.join(', ')})`);
  const finite = (v: number, what: string) => {
    if (!Number.isFinite(v)) throw new Error(`estate: ${fault.type} on ${id}: ${what} must be a number`);
  };
  switch (fault.type) {
    case 'phase_loss':
      if (fault.phases.length === 0 || fault.phases.some((p) => !Number.isInteger(p) || p < 1 || p > phases)) {
        throw new Error(
          `estate: phase_loss on ${id}: phases must be some of 1…${phases}, got [${fault.phases.join(', ')}]`,
        );
      }
      break;
    case 'inflow':
      finite(fault.pctPerMin, 'pctPerMin');
      break;
    case 'flow':
      finite(fault.m3h, 'm3h');
      if (fault.m3h < 0) throw new Error(`estate: flow on ${id}: m3h must not be negative`);
      break;
    case 'lift_stuck':
      if (fault.passengers !== undefined && (!Number.isInteger(fault.passengers) || fault.passengers < 0)) {
        throw new Error(`estate: lift_stuck on ${id}: passengers must be a whole number ≥ 0`);
      }
      break;
    case 'hold':
      for (const [name, value] of Object.entries(fault.fields)) {
        const def = FIELDS[kind][name];
        if (!def)
          throw new Error(
            `estate: hold on ${id}: ${kind} has no field "${name}" (has ${Object.keys(FIELDS[kind]).join(', ')})`,
          );
        const want = def.type === 'bool' ? 'boolean' : def.type === 'enum' ? 'string' : 'number';
        if (typeof value !== want) throw new Error(`estate: hold on ${id}: ${name} must be a ${want}`);
        if (def.values && !def.values.includes(String(value)))
          throw new Error(`estate: hold on ${id}: ${name} must be one of ${def.values.join(', ')}`);
      }
      break;
    default:
  }
}
