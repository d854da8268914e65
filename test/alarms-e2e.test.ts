import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { BRIDGE_PASSWORD, testSite, uniqueDb } from './support/site.js';

// A zigbee2mqtt leak payload through the embedded broker → the rules → an alarm event on the
// server-sent-events stream the dashboard listens to. The wet duration is set to 0 for
// this site so the test needs no waiting; the durations themselves are tested in rules/.

let gw: RunningGateway;

beforeAll(async () => {
  const { config, baseDir } = testSite({
    influxUrl: inject('influxUrl'),
    database: uniqueDb('alarms'),
    extra: 'thresholds:\n  devices: { leak-1: { leak_wet_s: 0 } }\n',
  });
  gw = await startGateway({ config, baseDir, logger: pino({ level: 'silent' }) });
  await gw.adapter.waitReady();
});
afterAll(async () => gw?.stop());

describe('alarms end to end', () => {
  it('an MQTT leak payload shows as a firing water_leak alarm on the SSE stream', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${gw.httpUrl}/api/alarms/stream`, {
      headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` },
      signal: ctl.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();

    const bridge = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'zigbee2mqtt',
      password: BRIDGE_PASSWORD,
      reconnectPeriod: 0,
    });
    await bridge.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: true, battery: 90 }), { qos: 1 });
    let text = '';
    while (!/"type":"firing"/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    ctl.abort();
    await bridge.endAsync();

    const firing = text.split('\n\n').find((block) => block.includes('"type":"firing"'))!;
    const data = JSON.parse(
      firing
        .split('\n')
        .find((l) => l.startsWith('data: '))!
        .slice(6),
    ) as { alarm: { kind: string; deviceId: string; severity: string; evidence: { text: { zh: string } } } };
    expect(data.alarm).toMatchObject({
      kind: 'water_leak',
      deviceId: 'leak-1',
      severity: 'critical',
      evidence: { text: { zh: '漏水传感器检测到水' } },
    });
    const list = await fetch(`${gw.httpUrl}/api/alarms?status=firing`, {
      headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` },
    });
    expect(((await list.json()) as { alarms: { kind: string }[] }).alarms.map((a) => a.kind)).toContain('water_leak');
  });
});
