import { systemClock } from '../gateway/ports/clock.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { addDays, isDate, localDate, localMidnight } from '../rules/reports/calendar.js';
import { ANOMALY_KINDS, ANOMALY_KIND_NAMES } from '../rules/reports/meter-model.js';
import { backfillSite } from './history.js';
import { openCliDatabase } from '../gateway/store/cli-database.js';
import { ReportRequestError, runMeterReport } from '../gateway/reports/run-meter-report.js';
import { CSV_TABLES, meterReportCsv, meterReportHtml } from '../gateway/reports/render.js';
import { DEFAULT_CONFIG, loadSite } from '../gateway/config/site.js';

// `dutyroom report meters` and `dutyroom simulate history`: the meter-anomaly report of any
// period as CSV files and a printable page, and weeks of planted history to try it on.

export const REPORT_USAGE = `usage:
  dutyroom report meters --from YYYY-MM-DD --to YYYY-MM-DD [--building ID] [--out DIR]
        表具异常报告 the meter-anomaly report of those days (both included, site time zone):
        DIR/meters-FROM_TO[-BUILDING].html (printable) and …-anomalies.csv, …-totals.csv, …-daily.csv
  dutyroom simulate history --days N [--seed S] [--end YYYY-MM-DD] [--interval SECONDS] [--truth FILE]
        模拟历史 N days of meter readings for the site's meters, straight into InfluxDB, with planted
        anomalies of every kind; their ground truth goes to FILE (default <data_dir>/history/truth.json)

options:
  --config FILE      the site file (default $DUTYROOM_CONFIG or config/demo-site.yaml)
  --influx URL       the InfluxDB (default INFLUX_URL, storage.url, or the site's local one)
`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  now(): number;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
  now: () => systemClock.now(),
  env: process.env,
};

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>, io: CliIo) {
  try {
    return parseArgs({
      args,
      options: {
        ...options,
        config: { type: 'string' },
        influx: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${REPORT_USAGE}`);
    return undefined;
  }
}

/** `dutyroom report meters …`; returns the exit code (0 done, 1 failed, 2 usage or bad request). */
export async function reportCommand(args: string[], io: CliIo = defaultIo): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'meters') {
    io.err(
      `${what === undefined ? 'name the report: dutyroom report meters …' : `unknown report "${what}"`}\n\n${REPORT_USAGE}`,
    );
    return 2;
  }
  const parsed = parse(
    rest,
    { from: { type: 'string' }, to: { type: 'string' }, building: { type: 'string' }, out: { type: 'string' } },
    io,
  );
  if (!parsed) return 2;
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    io.out(REPORT_USAGE);
    return 0;
  }
  if (typeof v.from !== 'string' || typeof v.to !== 'string') {
    io.err(`需要 --from 和 --to 日期 give --from and --to dates (YYYY-MM-DD)\n\n${REPORT_USAGE}`);
    return 2;
  }
  const { config, baseDir } = loadSite(
    resolve((v.config as string | undefined) ?? io.env.DUTYROOM_CONFIG ?? DEFAULT_CONFIG),
    io.env,
  );
  const db = await openCliDatabase(config, baseDir, (v.influx as string | undefined) ?? io.env.INFLUX_URL);
  try {
    const report = await runMeterReport({
      config,
      driver: db.driver,
      from: v.from,
      to: v.to,
      ...(typeof v.building === 'string' ? { building: v.building } : {}),
      now: io.now(),
    });
    await writeReport(report, resolve((v.out as string | undefined) ?? '.'), io);
    return 0;
  } catch (err) {
    if (err instanceof ReportRequestError) {
      io.err(`refused: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    await db.close();
  }
}

/** The report as a page and its CSV tables in `dir`, and a summary of it on the terminal. */
async function writeReport(report: Awaited<ReturnType<typeof runMeterReport>>, dir: string, io: CliIo): Promise<void> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `meters-${report.from}_${report.to}${report.building ? `-${report.building}` : ''}`);
  await writeFile(`${base}.html`, meterReportHtml(report));
  for (const table of CSV_TABLES) await writeFile(`${base}-${table}.csv`, meterReportCsv(report, table));
  io.out(
    `表具异常报告 meter-anomaly report ${report.from} – ${report.to}${report.building ? ` (${report.building})` : ''}: ${report.meters.length} meters, ${report.anomalies.length} anomalies`,
  );
  for (const k of ANOMALY_KIND_NAMES.filter((x) => report.counts[x] > 0))
    io.out(`  ${ANOMALY_KINDS[k].title.zh} ${ANOMALY_KINDS[k].title.en}: ${report.counts[k]}`);
  if (report.drills.length) io.out(`  本期含演练 includes a drill: ${report.drills.map((d) => d.id).join(', ')}`);
  io.out(`  ${base}.html`);
  for (const table of CSV_TABLES) io.out(`  ${base}-${table}.csv`);
}

/** `dutyroom simulate history …`. */
export async function simulateCommand(args: string[], io: CliIo = defaultIo): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'history') {
    io.err(
      `${what === undefined ? 'name what to simulate: dutyroom simulate history …' : `unknown simulation "${what}"`}\n\n${REPORT_USAGE}`,
    );
    return 2;
  }
  const parsed = parse(
    rest,
    {
      days: { type: 'string' },
      seed: { type: 'string' },
      end: { type: 'string' },
      interval: { type: 'string' },
      truth: { type: 'string' },
    },
    io,
  );
  if (!parsed) return 2;
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    io.out(REPORT_USAGE);
    return 0;
  }
  const days = Number(v.days);
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  const interval = v.interval === undefined ? 900 : Number(v.interval);
  if (v.days === undefined || !Number.isInteger(days) || days < 1 || days > 3660)
    return usage(io, `--days must be a whole number of days from 1 to 3660, got ${String(v.days ?? '(none)')}`);
  if (!Number.isInteger(seed)) return usage(io, `--seed must be a whole number, got ${String(v.seed)}`);
  if (!Number.isInteger(interval) || interval < 1 || 3600 % interval !== 0 || interval > 1800)
    return usage(io, `--interval must divide an hour into at least 2 readings (e.g. 900), got ${String(v.interval)}`);
  if (v.end !== undefined && (typeof v.end !== 'string' || !isDate(v.end)))
    return usage(io, `--end must be a date YYYY-MM-DD, got ${String(v.end)}`);
  const { config, baseDir } = loadSite(
    resolve((v.config as string | undefined) ?? io.env.DUTYROOM_CONFIG ?? DEFAULT_CONFIG),
    io.env,
  );
  const tz = config.site.timezone;
  // --end names the last day: readings stop at the end of it (local midnight after).
  const end = typeof v.end === 'string' ? localMidnight(addDays(v.end, 1), tz) : io.now();
  const db = await openCliDatabase(config, baseDir, (v.influx as string | undefined) ?? io.env.INFLUX_URL);
  try {
    const r = await backfillSite({ config, driver: db.driver, days, end, seed, intervalS: interval });
    const file = resolve(
      (v.truth as string | undefined) ?? join(resolve(baseDir, config.data_dir), 'history', 'truth.json'),
    );
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(r.truth, null, 1));
    io.out(
      `模拟历史 history: ${r.points} readings of ${r.truth.meters.length} meters, ${localDate(r.truth.start, tz)} – ${localDate(r.truth.end - 1, tz)}, written to ${db.url} in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.points / (r.ms / 1000))} readings/s)`,
    );
    io.out(
      `  planted 埋设异常: ${r.truth.planted.length} (${[...new Set(r.truth.planted.map((p) => p.kind))].join(', ')}); ground truth 真值: ${file}`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

function usage(io: CliIo, message: string): number {
  io.err(`${message}\n\n${REPORT_USAGE}`);
  return 2;
}
