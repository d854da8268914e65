import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../ports/data-files.js';
import { parseHqConfig } from './config.js';
import { route, subscriptions } from './topics.js';

const example = fileURLToPath(new URL('../../config/hq.example.yaml', import.meta.url));

describe('hq.yaml', () => {
  it('the example is valid; logins are viewers unless a role says otherwise; secrets come from the environment', () => {
    const cfg = parseHqConfig(readFileSync(example, 'utf8'), example, { HQ_MQTT_PASSWORD: 's3cret' });
    expect(cfg.broker).toMatchObject({ password: 's3cret', client_id: 'dutyroom-hq', prefix: 'dutyroom' });
    expect(cfg.users.map((u) => u.role)).toEqual(['viewer']);
    expect(cfg.sites.map((s) => s.id)).toEqual(['huayuan', 'binjiang']);
  });

  it('names the path and line of every problem', () => {
    const text = `broker: { url: http://x }\nsites:\n  - { id: a, name: A }\n  - { id: a, name: A, colour: red }\nhttp: { port: 80 }\n`;
    let err: unknown;
    try {
      parseHqConfig(text, 'hq.yaml', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.map((p) => `${p.line} ${p.path}`);
    expect(problems).toEqual(expect.arrayContaining(['1 broker.url', '4 sites[1].colour']));
    const format = (t: string) => {
      try {
        parseHqConfig(t, 'hq.yaml', {});
        return '';
      } catch (e) {
        return (e as ConfigError).format();
      }
    };
    expect(format(text.replace('http://x', 'mqtt://${NOPE}'))).toMatch(/hq\.yaml:1:1 .*NOPE is not set/);
  });
});

describe('the topics head office follows', () => {
  const cfg = parseHqConfig(readFileSync(example, 'utf8'), example, { HQ_MQTT_PASSWORD: 'x' });

  it('subscribes to each site’s events, states, status and its bridge notification', () => {
    expect(subscriptions(cfg)).toContain('dutyroom/huayuan/events');
    expect(subscriptions(cfg)).toContain('dutyroom/binjiang/incidents/+');
    expect(subscriptions(cfg)).toContain('hq/bridges/huayuan');
  });

  it('reads a bridge state, an emptied retained alarm, and refuses a payload of another site', () => {
    expect(route(cfg, 'hq/bridges/huayuan', '0', 5)).toEqual({
      site: 'huayuan',
      message: { type: 'bridge', at: 5, up: false },
    });
    expect(route(cfg, 'dutyroom/huayuan/alarms/x', '', 5)).toEqual({
      site: 'huayuan',
      message: { type: 'alarm', at: 5, alarmId: 'x', state: null },
    });
    const status = JSON.stringify({ v: 1, site: 'binjiang', state: 'online', at: '2026-12-01T08:00:00.000+08:00' });
    expect(route(cfg, 'dutyroom/huayuan/status', status, 5)).toMatchObject({
      site: 'huayuan',
      refused: expect.any(String),
    });
    expect(route(cfg, 'dutyroom/elsewhere/status', status, 5)).toBeNull();
    expect(route(cfg, 'dutyroom/huayuan/events', '{not json', 5)).toMatchObject({ refused: expect.any(String) });
  });
});
