import { describe, expect, it } from 'vitest';
import { Acl, filterCovers, isValidFilter, isValidTopic, topicMatches, type BrokerAccount } from './acl.js';

describe('topicMatches', () => {
  const cases: [filter: string, topic: string, matches: boolean][] = [
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['a/+', 'a/', true], // an empty level is still a level
    ['+/+', 'a/b', true],
    ['+/+', '/b', true],
    ['+/+', 'a', false],
    ['+', '/a', false],
    ['a/#', 'a', true], // `#` takes the parent level too
    ['a/#', 'a/b/c/d', true],
    ['a/#', 'ab', false],
    ['a/+/c/#', 'a/x/c', true],
    ['#', 'a', true],
    ['#', '/', true],
    ['#', 'a/b/c', true],
    // A leading wildcard never reaches $-topics (MQTT-4.7.2-1) …
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['+', '$SYS', false],
    // … but a filter that names the $ level does.
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['$SYS/+/uptime', '$SYS/broker/uptime', true],
    ['a/#', 'a/$x', true],
    ['Dutyroom/#', 'dutyroom/s', false], // case matters
    ['a/#/b', 'a/x/b', false], // malformed filter matches nothing
  ];
  it.each(cases)('%s ~ %s → %s', (filter, topic, matches) => {
    expect(topicMatches(filter, topic)).toBe(matches);
  });
});

describe('filterCovers (is the asked filter inside the granted one?)', () => {
  const cases: [grant: string, asked: string, covered: boolean][] = [
    ['a/b', 'a/b', true],
    ['a/b', 'a/+', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/+', true],
    ['a/+', 'a/#', false],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/#', true],
    ['a/#', 'a/+/c', true],
    ['a/#', 'a/b/#', true],
    ['a/#', '#', false],
    ['a/#', '+/b', false],
    ['a/#', 'b', false],
    ['+/+', 'a/b', true],
    ['+/+', '+/b', true],
    ['+/+', '+/+', true],
    ['+/+', 'a', false],
    ['+/+', 'a/b/c', false],
    ['+/+', '#', false],
    ['+/#', '+/+', true],
    ['+/#', 'x', true],
    ['#', '#', true],
    ['#', '+/+/+', true],
    ['#', 'a/b', true],
    ['#', '$SYS/#', false],
    ['#', '$SYS/x', false],
    ['+/#', '$SYS/x', false],
    ['+/x', '$foo/x', false],
    ['$SYS/#', '$SYS/broker/+', true],
    ['dutyroom/s1/dev1/#', 'dutyroom/s1/dev1/reading', true],
    ['dutyroom/s1/dev1/#', 'dutyroom/s1/+/reading', false],
    ['dutyroom/s1/dev1/#', 'dutyroom/s1/dev10/reading', false],
  ];
  it.each(cases)('%s ⊇ %s → %s', (grant, asked, covered) => {
    expect(filterCovers(grant, asked)).toBe(covered);
  });

  it('agrees with topicMatches on sample topics whenever it says "covered"', () => {
    const filters = ['#', '+', '+/+', '+/#', 'a', 'a/#', 'a/+', 'a/b', 'a/+/c', 'a/b/#', '$SYS/#', 'b/+'];
    const topics = ['a', 'b', 'a/b', 'a/c', 'a/b/c', 'b/x', '$SYS/x', '/', 'a/', 'x/y/z'];
    for (const grant of filters) {
      for (const asked of filters) {
        if (!filterCovers(grant, asked)) continue;
        for (const t of topics) {
          if (topicMatches(asked, t)) expect(topicMatches(grant, t), `${grant} ⊇ ${asked} but not for ${t}`).toBe(true);
        }
      }
    }
  });
});

describe('topic and filter validity', () => {
  it('accepts MQTT filters and refuses malformed ones', () => {
    for (const ok of ['#', '+', 'a/#', '+/+', 'a/+/b', '/', 'a//b', '$SYS/#']) expect(isValidFilter(ok), ok).toBe(true);
    for (const bad of ['', 'a/#/b', 'a#', 'a/b#', 'a+', 'a/+b', '#/a', 'a\u0000b'])
      expect(isValidFilter(bad), bad).toBe(false);
  });
  it('refuses wildcards and empty names in published topics', () => {
    expect(isValidTopic('a/b')).toBe(true);
    for (const bad of ['', 'a/+', 'a/#', '#', 'a\u0000']) expect(isValidTopic(bad), bad).toBe(false);
  });
});

describe('Acl', () => {
  const h = 'scrypt$16384$8$1$AAAA$AAAA';
  const accounts: BrokerAccount[] = [
    { username: 'dev1', passwordHash: h, publish: ['dutyroom/s1/dev1/#'], subscribe: ['dutyroom/s1/dev1/#'] },
    { username: 'screen', passwordHash: h, publish: [], subscribe: ['dutyroom/#'] },
    { username: 'bridge', passwordHash: h, publish: ['zigbee2mqtt/#', '#'], subscribe: ['zigbee2mqtt/+/set'] },
    { username: 'sneaky', passwordHash: h, publish: ['$SYS/#'], subscribe: ['$SYS/#'] },
    { username: 'gateway', passwordHash: h, publish: [], subscribe: ['#'], admin: true },
  ];
  const acl = new Acl(accounts);

  it('lets a device publish under its own name only', () => {
    expect(acl.canPublish('dev1', 'dutyroom/s1/dev1/reading')).toBe(true);
    expect(acl.canPublish('dev1', 'dutyroom/s1/dev1')).toBe(true);
    expect(acl.canPublish('dev1', 'dutyroom/s1/dev2/reading')).toBe(false);
    expect(acl.canPublish('dev1', 'dutyroom/s1/dev10/reading')).toBe(false);
  });

  it('treats an empty publish list as read-only', () => {
    expect(acl.canPublish('screen', 'dutyroom/s1/dev1/reading')).toBe(false);
    expect(acl.canSubscribe('screen', 'dutyroom/s1/+/reading')).toBe(true);
    expect(acl.canSubscribe('screen', 'dutyroom/#')).toBe(true);
    expect(acl.canSubscribe('screen', '#')).toBe(false);
    expect(acl.canSubscribe('screen', 'other/x')).toBe(false);
  });

  it('checks subscriptions by coverage, not by matching', () => {
    expect(acl.canSubscribe('bridge', 'zigbee2mqtt/lamp/set')).toBe(true);
    expect(acl.canSubscribe('bridge', 'zigbee2mqtt/+/set')).toBe(true);
    expect(acl.canSubscribe('bridge', 'zigbee2mqtt/#')).toBe(false);
    expect(acl.canSubscribe('dev1', 'dutyroom/s1/dev1/reading')).toBe(true);
    expect(acl.canSubscribe('dev1', 'dutyroom/s1/+/reading')).toBe(false);
  });

  it('lets nobody publish to $SYS, whatever their grants say', () => {
    expect(acl.canPublish('sneaky', '$SYS/broker/uptime')).toBe(false);
    expect(acl.canPublish('sneaky', '$SYS')).toBe(false);
    expect(acl.canPublish('bridge', '$SYS/x')).toBe(false);
    expect(acl.canPublish('gateway', '$SYS/x')).toBe(false);
  });

  it('lets only admins subscribe to $SYS', () => {
    expect(acl.canSubscribe('sneaky', '$SYS/#')).toBe(false);
    expect(acl.canSubscribe('screen', '$SYS/#')).toBe(false);
    expect(acl.canSubscribe('gateway', '$SYS/#')).toBe(true);
    expect(acl.canSubscribe('gateway', '$SYS/+/new/clients')).toBe(true);
    expect(acl.canSubscribe('gateway', '#')).toBe(true);
  });

  it('refuses unknown logins, wildcard publishes and malformed filters', () => {
    expect(acl.canPublish('nobody', 'dutyroom/s1/dev1/reading')).toBe(false);
    expect(acl.canSubscribe('nobody', 'dutyroom/#')).toBe(false);
    expect(acl.canPublish('bridge', 'a/+')).toBe(false);
    expect(acl.canSubscribe('gateway', 'a/#/b')).toBe(false);
  });

  it('refuses a bad account list with a clear error', () => {
    expect(() => new Acl([accounts[0]!, accounts[0]!])).toThrow(/"dev1" is listed twice/);
    expect(() => new Acl([{ username: 'x', passwordHash: h, publish: ['a/#/b'], subscribe: [] }])).toThrow(
      /"a\/#\/b" is not a valid MQTT topic filter/,
    );
  });

  it("lets nobody publish to the gateway's alarm and incident topics, whatever their grants say; screens may read them", () => {
    const guarded = new Acl(
      [
        { username: 'alarms', passwordHash: h, publish: ['dutyroom/s1/alarms/#'], subscribe: [] },
        { username: 'bridge', passwordHash: h, publish: ['dutyroom/#'], subscribe: [] },
        { username: 'screen', passwordHash: h, publish: [], subscribe: ['dutyroom/s1/#'] },
      ],
      ['dutyroom/s1/alarms/#', 'dutyroom/s1/events/#', 'dutyroom/s1/status/#'],
    );
    // A device named "alarms" would own dutyroom/s1/alarms/#: it still cannot forge an alarm.
    expect(guarded.canPublish('alarms', 'dutyroom/s1/alarms/water_leak:x:1')).toBe(false);
    expect(guarded.canPublish('bridge', 'dutyroom/s1/events')).toBe(false);
    expect(guarded.canPublish('bridge', 'dutyroom/s1/status')).toBe(false);
    expect(guarded.canPublish('bridge', 'dutyroom/s1/dev1/reading')).toBe(true);
    expect(guarded.canPublish('bridge', 'dutyroom/s2/events')).toBe(true); // another site's are its own broker's business
    expect(guarded.canSubscribe('screen', 'dutyroom/s1/events')).toBe(true);
    expect(guarded.canSubscribe('screen', 'dutyroom/s1/alarms/+')).toBe(true);
  });
});
