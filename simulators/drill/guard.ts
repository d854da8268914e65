// Drill incidents are never sent to a real notification channel (issue 4): whatever a drill
// raises stays inside the gateway, on the timeline, marked as a drill. This is the one rule,
// as a pure function, for every sender to ask before it sends (gateway/incidents/notify.ts
// applies the same rule inline today and can call this instead).
//
// `drill` is the drill the alarm or incident was tagged with when it was raised (alarm.drill,
// incident.drill), not whether a drill is running now: an escalation of a drill incident that
// comes after the drill has ended must still not leave, and a real incident escalated while a
// drill runs must still go out.

/** Channel types that stay inside the gateway (its log, the incident timeline): safe during a drill. */
export const INTERNAL_CHANNEL_TYPES: ReadonlySet<string> = new Set(['log', 'timeline']);

/**
 * May a message about something tagged `drill` go out through `channel`? Always for real
 * (untagged) events; for drill events only through internal channels. Unknown channel types
 * count as real, so a channel type added later fails closed.
 */
export function mayNotify(channel: { type: string }, drill: string | { id: string } | null | undefined): boolean {
  const id = typeof drill === 'string' ? drill : drill?.id;
  if (!id) return true;
  return INTERNAL_CHANNEL_TYPES.has(channel.type);
}
