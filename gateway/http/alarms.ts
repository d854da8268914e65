import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALARM_KINDS, SEVERITIES } from '../../rules/alarms/kinds.js';
import type { AlarmView } from '../../rules/engine.js';
import type { AlarmFilter, AlarmListener } from '../alarms/runtime.js';
import type { JournalEntry } from '../alarms/journal.js';
import { silenceMatch, type Silence, type SilenceMatch } from '../../rules/alarms/silence.js';
import type { AckEpisode } from '../../rules/incidents/drill-report.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { openEventStream } from './sse.js';
import type { Timers } from '../ports/clock.js';
import { instantParam } from './time.js';
import { errors, eventStream, noContent } from './schemas/common.js';
import { alarm, alarmKinds, alarmSound, silence } from './schemas/domain.js';

export interface AlarmRoutesOptions {
  alarms: AlarmService;
  now: () => number;
  /** The live stream's heartbeat timers (default real ones). */
  timers?: Timers;
  known?: { buildings: ReadonlySet<string>; devices: ReadonlySet<string> };
}

/** What the alarm routes need; the gateway's AlarmRuntime implements it. */
export interface AlarmService {
  list(filter?: AlarmFilter): AlarmView[];
  get(alarmId: string): AlarmView | undefined;
  acknowledge(alarmId: string, by: string, comment: string | undefined): Promise<JournalEntry[]>;
  comment(alarmId: string, by: string, text: string): Promise<JournalEntry[]>;
  subscribeLive(listener: AlarmListener, afterSeq?: number): () => void;
  silences(): Silence[];
  silence(s: {
    by: string;
    reason: string;
    minutes: number;
    from?: number;
    maintenance: boolean;
    match: SilenceMatch;
  }): Promise<Silence>;
  unsilence(id: string): Promise<boolean>;
  /** When each (kind, device) alarm of a drill first fired. */
  firedInDrill(drillId: string): Map<string, number>;
  /** Each critical alarm of a drill, each time it fired, with its acknowledgement. */
  criticalEpisodes(drillId: string): AckEpisode[];
}

const listQuery = z.strictObject({
  status: z.enum(['active', 'firing', 'cleared']).optional(),
  building: z.string().min(1).max(64).optional(),
  severity: z.enum(SEVERITIES).optional(),
  drill: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional(),
});
const alarmParams = z.strictObject({ id: z.string().min(1).max(200) });
const ackBody = z.strictObject({ comment: z.string().trim().max(2000).optional() });
const commentBody = z.strictObject({ text: z.string().trim().min(1, 'write something').max(2000) });
const silenceBody = z.strictObject({
  match: silenceMatch,
  reason: z.string().trim().min(1, 'say why').max(500),
  /** Minutes from `from` (default now); at most 7 days: longer mutes hide real trouble. */
  minutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60),
  from: instantParam.optional(),
  maintenance: z.boolean().default(false),
});
const soundBody = z.strictObject({ muted: z.boolean() });
const silenceParams = z.strictObject({ id: z.string().min(1).max(64) });
const streamQuery = z.strictObject({ last_event_id: z.coerce.number().int().min(0).optional() });

// Over 60 lines on purpose: the area's plugin is its list of routes, each handler short.
/** Alarms (list, one, acknowledge, comment, SSE stream) and silences (list, add, end). */
// eslint-disable-next-line max-lines-per-function -- the alarm and silence routes as one table; each handler is short
export const alarmRoutes: FastifyPluginAsyncZod<AlarmRoutesOptions> = async (app, { alarms, now, timers, known }) => {
  let sound: { muted: boolean; by: string | null; at: string | null } = { muted: false, by: null, at: null };
  app.get(
    '/api/alarms',
    { schema: { querystring: listQuery, response: { 200: z.object({ alarms: z.array(alarm) }), ...errors(400) } } },
    async (request) => {
      const { status, building, severity, drill } = request.query;
      const list = alarms.list({
        ...(status ? { status } : {}),
        ...(building ? { building } : {}),
        ...(severity ? { severity } : {}),
        ...(drill !== undefined ? { drill } : {}),
      });
      return { alarms: list };
    },
  );

  // The catalogue of alarm kinds with their words, for pages that show them.
  app.get('/api/alarms/kinds', { schema: { response: { 200: z.object({ kinds: alarmKinds }) } } }, async () => ({
    kinds: ALARM_KINDS,
  }));

  // Who silenced the duty room's alarm sound, and when: the sound is shared, so its mute is recorded.
  app.get('/api/alarms/sound', { schema: { response: { 200: alarmSound } } }, async () => sound);
  app.post(
    '/api/alarms/sound',
    { schema: { body: soundBody, response: { 200: alarmSound, ...errors(400) } } },
    async (request) => {
      sound = { muted: request.body.muted, by: request.principal!.username, at: new Date(now()).toISOString() };
      request.log.warn({ sound }, request.body.muted ? 'alarm sound muted' : 'alarm sound on');
      return sound;
    },
  );

  app.get(
    '/api/alarms/:id',
    { schema: { params: alarmParams, response: { 200: alarm, ...errors(404) } } },
    async (request) => {
      const alarm = alarms.get(request.params.id);
      if (!alarm) throw notFound(`no alarm "${request.params.id}"`);
      return alarm;
    },
  );

  app.post(
    '/api/alarms/:id/ack',
    { schema: { params: alarmParams, body: ackBody, response: { 200: alarm, ...errors(400, 404, 409) } } },
    async (request) => {
      const { id } = request.params;
      const alarm = alarms.get(id);
      if (!alarm) throw notFound(`no alarm "${id}"`);
      if (alarm.status === 'pending' || alarm.status === 'closed')
        throw new ApiError(
          409,
          'not_acknowledgeable',
          `alarm "${id}" is ${alarm.status}: only a firing or cleared alarm can be acknowledged`,
        );
      await alarms.acknowledge(id, request.principal!.username, request.body?.comment || undefined);
      return alarms.get(id);
    },
  );

  app.post(
    '/api/alarms/:id/comments',
    { schema: { params: alarmParams, body: commentBody, response: { 200: alarm, ...errors(400, 404, 409) } } },
    async (request) => {
      const { id } = request.params;
      const alarm = alarms.get(id);
      if (!alarm) throw notFound(`no alarm "${id}"`);
      if (alarm.status === 'pending' || alarm.status === 'closed')
        throw new ApiError(
          409,
          'not_open',
          `alarm "${id}" is ${alarm.status}: comments go on a firing or cleared alarm`,
        );
      await alarms.comment(id, request.principal!.username, request.body.text);
      return alarms.get(id);
    },
  );

  app.get('/api/silences', { schema: { response: { 200: z.object({ silences: z.array(silence) }) } } }, async () => ({
    silences: alarms.silences(),
  }));

  app.post(
    '/api/silences',
    { schema: { body: silenceBody, response: { 201: silence, ...errors(400) } } },
    async (request, reply) => {
      const { match, reason, minutes, from, maintenance } = request.body;
      if (known && match.building !== undefined && !known.buildings.has(match.building))
        throw badRequest(`body.match.building: no building "${match.building}" in this site`);
      if (known && match.deviceId !== undefined && !known.devices.has(match.deviceId))
        throw badRequest(`body.match.deviceId: no device "${match.deviceId}" in this site`);
      const silence = await alarms.silence({
        by: request.principal!.username,
        reason,
        minutes,
        ...(from !== undefined ? { from } : {}),
        maintenance,
        match,
      });
      return reply.code(201).send(silence);
    },
  );

  app.delete(
    '/api/silences/:id',
    { schema: { params: silenceParams, response: { 204: noContent, ...errors(404) } } },
    async (request, reply) => {
      if (!(await alarms.unsilence(request.params.id))) throw notFound(`no active silence "${request.params.id}"`);
      return reply.code(204).send();
    },
  );

  // Server-sent events: one `alarm` event per change, `id` = its journal sequence number, so
  // a browser that reconnects (Last-Event-ID) gets what it missed.
  app.get(
    '/api/alarms/stream',
    { schema: { querystring: streamQuery, response: { 200: eventStream } } },
    (request, reply) => {
      openEventStream(
        request,
        reply,
        request.query.last_event_id,
        (send, after) =>
          alarms.subscribeLive((e) => send(e.seq, 'alarm', { type: e.type, at: e.at, alarm: e.alarm }), after),
        timers,
      );
    },
  );
};
