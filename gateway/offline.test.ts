import { describe, expect, it } from 'vitest';
import { RuleEngine } from '../rules/engine.js';
import { siteFacts } from './alarms/facts.js';
import { parseConfig } from './config/load.js';
import { ManualClock } from './ports/manual-clock.js';
import { DeviceRegistry } from './registry.js';

// "Offline" is the rules' offline_intervals: the device list and the device_offline alarm
// must turn at the same instant, whatever the site sets it to.

function site(thresholds: string) {
  return parseConfig(
    `
site: { id: s1, name: S }
buildings:
  - id: b1
    name: B1
    floors: { lowest: 1, highest: 5 }
devices:
  - { id: wm, kind: water_meter, protocol: mqtt, publish_interval_s: 10, place: { building: b1, floor: "1" } }
${thresholds}
`,
    't.yaml',
    { env: {} },
  );
}

/** The instant (ms after the last reading) each of the two views first calls the meter offline. */
function turnsOfflineAfter(thresholds: string): { registry: number; alarm: number; told: number } {
  const config = site(thresholds);
  const clock = new ManualClock();
  const registry = new DeviceRegistry(config, clock);
  const engine = new RuleEngine({ facts: siteFacts(config), start: clock.now(), sweepMs: 0 });
  const reading = {
    deviceId: 'wm',
    kind: 'water_meter' as const,
    ts: clock.now(),
    fields: {},
    quality: 'good' as const,
  };
  registry.observe(reading);
  engine.observe(reading, clock.now());
  engine.evaluate(clock.now());
  const heard = clock.now();
  const seen: { registry?: number; alarm?: number } = {};
  for (let step = 0; step < 200 && (seen.registry === undefined || seen.alarm === undefined); step++) {
    clock.advance(500);
    if (seen.registry === undefined && !registry.get('wm')!.online) seen.registry = clock.now() - heard;
    const fired = engine.evaluate(clock.now()).some((c) => c.alarm.kind === 'device_offline');
    if (seen.alarm === undefined && fired) seen.alarm = clock.now() - heard;
  }
  // What the page is told, to judge a reading stale by the same rule.
  return { registry: seen.registry ?? -1, alarm: seen.alarm ?? -1, told: registry.get('wm')!.offlineAfterSeconds };
}

describe('offline, one definition', () => {
  it('is 3 intervals by default, in the device list and in the alarm alike', () => {
    expect(turnsOfflineAfter('')).toEqual({ registry: 30_500, alarm: 30_500, told: 30 });
  });

  it('follows the site’s offline_intervals in both', () => {
    expect(turnsOfflineAfter('thresholds: { site: { offline_intervals: 5 } }')).toEqual({
      registry: 50_500,
      alarm: 50_500,
      told: 50,
    });
    expect(turnsOfflineAfter('thresholds: { devices: { wm: { offline_intervals: 2 } } }')).toEqual({
      registry: 20_500,
      alarm: 20_500,
      told: 20,
    });
  });
});
