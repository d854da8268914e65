import mqtt, { type MqttClient } from 'mqtt';

// An MQTT client that keeps every message it receives (topic, payload text, retain flag), for
// the tests of the alarm and incident messages on the bus.

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export async function listen(
  url: string,
  filters: string[],
  login: { username?: string; password?: string } = {},
): Promise<{ client: MqttClient; got: Received[]; json: (topic: string) => unknown[] }> {
  const client = await mqtt.connectAsync(url, { ...login, reconnectPeriod: 0 });
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    got.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  await client.subscribeAsync(filters, { qos: 1 });
  const json = (topic: string) =>
    got.filter((m) => m.topic === topic && m.payload).map((m) => JSON.parse(m.payload) as unknown);
  return { client, got, json };
}
