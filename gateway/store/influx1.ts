import { FieldType, InfluxDB, escape, type ISchemaOptions } from 'influx';
import { DEVICE_KINDS, FIELDS, type FieldType as CatalogueType } from '../../rules/model/fields.js';
import type { FieldValue } from '../../rules/model/reading.js';
import { StoreRejectedError } from './errors.js';
import { BytesPoster } from './post-bytes.js';
import { QUALITY_FIELD, TAG_NAMES, isoMicros, msToNsLiteral, queryFields, storedFieldType } from './influx-schema.js';
import type {
  AggregateQuery,
  AggregateRow,
  Aggregation,
  InfluxqlResult,
  ReadingsQuery,
  StoreDriver,
  StoredRow,
} from './driver.js';

export interface Influx1Options {
  /** e.g. http://127.0.0.1:8086 (a path prefix is kept, for reverse proxies). */
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Per HTTP request (default 10 s). */
  timeoutMs?: number;
}

const INFLUX_TYPE: Record<CatalogueType, FieldType> = {
  float: FieldType.FLOAT,
  int: FieldType.INTEGER,
  bool: FieldType.BOOLEAN,
  enum: FieldType.STRING,
};

/** One schema per device kind: node-influx then writes each field with its fixed type. */
export function influxSchemas(database: string): ISchemaOptions[] {
  return DEVICE_KINDS.map((kind) => {
    const fields: Record<string, FieldType> = { [QUALITY_FIELD]: FieldType.STRING };
    for (const [name, def] of Object.entries(FIELDS[kind])) fields[name] = INFLUX_TYPE[def.type];
    return { database, measurement: kind, fields, tags: [...TAG_NAMES] };
  });
}

// node-influx takes a host out of rotation after a connection error (up to 10 s). Our writer
// owns retries and backoff, so the host must be tried again as soon as we ask.
interface Backoff {
  getDelay(): number;
  next(): Backoff;
  reset(): Backoff;
}
const noBackoff: Backoff = { getDelay: () => 0, next: () => noBackoff, reset: () => noBackoff };

class WriteStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.trim() || '(no body)'}`);
  }
}

/**
 * Store driver for InfluxDB 1.x (package `influx`). Writes go out as one POST /write per
 * batch with the line protocol of line-protocol.ts, which is what node-influx's
 * schema-typed writePoints sends (tested) without its per-point cost; everything else
 * (database creation, queries, ping) goes through node-influx.
 */
export class Influx1Driver implements StoreDriver {
  readonly name = 'influxdb1';
  private readonly influx: InfluxDB;
  /** For messages: the URL without credentials. */
  private readonly where: string;
  private readonly writeUrl: string;
  private readonly writeHeaders: Record<string, string>;
  private readonly queryUrl: string;
  private readonly timeoutMs: number;
  private readonly poster: BytesPoster;

  constructor(private readonly opts: Influx1Options) {
    const url = new URL(opts.url);
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    this.where = `InfluxDB 1.x at ${url.origin}${url.pathname === '/' ? '' : url.pathname} (database "${opts.database}")`;
    const username = opts.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = opts.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.writeUrl = `${base}/write?${new URLSearchParams({ db: opts.database, precision: 'u' })}`;
    this.writeHeaders = { 'content-type': 'text/plain; charset=utf-8' };
    this.queryUrl = `${base}/query`;
    this.poster = new BytesPoster(url);
    if (username !== undefined)
      this.writeHeaders.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    this.influx = new InfluxDB({
      hosts: [
        {
          host: url.hostname,
          port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
          protocol,
          ...(url.pathname !== '/' ? { path: url.pathname.replace(/\/+$/, '') } : {}),
        },
      ],
      database: opts.database,
      username,
      password,
      schema: influxSchemas(opts.database),
      pool: { maxRetries: 0, requestTimeout: this.timeoutMs, backoff: noBackoff },
    });
  }

  private fail(what: string, err: unknown): Error {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, …) is its cause. node:http's
    // errors carry their code themselves.
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    const reason = e.cause
      ? `${e.message} (${e.cause.code ?? e.cause.message})`
      : e.code && !e.message.includes(e.code)
        ? `${e.message} (${e.code})`
        : e.message;
    return new Error(`${this.where}: ${what} failed: ${reason}`, { cause: err });
  }

  async connect(): Promise<void> {
    try {
      const names = await this.influx.getDatabaseNames();
      if (!names.includes(this.opts.database)) await this.influx.createDatabase(this.opts.database);
    } catch (err) {
      throw this.fail('connecting (create database if missing)', err);
    }
  }

  async writeLines(lines: string[]): Promise<void> {
    if (lines.length > 0) await this.writeText(lines.join('\n'), lines.length, () => lines);
  }

  async writeText(body: string | Buffer<ArrayBuffer>, count: number, lines: () => string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.post(body);
        return;
      } catch (err) {
        const code = err instanceof WriteStatusError ? err.status : undefined;
        // The database was dropped under us (or never created): create it and write again.
        if (code === 404 && attempt === 0 && /database not found/i.test((err as Error).message)) {
          await this.connect();
          continue;
        }
        const failure = this.fail(`writing ${count} points`, err);
        // 400 = the server refused the data itself (type conflict, parse error); the valid
        // points of the batch were written (InfluxDB 1.x writes partially).
        if (code === 400) throw new StoreRejectedError(failure.message, lines());
        throw failure;
      }
    }
  }

  private async post(body: string | Buffer<ArrayBuffer>): Promise<void> {
    const { status, text } = await this.poster.post(
      this.writeUrl,
      this.writeHeaders,
      body,
      AbortSignal.timeout(this.timeoutMs),
    );
    if (status !== 204 && status !== 200) throw new WriteStatusError(status, text);
  }

  async query(q: ReadingsQuery): Promise<StoredRow[]> {
    const fields = queryFields(q);
    // Identifiers are catalogue names (checked above) and quoted anyway; the device id is a
    // bound parameter, never spliced into the query text.
    const text =
      `SELECT ${fields.map((f) => escape.quoted(f)).join(',')} FROM ${escape.quoted(q.measurement)}` +
      ` WHERE "device" = $device AND time >= ${msToNsLiteral(q.from)} AND time < ${msToNsLiteral(q.to)}` +
      ` ORDER BY time ASC LIMIT ${q.limit}`;
    let raw: { results?: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[] };
    try {
      raw = await this.influx.queryRaw(text, { placeholders: { device: q.deviceId } });
    } catch (err) {
      throw this.fail(`query of ${q.measurement} for device "${q.deviceId}"`, err);
    }
    const result = raw.results?.[0];
    if (result?.error) throw new Error(`${this.where}: query failed: ${result.error}`);
    const series = result?.series?.[0];
    if (!series) return [];
    const index = fields.map((f) => series.columns.indexOf(f));
    return series.values.map((row) => {
      const out: Record<string, FieldValue | null> = {};
      fields.forEach((f, i) => {
        const at = index[i]!;
        out[f] = at < 0 ? null : ((row[at] as FieldValue | null | undefined) ?? null);
      });
      return { time: isoMicros(String(row[0])), fields: out };
    });
  }

  async aggregate(q: AggregateQuery): Promise<AggregateRow[]> {
    const [result] = await this.influxql([aggregateStatement(q)], { device: q.deviceId });
    if (result?.error) throw new Error(`${this.where}: query failed: ${result.error}`);
    return aggregateRows(q, result);
  }

  async influxql(statements: string[], params: Record<string, string> = {}): Promise<InfluxqlResult[]> {
    const body = new URLSearchParams({
      db: this.opts.database,
      q: statements.join(';\n'),
      epoch: 'ms',
      params: JSON.stringify(params),
    });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this.writeHeaders.authorization) headers.authorization = this.writeHeaders.authorization;
    let res: Response;
    let text: string;
    try {
      // Reports scan months of readings: a minute, not the write timeout.
      res = await fetch(this.queryUrl, {
        method: 'POST',
        body,
        headers,
        signal: AbortSignal.timeout(Math.max(this.timeoutMs, 60_000)),
      });
      text = await res.text();
    } catch (err) {
      throw this.fail('query', err);
    }
    if (res.status !== 200) throw new Error(`${this.where}: query failed: HTTP ${res.status}: ${text.trim()}`);
    const parsed = JSON.parse(text) as { results?: (InfluxqlResult & { statement_id?: number })[]; error?: string };
    if (parsed.error) throw new Error(`${this.where}: query failed: ${parsed.error}`);
    return parsed.results ?? [];
  }

  async ping(): Promise<boolean> {
    const hosts = await this.influx.ping(2000);
    return hosts.some((h) => h.online);
  }

  async close(): Promise<void> {
    // The writes' kept-alive connections; node-influx's requests hold none.
    this.poster.close();
  }
}

/** The rows of aggregateStatement's answer (epoch ms), without the look-back intervals. */
export function aggregateRows(q: AggregateQuery, result: InfluxqlResult | undefined): AggregateRow[] {
  const series = result?.series?.[0];
  if (!series) return [];
  const names = Object.keys(q.columns);
  const rows: AggregateRow[] = [];
  for (const row of series.values) {
    const time = Number(row[0]);
    // Intervals before the first one were read only to give it its counter difference
    // (see aggregateStatement); they are not part of the answer.
    if (time + q.everyMs <= q.from) continue;
    const values: Record<string, number | null> = {};
    names.forEach((name, i) => {
      const v = row[i + 1];
      values[name] = typeof v === 'number' ? v : null;
    });
    rows.push({ time, values });
  }
  return rows;
}

const INFLUXQL_FN: Record<Aggregation, (field: string) => string> = {
  mean: (f) => `MEAN(${f})`,
  max: (f) => `MAX(${f})`,
  // A counter's use in an interval: its last value minus the last value of the interval
  // before with readings. SPREAD (max − min within the interval) would miss what was used
  // between two readings in different intervals, and reads 0 in every interval shorter than
  // the meter's reading interval. NON_NEGATIVE: a meter replaced or rolled over would draw
  // one huge negative bar that flattens every other; the meter report flags those instead.
  use: (f) => `NON_NEGATIVE_DIFFERENCE(LAST(${f}))`,
};

const ZONE = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

/**
 * How far before `from` the statement reads: a counter's first interval needs the last value
 * before it, which lies an interval back or, for intervals shorter than the meter's reading
 * interval (1-minute bars of a 15-minute meter), up to a reading interval back.
 */
const LOOKBACK_MS = 3_600_000;

/**
 * One InfluxQL statement for AggregateQuery: GROUP BY time() in the database, so 90 days of
 * readings come back as one row per interval, never as the readings themselves. Intervals
 * are aligned in the site's zone (tz()), so a day is a local day. The statement starts
 * before `from` (LOOKBACK_MS); those rows are dropped from the answer.
 * Identifiers are catalogue names, quoted; the device is a bound parameter.
 */
export function aggregateStatement(q: AggregateQuery): string {
  if (!Number.isSafeInteger(q.everyMs) || q.everyMs < 1000 || q.everyMs % 1000 !== 0)
    throw new Error(`bad interval ${q.everyMs} ms`);
  if (!ZONE.test(q.timezone)) throw new Error(`bad time zone "${q.timezone}"`);
  const names = Object.keys(q.columns);
  if (names.length === 0) throw new Error('no columns to aggregate');
  const select = names.map((name, i) => {
    const { field, fn } = q.columns[name]!;
    const type = storedFieldType(q.measurement, field);
    if (type !== 'float' && type !== 'int') throw new Error(`"${field}" is not a number field of ${q.measurement}`);
    return `${INFLUXQL_FN[fn](escape.quoted(field))} AS "c${i}"`;
  });
  return (
    `SELECT ${select.join(', ')} FROM ${escape.quoted(q.measurement)}` +
    ` WHERE "device" = $device AND time >= ${msToNsLiteral(q.from - Math.max(q.everyMs, LOOKBACK_MS))} AND time < ${msToNsLiteral(q.to)}` +
    ` GROUP BY time(${q.everyMs / 1000}s) fill(null) tz('${q.timezone}')`
  );
}
