import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HandoverError, handoverReport, type Handover } from '../../rules/incidents/handover.js';
import type { Shift } from '../../rules/incidents/shifts.js';
import { handoverSheetHtml } from '../incidents/handover-sheet.js';
import { ApiError, badRequest, notFound } from './errors.js';
import type { IncidentService } from './incidents.js';
import { instantParam } from './time.js';
import { errors, other } from './schemas/common.js';
import { handover, handoverReportBody } from './schemas/domain.js';

// The shift handover (S003 §3.6, §4.8–4.9): the report of a shift (the current one unless
// asked), the handover the outgoing person records, the incoming person's confirmation, and
// the printable sheet. Until the incoming person confirms, the outgoing person keeps the cases.

/** What the handover routes need; the gateway's HandoverDesk implements it. */
export interface HandoverService {
  shift(at?: number): Shift;
  list(since?: number): Handover[];
  get(id: string): Handover | undefined;
  hand(by: string, to: string, note: string | undefined): Promise<Handover>;
  confirm(id: string, by: string): Promise<Handover>;
  cancel(id: string, by: string): Promise<Handover>;
}

const note = z.string().trim().min(1).max(4000);
const reportQuery = z.strictObject({ from: instantParam.optional(), to: instantParam.optional() });
const handBody = z.strictObject({ to: z.string().min(1).max(64), note: note.optional() });
const params = z.strictObject({ id: z.string().regex(/^ho-\d{1,9}$/, 'a handover id (ho-1)') });

function asApiError(err: unknown): unknown {
  if (!(err instanceof HandoverError)) return err;
  if (err.code === 'unknown_handover') return notFound(err.message);
  if (err.code === 'not_recipient' || err.code === 'not_giver') return new ApiError(403, err.code, err.message);
  return new ApiError(err.code === 'same_person' ? 400 : 409, err.code, err.message);
}

export interface HandoverRoutesOptions {
  handovers: HandoverService;
  incidents: IncidentService;
  users: readonly { username: string; name?: { zh: string; en: string }; role: string }[];
  timeZone: string;
  siteName: string;
  now: () => number;
}

// eslint-disable-next-line max-lines-per-function -- the handover routes as one table; each handler is short
export const handoverRoutes: FastifyPluginAsyncZod<HandoverRoutesOptions> = async (app, opts) => {
  const { handovers, incidents } = opts;
  const known = new Set(opts.users.map((u) => u.username));
  const report = (from: number, to: number) =>
    handoverReport(incidents.list(), (id) => incidents.playbook(id)!, from, to);
  const run = async <T>(f: () => Promise<T>) => {
    try {
      return await f();
    } catch (err) {
      throw asApiError(err);
    }
  };

  // The current shift until now, unless a period is asked for; with the shift's handovers and who may take one.
  app.get(
    '/api/handover',
    { schema: { querystring: reportQuery, response: { 200: handoverReportBody, ...errors(400) } } },
    async (request) => {
      const now = opts.now();
      const shift = handovers.shift(request.query.to !== undefined ? request.query.to - 1 : now);
      const to = request.query.to ?? Math.min(now, shift.to);
      const from = request.query.from ?? shift.from;
      if (to <= from) throw badRequest('querystring.to: must be after from');
      return {
        ...report(from, to),
        shift,
        handovers: handovers.list(from),
        people: opts.users
          .filter((u) => u.role !== 'viewer')
          .map((u) => ({ username: u.username, ...(u.name ? { name: u.name } : {}) })),
      };
    },
  );

  app.post(
    '/api/handover',
    { schema: { body: handBody, response: { 201: handover, ...errors(400, 403, 409) } } },
    async (request, reply) => {
      const { to, note } = request.body;
      if (!known.has(to)) throw badRequest(`body.to: no user "${to}" in this site`);
      const h = await run(() => handovers.hand(request.principal!.username, to, note));
      return reply.code(201).send(h);
    },
  );

  app.get(
    '/api/handovers',
    { schema: { response: { 200: z.object({ handovers: z.array(handover) }) } } },
    async () => ({ handovers: handovers.list() }),
  );

  app.get(
    '/api/handovers/:id',
    { schema: { params, response: { 200: handover, ...errors(400, 404) } } },
    async (request) => {
      const h = handovers.get(request.params.id);
      if (!h) throw notFound(`no handover "${request.params.id}"`);
      return h;
    },
  );

  app.post(
    '/api/handovers/:id/confirm',
    { schema: { params, response: { 200: handover, ...errors(400, 403, 404, 409) } } },
    async (request) => run(() => handovers.confirm(request.params.id, request.principal!.username)),
  );

  app.post(
    '/api/handovers/:id/cancel',
    { schema: { params, response: { 200: handover, ...errors(400, 403, 404, 409) } } },
    async (request) => run(() => handovers.cancel(request.params.id, request.principal!.username)),
  );

  app.get(
    '/api/handovers/:id/sheet',
    { schema: { params, response: { 200: other('the printable handover sheet', 'text/html'), ...errors(400, 404) } } },
    async (request, reply) => {
      const h = handovers.get(request.params.id);
      if (!h) throw notFound(`no handover "${request.params.id}"`);
      const names = new Map(
        opts.users.map((u) => [
          u.username,
          u.name ? `${u.name.zh}${u.name.en !== u.name.zh ? ` ${u.name.en}` : ''} (${u.username})` : u.username,
        ]),
      );
      return reply
        .type('text/html; charset=utf-8')
        .send(
          handoverSheetHtml(
            h,
            report(h.shift.from, Math.min(h.at, h.shift.to)),
            opts.timeZone,
            opts.siteName,
            (u) => names.get(u) ?? u,
          ),
        );
    },
  );
};
