import fc from 'fast-check';
import { z } from 'zod';

// Values for a route's zod schema, for the HTTP fuzz: mostly near what the schema asks (so the
// request gets past validation into the handler), often hostile (wrong types, unknown and
// prototype keys, huge or strange strings). zod converts itself to JSON Schema (zod 4's
// toJSONSchema); no maintained library derives fast-check arbitraries from zod 4 (the one
// there is stops at zod 3 and fast-check 3), so the few JSON Schema forms our routes use are
// read here.

type Json = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Json>;
  required?: string[];
  items?: Json;
  anyOf?: Json[];
  oneOf?: Json[];
  allOf?: Json[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  format?: string;
};

export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    '',
    ' ',
    '__proto__',
    'constructor',
    '../../../etc/passwd',
    '<script>alert(1)</script>',
    "'; DROP TABLE x; --",
    '\u0000',
    '\ud800',
    '楼层',
    'x'.repeat(5000),
    [],
    {},
    { __proto__: { polluted: true } },
  ),
  fc.string({ maxLength: 30 }),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

function fromJson(s: Json, depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (union?.length) return fc.oneof(...union.map((x) => fromJson(x, depth)));
  if (s.allOf?.length) return fromJson(s.allOf[0]!, depth);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.pattern) {
        try {
          return fc
            .stringMatching(new RegExp(s.pattern))
            .map((x) => (s.maxLength !== undefined ? x.slice(0, s.maxLength) : x));
        } catch {
          return fc.string();
        }
      }
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 200) });
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1e6, -(2 ** 31)), max: Math.min(s.maximum ?? 1e9, 2 ** 31) });
    case 'number':
      return fc.double({
        min: s.minimum ?? s.exclusiveMinimum ?? -1e9,
        max: s.maximum ?? s.exclusiveMaximum ?? 1e12,
        noNaN: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(s.items ? fromJson(s.items, depth + 1) : hostile, {
            minLength: s.minItems ?? 0,
            maxLength: Math.min(s.maxItems ?? 4, 4),
          });
    case 'object': {
      if (depth > 3 || !s.properties) return fc.dictionary(fc.string({ maxLength: 8 }), hostile, { maxKeys: 3 });
      const model = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, fromJson(v, depth + 1)]));
      return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in model) });
    }
    default:
      return hostile;
  }
}

/** Values near the schema, and hostile ones: one value in three breaks it somewhere. */
export function arbitraryFor(schema: unknown): fc.Arbitrary<unknown> {
  if (!(schema instanceof z.ZodType)) return hostile;
  const near = fromJson(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json, 0);
  const broken = near.chain((v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
      ? fc.tuple(fc.constantFrom(...Object.keys(v)), hostile, fc.boolean()).map(([k, h, drop]) => {
          const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
          if (drop) delete copy[k];
          else copy[k] = h;
          return copy;
        })
      : hostile,
  );
  return fc.oneof({ weight: 2, arbitrary: near }, { weight: 1, arbitrary: broken }, { weight: 1, arbitrary: hostile });
}
