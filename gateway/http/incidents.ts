import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IncidentError, type Incident, type IncidentCommand } from '../../rules/incidents/incident.js';
import { MAX_GROUP_ITEMS, type Playbook } from '../../rules/incidents/playbook.js';
import { buildReport, describeEvent, roleText, type People } from '../../rules/incidents/report.js';
import { reportCsv, reportHtml } from '../incidents/render.js';
import type { IncidentChange } from '../incidents/runtime.js';
import { UnknownIncidentError } from '../incidents/runtime.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { openEventStream } from './sse.js';
import type { Timers } from '../ports/clock.js';
import { errors, eventStream, formats } from './schemas/common.js';
import { incident, incidentDetail, incidentList, incidentReport } from './schemas/domain.js';

/** What the incident routes need; the gateway's IncidentRuntime implements it. */
export interface IncidentService {
  list(filter?: { status?: 'open' | 'closed'; building?: string; drill?: boolean }): Incident[];
  get(id: string): { incident: Incident; playbook: Playbook };
  playbook(playbookId: string): Playbook | undefined;
  command(id: string, cmd: IncidentCommand): Promise<Incident>;
  raise(by: string, playbookId: string, building: string | undefined, note: string | undefined): Promise<Incident>;
  subscribe(listener: (c: IncidentChange) => void, afterSeq?: number): () => void;
}

const params = z.strictObject({ id: z.string().min(1).max(64) });
const listQuery = z.strictObject({
  status: z.enum(['open', 'closed']).optional(),
  building: z.string().min(1).max(64).optional(),
  drill: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional(),
});
const raiseBody = z.strictObject({
  playbook: z.string().min(1).max(64),
  building: z.string().min(1).max(64).optional(),
  note: z.string().trim().max(2000).optional(),
});
const scalar = z.union([z.string().max(2000), z.number(), z.boolean()]);
/** A value, or a group's items (one per person or vehicle): bounded in count and size whatever is sent. */
const fieldValue = z.union([
  scalar,
  z
    .array(
      z.record(z.string().max(64), scalar).refine((o) => Object.keys(o).length <= 20, 'at most 20 fields per item'),
    )
    .max(MAX_GROUP_ITEMS),
]);
const note = z.string().trim().min(1).max(2000);
const commandBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('acknowledge') }),
  z.strictObject({ type: z.literal('start_step'), step: z.string().min(1) }),
  z.strictObject({
    type: z.literal('complete_step'),
    step: z.string().min(1),
    fields: z.record(z.string(), fieldValue).optional(),
    note: note.optional(),
  }),
  z.strictObject({ type: z.literal('complete_task'), task: z.string().min(1), note: note.optional() }),
  z.strictObject({ type: z.literal('note'), text: note }),
  z.strictObject({ type: z.literal('hand_over'), to: z.string().min(1).max(64), note: note.optional() }),
  z.strictObject({ type: z.literal('close'), note: note.optional() }),
]);
const reportQuery = z.strictObject({ format: z.enum(['html', 'json', 'csv']).default('html') });
const streamQuery = z.strictObject({ last_event_id: z.coerce.number().int().min(0).optional() });

/** Refusals of the incident model as HTTP: a state conflict is 409, a bad request 400. */
function asApiError(err: unknown): unknown {
  if (err instanceof UnknownIncidentError) return notFound(err.message);
  if (err instanceof IncidentError) {
    if (err.code === 'not_owner') return new ApiError(403, err.code, err.message);
    return ['closed', 'step_done', 'open_steps'].includes(err.code)
      ? new ApiError(409, err.code, err.message)
      : new ApiError(400, err.code, err.message);
  }
  return err;
}

export interface IncidentRoutesOptions {
  incidents: IncidentService;
  timeZone: string;
  siteName: string;
  place?: (deviceId: string) => { zh: string; en: string };
  building?: (id: string) => { zh: string; en: string };
  knownUsers: ReadonlySet<string>;
  knownBuildings?: ReadonlySet<string>;
  people?: People;
  assignable?: { username: string; name?: { zh: string; en: string } }[];
  now: () => number;
  /** The live stream's heartbeat timers (default real ones). */
  timers?: Timers;
}

// eslint-disable-next-line max-lines-per-function -- the incident routes as one table; each handler is short
export const incidentRoutes: FastifyPluginAsyncZod<IncidentRoutesOptions> = async (app, opts) => {
  const { incidents } = opts;
  const find = (id: string) => {
    try {
      return incidents.get(id);
    } catch (err) {
      throw asApiError(err);
    }
  };

  app.get(
    '/api/incidents',
    { schema: { querystring: listQuery, response: { 200: incidentList, ...errors(400) } } },
    async (request) => {
      const { status, building, drill } = request.query;
      return {
        incidents: incidents.list({
          ...(status ? { status } : {}),
          ...(building ? { building } : {}),
          ...(drill !== undefined ? { drill } : {}),
        }),
      };
    },
  );

  app.post(
    '/api/incidents',
    { schema: { body: raiseBody, response: { 201: incident, ...errors(400, 404, 409) } } },
    async (request, reply) => {
      const { building } = request.body;
      if (building !== undefined && opts.knownBuildings && !opts.knownBuildings.has(building))
        throw badRequest(`body.building: no building "${building}" in this site`);
      try {
        const inc = await incidents.raise(
          request.principal!.username,
          request.body.playbook,
          request.body.building,
          request.body.note || undefined,
        );
        return reply.code(201).send(inc);
      } catch (err) {
        throw asApiError(err);
      }
    },
  );

  app.get(
    '/api/incidents/stream',
    { schema: { querystring: streamQuery, response: { 200: eventStream } } },
    (request, reply) => {
      openEventStream(
        request,
        reply,
        request.query.last_event_id,
        (send, after) => incidents.subscribe((c) => send(c.seq, 'incident', c), after),
        opts.timers,
      );
    },
  );

  // With the timeline in words (both languages), as the report tells it: people by name, the sensors as the sensors.
  app.get(
    '/api/incidents/:id',
    { schema: { params, response: { 200: incidentDetail, ...errors(400, 404) } } },
    async (request) => {
      const { incident, playbook } = find(request.params.id);
      // Roles and people in words for the page, from the one catalogue the report uses.
      const roles = Object.fromEntries([...new Set(playbook.steps.map((s) => s.role))].map((r) => [r, roleText(r)]));
      return {
        incident,
        playbook,
        roles,
        people: opts.assignable ?? [],
        timeline: incident.timeline.map((e) => ({
          at: e.at,
          type: e.type,
          text: describeEvent(e, playbook, incident, opts.people),
          ...(e.type === 'photo' ? { photo: e.name } : {}),
        })),
      };
    },
  );

  app.post(
    '/api/incidents/:id/commands',
    { schema: { params, body: commandBody, response: { 200: incident, ...errors(400, 403, 404, 409) } } },
    async (request) => {
      const by = request.principal!.username;
      const body = request.body;
      if (body.type === 'hand_over' && !opts.knownUsers.has(body.to))
        throw badRequest(`body.to: no user "${body.to}" in this site`);
      try {
        // A duty manager (by the rota) or an admin may move or close a case someone else owns.
        const p = request.principal!;
        const manager = p.role === 'admin' || (p.dutyRoles ?? []).includes('duty_manager');
        return await incidents.command(request.params.id, {
          ...body,
          by,
          ...(body.type === 'hand_over' || body.type === 'close' ? { manager } : {}),
        } as IncidentCommand);
      } catch (err) {
        throw asApiError(err);
      }
    },
  );

  app.get(
    '/api/incidents/:id/report',
    {
      schema: {
        params,
        querystring: reportQuery,
        response: {
          200: formats('the report: a printable page (default), JSON or CSV', incidentReport, [
            'text/html',
            'text/csv',
          ]),
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { incident, playbook } = find(request.params.id);
      const report = buildReport(incident, playbook, opts.now(), opts.people);
      switch (request.query.format) {
        case 'json':
          return report;
        case 'csv':
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${incident.id}.csv"`)
            .send(reportCsv(report));
        case 'html':
          return reply.type('text/html; charset=utf-8').send(
            reportHtml(report, opts.timeZone, opts.siteName, {
              ...(opts.place ? { place: opts.place } : {}),
              ...(opts.building ? { building: opts.building } : {}),
            }),
          );
      }
    },
  );
};
