import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backfillSite } from '../app/history.js';
import { DEFAULT_CONFIG, loadSite } from '../gateway/config/site.js';
import { startGateway } from '../gateway/gateway.js';
import { openStoreSink } from '../gateway/pipeline/store-sink.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import type { Reading } from '../rules/model/reading.js';
import { localMidnight } from '../rules/reports/calendar.js';
import {
  GRAFANA_DIR,
  customValues,
  expandInfluxql,
  exposedMetrics,
  loadDashboards,
  metricNames,
  provisionedDatasources,
  type Expansion,
} from './support/grafana.js';
import { influxql, uniqueDb } from './store-support.js';
import { testSite } from './support/site.js';

// The provisioned Grafana dashboards (grafana/): every file is checked against the subset of
// Grafana's schema they use, every InfluxQL panel query (and variable query) is expanded as
// Grafana would (test/support/grafana.ts) and run against the run's real influxd holding a
// simulated history of the demo estate (meters from the history simulator; lifts, pumps and
// sump pits written through the store's write path) and must return a series with values;
// every metric a gateway-health panel asks Prometheus for must be in a real gateway's /metrics.

const url = inject('influxUrl');
const database = uniqueDb('grafana');
const { config } = loadSite(DEFAULT_CONFIG, { ...process.env, DUTYROOM_DATA_DIR: '/tmp' });
const driver = new Influx1Driver({ url, database });
const HOUR = 3_600_000;
const end = localMidnight('2026-11-20', config.site.timezone);
const from = end - 3 * 24 * HOUR;
const dashboards = loadDashboards();
const datasources = provisionedDatasources(join(GRAFANA_DIR, 'provisioning', 'datasources', 'dutyroom.yaml'));
const variant = provisionedDatasources(join(GRAFANA_DIR, 'variants', 'influxdb2-influxql.yaml'));

/**
 * Two days every 10 minutes of what the meter history has not: lifts going up and down, pumps
 * cycling on their pits, and the voltages and frequency of the incomer and circuit meters.
 */
function plantReadings(): Reading[] {
  const out: Reading[] = [];
  const devices = config.devices.filter(
    (d) => ['lift', 'pump', 'level_sensor'].includes(d.kind) || (d.kind === 'electricity_meter' && !d.place.unit),
  );
  for (let ts = end - 2 * 24 * HOUR, i = 0; ts < end; ts += 600_000, i++) {
    for (const d of devices) {
      const on = i % 6 < 2;
      const fields: Reading['fields'] =
        d.kind === 'lift'
          ? {
              floor: 1 + (i % 12),
              direction: i % 3 === 0 ? 'stopped' : i % 2 ? 'up' : 'down',
              in_door_zone: i % 3 === 0,
              door: i % 3 === 0 ? 'open' : 'closed',
              occupied: i % 4 === 0,
              alarm_button: false,
              mode: 'normal',
            }
          : d.kind === 'electricity_meter'
            ? { voltage_l1_v: 221 + (i % 5), voltage_l2_v: 219, voltage_l3_v: 220.5, frequency_hz: 50 }
            : d.kind === 'pump'
              ? { running: on, fault: false, pressure_kpa: on ? 320 : 280, current_a: on ? 12.5 : 0 }
              : { level_pct: 20 + (i % 6) * 12, high_float: i % 6 === 5 };
      out.push({ deviceId: d.id, kind: d.kind, ts, fields, quality: 'good' });
    }
  }
  return out;
}

beforeAll(async () => {
  await backfillSite({ config, driver, days: 3, end, seed: 3, perKind: 1 });
  const sink = await openStoreSink(config, driver, { now: () => end });
  await sink.write(plantReadings());
}, 180_000);
afterAll(async () => {
  await influxql(url, database, `DROP DATABASE "${database}"`).catch(() => undefined);
});

/** One InfluxQL statement as Grafana sends it (GET /query, epoch=ms); the first result. */
async function grafanaQuery(q: string): Promise<{ error?: string; series?: { values: unknown[][] }[] }> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db: database, q, epoch: 'ms' })}`);
  const body = (await res.json()) as {
    error?: string;
    results?: { error?: string; series?: { values: unknown[][] }[] }[];
  };
  return body.error ? { error: body.error } : (body.results?.[0] ?? { error: 'no result' });
}

const hasValues = (series: { values: unknown[][] }[] | undefined) =>
  (series ?? []).some((s) => s.values.some((row) => row.slice(1).some((v) => v !== null && v !== '')));

describe('grafana/ provisioning files', () => {
  it('provisions the InfluxDB and Prometheus datasources the dashboards name; the 2.x variant keeps the uid', () => {
    expect(datasources.get('dutyroom-influxdb')).toMatchObject({ type: 'influxdb', url: '${INFLUX_URL}' });
    expect(datasources.get('dutyroom-prometheus')).toMatchObject({ type: 'prometheus', url: '${PROMETHEUS_URL}' });
    expect(variant.get('dutyroom-influxdb')).toMatchObject({ type: 'influxdb' });
    expect(dashboards.map((d) => d.file)).toEqual([
      'energy.json',
      'gateway.json',
      'lifts.json',
      'pumps.json',
      'water.json',
    ]);
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.title, file).toMatch(/^\p{Script=Han}.* · [A-Z][a-z]/u);
      for (const p of dashboard.panels) {
        expect(p.title, `${file}: ${p.title}`).toMatch(/\p{Script=Han}.* · [A-Z]/u);
        for (const t of p.targets) {
          const ds = t.datasource ?? p.datasource;
          expect(datasources.get(ds.uid)?.type, `${file}: ${p.title}`).toBe(ds.type);
          expect('query' in t ? 'influxdb' : 'prometheus', `${file}: ${p.title}`).toBe(ds.type);
        }
      }
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
    }
  });

  it('the vacant-unit variable lists the vacant units of the demo estate', () => {
    const water = dashboards.find((d) => d.file === 'water.json')!.dashboard;
    const vacant = water.templating.list.find((v) => v.name === 'vacant_unit')!;
    const demo = config.buildings.flatMap((b) => (b.units ?? []).filter((u) => u.vacant).map((u) => u.id));
    expect(customValues(vacant).sort()).toEqual(demo.sort());
  });
});

const influxPanels = dashboards.flatMap(({ file, dashboard }) =>
  dashboard.panels.flatMap((p) =>
    p.targets.flatMap((t) =>
      'query' in t ? [{ name: `${file}: ${p.title} (${t.refId})`, query: t.query, dashboard }] : [],
    ),
  ),
);

/** The variables of a dashboard, set to a building of the simulated history. */
function expansion(d: (typeof dashboards)[number]['dashboard']): Expansion {
  const vars: Record<string, string[]> = { site: [config.site.id], building: [config.buildings[0]!.id] };
  for (const v of d.templating.list) if (v.type === 'custom') vars[v.name] = customValues(v);
  return { from, to: end, interval: '1h', vars };
}

describe('every InfluxQL panel returns data from the simulated history', () => {
  it('covers every device kind the dashboards are for', () => {
    const kinds = new Set(influxPanels.flatMap((p) => [...p.query.matchAll(/FROM "([a-z_]+)"/g)].map((m) => m[1])));
    expect([...kinds].sort()).toEqual(['electricity_meter', 'level_sensor', 'lift', 'pump', 'water_meter']);
  });

  it.each(influxPanels)('$name', async ({ query, dashboard }) => {
    const q = expandInfluxql(query, expansion(dashboard));
    expect(q, 'a macro or variable left unexpanded').not.toMatch(/\$[A-Za-z_]/);
    const result = await grafanaQuery(q);
    expect(result.error, q).toBeUndefined();
    expect(hasValues(result.series), `no values: ${q}`).toBe(true);
  });

  it('every query variable lists values', async () => {
    for (const { file, dashboard } of dashboards) {
      for (const v of dashboard.templating.list) {
        if (v.type !== 'query' || v.datasource?.type !== 'influxdb') continue;
        const q = expandInfluxql(typeof v.query === 'string' ? v.query : v.query.query, expansion(dashboard));
        const result = await grafanaQuery(q);
        expect(result.error, `${file} $${v.name}`).toBeUndefined();
        expect(hasValues(result.series), `${file} $${v.name}: ${q}`).toBe(true);
      }
    }
  });
});

describe('the gateway-health panels', () => {
  it("use only metrics a real gateway's /metrics has", async () => {
    const { config: site, baseDir } = testSite({ influxUrl: url, database: uniqueDb('grafana_metrics') });
    const gw = await startGateway({ config: site, baseDir, logger: pino({ level: 'silent' }) });
    let text: string;
    try {
      text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    } finally {
      await gw.stop();
    }
    const exposed = exposedMetrics(text);
    const used = new Set<string>();
    for (const { dashboard } of dashboards) {
      for (const p of dashboard.panels)
        for (const t of p.targets) if ('expr' in t) metricNames(t.expr).forEach((m) => used.add(m));
      for (const v of dashboard.templating.list)
        if (v.datasource?.type === 'prometheus')
          metricNames(typeof v.query === 'string' ? v.query : v.query.query).forEach((m) => used.add(m));
    }
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((m) => !exposed.has(m))).toEqual([]);
  }, 60_000);
});
