import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { apiToken, text, user } from '../config/schema.js';
import { ConfigError, parseDataFile, type ConfigProblem } from '../ports/data-files.js';

// hq.yaml, the head-office console's file: the shared broker it follows the sites on (a
// persistent session, QoS 1), the sites it expects, its HTTP listener and its logins. Checked
// like the site file: every problem named with its path and line, and nothing starts.

const id = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "-" and "_" only');

const site = z.strictObject({
  id,
  name: text,
  /** Where the bridge carrying this site publishes its state (mosquitto `notification_topic`): `1` up, `0` down. */
  bridge_topic: z.string().min(1).optional(),
  /** Unreachable when nothing of the site arrived for this many seconds (off by default: a quiet site says nothing). */
  silent_after_s: z.number().int().positive().optional(),
});

export const hqConfigSchema = z
  .strictObject({
    broker: z.strictObject({
      url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'an mqtt://, mqtts://, ws:// or wss:// URL'),
      username: z.string().min(1).optional(),
      password: z.string().optional(),
      /** The persistent session's name: keep it stable, the broker keeps HQ's messages under it while HQ is away. */
      client_id: id.default('dutyroom-hq'),
      /** The topics' first level (the gateways' `events.prefix`). */
      prefix: id.default('dutyroom'),
      tls: z
        .strictObject({
          ca: z.string().optional(),
          cert: z.string().optional(),
          key: z.string().optional(),
          reject_unauthorized: z.boolean().default(true),
        })
        .optional(),
    }),
    sites: z.array(site).min(1),
    /** The time zone the console shows times in. */
    timezone: z.string().min(1).default('Asia/Shanghai'),
    http: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }),
    /** Events kept per site (the oldest go first). */
    max_events_per_site: z.number().int().min(10).max(100_000).default(2000),
    /** Logins to the console: read-only viewers unless a role says otherwise (the console changes nothing). */
    users: z.array(user.extend({ role: user.shape.role.default('viewer') })).default([]),
    api_tokens: z.array(apiToken.extend({ role: apiToken.shape.role.default('viewer') })).default([]),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.sites.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['sites', i, 'id'], message: `site "${s.id}" twice` });
      seen.add(s.id);
    });
  });

export type HqConfig = z.infer<typeof hqConfigSchema>;
export type HqSiteConfig = HqConfig['sites'][number];

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Parses hq.yaml; `${NAME}` (or `${NAME:-default}`) is taken from the environment, so secrets stay out of the file. */
export function parseHqConfig(yamlText: string, file: string, env: Record<string, string | undefined>): HqConfig {
  const lines = yamlText.split('\n');
  const problems: ConfigProblem[] = [];
  const substituted = lines.map((line, i) =>
    line.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      problems.push({ path: '', line: i + 1, col: 1, message: `environment variable ${name} is not set` });
      return '';
    }),
  );
  if (problems.length) throw new ConfigError(file, problems);
  return parseDataFile(hqConfigSchema, substituted.join('\n'), file);
}

export function loadHqConfig(file: string, env = process.env): { config: HqConfig; baseDir: string } {
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: '', line: 0, col: 0, message: `cannot read the file: ${(err as Error).message}` },
    ]);
  }
  return { config: parseHqConfig(body, file, env), baseDir: dirname(resolve(file)) };
}
