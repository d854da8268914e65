import type { FieldValue } from '../../rules/model/reading.js';

/**
 * One row for InfluxDB, driver-agnostic. Measurement = device kind; tags = place and device;
 * `tsUs` = epoch microseconds (integer). This is also the record the spool keeps on disk.
 */
export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  tsUs: number;
}

export interface ReadingsQuery {
  measurement: string;
  deviceId: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Canonical field names; all fields of the measurement when absent. */
  fields?: string[];
  limit: number;
}

/**
 * How one column of an aggregated history is made from a numeric field, per interval:
 * `mean` and `max` of a gauge, `use` of a counter (how much it went up since the interval
 * before: a meter's consumption).
 */
export type Aggregation = 'mean' | 'max' | 'use';

export interface AggregateQuery {
  measurement: string;
  deviceId: string;
  /** Epoch ms, inclusive; the first interval is the one holding it. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Interval length in ms (whole seconds). */
  everyMs: number;
  /** IANA zone the intervals are aligned to (a day is the site's day, not UTC's). */
  timezone: string;
  /** Output column name → numeric catalogue field and how it is aggregated. */
  columns: Record<string, { field: string; fn: Aggregation }>;
}

export interface AggregateRow {
  /** Start of the interval, epoch ms. */
  time: number;
  /** Column → value; null where the interval has no readings. */
  values: Record<string, number | null>;
}

export interface StoredRow {
  /** ISO-8601 UTC. */
  time: string;
  fields: Record<string, FieldValue | null>;
}

/** A database behind the spool. Writes must be idempotent: a replayed point overwrites itself. */
export interface StoreDriver {
  readonly name: string;
  /** Creates the database/bucket if needed; rejects when unreachable. */
  connect(): Promise<void>;
  /**
   * Writes lines of InfluxDB line protocol with µs timestamps, as write-points.ts makes them
   * from storable points (the spool's records): one request, no re-encoding. The only write a
   * driver has: points written outside the spool go through writePoints.
   * StoreRejectedError (with the refused lines) when the database refuses them for good.
   */
  writeLines(lines: string[]): Promise<void>;
  /**
   * The same for `count` lines already joined by newlines, as a string or as UTF-8 bytes (the
   * spool's memory keeps them so); `lines` splits them, for a StoreRejectedError. Absent: the
   * writer uses writeLines.
   */
  writeText?(body: string | Buffer<ArrayBuffer>, count: number, lines: () => string[]): Promise<void>;
  query(q: ReadingsQuery): Promise<StoredRow[]>;
  /** History per interval, aggregated in the database. Absent where the driver cannot (yet). */
  aggregate?(q: AggregateQuery): Promise<AggregateRow[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /**
   * InfluxQL statements run in the database (reports aggregate there), with bound parameters;
   * times come back as epoch ms. Absent where the database speaks no InfluxQL.
   */
  influxql?(statements: string[], params?: Record<string, string>): Promise<InfluxqlResult[]>;
}

export interface InfluxqlSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: (number | string | boolean | null)[][];
}

/** One statement's answer. */
export interface InfluxqlResult {
  error?: string;
  series?: InfluxqlSeries[];
}
