import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../rules/model/reading.js';
import { parseConfig } from '../config/load.js';
import { Metrics } from '../metrics.js';
import { DeviceRegistry } from '../registry.js';
import { SpoolFullError } from '../store/errors.js';
import type { Point } from '../store/driver.js';
import { CONGESTED_READINGS, APPEND_MAX, Pipeline } from './pipeline.js';

const config = parseConfig(
  `site: { id: s1, name: S1 }
buildings: [{ id: b1, name: B1, floors: { lowest: 1, highest: 2 } }]
devices:
  - { id: m1, kind: water_meter, protocol: mqtt, place: { building: b1, floor: "1" } }
`,
  'pipeline.test.yaml',
  { env: {} },
);
const clock = { now: () => 1_800_000_000_000 };

/** A spool whose appends settle when the test says so. */
function setup() {
  const appends: { points: Point[]; accept: () => void; refuse: (err: Error) => void }[] = [];
  const metrics = new Metrics();
  const pipeline = new Pipeline({
    site: 's1',
    registry: new DeviceRegistry(config, clock),
    store: {
      append: (points) => new Promise<void>((accept, refuse) => appends.push({ points: [...points], accept, refuse })),
    },
    metrics,
    logger: pino({ level: 'silent' }),
    clock,
  });
  return { pipeline, appends, metrics };
}

const reading = (n: number): Reading => ({
  deviceId: 'm1',
  kind: 'water_meter',
  ts: clock.now() - n,
  fields: { total_m3: n },
  quality: 'good',
});
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('Pipeline', () => {
  it('appends the readings of one turn together and counts them as waiting until the spool settles', async () => {
    const { pipeline, appends } = setup();
    const results = [1, 2, 3].map((n) => pipeline.ingest(reading(n)));
    expect(pipeline.waiting).toBe(3);
    await nextTurn();
    expect(appends).toHaveLength(1);
    expect(appends[0]!.points.map((p) => p.fields.total_m3)).toEqual([1, 2, 3]);
    expect(appends[0]!.points[0]!.tags).toEqual({ site: 's1', building: 'b1', floor: '1', device: 'm1' });
    expect(pipeline.waiting).toBe(3);
    pipeline.ingest(reading(4));
    expect(pipeline.waiting).toBe(4);
    appends[0]!.accept();
    expect(await Promise.all(results)).toEqual([{ accepted: true }, { accepted: true }, { accepted: true }]);
    expect(pipeline.waiting).toBe(1);
  });

  it('is congested past CONGESTED_READINGS waiting, and no longer once they are settled, accepted or refused', async () => {
    const { pipeline, appends } = setup();
    for (let n = 0; n < CONGESTED_READINGS; n++) void pipeline.ingest(reading(n));
    expect(pipeline.congested).toBe(false);
    await nextTurn();
    const last = pipeline.ingest(reading(-1));
    expect(pipeline.congested).toBe(true);
    await nextTurn();
    const parts = CONGESTED_READINGS / APPEND_MAX;
    expect(appends).toHaveLength(parts + 1);
    appends[parts]!.refuse(new SpoolFullError('spool full'));
    expect(await last).toMatchObject({ accepted: false, reason: 'spool_full' });
    expect(pipeline.waiting).toBe(CONGESTED_READINGS);
    expect(pipeline.congested).toBe(false);
    for (const a of appends.slice(0, parts)) a.accept();
    await nextTurn();
    expect(pipeline.waiting).toBe(0);
  });

  it('is overloaded past twice CONGESTED_READINGS waiting', async () => {
    const { pipeline, appends } = setup();
    for (let n = 0; n < 2 * CONGESTED_READINGS; n++) void pipeline.ingest(reading(n));
    expect([pipeline.congested, pipeline.overloaded]).toEqual([true, false]);
    void pipeline.ingest(reading(-1));
    expect(pipeline.overloaded).toBe(true);
    await nextTurn();
    for (const a of appends) a.accept();
    await nextTurn();
    expect([pipeline.congested, pipeline.overloaded]).toEqual([false, false]);
  });

  it('appends a turn of more than APPEND_MAX readings in parts, in order, each settling its own readings', async () => {
    const { pipeline, appends, metrics } = setup();
    const results = Array.from({ length: APPEND_MAX + 2 }, (_, n) => pipeline.ingest(reading(n)));
    // The full part goes at once, before the turn ends.
    expect(appends).toHaveLength(1);
    await nextTurn();
    expect(appends.map((a) => a.points.length)).toEqual([APPEND_MAX, 2]);
    expect(appends.flatMap((a) => a.points.map((p) => p.fields.total_m3))).toEqual(
      Array.from({ length: APPEND_MAX + 2 }, (_, n) => n),
    );
    appends[1]!.refuse(new SpoolFullError('spool full'));
    appends[0]!.accept();
    const outcomes = await Promise.all(results);
    expect(outcomes.slice(0, APPEND_MAX).every((o) => o.accepted)).toBe(true);
    expect(outcomes.slice(APPEND_MAX).map((o) => o.accepted)).toEqual([false, false]);
    // The refused part's readings are counted under their device's protocol, after its points were let go.
    const rejected = (await metrics.readingsRejected.get()).values.filter((v) => v.labels.reason === 'spool_full');
    expect(rejected.map((v) => [v.labels.protocol, v.value])).toEqual([['mqtt', 2]]);
  });
});
