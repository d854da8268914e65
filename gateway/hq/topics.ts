import { z } from 'zod';
import type { SiteMessage } from '../../rules/hq/site-state.js';
import { alarmStateSchema, busEventSchema, incidentStateSchema, siteStatusSchema } from '../../rules/events/schema.js';
import { eventTopics } from '../../rules/events/topics.js';
import type { HqConfig } from './config.js';

// Which topics head office subscribes to for its sites, and what a message on one of them
// means: the site it is of, and the message for the fold (or why it was refused).

export function subscriptions(cfg: Pick<HqConfig, 'sites'> & { broker: { prefix: string } }): string[] {
  return cfg.sites.flatMap((s) => {
    const t = eventTopics(s.id, cfg.broker.prefix);
    return [t.events, t.alarms, t.incidents, t.status, ...(s.bridge_topic ? [s.bridge_topic] : [])];
  });
}

export type Routed = { site: string; message: SiteMessage } | { site?: string; refused: string } | null;

/** The message on `topic` for the fold; null for a topic that is none of ours. */
export function route(
  cfg: Pick<HqConfig, 'sites'> & { broker: { prefix: string } },
  topic: string,
  payload: string,
  at: number,
): Routed {
  const bridged = cfg.sites.find((s) => s.bridge_topic === topic);
  if (bridged) {
    if (payload !== '0' && payload !== '1') return { site: bridged.id, refused: `bridge state "${payload}"` };
    return { site: bridged.id, message: { type: 'bridge', at, up: payload === '1' } };
  }
  const [prefix, site, level, id, ...rest] = topic.split('/');
  if (prefix !== cfg.broker.prefix || !site || !cfg.sites.some((s) => s.id === site) || rest.length) return null;
  try {
    const json = payload === '' ? null : (JSON.parse(payload) as unknown);
    if (level === 'events' && id === undefined)
      return { site, message: { type: 'event', at, event: bySite(busEventSchema, json, site) } };
    if (level === 'status' && id === undefined)
      return { site, message: { type: 'status', at, status: bySite(siteStatusSchema, json, site) } };
    if (level === 'alarms' && id)
      return { site, message: { type: 'alarm', at, alarmId: id, state: orEmpty(alarmStateSchema, json, site) } };
    if (level === 'incidents' && id)
      return {
        site,
        message: { type: 'incident', at, incidentId: id, state: orEmpty(incidentStateSchema, json, site) },
      };
    return null;
  } catch (err) {
    return { site, refused: `${topic}: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message}` };
  }
}

function bySite<S extends z.ZodType<{ site: string }>>(schema: S, json: unknown, site: string): z.infer<S> {
  const parsed = schema.parse(json);
  if (parsed.site !== site) throw new Error(`says site "${parsed.site}" on site "${site}"'s topic`);
  return parsed;
}

/** An empty retained payload: the alarm or incident was closed. */
function orEmpty<S extends z.ZodType<{ site: string }>>(schema: S, json: unknown, site: string): z.infer<S> | null {
  return json === null ? null : bySite(schema, json, site);
}
