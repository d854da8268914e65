import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { SiteConfig } from '../config/schema.js';
import { Metrics } from '../metrics.js';
import { ManualClock } from '../ports/manual-clock.js';
import type { DeviceStatus } from '../registry.js';
import type { Adapter, AdapterContext, AdapterKind, Emit } from './adapter.js';
import { ADAPTERS } from './list.js';
import { AdapterSet } from './set.js';

// A third protocol joins the gateway through the list alone: the set asks it for its health,
// its devices' link state and its lines, and starts and stops it with the others.

/** A made-up protocol whose devices sit behind one radio gateway that is down. */
function radioKind(events: string[]): AdapterKind {
  return {
    protocol: 'radio',
    component: 'radio',
    create: (ctx: AdapterContext): Adapter => {
      // The site schema knows MQTT and Modbus only; a real third protocol adds itself there too.
      const devices = ctx.config.devices as readonly { id: string; protocol: string }[];
      const mine = new Set(devices.filter((d) => d.protocol === 'radio').map((d) => d.id));
      let emit: Emit | undefined;
      return {
        component: 'radio',
        protocol: 'radio',
        start: (e) => {
          emit = e;
          events.push('radio started');
          void emit({ deviceId: 'door-1', kind: 'leak_sensor', ts: ctx.clock.now(), fields: {}, quality: 'good' });
        },
        stop: async () => void events.push('radio stopped'),
        health: () => ({ status: 'degraded', detail: 'radio gateway silent' }),
        linkDown: (id) => (mine.has(id) ? 'the radio gateway does not answer' : undefined),
        linesDown: () => [{ line: 'radio:hall', devices: mine.size }],
        deviceStatus: (id) => (mine.has(id) ? { intervalSeconds: 600 } : undefined),
      };
    },
  };
}

function context(devices: { id: string; protocol: string }[]): AdapterContext {
  const clock = new ManualClock();
  return {
    config: { site: { id: 's1' }, devices } as unknown as SiteConfig,
    clock,
    timers: clock,
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
    profiles: { register: new Map(), payload: new Map() },
    broker: { url: 'mqtt://127.0.0.1:1883' },
    pipeline: { congested: () => false, overloaded: () => false, refusing: () => false },
  };
}

const status = (id: string, protocol: string) => ({ id, protocol, intervalSeconds: 60 }) as unknown as DeviceStatus;

describe('the adapter list', () => {
  it('holds MQTT then Modbus, in the order they start and show in /health', () => {
    expect(ADAPTERS.map((k) => k.protocol)).toEqual(['mqtt', 'modbus']);
  });

  it('a third protocol joins health, link-down, lines down and device status without touching the core', async () => {
    const events: string[] = [];
    const other: AdapterKind = {
      ...radioKind([]),
      protocol: 'wired',
      component: 'wired',
      create: () => ({
        component: 'wired',
        protocol: 'wired',
        start: () => void events.push('wired started'),
        stop: async () => void events.push('wired stopped'),
        health: () => ({ status: 'ok' }),
        linkDown: () => undefined,
        linesDown: () => [],
        deviceStatus: () => undefined,
      }),
    };
    const set = AdapterSet.create(
      [other, radioKind(events)],
      context([
        { id: 'door-1', protocol: 'radio' },
        { id: 'pump-1', protocol: 'wired' },
      ]),
    );
    const readings: string[] = [];
    set.start((r) => void readings.push(r.deviceId));

    expect(set.list.map((a) => [a.component, a.health().status])).toEqual([
      ['wired', 'ok'],
      ['radio', 'degraded'],
    ]);
    expect(readings).toEqual(['door-1']);
    expect(set.linkDown('door-1')).toBe('the radio gateway does not answer');
    expect(set.linkDown('pump-1')).toBeUndefined();
    expect(set.linkDown('nobody')).toBeUndefined();
    expect(set.linesDown()).toEqual([{ line: 'radio:hall', devices: 1 }]);
    expect(set.withAdapterStatus(status('door-1', 'radio')).intervalSeconds).toBe(600);
    expect(set.withAdapterStatus(status('pump-1', 'wired')).intervalSeconds).toBe(60);
    await expect(set.command('door-1', 'open', true)).rejects.toMatchObject({ code: 'not_modbus' });
    expect(set.writableFields('door-1')).toEqual([]);

    await set.stop();
    expect(events).toEqual(['wired started', 'radio started', 'radio stopped', 'wired stopped']);
  });
});
