import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

// The subset of Grafana's dashboard JSON and provisioning files that grafana/ uses, and a
// small expander of the macros and variables Grafana puts into an InfluxQL query before it
// sends it (as its InfluxDB datasource does):
//   $timeFilter  → time >= <from>ms and time <= <to>ms   (an absolute range, as Grafana sends)
//   $__interval  → the interval given (e.g. 1h)
//   $name        → the variable's value; inside a regex (/^$name$/) its values regex-escaped
//                  and joined as (a|b), elsewhere the first value
// Anything else starting with $ is left, and the test refuses it.

export const GRAFANA_DIR = join(import.meta.dirname, '..', '..', 'grafana');

const Ref = z.object({ type: z.enum(['influxdb', 'prometheus']), uid: z.string() });
const InfluxTarget = z.object({
  refId: z.string(),
  datasource: Ref.optional(),
  rawQuery: z.literal(true),
  resultFormat: z.literal('time_series'),
  query: z.string().min(1),
  alias: z.string().optional(),
});
const PromTarget = z.object({
  refId: z.string(),
  datasource: Ref.optional(),
  expr: z.string().min(1),
  legendFormat: z.string().optional(),
});
const Panel = z.object({
  id: z.number().int(),
  type: z.enum(['timeseries', 'state-timeline', 'stat', 'table', 'barchart']),
  title: z.string(),
  datasource: Ref,
  gridPos: z.object({ h: z.number(), w: z.number().max(24), x: z.number().max(23), y: z.number() }),
  targets: z.array(z.union([InfluxTarget, PromTarget])).min(1),
});
const Variable = z.object({
  name: z.string().regex(/^[a-z_]+$/),
  label: z.string(),
  type: z.enum(['query', 'custom']),
  datasource: Ref.optional(),
  query: z.union([z.string(), z.object({ query: z.string() })]),
  multi: z.boolean(),
  includeAll: z.boolean(),
});
export const Dashboard = z.object({
  uid: z.string().regex(/^dutyroom-[a-z]+$/),
  title: z.string(),
  schemaVersion: z.number(),
  time: z.object({ from: z.string(), to: z.string() }),
  templating: z.object({ list: z.array(Variable) }),
  panels: z.array(Panel).min(1),
});
export type Dashboard = z.infer<typeof Dashboard>;
export type Variable = z.infer<typeof Variable>;
export type InfluxTarget = z.infer<typeof InfluxTarget>;

export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  const dir = join(GRAFANA_DIR, 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: Dashboard.parse(JSON.parse(readFileSync(join(dir, file), 'utf8'))) }));
}

const Provisioned = z.object({
  apiVersion: z.literal(1),
  datasources: z.array(z.object({ uid: z.string(), type: z.string(), url: z.string() })),
});

/** The datasources provisioned by the file, by uid. */
export function provisionedDatasources(path: string): Map<string, { type: string; url: string }> {
  const file = Provisioned.parse(parse(readFileSync(path, 'utf8')));
  return new Map(file.datasources.map((d) => [d.uid, d]));
}

export interface Expansion {
  from: number;
  to: number;
  interval: string;
  vars: Record<string, string[]>;
}

const regexEscape = (s: string) => s.replace(/[\\^$*+?.()|{}[\]/-]/g, '\\$&');

/** The query as Grafana sends it (see the header comment). */
export function expandInfluxql(query: string, e: Expansion): string {
  let q = query
    .replaceAll('$timeFilter', `time >= ${e.from}ms and time <= ${e.to}ms`)
    .replaceAll('$__interval', e.interval);
  // Inside /…/ first, so a variable in a regex gets the regex form.
  q = q.replace(/\/\^?\$([a-z_]+)\$?\//g, (whole, name: string) => {
    const v = e.vars[name];
    if (!v) return whole;
    const alt = v.length === 1 ? regexEscape(v[0]!) : `(${v.map(regexEscape).join('|')})`;
    return `/^${alt}$/`;
  });
  return q.replace(/\$([a-z_]+)/g, (whole, name: string) => e.vars[name]?.[0] ?? whole);
}

/** A custom variable's values (its comma-separated query). */
export function customValues(v: Variable): string[] {
  const q = typeof v.query === 'string' ? v.query : v.query.query;
  return q
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The metric names a PromQL expression uses (ours all start with dutyroom_). */
export function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(dutyroom_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

/** Every metric name in a /metrics text, histogram and summary series included. */
export function exposedMetrics(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (m) {
      names.add(m[1]!);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
      if (m[2] === 'summary') for (const s of ['_sum', '_count']) names.add(m[1]! + s);
    } else if (/^[a-z_]/.test(line)) names.add(line.split(/[{ ]/)[0]!);
  }
  return names;
}
