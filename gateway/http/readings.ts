import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FIELDS, type DeviceKind, type FieldDef } from '../../rules/model/fields.js';
import type { AggregateQuery, Aggregation } from '../store/driver.js';
import { QUALITIES, checkFields, type Reading } from '../../rules/model/reading.js';
import type { ApiDeps } from './deps.js';
import { deviceParams, findDevice } from './devices.js';
import { notKept } from '../pipeline/pipeline.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { instant, instantParam, iso } from './time.js';
import { errors } from './schemas/common.js';
import { fieldCatalogue, history, readingAccepted } from './schemas/domain.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Raw readings: a month at most (a 15-minute meter: 3000 rows; a 10-second one: the limit). */
const MAX_RANGE_DAYS = 31;
/** Per interval (`every`), aggregated in the database: a quarter. */
export const MAX_AGGREGATED_RANGE_DAYS = 92;
/** Intervals in one answer: what a chart a screen wide can show, whatever the range. */
export const MAX_INTERVALS = 2000;
const DEFAULT_LIMIT = 1000;
const UNIT_MS = { s: 1000, m: 60_000, h: HOUR_MS, d: DAY_MS } as const;

/** `every=5m`: a whole number of seconds, minutes, hours or days, up to 31 days. */
const interval = z.string().transform((text, ctx) => {
  const m = /^([1-9]\d{0,5})([smhd])$/.exec(text);
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not an interval; write a whole number and s, m, h or d, e.g. every=5m`,
    });
    return z.NEVER;
  }
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms > MAX_RANGE_DAYS * DAY_MS) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is longer than ${MAX_RANGE_DAYS} days` });
    return z.NEVER;
  }
  return { text, ms };
});

/** The shortest interval that keeps `span` within MAX_INTERVALS, as a parameter to suggest. */
function shortestEvery(span: number): string {
  const minutes = Math.ceil(span / MAX_INTERVALS / 60_000);
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}

const fieldList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== ''),
  )
  .refine((names) => names.length > 0, 'name at least one field, e.g. fields=total_m3,flow_m3h');

/** The history query: a time window (default: the last hour up to now) and a row limit. */
export function historyQuery(now: () => number) {
  return z
    .strictObject({
      from: instantParam.optional(),
      to: instantParam.optional(),
      fields: fieldList.optional(),
      limit: z.coerce.number().int().min(1).max(10_000).optional(),
      /** Aggregate per interval in the database (mean and max of gauges, use of counters). */
      every: interval.optional(),
    })
    .transform((q) => {
      const to = q.to ?? now();
      return {
        ...q,
        to,
        from: q.from ?? to - HOUR_MS,
        toIsNow: q.to === undefined,
        limit: q.limit ?? DEFAULT_LIMIT,
        limitGiven: q.limit !== undefined,
      };
    })
    .superRefine((q, ctx) => {
      const span = q.to - q.from;
      const days = (span / DAY_MS).toFixed(1);
      if (span <= 0) {
        const to = q.toIsNow ? `to (now) ${iso(q.to)}` : `to ${iso(q.to)}`;
        ctx.addIssue({ code: 'custom', path: ['to'], message: `must be after from (from ${iso(q.from)}, ${to})` });
      } else if (q.every) {
        if (span > MAX_AGGREGATED_RANGE_DAYS * DAY_MS) {
          ctx.addIssue({
            code: 'custom',
            path: ['to'],
            message: `the range from..to is ${days} days; ask for at most ${MAX_AGGREGATED_RANGE_DAYS} days at a time`,
          });
        } else if (Math.ceil(span / q.every.ms) > MAX_INTERVALS) {
          const n = Math.ceil(span / q.every.ms);
          ctx.addIssue({
            code: 'custom',
            path: ['every'],
            message: `${q.every.text} over ${days} days makes ${n} intervals; at most ${MAX_INTERVALS}: use every=${shortestEvery(span)} or longer`,
          });
        }
        if (q.limitGiven) {
          ctx.addIssue({
            code: 'custom',
            path: ['limit'],
            message: `limits raw readings; with every the answer has one row per interval (from..to divided by every, at most ${MAX_INTERVALS})`,
          });
        }
      } else if (span > MAX_RANGE_DAYS * DAY_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `the range from..to is ${days} days; ask for at most ${MAX_RANGE_DAYS} days of readings at a time, or per interval with every= (up to ${MAX_AGGREGATED_RANGE_DAYS} days)`,
        });
      }
    });
}

const manualReading = z.strictObject({
  device_id: z.string().min(1).max(64),
  /** When the value was read; defaults to now. */
  ts: instant.optional(),
  fields: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
  quality: z.enum(QUALITIES).default('good'),
});

const isNumber = (def: FieldDef) => def.type === 'float' || def.type === 'int';
const TYPE_WORD: Record<FieldDef['type'], string> = {
  float: 'a number',
  int: 'a whole number',
  bool: 'a flag (true/false)',
  enum: 'a state (text)',
};

/**
 * How each field is aggregated per interval, with the columns asked of the database: a
 * counter's use (a meter's consumption), a gauge's mean and max, a code's (int) max.
 */
function aggregation(
  kind: DeviceKind,
  fields: string[],
): { how: Record<string, Aggregation>; columns: AggregateQuery['columns'] } {
  const how: Record<string, Aggregation> = {};
  const columns: AggregateQuery['columns'] = {};
  for (const field of fields) {
    const def = FIELDS[kind][field]!;
    if (def.counter) how[field] = 'use';
    else if (def.type === 'float') {
      how[field] = 'mean';
      columns[`${field}:max`] = { field, fn: 'max' };
    } else how[field] = 'max';
    columns[field] = { field, fn: how[field] };
  }
  return { how, columns };
}

/**
 * GET /api/devices/:id/readings (history from the store, raw or per interval),
 * GET /api/devices/:id/fields (the catalogue's words and units for the device's page) and
 * POST /api/readings (by hand).
 */
// eslint-disable-next-line max-lines-per-function -- the reading routes as one table; each handler is short
export const readingRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { devices, clock, metrics } = deps;

  app.get(
    '/api/devices/:id/fields',
    { schema: { params: deviceParams, response: { 200: fieldCatalogue, ...errors(400, 404) } } },
    async (request) => {
      const device = findDevice(devices, request.params.id);
      const writable = new Set(deps.commands?.writable?.(device.id) ?? []);
      // The catalogue (rules/model/fields.ts) as it is: the page keeps no list of its own.
      const fields = Object.entries(FIELDS[device.kind]).map(([name, def]) => ({
        name,
        ...def,
        writable: writable.has(name),
      }));
      return { device: device.id, kind: device.kind, fields };
    },
  );

  app.get(
    '/api/devices/:id/readings',
    {
      schema: {
        params: deviceParams,
        querystring: historyQuery(() => clock.now()),
        response: { 200: history, ...errors(400, 404, 501, 503) },
      },
    },
    async (request, reply) => {
      const device = findDevice(devices, request.params.id);
      const { from, to, fields, limit, every } = request.query;
      const known = FIELDS[device.kind];
      const unknown = (fields ?? []).filter((f) => !Object.hasOwn(known, f));
      if (unknown.length > 0) {
        throw badRequest(
          `querystring.fields: ${unknown.map((f) => `"${f}"`).join(', ')} is not a ${device.kind} field (known: ${Object.keys(known).join(', ')})`,
        );
      }
      if (every)
        return reply.send(
          await aggregatedHistory(deps, device, { from, to, every, ...(fields ? { fields } : {}) }, request.log),
        );
      const rows = await rawHistory(deps, device, { from, to, limit, ...(fields ? { fields } : {}) }, request.log);
      return reply.send({ device: device.id, from: iso(from), to: iso(to), rows });
    },
  );

  app.post(
    '/api/readings',
    { schema: { body: manualReading, response: { 202: readingAccepted, ...errors(400, 404, 422, 503) } } },
    async (request, reply) => {
      const body = request.body;
      metrics.readingsReceived.inc({ protocol: 'http' });
      const refuse = (reason: string, detail: string) => {
        metrics.reject('http', reason);
        return new ApiError(422, 'reading_refused', detail, { reason });
      };
      const device = devices.get(body.device_id);
      if (!device) {
        metrics.reject('http', 'unknown_device');
        throw notFound(`no device "${body.device_id}" in this site`);
      }
      if (!deps.ingest) throw new ApiError(503, 'ingest_unavailable', 'this gateway does not take manual readings');
      const now = clock.now();
      const ts = body.ts ?? now;
      if (ts > now + deps.config.ingest.max_future_s * 1000) {
        throw refuse('bad_timestamp', `ts ${iso(ts)} is more than ${deps.config.ingest.max_future_s} s in the future`);
      }
      if (ts < now - deps.config.ingest.max_age_h * HOUR_MS) {
        throw refuse('bad_timestamp', `ts ${iso(ts)} is older than ${deps.config.ingest.max_age_h} h`);
      }
      const checked = checkFields(device.kind, body.fields);
      if (!checked.ok) throw refuse(checked.reason, checked.detail);
      const reading: Reading = {
        deviceId: device.id,
        kind: device.kind,
        ts,
        fields: checked.fields,
        quality: body.quality,
      };
      const result = await deps.ingest(reading);
      if (!result.accepted) {
        if (result.reason === 'unknown_device') throw notFound(result.detail);
        // Not kept, and we could take it later (the spool is full or failing): try again, not a bad reading.
        if (notKept(result))
          throw new ApiError(
            503,
            'not_kept',
            `reading not kept: ${result.detail}; send it again later`,
            { reason: result.reason },
            { 'retry-after': '30' },
          );
        // The pipeline counts its own refusals; no second count here.
        throw new ApiError(422, 'reading_refused', result.detail, { reason: result.reason });
      }
      request.log.info({ device: device.id, user: request.principal?.username }, 'manual reading accepted');
      return reply.code(202).send({ accepted: true, device_id: device.id, ts: iso(ts) });
    },
  );
};

type HistoryDevice = { id: string; kind: DeviceKind };

/** History per interval, computed by the database: only number fields are aggregated. */
async function aggregatedHistory(
  deps: ApiDeps,
  device: HistoryDevice,
  q: { from: number; to: number; every: { ms: number; text: string }; fields?: string[] },
  log: FastifyBaseLogger,
) {
  const { from, to, every, fields } = q;
  const known = FIELDS[device.kind];
  const notNumbers = (fields ?? []).filter((f) => !isNumber(known[f]!));
  if (notNumbers.length > 0) {
    const which = notNumbers.map((f) => `"${f}" is ${TYPE_WORD[known[f]!.type]}`).join(', ');
    throw badRequest(
      `querystring.fields: ${which}; only numbers are aggregated per interval: ask for ${notNumbers.length > 1 ? 'them' : 'it'} without every`,
    );
  }
  const aggregate = deps.readings.aggregate?.bind(deps.readings);
  if (!aggregate)
    throw new ApiError(
      501,
      'aggregation_unavailable',
      `this gateway's database does not aggregate history per interval (InfluxDB 1.x does); ask without every, at most ${MAX_RANGE_DAYS} days`,
    );
  const names = fields ?? Object.keys(known).filter((f) => isNumber(known[f]!));
  const { how, columns } = aggregation(device.kind, names);
  let found;
  try {
    found = await aggregate({
      measurement: device.kind,
      deviceId: device.id,
      from,
      to,
      everyMs: every.ms,
      timezone: deps.config.site.timezone,
      columns,
    });
  } catch (err) {
    log.error({ err, device: device.id }, 'aggregated history query failed');
    throw new ApiError(503, 'store_unavailable', 'the database did not answer; live values are still in /api/devices');
  }
  const rows = found.map((r) => {
    const max: Record<string, number | null> = {};
    for (const f of names) if (`${f}:max` in r.values) max[f] = r.values[`${f}:max`] ?? null;
    return {
      time: iso(r.time),
      fields: Object.fromEntries(names.map((f) => [f, r.values[f] ?? null])),
      ...(Object.keys(max).length ? { max } : {}),
    };
  });
  return {
    device: device.id,
    from: iso(from),
    to: iso(to),
    every: every.text,
    everyMs: every.ms,
    timezone: deps.config.site.timezone,
    aggregation: how,
    rows,
  };
}

/** The readings as stored, at most `limit`. */
async function rawHistory(
  deps: ApiDeps,
  device: HistoryDevice,
  q: { from: number; to: number; limit: number; fields?: string[] },
  log: FastifyBaseLogger,
) {
  try {
    return await deps.readings.query({
      measurement: device.kind,
      deviceId: device.id,
      from: q.from,
      to: q.to,
      limit: q.limit,
      ...(q.fields ? { fields: q.fields } : {}),
    });
  } catch (err) {
    log.error({ err, device: device.id }, 'history query failed');
    throw new ApiError(503, 'store_unavailable', 'the database did not answer; live values are still in /api/devices');
  }
}
