import type { Logger } from 'pino';
import type { FieldValue, Reading } from '../../../rules/model/reading.js';
import { ReceiveStamps } from '../../clock.js';
import type { ModbusDeviceConfig } from '../../config/schema.js';
import type { ComponentHealth } from '../../health.js';
import { ThrottledLog } from '../../ports/log-throttle.js';
import type { Metrics } from '../../metrics.js';
import { realTimers, type Clock, type Timers } from '../../ports/clock.js';
import type { FunctionCode, RegisterProfile } from '../../profiles/profile.js';
import type { DeviceStatus } from '../../registry.js';
import type { Adapter, LineDown } from '../adapter.js';
import { CommandError, runCommand, writableFields, type CommandResult } from './command.js';
import { resolveModbusDevices, type Line, type PolledDevice } from './devices.js';
import { Endpoint } from './endpoint.js';
import { ModbusLink } from './link.js';
import type { ReadRequest } from './plan.js';
import { pollDevice, type PollResult } from './poll.js';
import { PollSchedule } from './scheduler.js';
import { SlotTimers } from './slot-timers.js';

export interface ModbusAdapterOptions {
  /** The site file's devices with `protocol: modbus`. */
  devices: readonly ModbusDeviceConfig[];
  /** Register profiles by name (`loadRegisterProfiles()`). */
  profiles: ReadonlyMap<string, RegisterProfile>;
  clock: Clock;
  /** Timers for poll scheduling and request timeouts (default: the real ones). */
  timers?: Timers;
  metrics: Metrics;
  logger: Logger;
  /** Longest wait between two polls of a device that does not answer (default 60 000 ms; never below its interval). */
  maxBackoffMs?: number;
  /** Requests in flight per TCP endpoint (default 1: most serial converters cannot pipeline). RTU is always 1. */
  tcpMaxInFlight?: number;
  /** Timeouts in a row on a TCP endpoint, no unit answering, after which it is reconnected (default 3; 0 = never). */
  reconnectAfterTimeouts?: number;
  /** Longest wait for a TCP connection or a serial port to open (default 3000 ms). */
  connectTimeoutMs?: number;
}

/** One device's polling state, for /health, /metrics and the devices API. */
export interface ModbusDeviceStats {
  /** The last finished poll got an answer. False before the first poll finishes. */
  online: boolean;
  /** Epoch ms of the last poll that got an answer. */
  lastOkAt: number | null;
  /** Failed requests other than timeouts (exceptions, connection and protocol errors). */
  errors: number;
  /** Requests that got no answer in time. */
  timeouts: number;
  /** Polls in a row that got no answer. */
  consecutiveFailures: number;
  /** Epoch ms before which the backed-off device is not polled; null on its normal schedule. */
  backoffUntil: number | null;
  lastError?: string;
  /** Polls started. */
  polls: number;
  /** Polls skipped because the previous one was still running. */
  skipped: number;
  /** The line (TCP endpoint or serial port) the device sits on. */
  endpoint: string;
}

interface DeviceState {
  device: PolledDevice;
  endpoint: Endpoint;
  /** When its first poll starts after start(), ms: its place among the devices of its line (lineSlot). */
  phaseMs: number;
  schedule: PollSchedule;
  finishedPolls: number;
  online: boolean;
  lastOkAt: number | null;
  errors: number;
  timeouts: number;
  lastError?: string;
  /** Requests and fields that failed and were reported, until they work again (reported once, not per poll). */
  reported: Set<string>;
}

export const DEFAULT_MAX_BACKOFF_MS = 60_000;
/** A device watched closely waits at most this many intervals between attempts. */
export const CLOSE_WATCH_INTERVALS = 3;
const HEALTH_OFFLINE_IDS = 10;
/** How long a failing device's poll lets the healthy polls of the same slot go first. */
const FAILING_DEVICE_GRACE_MS = 5;

/**
 * The Modbus adapter, polled: each device is read on its own interval through the line it
 * sits on, decoded with its register profile and handed downstream as one Reading per
 * poll that got an answer. See README.md for scheduling, isolation, backoff and reconnects.
 */
export class ModbusAdapter implements Adapter {
  readonly component = 'modbus';
  readonly protocol = 'modbus';
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly states = new Map<string, DeviceState>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly stamps: ReceiveStamps;
  private readonly warn: ThrottledLog;
  private readonly timers: Timers;
  /** The schedules' timers: devices due in the same millisecond (the same grid slot) share one. */
  private readonly slots: SlotTimers;
  private emit: (reading: Reading) => unknown = () => undefined;
  private started = false;
  private stopped = false;

  /** Checks every device against its profile and line; throws ModbusConfigError listing all problems. */
  constructor(private readonly opts: ModbusAdapterOptions) {
    this.timers = opts.timers ?? realTimers;
    this.slots = new SlotTimers(opts.clock, this.timers);
    this.stamps = new ReceiveStamps(opts.clock);
    this.warn = new ThrottledLog(opts.logger, opts.clock);
    for (const line of resolveModbusDevices(opts.devices, opts.profiles).values()) {
      const endpoint = this.openLine(line);
      this.endpoints.set(line.name, endpoint);
      line.devices.forEach((device, i) =>
        this.states.set(
          device.id,
          this.newState(device, endpoint, lineSlot(i, line.devices.length, device.intervalMs)),
        ),
      );
    }
  }

  /** The line's link (connected lazily, on the first request) and the queue in front of it. */
  private openLine(line: Line): Endpoint {
    const { opts } = this;
    const rtu = line.target.transport === 'rtu';
    const link = new ModbusLink(line.target, {
      timers: this.timers,
      clock: opts.clock,
      connectTimeoutMs: opts.connectTimeoutMs ?? 3000,
      onOpen: () => {
        opts.metrics.modbusConnections.inc();
        if (link.opens > 1)
          opts.logger.info({ endpoint: line.name, connections: link.opens }, 'Modbus line reconnected');
      },
    });
    return new Endpoint(
      link,
      {
        maxInFlight: rtu ? 1 : (opts.tcpMaxInFlight ?? 1),
        reconnectAfterTimeouts: opts.reconnectAfterTimeouts ?? 3,
        resetOnTimeout: rtu,
      },
      () => opts.clock.now(),
    );
  }

  private newState(device: PolledDevice, endpoint: Endpoint, phaseMs: number): DeviceState {
    const { opts } = this;
    const maxBackoffMs = opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    const state: DeviceState = {
      device,
      endpoint,
      phaseMs,
      finishedPolls: 0,
      online: false,
      lastOkAt: null,
      errors: 0,
      timeouts: 0,
      reported: new Set(),
      schedule: new PollSchedule({
        intervalMs: device.intervalMs,
        // An incomer, a lift, a sump: asked again within a few intervals, so their return is seen in seconds.
        maxBackoffMs: device.watchedClosely
          ? Math.min(maxBackoffMs, CLOSE_WATCH_INTERVALS * device.intervalMs)
          : maxBackoffMs,
        clock: opts.clock,
        timers: this.slots,
        poll: () => this.poll(state),
        onSkip: () => {
          opts.metrics.modbusPollsSkipped.inc();
          this.warn.warn(
            `modbus_skip_${device.id}`,
            { device: device.id },
            `Modbus device ${device.id}: poll skipped, the previous one is still running (interval shorter than a poll takes?)`,
          );
        },
      }),
    };
    return state;
  }

  /**
   * Starts polling every device, each line's devices spread over their interval (lineSlot);
   * returns at once. What `emit` returns is not awaited.
   */
  start(emit: (reading: Reading) => unknown): void {
    if (this.started) throw new Error('the Modbus adapter was already started');
    this.started = true;
    this.emit = emit;
    for (const s of this.states.values()) s.schedule.start(s.phaseMs);
    this.opts.logger.info({ devices: this.states.size, lines: [...this.endpoints.keys()] }, 'Modbus adapter started');
  }

  /** Stops polling, fails queued requests, closes every line and waits for running polls to end. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.states.values()) s.schedule.stop();
    await Promise.all([...this.endpoints.values()].map((e) => e.close()));
    await Promise.allSettled([...this.running]);
  }

  /** Writes one field of a device whose profile declares it writable; throws CommandError. */
  command(deviceId: string, field: string, value: FieldValue): Promise<CommandResult> {
    const state = this.states.get(deviceId);
    if (!state)
      return Promise.reject(
        new CommandError(
          'not_modbus',
          `"${deviceId}" is not a Modbus device of this gateway`,
          `"${deviceId}" 不是本网关的 Modbus 设备，无法下发指令`,
        ),
      );
    return runCommand(state.device, state.endpoint, field, value, this.opts.clock);
  }

  /** The fields of a device's profile the gateway may write (none for a device it does not poll). */
  writableFields(deviceId: string): string[] {
    const state = this.states.get(deviceId);
    return state ? writableFields(state.device) : [];
  }

  deviceStats(): Map<string, ModbusDeviceStats> {
    const out = new Map<string, ModbusDeviceStats>();
    for (const id of this.states.keys()) out.set(id, this.statsOf(id)!);
    return out;
  }

  private statsOf(deviceId: string): ModbusDeviceStats | undefined {
    const s = this.states.get(deviceId);
    if (!s) return undefined;
    return {
      online: s.online,
      lastOkAt: s.lastOkAt,
      errors: s.errors,
      timeouts: s.timeouts,
      consecutiveFailures: s.schedule.consecutiveFailures,
      backoffUntil: s.schedule.backoffUntil,
      ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
      polls: s.schedule.polls,
      skipped: s.schedule.skipped,
      endpoint: s.device.line,
    };
  }

  /** Lines (endpoints) on which every device that was polled is silent: the converter or the cable, not the devices. */
  linesDown(): LineDown[] {
    return this.lines()
      .filter((l) => !l.reachable)
      .map((l) => ({ line: l.name, devices: l.polled }));
  }

  /** A device is unheard because the gateway cannot open the line it sits on. */
  linkDown(deviceId: string): string | undefined {
    const line = this.states.get(deviceId)?.device.line;
    const endpoint = line === undefined ? undefined : this.endpoints.get(line);
    return endpoint && !endpoint.health().connected ? `the gateway cannot open Modbus line ${line}` : undefined;
  }

  /** Its polling, for the devices API. */
  deviceStatus(deviceId: string): Pick<DeviceStatus, 'poll'> | undefined {
    const poll = this.statsOf(deviceId);
    return poll && { poll };
  }

  /** Each line with its devices: how many were polled, how many answer. A line is unreachable when none of its polled devices answers. */
  private lines(): {
    name: string;
    endpoint: Endpoint;
    devices: number;
    polled: number;
    online: number;
    reachable: boolean;
  }[] {
    return [...this.endpoints].map(([name, endpoint]) => {
      const mine = [...this.states.values()].filter((s) => s.endpoint === endpoint);
      const polled = mine.filter((s) => s.finishedPolls > 0);
      const online = polled.filter((s) => s.online).length;
      return {
        name,
        endpoint,
        devices: mine.length,
        polled: polled.length,
        online,
        reachable: polled.length === 0 || online > 0,
      };
    });
  }

  /**
   * `down` when no polled device answers (the gateway's own network or serial adapter is
   * the likely cause), `degraded` when some do not (a dead slave, or a whole line
   * unreachable): part of the estate is unwatched, but the gateway still does its job.
   */
  health(): ComponentHealth {
    const states = [...this.states.values()];
    const polled = states.filter((s) => s.finishedPolls > 0);
    const online = polled.filter((s) => s.online);
    const offline = polled.filter((s) => !s.online).map((s) => s.device.id);
    const endpoints = this.lines().map((l) => ({
      ...l.endpoint.health(),
      reachable: l.reachable,
      devices: l.devices,
      online: l.online,
    }));
    const unreachable = endpoints.filter((e) => !e.reachable).map((e) => e.endpoint);
    const summary = {
      devices: {
        configured: states.length,
        online: online.length,
        offline: offline.length,
        backedOff: states.filter((s) => s.schedule.backoffUntil !== null).length,
      },
      // /health is public and a dead converter can take hundreds of ids with it: the first few name the problem.
      ...(offline.length ? { offline: offline.slice(0, HEALTH_OFFLINE_IDS) } : {}),
      endpoints,
    };
    if (states.length === 0) return { status: 'ok', detail: 'no Modbus devices configured', ...summary };
    if (polled.length > 0 && online.length === 0) {
      return {
        status: 'down',
        detail: `no Modbus device answers (${unreachable.join(', ') || 'every line'}): check the gateway's network and serial adapters`,
        ...summary,
      };
    }
    if (offline.length) {
      const named =
        offline.slice(0, HEALTH_OFFLINE_IDS).join(', ') + (offline.length > HEALTH_OFFLINE_IDS ? ', …' : '');
      const lines = unreachable.length ? `no device answers on ${unreachable.join(', ')}; ` : '';
      // A whole line silent is the gateway's trouble (its network, its converter); a single
      // silent device is the device_offline alarm's business, and must not turn /health red
      // (a drill cutting a circuit, one dead meter).
      return {
        status: unreachable.length ? 'degraded' : 'ok',
        detail: `${lines}${offline.length} of ${polled.length} Modbus device(s) not answering: ${named}`,
        ...summary,
      };
    }
    return { status: 'ok', ...summary };
  }

  private poll(state: DeviceState): Promise<boolean> {
    const run = this.pollOnce(state);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private async pollOnce(state: DeviceState): Promise<boolean> {
    const { device, endpoint } = state;
    const { clock, metrics } = this.opts;
    const started = clock.now();
    // Stamped when the poll starts: the series stays on the poll grid even when the line is busy.
    const ts = this.stamps.next(device.id);
    // A device that is failing waits behind healthy ones for the line.
    const priority = state.schedule.consecutiveFailures > 0 ? 'low' : 'normal';
    if (priority === 'low') {
      // The timers of one grid slot fire a millisecond or two apart on an idle loop: a failing
      // device whose timer came first would take the free line and hold it for its whole
      // timeout while the healthy polls of the same slot wait. It lets them queue first.
      await new Promise<void>((resolve) => this.timers.setTimeout(resolve, FAILING_DEVICE_GRACE_MS));
      if (this.stopped) return false;
    }
    const result = await pollDevice(device.kind, device.profile, device.plan, (fn, start, count) =>
      endpoint.read(device.unitId, fn, start, count, device.timeoutMs, priority),
    );
    if (this.stopped) return result.answered;
    metrics.modbusPollSeconds.observe((clock.now() - started) / 1000);
    this.record(state, result);
    if (result.answered) {
      const fields = result.fields;
      metrics.readingsReceived.inc({ protocol: 'modbus' });
      if (Object.keys(fields).length === 0) {
        metrics.reject('modbus', 'no_fields');
        this.warn.warn(
          `modbus_no_fields_${device.id}`,
          { device: device.id },
          `Modbus device ${device.id} answered, but no field could be decoded`,
        );
      } else {
        // Some request or field did not come back: what did is sent, marked as not the whole picture.
        const partial =
          result.abandoned > 0 ||
          result.requests.some((r) => r.failure) ||
          result.problems.some((p) => p.error !== 'no_data');
        void this.emit({ deviceId: device.id, kind: device.kind, ts, fields, quality: partial ? 'uncertain' : 'good' });
      }
    }
    return result.answered;
  }

  /** Counts and logs what one poll showed; a problem is logged when it starts and when it ends, not per poll. */
  private record(state: DeviceState, result: PollResult): void {
    const failingRequests = this.recordRequests(state, result);
    const failingFields = result.problems.length ? this.recordFields(state, result) : [];
    // Nothing reported before, nothing to take back (the common case: skip building the sets).
    if (result.answered && state.reported.size > 0)
      this.forgetDecodedAgain(state, result, new Set([...failingRequests, ...failingFields]));
    this.recordOnline(state, result.answered);
  }

  /** The keys of the requests that failed this time. */
  private recordRequests(state: DeviceState, result: PollResult): string[] {
    const { metrics, logger } = this.opts;
    const { device } = state;
    const failing: string[] = [];
    let ok = 0;
    for (const r of result.requests) {
      if (!r.failure) {
        ok++;
        // Only a request reported as refused can "answer again".
        const key = state.reported.size > 0 ? requestKey(r.request) : undefined;
        if (key !== undefined && state.reported.delete(key))
          logger.info(
            { device: device.id, registers: describeRegisters(device.profile, r.request) },
            `Modbus device ${device.id}: ${describeRegisters(device.profile, r.request)} answer again`,
          );
        continue;
      }
      const key = requestKey(r.request);
      metrics.modbusRequests.inc({ result: r.failure.failure });
      metrics.modbusDeviceErrors.inc({ device: device.id, failure: r.failure.failure });
      if (r.failure.failure === 'timeout') state.timeouts++;
      else state.errors++;
      state.lastError = r.failure.message;
      if (r.failure.failure === 'exception' || r.failure.failure === 'protocol') {
        failing.push(key);
        // A device that refuses a register refuses it on every poll: say so once, naming it.
        if (!state.reported.has(key)) {
          state.reported.add(key);
          const where = describeRegisters(device.profile, r.request);
          logger.warn(
            { device: device.id, unit: device.unitId, registers: where, failure: r.failure.failure },
            `Modbus device ${device.id} refuses ${where}: ${r.failure.message}`,
          );
        }
      }
    }
    // One increment for the poll's answered requests: prom-client hashes the labels on every call.
    if (ok > 0) metrics.modbusRequests.inc({ result: 'ok' }, ok);
    return failing;
  }

  /** The keys of the fields that did not decode this time. */
  private recordFields(state: DeviceState, result: PollResult): string[] {
    const { metrics, logger } = this.opts;
    const { device } = state;
    const failing: string[] = [];
    for (const p of result.problems) {
      metrics.modbusFieldErrors.inc({ error: p.error });
      // no_data is the device saying it has no such sensor: counted, never logged.
      if (p.error === 'no_data') continue;
      const key = `field:${p.field}`;
      failing.push(key);
      if (!state.reported.has(key)) {
        state.reported.add(key);
        logger.warn(
          { device: device.id, field: p.field, error: p.error, raw: p.raw },
          `Modbus device ${device.id}: ${p.field} left out (${p.error}): ${p.detail}`,
        );
      }
    }
    return failing;
  }

  private forgetDecodedAgain(state: DeviceState, result: PollResult, failing: Set<string>): void {
    const { device } = state;
    // A field whose request failed this time did not decode again: it was not read at all.
    const read = new Set(
      result.requests.flatMap((r) => (r.failure ? [] : r.request.fields.map((f) => `field:${f.name}`))),
    );
    for (const key of state.reported) {
      if (key.startsWith('field:') && read.has(key) && !failing.has(key)) {
        state.reported.delete(key);
        this.opts.logger.info(
          { device: device.id, field: key.slice(6) },
          `Modbus device ${device.id}: ${key.slice(6)} decodes again`,
        );
      }
    }
  }

  private recordOnline(state: DeviceState, answered: boolean): void {
    const { metrics, logger, clock } = this.opts;
    const { device } = state;
    const wasOnline = state.online;
    state.finishedPolls++;
    state.online = answered;
    // The gauge keeps its value: set on the first poll and on each change, not on every poll.
    if (answered !== wasOnline || state.finishedPolls === 1)
      metrics.modbusDeviceOnline.set({ device: device.id }, answered ? 1 : 0);
    if (answered) {
      state.lastOkAt = clock.now();
      if (!wasOnline && state.finishedPolls > 1)
        logger.info({ device: device.id, endpoint: device.line }, `Modbus device ${device.id} answers again`);
    } else if (wasOnline || state.finishedPolls === 1) {
      this.warn.warn(
        `modbus_offline_${device.id}`,
        { device: device.id, unit: device.unitId, endpoint: device.line, err: state.lastError },
        `Modbus device ${device.id} does not answer: ${state.lastError ?? 'no answer'}`,
      );
    }
  }
}

const requestKey = (request: ReadRequest) => `request:${request.function}:${request.start}`;

const TABLES: Record<FunctionCode, string> = {
  1: 'coils',
  2: 'discrete inputs',
  3: 'holding registers',
  4: 'input registers',
};
/** The leading digit of each table in Modicon numbering (0xxxx coils … 4xxxx holding registers). */
const MODICON_TABLE: Record<FunctionCode, number> = { 1: 0, 2: 1, 3: 4, 4: 3 };

/**
 * A request in the profile's own numbering (the manual's, 0- or 1-based), then in Modicon
 * numbering, which many manuals print instead (the SDM630's 30001 is its address 0), with
 * the fields it holds: "input registers 0–5 [30001–30006] (voltage_l1_v, …)".
 */
export function describeRegisters(profile: RegisterProfile, request: ReadRequest): string {
  const range = (a: number | string, b: number | string) => (a === b ? `${a}` : `${a}–${b}`);
  const lastAddress = request.start + request.count - 1;
  // Five digits reach address 9998; beyond that manuals use six (300001…).
  const digits = lastAddress <= 9998 ? 5 : 6;
  const modicon = (address: number) =>
    String(MODICON_TABLE[request.function] * 10 ** (digits - 1) + address + 1).padStart(digits, '0');
  const own = range(request.start + profile.addressing, lastAddress + profile.addressing);
  return `${TABLES[request.function]} ${own} [${range(modicon(request.start), modicon(lastAddress))}] (${request.fields.map((f) => f.name).join(', ')})`;
}

/**
 * When the i-th of a line's n devices is first polled, ms after start: spread evenly over its
 * interval. A line carries one request at a time; with every device due at the same moment
 * the last of fifty waited most of a second behind the others, each poll's state outlived the
 * young generation, and any stall of the event loop pushed the last polls past their next slot
 * (bench/README.md, Modbus). Spread, a poll finds its line free.
 */
export function lineSlot(i: number, n: number, intervalMs: number): number {
  return Math.floor((i * intervalMs) / n);
}
