import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../gateway/config/load.js';
import { projectPath } from '../gateway/files/paths.js';
import { playbookCheck, profileCheck } from '../gateway/config/site.js';

// Issue 16, the hardening suite, configuration: the demo's site file mutated at random — values
// of the wrong type, keys removed or unknown, lists emptied, ids repeated, environment
// references unset, the text cut, garbled or mis-indented. Whatever the file says, loading it
// either gives a site or refuses it with a ConfigError whose every problem names a place (a
// key path or a line); nothing else is ever thrown, so `npm start` never dies on a stack trace.

const RUNS = Number(process.env.FUZZ_CONFIG_RUNS ?? 200);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const FILE = 'config/demo-site.yaml';
const TEXT = readFileSync(projectPath(FILE), 'utf8');
const TREE = parse(TEXT) as unknown;
const ENV = { DUTYROOM_BIND: '127.0.0.1' };

type Outcome = { ok: true } | { ok: false; problems: ConfigError['problems'] };

function load(text: string): Outcome {
  try {
    parseConfig(text, FILE, { env: ENV, extraChecks: [profileCheck, playbookCheck] });
    return { ok: true };
  } catch (err) {
    // Anything but a ConfigError fails the property with its stack.
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, problems: err.problems };
  }
}

function namesItsPlace(o: Outcome): boolean {
  return (
    o.ok ||
    (o.problems.length > 0 && o.problems.every((p) => p.message.length > 0 && (p.path.length > 0 || p.line > 0)))
  );
}

/** Every path to a value in the tree. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}
const ALL_PATHS = paths(TREE).filter((p) => p.length > 0);

const hostileValue = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    Number.NaN,
    '',
    ' ',
    '${NOT_SET}',
    '__proto__',
    '../../etc/passwd',
    '0x1F',
    '12:99',
    '∞',
    '楼',
    [],
    {},
    [[]],
    { __proto__: { polluted: 1 } },
  ),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

type Mutation =
  | { op: 'set'; path: (string | number)[]; value: unknown }
  | { op: 'delete'; path: (string | number)[] }
  | { op: 'add'; path: (string | number)[]; key: string; value: unknown }
  | { op: 'duplicate'; path: (string | number)[] };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...ALL_PATHS), value: hostileValue }),
  fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...ALL_PATHS) }),
  fc.record({
    op: fc.constant('add' as const),
    path: fc.constantFrom(...ALL_PATHS),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'id', 'devices')),
    value: hostileValue,
  }),
  fc.record({
    op: fc.constant('duplicate' as const),
    path: fc.constantFrom(...ALL_PATHS.filter((p) => typeof p[p.length - 1] === 'number')),
  }),
);

function apply(tree: unknown, m: Mutation): unknown {
  const copy = structuredClone(tree) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of m.path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = m.path[m.path.length - 1]!;
  if (m.op === 'set') parent[last] = m.value;
  else if (m.op === 'delete' && Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (m.op === 'delete') delete parent[last];
  else if (m.op === 'duplicate' && Array.isArray(parent)) parent.push(structuredClone(parent[Number(last)]));
  else if (m.op === 'add') {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target))
      Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

const textMutationArb = fc.oneof(
  fc.nat({ max: TEXT.length }).map((at) => ({ what: 'cut', text: TEXT.slice(0, at) })),
  fc
    .tuple(
      fc.nat({ max: TEXT.length }),
      fc.string({
        minLength: 1,
        maxLength: 8,
        unit: fc.constantFrom(
          ':',
          '-',
          '{',
          '}',
          '[',
          ']',
          '"',
          "'",
          '\t',
          '\n',
          '  ',
          '#',
          '&',
          '*',
          '!',
          '|',
          '>',
          '%',
          '@',
          '`',
          '\u0000',
          '楼',
        ),
      }),
    )
    .map(([at, junk]) => ({ what: 'insert', text: TEXT.slice(0, at) + junk + TEXT.slice(at) })),
  fc.tuple(fc.nat({ max: TEXT.split('\n').length - 1 }), fc.string({ maxLength: 30 })).map(([line, junk]) => {
    const lines = TEXT.split('\n');
    lines[line] = junk;
    return { what: 'line', text: lines.join('\n') };
  }),
  fc.nat({ max: TEXT.split('\n').length - 1 }).map((line) => {
    const lines = TEXT.split('\n');
    lines[line] = ` ${lines[line]}`; // one line mis-indented
    return { what: 'indent', text: lines.join('\n') };
  }),
);

describe('config fuzz (issue 16)', () => {
  it('the demo site loads as it is', () => {
    expect(load(TEXT)).toEqual({ ok: true });
  });

  it(`${RUNS} mutated site trees: a site or a ConfigError naming each problem's place, never anything else`, () => {
    const seen = { ok: 0, refused: 0 };
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (ms) => {
        const tree = ms.reduce(apply, TREE);
        const o = load(stringify(tree));
        seen[o.ok ? 'ok' : 'refused']++;
        return namesItsPlace(o);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // The mutations are hostile enough to be refused mostly, yet some leave a valid site.
    expect(seen.refused).toBeGreaterThan(RUNS / 2);
  });

  it(`${RUNS} garbled texts: a site or a ConfigError with a place, never anything else`, () => {
    fc.assert(
      fc.property(textMutationArb, ({ text }) => namesItsPlace(load(text))),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
