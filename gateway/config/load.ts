import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { siteConfig, type SiteConfig } from './schema.js';

export interface ConfigProblem {
  /** Dotted path in the file, e.g. devices[3].place.building. */
  path: string;
  line: number;
  col: number;
  message: string;
}

/** Every problem in a site file, each with its path and line; the gateway refuses to start. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    this.name = 'ConfigError';
  }

  format(): string {
    const lines = this.problems.map((p) => `  ${this.file}:${p.line}:${p.col}  ${p.path || '(top)'}: ${p.message}`);
    return [`${this.message}:`, ...lines].join('\n');
  }
}

export interface LoadedConfig {
  config: SiteConfig;
  file: string;
  /** Folder of the config file: relative paths in it are relative to here. */
  baseDir: string;
}

/** Problems found beyond the schema (e.g. a profile file that does not exist). */
export type ExtraCheck = (cfg: SiteConfig) => { path: (string | number)[]; message: string }[];

type Env = Record<string, string | undefined>;

export function loadConfigFile(file: string, opts: { env?: Env; extraChecks?: ExtraCheck[] } = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: '', line: 0, col: 0, message: `cannot read the file: ${(err as Error).message}` },
    ]);
  }
  const config = parseConfig(text, file, opts);
  return { config, file, baseDir: dirname(resolve(file)) };
}

/**
 * Parses and validates a site file. `${NAME}` (or `${NAME:-default}`) in any string is
 * replaced from the environment so secrets stay out of the file; MQTT_URL and INFLUX_URL
 * override the broker and storage URLs.
 */
export function parseConfig(
  text: string,
  file: string,
  opts: { env?: Env; extraChecks?: ExtraCheck[] } = {},
): SiteConfig {
  const env = opts.env ?? process.env;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => (offset === undefined ? { line: 0, col: 0 } : lines.linePos(offset));

  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    const pos = at(e.pos[0]);
    // Where the parser got to: the key path of the deepest entry holding the error, as far as it can tell.
    problems.push({
      path: formatPath(pathAt(doc.contents, e.pos[0])),
      ...pos,
      message: `YAML: ${e.message.split('\n')[0]}`,
    });
  }
  if (problems.length) throw new ConfigError(file, problems);

  substituteEnv(doc, env, (node, path, message) =>
    problems.push({ path: formatPath(path), ...at(node.range?.[0]), message }),
  );
  if (problems.length) throw new ConfigError(file, problems);

  const raw = doc.toJS() ?? {};
  applyEnvOverrides(raw, env);

  const locate = (path: (string | number | symbol)[]) =>
    locateNode(
      doc,
      path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      at,
    );
  const result = siteConfig.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      for (const key of keys) {
        const path = key === undefined ? issue.path : [...issue.path, key];
        const message = key === undefined ? issue.message : `unknown key "${key}"`;
        problems.push({ path: formatPath(path), ...locate(path), message });
      }
    }
    throw new ConfigError(file, sortProblems(problems));
  }
  for (const check of opts.extraChecks ?? []) {
    for (const p of check(result.data))
      problems.push({ path: formatPath(p.path), ...locate(p.path), message: p.message });
  }
  if (problems.length) throw new ConfigError(file, sortProblems(problems));
  return result.data;
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substituteEnv(
  doc: Document,
  env: Env,
  problem: (node: Node, path: (string | number)[], message: string) => void,
): void {
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const replaced = node.value.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        problem(node, keyPath(ancestors, node), `environment variable ${name} is not set`);
        return '';
      });
      // A whole-value reference to a number keeps the YAML type the schema expects.
      node.value = /^\$\{[^}]+\}$/.test(node.value) && /^-?\d+(\.\d+)?$/.test(replaced) ? Number(replaced) : replaced;
    },
  });
}

/** The key path of a node from the ancestors `visit` gives it: map keys and sequence indices. */
function keyPath(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const here = chain[i];
    const next = chain[i + 1];
    if (isPair(here) && isScalar(here.key) && here.value === next) out.push(String(here.key.value));
    else if (isSeq(here)) out.push(here.items.indexOf(next as never));
  }
  return out;
}

/** The key path of the deepest entry whose text holds `offset` (a syntax error's place). */
function pathAt(node: unknown, offset: number, out: (string | number)[] = []): (string | number)[] {
  const holds = (n: unknown) => {
    const range = (n as Node | null)?.range;
    return range !== undefined && range !== null && range[0] <= offset && offset <= range[2];
  };
  if (isMap(node)) {
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const start = keyNode?.range?.[0];
      const end = (pair.value as Node | null)?.range?.[2] ?? keyNode?.range?.[2];
      if (start !== undefined && end !== undefined && start <= offset && offset <= end) {
        return pathAt(pair.value, offset, [...out, isScalar(pair.key) ? String(pair.key.value) : '?']);
      }
    }
  } else if (isSeq(node)) {
    const i = node.items.findIndex(holds);
    if (i >= 0) return pathAt(node.items[i], offset, [...out, i]);
  }
  return out;
}

function applyEnvOverrides(raw: Record<string, unknown>, env: Env): void {
  const section = (name: string) => {
    const value = raw[name];
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    const fresh: Record<string, unknown> = {};
    raw[name] = fresh;
    return fresh;
  };
  if (env.MQTT_URL) {
    const broker = section('broker');
    broker.url = env.MQTT_URL;
    broker.embedded = false;
  }
  if (env.INFLUX_URL) section('storage').url = env.INFLUX_URL;
}

/** The line of the deepest node of `path` that exists in the file (a missing key points at its parent). */
function locateNode(
  doc: Document,
  path: (string | number)[],
  at: (offset: number | undefined) => { line: number; col: number },
): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
    if (node && (isScalar(node) || isMap(node) || isSeq(node))) return at((node as Node).range?.[0]);
  }
  return { line: 1, col: 1 };
}

export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}
