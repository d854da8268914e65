import { describe, expect, it } from 'vitest';
import type { ComponentHealth, HealthSource } from '../health.js';
import { json, testApi } from './testing.js';

const source = (component: string, h: ComponentHealth | (() => ComponentHealth)): HealthSource => ({
  component,
  health: typeof h === 'function' ? h : () => h,
});

describe('GET /health', () => {
  it('answers 200 ok without credentials when every component is ok', async () => {
    const { app } = await testApi({
      health: [source('broker', { status: 'ok', clients: 3 }), source('store', { status: 'ok' })],
    });
    const res = await app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({
      status: 'ok',
      components: { broker: { status: 'ok', clients: 3 }, store: { status: 'ok' } },
    });
  });

  it('answers 503 with the component detail when one is down', async () => {
    const { app } = await testApi({
      health: [
        source('broker', { status: 'ok' }),
        source('store', { status: 'down', detail: 'InfluxDB unreachable for 5 min; 1200 readings spooled' }),
      ],
    });
    const res = await app.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(json(res)).toEqual({
      status: 'down',
      components: {
        broker: { status: 'ok' },
        store: { status: 'down', detail: 'InfluxDB unreachable for 5 min; 1200 readings spooled' },
      },
    });
  });

  it('answers 503 degraded when the worst component is degraded, and follows the sources live', async () => {
    let mqtt: ComponentHealth = { status: 'degraded', detail: 'reconnecting' };
    const { app } = await testApi({ health: [source('mqtt', () => mqtt)] });
    const res = await app.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(json(res).status).toBe('degraded');
    mqtt = { status: 'ok' };
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  });

  it('reports a component whose check throws as down, without its error text', async () => {
    const { app } = await testApi({
      health: [
        source('spool', () => {
          throw new Error('EACCES /var/lib/dutyroom/spool');
        }),
      ],
    });
    const res = await app.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(json(res)).toEqual({
      status: 'down',
      components: { spool: { status: 'down', detail: 'health check failed (see the gateway log)' } },
    });
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text without credentials, including the rejected-readings counter', async () => {
    const { app, metrics } = await testApi();
    metrics.reject('mqtt', 'bad_type');
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE dutyroom_readings_rejected_total counter');
    expect(res.body).toContain('dutyroom_readings_rejected_total{protocol="mqtt",reason="bad_type"} 1');
  });
});
