import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import type { ReadingsQuery, StoreDriver, StoredRow } from '../gateway/store/driver.js';

export { OUTAGE_T0, streamPoint } from './store-stream.js';
export { uniqueDb, waitFor } from './support/wait.js';

// Helpers of the store's integration tests (test/store-*.test.ts) and of their child process.

/** InfluxQL straight over HTTP (no driver in between), times as integer µs. */
export async function influxql(
  url: string,
  db: string,
  q: string,
): Promise<{ columns: string[]; values: unknown[][] }[]> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'u' })}`, { method: 'POST' });
  const body = (await res.json()) as {
    results?: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[];
    error?: string;
  };
  const err = body.error ?? body.results?.[0]?.error;
  if (err) throw new Error(`${q}: ${err}`);
  return body.results?.[0]?.series ?? [];
}

/** The timestamps (µs) stored for one device of the outage tests, in time order. */
export async function storedTimes(url: string, db: string, device: string): Promise<number[]> {
  const series = await influxql(url, db, `SELECT "flow_m3h" FROM "water_meter" WHERE "device" = '${device}'`);
  return (series[0]?.values ?? []).map((row) => row[0] as number);
}

/** A real driver, observed: remembers what it confirmed, in the order it confirmed it. */
export class RecordingDriver implements StoreDriver {
  readonly confirmed: number[] = [];
  constructor(private readonly inner: StoreDriver) {}
  get name(): string {
    return this.inner.name;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  async writeLines(lines: string[]): Promise<void> {
    await this.inner.writeLines(lines);
    // The timestamp ends every line of line protocol.
    for (const line of lines) this.confirmed.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  query(q: ReadingsQuery): Promise<StoredRow[]> {
    return this.inner.query(q);
  }
  ping(): Promise<boolean> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');

/**
 * Transpiles a TypeScript entry point and everything it imports (relative imports) into a
 * temporary folder, so that a plain `node` child process can run it and be SIGKILLed like a
 * real gateway. Returns the path of the entry's .js file.
 */
export function buildForChild(entry: string): string {
  const out = mkdtempSync(join(tmpdir(), 'dutyroom-child-'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  const seen = new Set<string>();
  const todo = [resolve(ROOT, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const imp of ts.preProcessFile(source, true, true).importedFiles) {
      if (imp.fileName.startsWith('.')) todo.push(resolve(dirname(file), imp.fileName.replace(/\.js$/, '.ts')));
    }
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    }).outputText;
    const target = join(out, relative(ROOT, file).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  return join(out, entry.replace(/\.ts$/, '.js'));
}
