import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FIELDS } from '../../rules/model/fields.js';
import { QUALITIES, checkFields, type Reading } from '../../rules/model/reading.js';
import type { ApiDeps } from './deps.js';
import { deviceParams, findDevice } from './devices.js';
import { notKept } from '../pipeline/pipeline.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { instant, instantParam, iso } from './time.js';

const HOUR_MS = 3_600_000;
const MAX_RANGE_DAYS = 31;

const fieldList = z
  .string()
  .transform((s) => s.split(',').map((f) => f.trim()).filter((f) => f !== ''))
  .refine((names) => names.length > 0, 'name at least one field, e.g. fields=total_m3,flow_m3h');

/** The history query: a time window (default: the last hour up to now) and a row limit. */
export function historyQuery(now: () => number) {
  return z
    .strictObject({
      from: instantParam.optional(),
      to: instantParam.optional(),
      fields: fieldList.optional(),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    })
    .transform((q) => {
      const to = q.to ?? now();
      return { ...q, to, from: q.from ?? to - HOUR_MS, toIsNow: q.to === undefined };
    })
    .superRefine((q, ctx) => {
      if (q.to <= q.from) {
        const to = q.toIsNow ? `to (now) ${iso(q.to)}` : `to ${iso(q.to)}`;
        ctx.addIssue({ code: 'custom', path: ['to'], message: `must be after from (from ${iso(q.from)}, ${to})` });
      } else if (q.to - q.from > MAX_RANGE_DAYS * 24 * HOUR_MS) {
        const days = ((q.to - q.from) / (24 * HOUR_MS)).toFixed(1);
        ctx.addIssue({ code: 'custom', path: ['to'], message: `the range from..to is ${days} days; ask for at most ${MAX_RANGE_DAYS} days at a time` });
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

/** GET /api/devices/:id/readings (history from the store) and POST /api/readings (by hand). */
export const readingRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { devices, clock, metrics } = deps;

  app.get('/api/devices/:id/readings', { schema: { params: deviceParams, querystring: historyQuery(() => clock.now()) } }, async (request, reply) => {
    const device = findDevice(devices, request.params.id);
    const { from, to, fields, limit } = request.query;
    const known = FIELDS[device.kind];
    const unknown = (fields ?? []).filter((f) => !Object.hasOwn(known, f));
    if (unknown.length > 0) {
      throw badRequest(`querystring.fields: ${unknown.map((f) => `"${f}"`).join(', ')} is not a ${device.kind} field (known: ${Object.keys(known).join(', ')})`);
    }
    let rows;
    try {
      rows = await deps.readings.query({ measurement: device.kind, deviceId: device.id, from, to, limit, ...(fields ? { fields } : {}) });
    } catch (err) {
      request.log.error({ err, device: device.id }, 'history query failed');
      throw new ApiError(503, 'store_unavailable', 'the database did not answer; live values are still in /api/devices');
    }
    return reply.send({ device: device.id, from: iso(from), to: iso(to), rows });
  });

  app.post('/api/readings', { schema: { body: manualReading } }, async (request, reply) => {
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
    const reading: Reading = { deviceId: device.id, kind: device.kind, ts, fields: checked.fields, quality: body.quality };
    const result = await deps.ingest(reading);
    if (!result.accepted) {
      if (result.reason === 'unknown_device') throw notFound(result.detail);
      // Not kept, and we could take it later (the spool is full or failing): try again, not a bad reading.
      if (notKept(result)) throw new ApiError(503, 'not_kept', `reading not kept: ${result.detail}; send it again later`, { reason: result.reason }, { 'retry-after': '30' });
      // The pipeline counts its own refusals; no second count here.
      throw new ApiError(422, 'reading_refused', result.detail, { reason: result.reason });
    }
    request.log.info({ device: device.id, user: request.principal?.username }, 'manual reading accepted');
    return reply.code(202).send({ accepted: true, device_id: device.id, ts: iso(ts) });
  });
};
