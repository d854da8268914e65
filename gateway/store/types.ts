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
  write(points: Point[]): Promise<void>;
  /**
   * Optional: does now the CPU work (checks, line protocol) of a later `write` of this same
   * array, so the writer can prepare the next batch while the previous one is in flight.
   */
  prepare?(points: Point[]): void;
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
