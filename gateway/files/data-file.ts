import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatPath, type ConfigProblem } from '../config/load.js';

// Data files (playbooks, scenarios, …) are YAML checked by a zod schema; a bad one names the
// file, path and line of every problem, like the site file does, and nothing starts.

/** Parses and validates one YAML data file; throws ConfigError with every problem located. */
export function parseDataFile<S extends z.ZodType>(schema: S, text: string, file: string): z.infer<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => (offset === undefined ? { line: 0, col: 0 } : lines.linePos(offset));
  if (doc.errors.length)
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', ...at(e.pos[0]), message: `YAML: ${e.message.split('\n')[0]}` })),
    );
  const result = schema.safeParse(doc.toJS());
  if (result.success) return result.data;
  const problems: ConfigProblem[] = result.error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const path = (key === undefined ? issue.path : [...issue.path, key]).map((p) =>
        typeof p === 'symbol' ? String(p) : p,
      );
      let pos = { line: 1, col: 1 };
      for (let depth = path.length; depth >= 0; depth--) {
        const sub = path.slice(0, depth);
        const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
        if (node && (isScalar(node) || isMap(node) || isSeq(node))) {
          pos = at((node as Node).range?.[0]);
          break;
        }
      }
      return { path: formatPath(path), ...pos, message: key === undefined ? issue.message : `unknown key "${key}"` };
    });
  });
  throw new ConfigError(
    file,
    problems.sort((a, b) => a.line - b.line || a.col - b.col),
  );
}

/** Every `*.yaml` of a folder, parsed and validated, in file-name order. */
export function loadDataFiles<S extends z.ZodType>(schema: S, dir: string): { file: string; data: z.infer<S> }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      return { file, data: parseDataFile(schema, readFileSync(file, 'utf8'), file) };
    });
}
