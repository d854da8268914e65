// The topics a site's gateway publishes its alarms and incidents on (issue 21). Written once,
// here: the gateway publishes on them, the broker's ACL keeps everyone else off them, the
// site file keeps device ids from colliding with them, and a head-office console subscribes.
//
//   dutyroom/<site>/alarms/<alarm id>        retained: the alarm's state (empty once closed)
//   dutyroom/<site>/incidents/<incident id>  retained: the incident's state (empty once closed)
//   dutyroom/<site>/events                   every alarm change and incident event, in order (QoS 1)
//   dutyroom/<site>/status                   retained: the gateway online / offline (its MQTT will)
//   dutyroom/<site>/schema                   retained: the JSON Schema of all of the above

/** Topic levels under `dutyroom/<site>/` that belong to the gateway: no device may be named so. */
export const GATEWAY_LEVELS = ['alarms', 'incidents', 'events', 'status', 'schema'] as const;

export interface EventTopics {
  alarm(alarmId: string): string;
  incident(incidentId: string): string;
  events: string;
  status: string;
  schema: string;
  /** Every retained alarm state of the site (a subscription filter). */
  alarms: string;
  /** Every retained incident state of the site (a subscription filter). */
  incidents: string;
}

export function eventTopics(site: string, prefix = 'dutyroom'): EventTopics {
  const base = `${prefix}/${site}`;
  return {
    alarm: (id) => `${base}/alarms/${id}`,
    incident: (id) => `${base}/incidents/${id}`,
    events: `${base}/events`,
    status: `${base}/status`,
    schema: `${base}/schema`,
    alarms: `${base}/alarms/+`,
    incidents: `${base}/incidents/+`,
  };
}

/** Filters nobody but the gateway may publish to (a grant of `a/#` covers `a` itself). */
export function gatewayOnlyFilters(site: string, prefix = 'dutyroom'): string[] {
  return GATEWAY_LEVELS.map((level) => `${prefix}/${site}/${level}/#`);
}
