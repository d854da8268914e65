import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backfillSite } from '../app/history.js';
import { DEFAULT_CONFIG, loadSite } from '../gateway/config/site.js';
import { runMeterReport } from '../gateway/reports/run-meter-report.js';
import type { StoreDriver } from '../gateway/store/driver.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import { Influx2Driver } from '../gateway/store/influx2.js';
import { addDays, localDate, localMidnight } from '../rules/reports/calendar.js';
import type { MeterReport } from '../rules/reports/meter-report.js';
import { influxql, uniqueDb, waitFor } from './store-support.js';

// The meter report and the aggregated history on InfluxDB 2.x/3.x go through the 1.x-compatible
// /query API with the statements InfluxDB 1.x runs (gateway/store/README.md, "Queries on
// 2.x/3.x"). Here: (1) the 2.x/3.x driver's own query path (token header, parameters bound in
// the text, one statement per request) against the run's real InfluxDB 1.x engine, which must
// give the very report the 1.x driver gives; (2) the same report on influxdb:2.7 and
// influxdb:3-core in containers where a container runtime exists (skipped, with the reason,
// where none does: this project's machines have none).

const url = inject('influxUrl');
const { config } = loadSite(DEFAULT_CONFIG, { ...process.env, DUTYROOM_DATA_DIR: '/tmp' });
const tz = config.site.timezone;
const end = localMidnight('2026-11-20', tz);
const HISTORY = { days: 35, end, seed: 11, perKind: 2 } as const;
const period = { from: addDays('2026-11-20', -7), to: addDays('2026-11-20', -1) };
const database = uniqueDb('reports_v2');
const v1 = new Influx1Driver({ url, database });
let expected: MeterReport;

const report = (driver: StoreDriver, building?: string) =>
  runMeterReport({ config, driver, ...period, ...(building ? { building } : {}), now: end });

beforeAll(async () => {
  await backfillSite({ config, driver: v1, ...HISTORY });
  expected = await report(v1);
}, 180_000);
afterAll(async () => {
  await influxql(url, database, `DROP DATABASE "${database}"`).catch(() => undefined);
});

describe('the 2.x/3.x query path on the InfluxDB 1.x engine', () => {
  const v2 = () => new Influx2Driver({ url, org: 'unused', bucket: database, token: 'unused-on-1.x' });

  it('gives the same meter report as the 1.x driver, anomalies included', async () => {
    expect(expected.anomalies.length).toBeGreaterThan(5);
    expect(localDate(expected.start, tz)).toBe(period.from);
    expect(await report(v2())).toEqual(expected);
    const building = config.buildings[0]!.id;
    expect(await report(v2(), building)).toEqual(await report(v1, building));
  }, 120_000);

  it('gives the same aggregated history as the 1.x driver', async () => {
    const meter = expected.meters.find((m) => m.kind === 'water_meter')!;
    const q = {
      measurement: 'water_meter',
      deviceId: meter.id,
      from: end - 3 * 86_400_000,
      to: end,
      everyMs: 3_600_000,
      timezone: tz,
      columns: { flow: { field: 'flow_m3h', fn: 'mean' }, use: { field: 'total_m3', fn: 'use' } },
    } as const;
    const rows = await v2().aggregate(q);
    expect(rows).toHaveLength(72);
    expect(rows.filter((r) => r.values.use !== null).length).toBeGreaterThan(60);
    expect(rows).toEqual(await v1.aggregate(q));
  });
});

const noRuntime = await getContainerRuntimeClient().then(
  () => undefined,
  (err: Error) => err.message,
);
if (noRuntime !== undefined) {
  console.warn(
    `test/reports-influx2.test.ts: the influxdb:2.7 and influxdb:3-core parts are skipped: no container runtime (Docker or Podman) (${noRuntime}).`,
  );
}

const TOKEN = 'dutyroom-test-token-0123456789';

/** Writes the same history into a 2.x/3.x database and checks the report there is the 1.x one. */
async function sameReportOn(driver: Influx2Driver): Promise<void> {
  await driver.connect();
  await backfillSite({ config, driver, ...HISTORY });
  expect(await report(driver)).toEqual(expected);
}

describe.skipIf(noRuntime !== undefined)('the meter report on InfluxDB 2.7 (container)', () => {
  let container: StartedTestContainer;
  let base: string;
  beforeAll(async () => {
    container = await new GenericContainer('influxdb:2.7')
      .withEnvironment({
        DOCKER_INFLUXDB_INIT_MODE: 'setup',
        DOCKER_INFLUXDB_INIT_USERNAME: 'admin',
        DOCKER_INFLUXDB_INIT_PASSWORD: 'admin-password-123',
        DOCKER_INFLUXDB_INIT_ORG: 'dutyroom',
        DOCKER_INFLUXDB_INIT_BUCKET: 'init',
        DOCKER_INFLUXDB_INIT_ADMIN_TOKEN: TOKEN,
      })
      .withExposedPorts(8086)
      .withStartupTimeout(120_000)
      .start();
    base = `http://${container.getHost()}:${container.getMappedPort(8086)}`;
    const probe = new Influx2Driver({ url: base, org: 'dutyroom', bucket: 'init', token: TOKEN });
    await waitFor(() => probe.connect().then(() => true), 'InfluxDB 2.7 set up', 90_000);
  }, 180_000);
  afterAll(async () => {
    await container?.stop();
  });

  it('runs through /query once the bucket has a DBRP mapping', async () => {
    const driver = new Influx2Driver({ url: base, org: 'dutyroom', bucket: 'meters', token: TOKEN, timeoutMs: 30_000 });
    await driver.connect();
    const api = (path: string, init?: RequestInit) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const { buckets } = (await api('/api/v2/buckets?name=meters')) as { buckets: { id: string; orgID: string }[] };
    await api('/api/v2/dbrps', {
      method: 'POST',
      body: JSON.stringify({
        orgID: buckets[0]!.orgID,
        bucketID: buckets[0]!.id,
        database: 'meters',
        retention_policy: 'autogen',
        default: true,
      }),
    });
    await sameReportOn(driver);
  }, 300_000);
});

describe.skipIf(noRuntime !== undefined)('the meter report on InfluxDB 3 Core (container)', () => {
  let container: StartedTestContainer;
  let base: string;
  beforeAll(async () => {
    container = await new GenericContainer('influxdb:3-core')
      .withCommand(['influxdb3', 'serve', '--node-id', 'n1', '--object-store', 'memory', '--without-auth'])
      .withExposedPorts(8181)
      .withStartupTimeout(120_000)
      .start();
    base = `http://${container.getHost()}:${container.getMappedPort(8181)}`;
    const probe = new Influx2Driver({ url: base, org: 'dutyroom', bucket: 'meters', token: TOKEN });
    await waitFor(() => probe.ping(), 'InfluxDB 3 Core answers', 90_000);
  }, 180_000);
  afterAll(async () => {
    await container?.stop();
  });

  it('runs through /query with the database named after the bucket', async () => {
    await sameReportOn(
      new Influx2Driver({ url: base, org: 'dutyroom', bucket: 'meters', token: TOKEN, timeoutMs: 30_000 }),
    );
  }, 300_000);
});
