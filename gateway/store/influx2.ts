import { HttpError, InfluxDB, flux, setLogger, type WriteOptions } from '@influxdata/influxdb-client';
import type { FieldValue } from '../../rules/model/reading.js';
import { StoreRejectedError } from './errors.js';
import { isoMicros, queryFields } from './influx-schema.js';
import { aggregateRows, aggregateStatement } from './influx1.js';
import { bindInfluxql } from './influxql-bind.js';
import type { AggregateQuery, AggregateRow, InfluxqlResult, ReadingsQuery, StoreDriver, StoredRow } from './driver.js';

export interface Influx2Options {
  /** e.g. https://eu-central-1-1.aws.cloud2.influxdata.com or http://127.0.0.1:8086 */
  url: string;
  org: string;
  bucket: string;
  token: string;
  /** Per HTTP request (default 10 s). */
  timeoutMs?: number;
  /** Gzip write bodies above this many bytes (default: never; costs CPU, saves uplink). */
  gzipThreshold?: number;
  /**
   * The database (and retention policy, `db/rp`) the bucket answers to on the 1.x-compatible
   * `/query` API, which reports and aggregated history use. Default: the bucket's name, which
   * is what InfluxDB 3 calls the database and what InfluxDB 2.x maps by itself (a bucket
   * `db/rp` as database `db`, retention policy `rp`) unless a DBRP mapping says otherwise.
   */
  influxqlDatabase?: string;
}

/** Statements of one influxql() call in flight at once (one statement per request). */
const QUERY_CONCURRENCY = 4;

// The client logs every failed write to the console itself; our writer reports failures
// (once, with context) and retries, so the client's own messages would only be noise.
setLogger({ error: () => undefined, warn: () => undefined });

// One request per call, nothing kept: the spool is our buffer and the writer our retry loop.
// (batchSize must exceed the points of the call, or the client would send part of them on
// its own and swallow that request's error.)
const noBatchingNoRetry = (points: number): Partial<WriteOptions> => ({
  batchSize: points + 1,
  maxBatchBytes: Number.POSITIVE_INFINITY,
  flushInterval: 0,
  maxRetries: 0,
  maxBufferLines: 0,
});

/**
 * Store driver for InfluxDB 2.x and 3.x (package `@influxdata/influxdb-client`): v2 write API,
 * Flux for raw readings, and InfluxQL through the 1.x-compatible `/query` API (which both
 * serve) for what aggregates in the database: the meter report and history per interval,
 * with the same statements as on InfluxDB 1.x.
 */
export class Influx2Driver implements StoreDriver {
  readonly name = 'influxdb2';
  private readonly client: InfluxDB;
  private readonly where: string;
  private readonly queryUrl: string;
  private readonly v1: { db: string; rp?: string };

  constructor(private readonly opts: Influx2Options) {
    const url = new URL(opts.url);
    this.queryUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}/query`;
    const [db, rp] = (opts.influxqlDatabase ?? opts.bucket).split('/', 2) as [string, string | undefined];
    this.v1 = rp ? { db, rp } : { db };
    this.where = `InfluxDB at ${url.origin}${url.pathname === '/' ? '' : url.pathname} (org "${opts.org}", bucket "${opts.bucket}")`;
    this.client = new InfluxDB({
      url: opts.url.replace(/\/+$/, ''),
      token: opts.token,
      timeout: opts.timeoutMs ?? 10_000,
    });
  }

  private fail(what: string, err: unknown): Error {
    const e = err as Error & { statusCode?: number; body?: string };
    const detail = e instanceof HttpError ? `HTTP ${e.statusCode}: ${e.body || e.message}` : e.message;
    return new Error(`${this.where}: ${what} failed: ${detail}`, { cause: err });
  }

  private async api<T>(path: string, method: 'GET' | 'POST', body?: unknown): Promise<T> {
    return (await this.client.transport.request(path, body ?? null, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    })) as T;
  }

  /** Checks the token and creates the bucket if missing (InfluxDB 3 creates it on first write). */
  async connect(): Promise<void> {
    const q = `org=${encodeURIComponent(this.opts.org)}&name=${encodeURIComponent(this.opts.bucket)}`;
    try {
      const found = await this.api<{ buckets?: unknown[] }>(`/api/v2/buckets?${q}`, 'GET');
      if ((found.buckets ?? []).length > 0) return;
      const orgs = await this.api<{ orgs?: { id: string }[] }>(
        `/api/v2/orgs?org=${encodeURIComponent(this.opts.org)}`,
        'GET',
      );
      const orgID = orgs.orgs?.[0]?.id;
      if (!orgID) throw new Error(`organisation "${this.opts.org}" not found`);
      await this.api('/api/v2/buckets', 'POST', { orgID, name: this.opts.bucket, retentionRules: [] });
    } catch (err) {
      // InfluxDB 3 has no bucket API (404) and creates the database on first write.
      if (err instanceof HttpError && err.statusCode === 404 && (await this.ping())) return;
      throw this.fail('connecting (create bucket if missing)', err);
    }
  }

  async writeLines(lines: string[]): Promise<void> {
    if (lines.length > 0) await this.writeText(lines.join('\n'), lines.length, () => lines);
  }

  async writeText(body: string | Buffer<ArrayBuffer>, count: number, lines: () => string[]): Promise<void> {
    const api = this.client.getWriteApi(this.opts.org, this.opts.bucket, 'us', {
      ...noBatchingNoRetry(count),
      ...(this.opts.gzipThreshold !== undefined
        ? { gzipThreshold: this.opts.gzipThreshold }
        : { gzipThreshold: Number.POSITIVE_INFINITY }),
    });
    try {
      // The lines made by line-protocol.ts, as one record (same text as the client's Point, tested, cheaper).
      api.writeRecord(
        typeof body === 'string' ? body : body.toString('utf8', 0, body.length - (body.at(-1) === 0x0a ? 1 : 0)),
      );
      await api.flush();
    } catch (err) {
      const failure = this.fail(`writing ${count} points`, err);
      // 400/422: the server refused the data itself (type conflict, bad line); retrying cannot help.
      if (err instanceof HttpError && (err.statusCode === 400 || err.statusCode === 422))
        throw new StoreRejectedError(failure.message, lines());
      throw failure;
    } finally {
      void api.close().catch(() => undefined);
    }
  }

  async query(q: ReadingsQuery): Promise<StoredRow[]> {
    const fields = queryFields(q);
    // Every value goes through the flux template, which quotes and escapes it.
    const query = flux`from(bucket: ${this.opts.bucket})
  |> range(start: ${new Date(q.from)}, stop: ${new Date(q.to)})
  |> filter(fn: (r) => r._measurement == ${q.measurement} and r.device == ${q.deviceId})
  |> filter(fn: (r) => contains(value: r._field, set: ${fields}))
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> keep(columns: ${['_time', ...fields]})
  |> sort(columns: ["_time"])
  |> limit(n: ${q.limit})`;
    let rows: Record<string, unknown>[];
    try {
      rows = await this.client.getQueryApi(this.opts.org).collectRows<Record<string, unknown>>(query);
    } catch (err) {
      throw this.fail(`query of ${q.measurement} for device "${q.deviceId}"`, err);
    }
    return rows.map((row) => {
      const out: Record<string, FieldValue | null> = {};
      for (const f of fields) {
        const v = row[f] as FieldValue | null | undefined;
        // Flux's CSV writes a missing string as empty; catalogue strings are never empty.
        out[f] = v === undefined || v === '' ? null : v;
      }
      return { time: isoMicros(String(row._time)), fields: out };
    });
  }

  async aggregate(q: AggregateQuery): Promise<AggregateRow[]> {
    const [result] = await this.influxql([aggregateStatement(q)], { device: q.deviceId });
    if (result?.error) throw new Error(`${this.where}: query failed: ${result.error}`);
    return aggregateRows(q, result);
  }

  /**
   * InfluxQL through `/query` (token auth), the statements InfluxDB 1.x runs, one per request
   * (InfluxDB 3 answers one statement at a time), at most QUERY_CONCURRENCY in flight; the
   * parameters bound as string literals (influxql-bind.ts). Times come back as epoch ms.
   */
  async influxql(statements: string[], params: Record<string, string> = {}): Promise<InfluxqlResult[]> {
    const texts = statements.map((s) => bindInfluxql(s, params));
    const results: InfluxqlResult[] = new Array<InfluxqlResult>(texts.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < texts.length) {
        const i = next++;
        results[i] = await this.influxqlOne(texts[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, texts.length) }, worker));
    return results;
  }

  private async influxqlOne(text: string): Promise<InfluxqlResult> {
    const body = new URLSearchParams({ ...this.v1, q: text, epoch: 'ms' });
    let res: Response;
    let answer: string;
    try {
      // Reports scan months of readings: a minute, not the write timeout.
      res = await fetch(this.queryUrl, {
        method: 'POST',
        body,
        headers: {
          authorization: `Token ${this.opts.token}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        signal: AbortSignal.timeout(Math.max(this.opts.timeoutMs ?? 10_000, 60_000)),
      });
      answer = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new Error(`${this.where}: InfluxQL query failed: ${(err as Error).message}${cause ? ` (${cause})` : ''}`, {
        cause: err,
      });
    }
    if (res.status !== 200)
      throw new Error(
        `${this.where}: InfluxQL query (database "${this.v1.db}") failed: HTTP ${res.status}: ${answer.trim()}`,
      );
    const parsed = JSON.parse(answer) as { results?: InfluxqlResult[]; error?: string };
    if (parsed.error) throw new Error(`${this.where}: InfluxQL query failed: ${parsed.error}`);
    const [first] = parsed.results ?? [];
    return first?.error ? { error: first.error } : { series: first?.series ?? [] };
  }

  async ping(): Promise<boolean> {
    try {
      await this.client.transport.request('/ping', null, { method: 'GET' });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    // Stateless HTTP: nothing to close.
  }
}
