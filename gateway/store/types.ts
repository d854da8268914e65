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
   * Writes lines of InfluxDB line protocol with µs timestamps, as line-protocol.ts makes
   * them from storable points (the spool's records): one request, no re-encoding.
   * StoreRejectedError (with the refused lines) when the database refuses them for good.
   */
  writeLines(lines: string[]): Promise<void>;
  /** Checks points (`unstorable`), makes their lines and writes them; for writers outside the spool (history, tests). */
  write(points: Point[]): Promise<void>;
  query(q: ReadingsQuery): Promise<StoredRow[]>;
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
