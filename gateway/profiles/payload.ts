import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { DEVICE_KINDS, FIELDS } from '../../rules/model/fields.js';
import { projectPath } from '../files/paths.js';

// A payload profile maps one family of MQTT payloads onto canonical fields. Profiles are
// data (YAML files in ./payload): supporting a new sensor family means adding a file.

const mapping = z.strictObject({
  /** Canonical field name of the device's kind. */
  to: z.string().min(1),
  /** Booleans: store the opposite (a float switch that opens when the water rises). */
  invert: z.boolean().default(false),
  /** Numbers: value × scale + offset. */
  scale: z.number().default(1),
  offset: z.number().default(0),
  /** Strings or numbers the device sends → canonical values ("ON" → true, 3 → "open"). */
  map: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

const profileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  description: z.strictObject({ zh: z.string(), en: z.string() }),
  kinds: z.array(z.enum(DEVICE_KINDS)).min(1),
  /** Keys are canonical field names already (the default payload). */
  canonical: z.boolean().default(false),
  /** Payload key holding the device's own timestamp; receive time is used when absent. */
  timestamp: z.strictObject({ field: z.string().min(1) }).optional(),
  /** Payload key → canonical field. */
  fields: z.record(z.string(), mapping).default({}),
  /** What to do with payload keys the profile does not name. */
  unknown_keys: z.enum(['reject', 'ignore']).default('reject'),
});

export type PayloadProfile = z.infer<typeof profileSchema>;

export const PROFILES_DIR = projectPath('gateway', 'profiles', 'payload');

/** Loads and checks every profile file; a broken profile stops the gateway with its file named. */
export function loadPayloadProfiles(dir = PROFILES_DIR): Map<string, PayloadProfile> {
  const out = new Map<string, PayloadProfile>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const where = join(dir, file);
    const parsed = profileSchema.safeParse(parse(readFileSync(where, 'utf8')));
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
      throw new Error(`payload profile ${where}: ${detail}`);
    }
    const profile = parsed.data;
    if (`${profile.name}.yaml` !== file)
      throw new Error(`payload profile ${where}: name "${profile.name}" must match the file name`);
    for (const [key, m] of Object.entries(profile.fields)) {
      for (const kind of profile.kinds) {
        if (!FIELDS[kind][m.to])
          throw new Error(`payload profile ${where}: fields.${key}.to "${m.to}" is not a ${kind} field`);
      }
    }
    out.set(profile.name, profile);
  }
  return out;
}
