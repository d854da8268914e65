// Topic access rules for the broker. Pure functions: no I/O, no state but the account list
// (and a cache of answers derived from it).

import { topicMatches } from '../gateway/ports/topics.js';

// Matching is the topic scheme's (one definition for the broker, the gateway and the simulators).
export { topicMatches } from '../gateway/ports/topics.js';

/** A broker login and what it may do. Filters use MQTT wildcards (`+`, `#`). */
export interface BrokerAccount {
  username: string;
  /** `scrypt$N$r$p$salt$hash`, see password.ts. */
  passwordHash: string;
  /** Topic filters this login may publish to; empty = read-only. */
  publish: string[];
  /** Topic filters this login may subscribe to (a subscription must fit inside one). */
  subscribe: string[];
  /** May read the broker's own `$SYS/...` topics. */
  admin?: boolean;
}

const SYS = '$SYS';

/** A topic a client may publish to: not empty, no wildcards, no NUL. */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}

/** A subscription filter: `+` fills a whole level, `#` only the whole last level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level === '#') return i === levels.length - 1;
    return !level.includes('#') && (level === '+' || !level.includes('+'));
  });
}

/**
 * Is every topic that `inner` matches also matched by `outer`? That is the test for a
 * subscription: a client may subscribe to `dutyroom/site/+/reading` under a grant of
 * `dutyroom/#`, but not to `#` under the same grant.
 */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    const grant = o[i]!;
    if (grant === '#') {
      // `#` covers everything from here on, including the parent level itself (`a/#` ⊇ `a`),
      // except that a leading `#` never reaches `$` topics.
      return !(i === 0 && n[0]!.startsWith('$'));
    }
    if (i >= n.length) return false; // inner stopped early: `a` is not inside `a/+`.
    const asked = n[i]!;
    if (asked === '#') return false; // a multi-level ask inside a single-level grant
    if (grant === '+') {
      if (i === 0 && asked.startsWith('$')) return false;
      continue;
    }
    if (asked !== grant) return false; // includes asked === '+' under a literal grant
  }
  return o.length === n.length;
}

function isSys(topicOrFilter: string): boolean {
  return topicOrFilter === SYS || topicOrFilter.startsWith(`${SYS}/`);
}

// Topics remembered per login. A device publishes to one or two topics over and over, a
// bridge to one per device it carries; past this the memory is cleared and filled again.
const PUBLISH_CACHE_MAX = 10_000;

/** The access rules of a set of accounts. Build a new one to change them. */
export class Acl {
  private readonly byName: ReadonlyMap<string, BrokerAccount>;
  /**
   * canPublish answers per login and topic. It is asked for every PUBLISH, and splitting the
   * topic and each filter cost more than the rest of the broker's work on a message. Valid
   * for the life of this Acl: a change of accounts builds a new one.
   */
  private readonly published = new Map<string, Map<string, boolean>>();

  /**
   * `gatewayOnly`: topic filters no login may publish to, whatever its list says: the
   * gateway's own alarm and incident topics (rules/events/topics.ts), which it publishes
   * in-process, so that no device or bridge can forge an alarm or clear one.
   */
  constructor(
    accounts: readonly BrokerAccount[],
    private readonly gatewayOnly: readonly string[] = [],
  ) {
    const byName = new Map<string, BrokerAccount>();
    for (const a of accounts) {
      if (byName.has(a.username)) throw new Error(`broker account "${a.username}" is listed twice`);
      for (const f of [...a.publish, ...a.subscribe]) {
        if (!isValidFilter(f))
          throw new Error(`broker account "${a.username}": "${f}" is not a valid MQTT topic filter`);
      }
      byName.set(a.username, a);
    }
    this.byName = byName;
  }

  account(username: string): BrokerAccount | undefined {
    return this.byName.get(username);
  }

  get accounts(): BrokerAccount[] {
    return [...this.byName.values()];
  }

  /** Nobody publishes into `$SYS` (the broker's own status) or the gateway's own topics. */
  canPublish(username: string, topic: string): boolean {
    let known = this.published.get(username);
    const hit = known?.get(topic);
    if (hit !== undefined) return hit;
    const a = this.byName.get(username);
    if (!a) return false;
    const allowed =
      isValidTopic(topic) &&
      !isSys(topic) &&
      !this.gatewayOnly.some((f) => topicMatches(f, topic)) &&
      a.publish.some((f) => topicMatches(f, topic));
    if (!known) this.published.set(username, (known = new Map()));
    if (known.size >= PUBLISH_CACHE_MAX) known.clear();
    known.set(topic, allowed);
    return allowed;
  }

  /** A filter is allowed if it fits inside one of the account's subscribe filters; `$SYS` is for admins. */
  canSubscribe(username: string, filter: string): boolean {
    const a = this.byName.get(username);
    if (!a || !isValidFilter(filter)) return false;
    if (isSys(filter)) return a.admin === true;
    return a.subscribe.some((grant) => filterCovers(grant, filter));
  }
}
