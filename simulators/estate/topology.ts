// Who has power. The site file's `feeder` links make a tree of electricity meters with the
// devices they feed hanging off it; a supply lost at one meter is lost for everything below.
//
//   incomer (power_cut)          reads 0 V on every phase: its own supply is gone
//    ├─ lift circuit             unpowered (dark)
//    │   └─ lift A, lift B       unpowered: cars stop, terminals report on battery
//    └─ unit meters              unpowered (dark)
//
// A tripped breaker (breaker_trip) sits after its meter's voltage sensing: the meter still
// reads its voltage, with no current, and everything it feeds is unpowered. A lost phase
// (phase_loss) travels down too: three-phase meters below read 0 V on it and three-phase
// motors trip.

export interface FeederFaults {
  /** The meter's own supply is cut (power_cut). */
  cut: boolean;
  /** The meter's breaker is open (breaker_trip). */
  tripped: boolean;
  /** Phases lost at this meter (phase_loss). */
  lostPhases: readonly number[];
}

/**
 * - `live`: power reaches the device;
 * - `cut`: the device is a meter whose own supply is cut (it reports 0 V: see README);
 * - `off`: a meter above it is cut or tripped.
 */
export type Supply = 'live' | 'cut' | 'off';

export class PowerTopology {
  private readonly feederOf = new Map<string, string>();
  private readonly childrenOf = new Map<string, string[]>();
  private readonly order: string[];

  /** `devices` in site-file order; a feeder that is not among them is ignored (a partial estate). */
  constructor(devices: readonly { id: string; feeder?: string }[]) {
    const ids = new Set(devices.map((d) => d.id));
    for (const d of devices) {
      if (!d.feeder || !ids.has(d.feeder)) continue;
      this.feederOf.set(d.id, d.feeder);
      const list = this.childrenOf.get(d.feeder) ?? [];
      list.push(d.id);
      this.childrenOf.set(d.feeder, list);
    }
    for (const d of devices) {
      const seen = new Set<string>([d.id]);
      for (let f = this.feederOf.get(d.id); f; f = this.feederOf.get(f)) {
        if (seen.has(f)) throw new Error(`power topology: feeder loop through ${[...seen].join(' → ')} → ${f}`);
        seen.add(f);
      }
    }
    // Deepest first: a meter's load is the sum of what hangs below it, so those come first.
    this.order = devices.map((d) => d.id).sort((a, b) => this.depth(b) - this.depth(a));
  }

  feeder(id: string): string | undefined {
    return this.feederOf.get(id);
  }

  /** Devices fed directly by `id`. */
  children(id: string): readonly string[] {
    return this.childrenOf.get(id) ?? [];
  }

  /** The feeder chain upwards, nearest first. */
  ancestors(id: string): string[] {
    const out: string[] = [];
    for (let f = this.feederOf.get(id); f; f = this.feederOf.get(f)) out.push(f);
    return out;
  }

  /** Everything below `id`, at any depth. */
  descendants(id: string): string[] {
    const out: string[] = [];
    const walk = (at: string) => {
      for (const c of this.children(at)) {
        out.push(c);
        walk(c);
      }
    };
    walk(id);
    return out;
  }

  depth(id: string): number {
    return this.ancestors(id).length;
  }

  /** Every device, the deepest in the tree first (for summing loads bottom-up). */
  bottomUp(): readonly string[] {
    return this.order;
  }

  supply(id: string, faults: (meterId: string) => FeederFaults | undefined): Supply {
    for (const a of this.ancestors(id)) {
      const f = faults(a);
      if (f && (f.cut || f.tripped)) return 'off';
    }
    return faults(id)?.cut ? 'cut' : 'live';
  }

  /** Phases lost at the device's own meter or anywhere above it. */
  lostPhases(id: string, faults: (meterId: string) => FeederFaults | undefined): number[] {
    const lost = new Set<number>();
    for (const m of [id, ...this.ancestors(id)]) for (const p of faults(m)?.lostPhases ?? []) lost.add(p);
    return [...lost].sort();
  }
}
