import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { DEVICE_KINDS } from '../../rules/model/fields.js';
import { projectPath } from '../files/paths.js';
import { checkProfile } from './check.js';
import { DATA_TYPES, NUMBER_TYPES, ORDERS } from './datatypes.js';

export * from './datatypes.js';

// A register profile describes one device model's Modbus register map as data: which
// registers hold which canonical field and how to decode them. Adding a meter model means
// adding a YAML file here, never code. The format is documented in
// gateway/adapters/modbus/README.md.

const functionCode = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)], {
  error: 'must be 1 (coils), 2 (discrete inputs), 3 (holding registers) or 4 (input registers)',
});
/** As printed in the manual; the address on the wire is register − addressing. */
const registerNumber = z.number().int().min(0).max(0x10000);
const order = z.enum(ORDERS);

const addPart = z.strictObject({
  register: registerNumber,
  type: z.enum(NUMBER_TYPES),
  order: order.default('ABCD'),
});

/** One field's definition, without the catalogue checks (the codec's tests use it alone). */
export const registerFieldSchema = z.strictObject({
  function: functionCode,
  register: registerNumber,
  type: z.enum(DATA_TYPES),
  /** For `bit`: which bit of the 16-bit register, 0 = least significant. */
  bit: z.number().int().min(0).max(15).optional(),
  order: order.default('ABCD'),
  scale: z
    .number()
    .refine((x) => x !== 0, 'must not be 0')
    .default(1),
  offset: z.number().default(0),
  /** The gateway may write it (a valve, a pump start): only coils (01) and holding registers (03). */
  writable: z.boolean().default(false),
  /** Raw integer code → canonical value (enum word, boolean or number). */
  map: z
    .record(
      z.string().regex(/^-?\d+$/, 'map keys must be raw integer codes'),
      z.union([z.string().min(1), z.boolean(), z.number()]),
    )
    .optional(),
  /** Booleans: report the opposite (a normally-closed contact). */
  invert: z.boolean().default(false),
  /** Raw values the device uses for "no value available" (e.g. 65535); reported as no_data. */
  no_data: z.array(z.number()).optional(),
  /** A second register whose value is added before scaling (a totalizer split into an integer and a fraction). */
  add: addPart.optional(),
});

const noSpan = z.strictObject({
  /** Omitted: the range applies to every function code. */
  function: functionCode.optional(),
  from: registerNumber,
  to: registerNumber,
  reason: z.string().optional(),
});

const profileShape = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }),
  kind: z.enum(DEVICE_KINDS),
  manufacturer: z.string().min(1),
  model: z.string().min(1),
  /** How the manual numbers registers: 0 = as on the wire, 1 = register 1 is address 0. */
  addressing: z.union([z.literal(0), z.literal(1)]),
  max_registers_per_read: z.number().int().min(1).max(125).default(125),
  max_bits_per_read: z.number().int().min(1).max(2000).default(2000),
  /** Largest hole (registers) worth reading through to save a request. */
  max_gap: z.number().int().min(0).default(8),
  /** The same for coils / discrete inputs, in bits (128 bits cost what 8 registers cost). */
  max_bit_gap: z.number().int().min(0).default(128),
  /** Register ranges (inclusive, manual numbering) a read must never include: the device rejects such reads. */
  no_span: z.array(noSpan).default([]),
  fields: z
    .record(z.string(), registerFieldSchema)
    .refine((f) => Object.keys(f).length > 0, 'a profile needs at least one field'),
});

export type RegisterProfile = z.infer<typeof profileShape>;
export type RegisterField = RegisterProfile['fields'][string];
export type AddPart = NonNullable<RegisterField['add']>;
export type NoSpan = RegisterProfile['no_span'][number];

const profileSchema = profileShape.superRefine((profile, ctx) => {
  for (const p of checkProfile(profile)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});

export const REGISTER_PROFILES_DIR = projectPath('gateway', 'profiles');

export interface ProfileProblem {
  path: string;
  line: number;
  col: number;
  message: string;
}

/** A profile file that cannot be used: names the file and, for each problem, the field path and line. */
export class RegisterProfileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ProfileProblem[],
  ) {
    super(
      `register profile ${file}:\n${problems.map((p) => `  ${file}:${p.line}:${p.col}  ${p.path || '(top)'}: ${p.message}`).join('\n')}`,
    );
    this.name = 'RegisterProfileError';
  }
}

/** Parses and checks one profile; `file` names it in errors and must match its `name`. */
export function parseRegisterProfile(text: string, file: string): RegisterProfile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => (offset === undefined ? { line: 0, col: 0 } : lines.linePos(offset));
  if (doc.errors.length) {
    throw new RegisterProfileError(
      file,
      doc.errors.map((e) => ({ path: '', ...at(e.pos[0]), message: `YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  const result = profileSchema.safeParse(doc.toJS());
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      return keys.map((key) => {
        const path = (key === undefined ? issue.path : [...issue.path, key]).map((p) =>
          typeof p === 'symbol' ? String(p) : p,
        );
        return {
          path: path.join('.'),
          ...locate(doc, path, at),
          message: key === undefined ? issue.message : `unknown key "${key}"`,
        };
      });
    });
    throw new RegisterProfileError(
      file,
      problems.sort((a, b) => a.line - b.line || a.col - b.col),
    );
  }
  const base = file.split(/[\\/]/).pop() ?? file;
  if (`${result.data.name}.yaml` !== base) {
    throw new RegisterProfileError(file, [
      { path: 'name', ...locate(doc, ['name'], at), message: `"${result.data.name}" must match the file name` },
    ]);
  }
  return result.data;
}

/** Loads every `*.yaml` profile of a folder; one broken file stops the gateway with the file and field named. */
export function loadRegisterProfiles(dir = REGISTER_PROFILES_DIR): Map<string, RegisterProfile> {
  const out = new Map<string, RegisterProfile>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const where = join(dir, file);
    const profile = parseRegisterProfile(readFileSync(where, 'utf8'), where);
    out.set(profile.name, profile);
  }
  return out;
}

function locate(
  doc: ReturnType<typeof parseDocument>,
  path: (string | number)[],
  at: (offset: number | undefined) => { line: number; col: number },
): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    // Map keys such as register codes are numbers in YAML but strings in the parsed object.
    const node =
      sub.length === 0
        ? doc.contents
        : (doc.getIn(sub, true) ??
          doc.getIn(
            sub.map((k) => (typeof k === 'string' && /^-?\d+$/.test(k) ? Number(k) : k)),
            true,
          ));
    if (node && (isScalar(node) || isMap(node) || isSeq(node))) return at((node as Node).range?.[0]);
  }
  return { line: 1, col: 1 };
}
