import { describe, expect, it } from 'vitest';
import { siteFacts } from '../../gateway/alarms/facts.js';
import { loadPlaybooks } from '../../gateway/incidents/playbooks.js';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import { DEFAULT_CONFIG, loadSite } from '../../gateway/config/site.js';
import { ALARM_KINDS } from '../../rules/alarms/kinds.js';
import { RuleEngine } from '../../rules/engine.js';
import { DEVICE_KINDS } from '../../rules/model/fields.js';
import { Estate } from '../estate/estate.js';
import { MODELS } from '../estate/models/index.js';
import { simDevices } from '../estate/site.js';
import type { Fields } from '../estate/types.js';
import { fitProblems, loadScenarios } from './load.js';
import { ScenarioRun } from './runner.js';
import {
  FAULT_FITS,
  FAULT_TYPES,
  formatOffset,
  targets,
  type ReadingExpectation,
  type Scenario,
  type ScenarioSite,
} from './schema.js';
import { scopeOf } from '../drill/controller.js';

// The shipped scenarios against the demo site: every device they name exists and fits its
// fault, and each one, run on the real simulated estate with the real rule engine in virtual
// time, raises the alarms it promises (muted where it says so) by the time it says, opens the
// playbooks it lists and shows the readings it lists. This is the end-to-end check of issue 4
// minus the wire: the transports are tested on their own (test/simulators.test.ts).

const { config } = loadSite(DEFAULT_CONFIG, { DUTYROOM_DATA_DIR: '/nonexistent' });
const profiles = loadRegisterProfiles();
const devices = simDevices(config, profiles);
const playbooks = loadPlaybooks();
const site: ScenarioSite = {
  id: config.site.id,
  devices,
  playbooks: { ids: new Set(playbooks.byId.keys()), forKind: (k) => playbooks.forKind(k)?.id },
};
const shipped = loadScenarios();
/** 2026-11-22 10:00 in Shanghai: a weekday morning in the heating season. */
const START = Date.parse('2026-11-22T10:00:00+08:00');

describe('shipped scenarios', () => {
  it('are the six of issue 4, one per file', () => {
    expect(shipped.map((s) => s.scenario.name).sort()).toEqual([
      'boiler-failure',
      'flood-basement',
      'grid-outage',
      'internal-circuit-fault',
      'lift-entrapment',
      'vacant-unit-leak',
    ]);
  });

  it.each(shipped.map((s) => [s.scenario.name, s] as const))(
    '%s fits the demo site: devices exist, faults and alarms fit them, playbooks follow',
    (_name, loaded) => {
      expect(fitProblems(loaded, site)).toEqual([]);
    },
  );

  it('fit faults to device kinds as the estate does', () => {
    for (const kind of DEVICE_KINDS) {
      const here = FAULT_TYPES.filter(
        (t) => FAULT_FITS[t] === 'any' || (FAULT_FITS[t] as readonly string[]).includes(kind),
      ).sort();
      expect(here, kind).toEqual(['hold', 'silent', ...MODELS[kind].faults].sort());
    }
  });
});

interface Outcome {
  /**
   * `kind@device` → when it first fired, whether it was muted then, and when it was first seen
   * firing unmuted (a failure right after a power cut returns is muted until the cut clears).
   */
  fired: Map<string, { at: number; inhibited: boolean; unmutedAt?: number }>;
  /** Index of a reading expectation → when the device first showed it. */
  seen: Map<number, number>;
  run: ScenarioRun;
}

function matches(r: ReadingExpectation, fields: Fields): boolean {
  const v = fields[r.field];
  if (v === undefined) return false;
  if (r.equals !== undefined) return v === r.equals;
  if (typeof v !== 'number') return false;
  return (r.above === undefined || v > r.above) && (r.below === undefined || v < r.below);
}

/** Warms the estate up for five minutes, then runs the scenario to its end, second by second. */
function play(scenario: Scenario, seed = 7): Outcome {
  const facts = siteFacts(config);
  const estate = new Estate({ config, profiles, seed, start: START });
  const engine = new RuleEngine({ facts, start: START });
  const fired: Outcome['fired'] = new Map();
  const seen: Outcome['seen'] = new Map();
  const scope = new Set(scopeOf(targets(scenario), estate));
  const step = (now: number, run?: ScenarioRun) => {
    run?.advance(now);
    for (const o of estate.advance(now)) {
      if (!('fields' in o)) continue;
      engine.observe(
        {
          deviceId: o.deviceId,
          kind: facts.devices.get(o.deviceId)!.kind,
          ts: o.ts,
          fields: o.fields,
          quality: 'good',
        },
        o.ts,
      );
      if (run) {
        scenario.expects.readings.forEach((r, i) => {
          const cause = run.log.find((e) => e.step === r.afterStep);
          if (!seen.has(i) && cause && o.deviceId === r.device && o.ts >= cause.at && matches(r, o.fields))
            seen.set(i, o.ts);
        });
      }
    }
    const changes = engine.evaluate(now, run ? { id: 'drill-test', scope } : undefined);
    if (!run) return;
    const views = changes.length || [...fired.values()].some((f) => f.unmutedAt === undefined) ? engine.active() : [];
    for (const c of changes) {
      if (c.event.type !== 'firing') continue;
      const key = `${c.alarm.kind}@${c.alarm.deviceId}`;
      const view = views.find((a) => a.id === c.alarm.id);
      if (!fired.has(key)) fired.set(key, { at: now, inhibited: view?.inhibitedBy !== undefined });
      // I1: the drill's alarms are those on the devices it plays; anything else stays real.
      expect(c.alarm.drill).toBe(scope.has(c.alarm.deviceId) ? 'drill-test' : undefined);
    }
    for (const v of views) {
      const f = fired.get(`${v.kind}@${v.deviceId}`);
      if (f && f.unmutedAt === undefined && v.status === 'firing' && !v.inhibitedBy) f.unmutedAt = now;
    }
  };
  for (let t = START + 1000; t <= START + 5 * 60_000; t += 1000) step(t);
  // As the drill controller does: the run starts now, and what is due at 00:00 is applied at once.
  const run = new ScenarioRun(scenario, estate, estate.now());
  run.advance(estate.now());
  while (!run.finished) step(estate.now() + 1000, run);
  return { fired, seen, run };
}

describe.each(shipped.map((s) => [s.scenario.name, s.scenario] as const))(
  'scenario %s on the demo estate with the real rules',
  (_name, scenario) => {
    const outcome = play(scenario);
    const causeAt = (step: number) => outcome.run.log.find((e) => e.step === step)!.at;

    it('applies every step, none refused by the estate', () => {
      expect(outcome.run.log.map((e) => e.step)).toEqual(scenario.steps.map((_s, i) => i));
      expect(outcome.run.log.filter((e) => e.error)).toEqual([]);
      for (const e of outcome.run.log) expect(e.at - e.plannedAt).toBeLessThan(1000);
    });

    it.each(
      scenario.expects.alarms.map(
        (a) =>
          [`${a.kind}@${a.device}${a.inhibited ? ' (inhibited)' : ''} within ${formatOffset(a.within)}`, a] as const,
      ),
    )('raises %s', (_label, a) => {
      const got = outcome.fired.get(`${a.kind}@${a.device}`);
      expect(got, `${a.kind} on ${a.device} never fired; fired: ${[...outcome.fired.keys()].join(', ')}`).toBeDefined();
      const cause = causeAt(a.afterStep);
      const after = (got!.at - cause) / 1000;
      expect(after, `${a.kind} on ${a.device} fired ${after} s after its cause`).toBeLessThanOrEqual(a.within);
      expect(after).toBeGreaterThanOrEqual(0);
      if (a.inhibited) {
        expect(got!.inhibited, `${a.kind} on ${a.device} should fire muted by the lost supply`).toBe(true);
      } else {
        expect(got!.unmutedAt, `${a.kind} on ${a.device} never showed unmuted`).toBeDefined();
        expect((got!.unmutedAt! - cause) / 1000, `${a.kind} on ${a.device} unmuted late`).toBeLessThanOrEqual(a.within);
      }
    });

    it('opens the playbooks it lists, and only those, through its critical alarms', () => {
      const opened = new Set<string>();
      for (const key of outcome.fired.keys()) {
        const kind = key.split('@')[0] as keyof typeof ALARM_KINDS;
        const pb = playbooks.forKind(kind);
        if (pb) opened.add(pb.id);
      }
      expect([...opened].sort()).toEqual([...scenario.expects.playbooks].sort());
    });

    it.each(
      scenario.expects.readings.map(
        (r, i) =>
          [
            `${r.device}.${r.field} ${r.equals !== undefined ? `= ${String(r.equals)}` : `${r.above !== undefined ? `> ${r.above}` : ''}${r.below !== undefined ? ` < ${r.below}` : ''}`}`,
            i,
            r,
          ] as const,
      ),
    )('shows %s in time', (_label, i, r) => {
      const at = outcome.seen.get(i);
      expect(at, `${r.device} never showed ${r.field} as expected`).toBeDefined();
      expect((at! - causeAt(r.afterStep)) / 1000).toBeLessThanOrEqual(r.within);
    });

    it('raises no alarm it does not expect, except minor side effects', () => {
      const expected = new Set(scenario.expects.alarms.map((a) => `${a.kind}@${a.device}`));
      const surprises = [...outcome.fired.keys()].filter(
        (k) =>
          !expected.has(k) &&
          !['minor', 'warning'].includes(ALARM_KINDS[k.split('@')[0] as keyof typeof ALARM_KINDS].severity),
      );
      expect(surprises).toEqual([]);
    });
  },
);
