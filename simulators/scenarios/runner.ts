import type { EstateControl, Fault, FaultType } from '../estate/types.js';
import { formatOffset, targets, type Scenario, type Text } from './schema.js';

// One run of a scenario against an estate. It reads no clock: whoever drives it (the drill
// controller on the gateway's clock, a test on virtual time) says what time it is, and the
// run applies the steps that came due, in file order. What it did is kept as the drill's log,
// the record a drill report later compares the duty room's response with.

/** One applied step, as the drill log keeps it. */
export interface AppliedStep {
  /** Index in the scenario's steps. */
  step: number;
  id?: string;
  /** When the scenario wanted it (start + at) and when it was applied (simulated epoch ms). */
  plannedAt: number;
  at: number;
  action: 'inject' | 'clear' | 'note';
  device?: string;
  fault?: Fault;
  /** `clear`: the fault type cleared (every fault of the device when absent). */
  faultType?: FaultType;
  /** What happened, for the duty room. */
  what: Text;
  note?: Text;
  /** The estate refused it (the run carries on with the next steps). */
  error?: string;
}

const FAULT_WORDS: Record<FaultType, Text> = {
  power_cut: { zh: '断电', en: 'power cut' },
  phase_loss: { zh: '缺相', en: 'phase loss' },
  breaker_trip: { zh: '开关跳闸', en: 'breaker tripped' },
  lift_stuck: { zh: '电梯停梯困人', en: 'lift stuck' },
  pump_fail: { zh: '水泵故障', en: 'pump failure' },
  leak: { zh: '漏水', en: 'leak' },
  inflow: { zh: '集水井进水', en: 'water coming into the pit' },
  flow: { zh: '异常流量', en: 'extra flow' },
  boiler_fault: { zh: '锅炉故障', en: 'boiler fault' },
  silent: { zh: '设备无响应', en: 'device silent' },
  hold: { zh: '数值锁定', en: 'values held' },
};

/** A fault in words, with its parameters: "lift stuck, 3 passengers, between floors". */
export function describeFault(f: Fault): Text {
  const w = FAULT_WORDS[f.type];
  const zh: string[] = [w.zh];
  const en: string[] = [w.en];
  const both = (z: string, e: string) => {
    zh.push(z);
    en.push(e);
  };
  switch (f.type) {
    case 'phase_loss':
      both(f.phases.map((p) => `L${p}`).join('、'), f.phases.map((p) => `L${p}`).join(', '));
      break;
    case 'lift_stuck':
      if (f.passengers !== undefined)
        both(`${f.passengers} 名乘客`, `${f.passengers} passenger${f.passengers === 1 ? '' : 's'}`);
      both(f.level ? '平层' : '非平层', f.level ? 'at a floor' : 'between floors');
      if (f.alarmButton) both('按下警铃', 'alarm button pressed');
      break;
    case 'pump_fail':
      if (f.alarmCode !== undefined) both(`报警代码 ${f.alarmCode}`, `alarm code ${f.alarmCode}`);
      if (f.afterPowerReturn) both('来电后无法启动', 'will not restart when power returns');
      break;
    case 'inflow':
      both(`${f.pctPerMin}%/分钟`, `${f.pctPerMin} %/min`);
      break;
    case 'flow':
      both(`${f.m3h} m³/h`, `${f.m3h} m³/h`);
      break;
    case 'boiler_fault':
      if (f.faultCode !== undefined) both(`故障代码 ${f.faultCode}`, `fault code ${f.faultCode}`);
      break;
    case 'hold': {
      const list = Object.entries(f.fields)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ');
      both(list, list);
      break;
    }
    default:
  }
  return { zh: zh.join('，'), en: en.join(', ') };
}

/**
 * One step in words, without its time: "t1-lift-a: lift stuck, 3 passengers, between floors",
 * "t1-incomer: power cut cleared", or the step's note. The drill log (with the time in front)
 * and the drills page's list of what a scenario will do both read this, so they say the same.
 */
export function describeStep(st: Pick<Scenario['steps'][number], 'inject' | 'clear' | 'note'>): Text {
  if (st.inject) {
    const f = describeFault(st.inject.fault);
    return { zh: `${st.inject.device}：注入${f.zh}`, en: `${st.inject.device}: ${f.en}` };
  }
  if (st.clear) {
    const { device, type } = st.clear;
    const f = type ? FAULT_WORDS[type] : { zh: '全部故障', en: 'every fault' };
    return { zh: `${device}：解除${f.zh}`, en: `${device}: ${f.en} cleared` };
  }
  return st.note ?? { zh: '', en: '' };
}

export class ScenarioRun {
  /** Every step applied so far, in order. */
  readonly log: AppliedStep[] = [];
  private next = 0;
  private lastNow: number;
  private aborted = false;
  /** Fault types this run set on each device and has not cleared since: what `abort` undoes. */
  private readonly injected = new Map<string, Set<FaultType>>();

  constructor(
    readonly scenario: Scenario,
    private readonly estate: EstateControl,
    /** Simulated epoch ms the scenario's time 0 stands for. */
    readonly startedAt: number,
  ) {
    this.lastNow = startedAt;
  }

  /** Simulated epoch ms at which the scenario is over. */
  get endsAt(): number {
    return this.startedAt + this.scenario.duration * 1000;
  }

  /** When the next step is due; undefined when none is left. */
  get nextDueAt(): number | undefined {
    const st = this.scenario.steps[this.next];
    return st && !this.aborted ? this.startedAt + st.at * 1000 : undefined;
  }

  /** Every step applied and the scenario's time run out (or aborted). */
  get finished(): boolean {
    return this.aborted || (this.next >= this.scenario.steps.length && this.lastNow >= this.endsAt);
  }

  /** Applies, in order, every step due by `now` (simulated epoch ms); returns what it applied. */
  advance(now: number): AppliedStep[] {
    if (this.aborted) return [];
    this.lastNow = Math.max(this.lastNow, now);
    const applied: AppliedStep[] = [];
    const steps = this.scenario.steps;
    while (this.next < steps.length && this.startedAt + steps[this.next]!.at * 1000 <= now) {
      const entry = this.apply(this.next, now);
      this.log.push(entry);
      applied.push(entry);
      this.next++;
    }
    return applied;
  }

  /**
   * Stops the run and clears every fault it set that is still set, so the estate goes back
   * to normal; returns what it cleared. Faults someone else set are left alone. Commands
   * the duty room sent to the devices it plays (a vacant flat's valve closed during the
   * drill) are put back too: otherwise the next run of the drill would find the valve shut
   * and no water to stop.
   */
  abort(): { device: string; type: FaultType }[] {
    const cleared: { device: string; type: FaultType }[] = [];
    if (this.aborted) return cleared;
    this.aborted = true;
    for (const device of targets(this.scenario)) {
      try {
        this.estate.release(device);
      } catch {
        // The device is gone from the estate: nothing to put back.
      }
    }
    for (const [device, types] of this.injected) {
      for (const type of types) {
        try {
          this.estate.clear(device, type);
          cleared.push({ device, type });
        } catch {
          // The device is gone from the estate: nothing left to clear on it.
        }
      }
    }
    this.injected.clear();
    return cleared;
  }

  private apply(index: number, now: number): AppliedStep {
    const st = this.scenario.steps[index]!;
    const base = {
      step: index,
      ...(st.id !== undefined ? { id: st.id } : {}),
      plannedAt: this.startedAt + st.at * 1000,
      at: now,
      ...(st.note ? { note: st.note } : {}),
    };
    const when = formatOffset(st.at);
    try {
      if (st.inject) {
        const { device, fault } = st.inject;
        this.estate.inject(device, fault);
        const types = this.injected.get(device) ?? new Set<FaultType>();
        types.add(fault.type);
        this.injected.set(device, types);
        const d = describeStep(st);
        return { ...base, action: 'inject', device, fault, what: { zh: `${when} ${d.zh}`, en: `${when} ${d.en}` } };
      }
      if (st.clear) {
        const { device, type } = st.clear;
        this.estate.clear(device, type);
        if (type === undefined) this.injected.delete(device);
        else this.injected.get(device)?.delete(type);
        const d = describeStep(st);
        return {
          ...base,
          action: 'clear',
          device,
          ...(type ? { faultType: type } : {}),
          what: { zh: `${when} ${d.zh}`, en: `${when} ${d.en}` },
        };
      }
      const note = st.note!;
      return { ...base, action: 'note', what: { zh: `${when} ${note.zh}`, en: `${when} ${note.en}` } };
    } catch (err) {
      const device = st.inject?.device ?? st.clear?.device;
      const message = (err as Error).message;
      return {
        ...base,
        action: st.inject ? 'inject' : 'clear',
        ...(device ? { device } : {}),
        ...(st.inject ? { fault: st.inject.fault } : {}),
        what: {
          zh: `${when} ${device ?? ''}：模拟园区拒绝此步骤（${message}）`,
          en: `${when} ${device ?? ''}: the simulated estate refused this step (${message})`,
        },
        error: message,
      };
    }
  }
}
