import { randomBytes, scryptSync } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { remainingLength } from '../bench/mqtt-wire.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { heapAfterGc } from './support/memory.js';
import { testSite, uniqueDb, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// Issue 16, the hardening suite, MQTT: 10,000 random and malformed packets at the embedded
// broker over real sockets — random bytes, impossible remaining lengths, truncated frames,
// CONNECTs that break the protocol or declare hundreds of megabytes, and after a real login
// PUBLISHes with invalid UTF-8 or wildcard topics, reserved packet types and garbage payloads.
// The gateway keeps running (no broker restart), its memory stays bounded, it still takes a
// good reading afterwards, and every refusal shows in /metrics.

const CASES = Number(process.env.FUZZ_MQTT_CASES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const DEVICE = 'fuzz-1';
const PASSWORD = 'fuzz-password';
// A cheap scrypt (N=16) for the fuzzing device: thousands of logins, none of them the subject.
const salt = randomBytes(16);
const CHEAP_HASH = `scrypt$16$1$1$${salt.toString('base64')}$${scryptSync(PASSWORD, salt, 32, { N: 16, r: 1, p: 1 }).toString('base64')}`;

let gw: RunningGateway;
beforeAll(async () => {
  const site = testSite({
    influxUrl: inject('influxUrl'),
    database: uniqueDb('fuzz_mqtt'),
    // The fuzzer is one address opening thousands of connections: lift the door's rate so that the packets reach the parser.
    brokerLimits:
      '{ connections_per_second_per_address: 100000, connection_burst_per_address: 100000, connect_timeout_s: 5 }',
    extra: `  - { id: ${DEVICE}, kind: water_meter, protocol: mqtt, publish_interval_s: 60, place: { building: b1, unit: u101 }, connection: { password_hash: "${CHEAP_HASH}" } }\n`,
  });
  gw = await startGateway({ ...site, logger: pino({ level: 'silent' }) });
  await gw.adapter.waitReady();
}, 60_000);
afterAll(async () => gw?.stop());

// ---- MQTT 3.1.1 wire pieces ----
const str = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
const packet = (first: number, body: Buffer) =>
  Buffer.concat([Buffer.from([first, ...remainingLength(body.length)]), body]);
function connectPacket(
  clientId: string,
  username: Buffer,
  password: Buffer,
  opts: { protocol?: Buffer; level?: number; flags?: number } = {},
): Buffer {
  const head = Buffer.concat([
    str(opts.protocol ?? Buffer.from('MQTT')),
    Buffer.from([opts.level ?? 4, opts.flags ?? 0xc2, 0, 60]),
  ]);
  return packet(0x10, Buffer.concat([head, str(Buffer.from(clientId)), str(username), str(password)]));
}
const publish = (topic: Buffer, payload: Buffer, qos: 0 | 1) =>
  packet(qos ? 0x32 : 0x30, Buffer.concat([str(topic), qos ? Buffer.from([0, 1]) : Buffer.alloc(0), payload]));
const TOPIC = `dutyroom/testsite/${DEVICE}/reading`;

/** One fuzz case: what is sent, whether after a real login, and what kind it is (for the tally). */
interface Case {
  kind: string;
  login: boolean;
  bytes: Buffer;
}

const bytesArb = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const preLogin: fc.Arbitrary<Case>[] = [
  bytesArb(1, 300).map((bytes) => ({ kind: 'random_bytes', login: false, bytes })),
  // A fixed header whose remaining length never ends (five continuation bytes) or claims more than ever comes.
  fc.tuple(fc.integer({ min: 0, max: 15 }), bytesArb(0, 20)).map(([type, rest]) => ({
    kind: 'bad_remaining_length',
    login: false,
    bytes: Buffer.concat([Buffer.from([type << 4, 0xff, 0xff, 0xff, 0xff, 0x7f]), rest]),
  })),
  fc.tuple(fc.integer({ min: 1, max: 60 }), fc.nat()).map(([keep, seed]) => {
    const whole = connectPacket(`c${seed}`, Buffer.from(DEVICE), Buffer.from(PASSWORD));
    return { kind: 'truncated_connect', login: false, bytes: whole.subarray(0, Math.min(keep, whole.length - 1)) };
  }),
  fc.integer({ min: 70_000, max: 300 * 1024 * 1024 }).map((declared) => ({
    kind: 'oversized_connect',
    login: false,
    bytes: Buffer.concat([Buffer.from([0x10, ...remainingLength(declared)]), Buffer.alloc(1024, 0x41)]),
  })),
  fc
    .record({
      protocol: bytesArb(0, 8),
      level: fc.integer({ min: 0, max: 255 }),
      flags: fc.integer({ min: 0, max: 255 }),
      user: bytesArb(0, 40),
      pass: bytesArb(0, 40),
    })
    .map((c) => ({
      kind: 'bad_connect',
      login: false,
      bytes: connectPacket('x', c.user, c.pass, { protocol: c.protocol, level: c.level, flags: c.flags | 0x01 }), // reserved flag bit set: always invalid
    })),
  fc
    .tuple(fc.integer({ min: 2, max: 15 }), bytesArb(0, 50))
    .map(([type, body]) => ({ kind: 'not_connect_first', login: false, bytes: packet(type << 4, body) })),
];
const afterLogin: fc.Arbitrary<Case>[] = [
  // Invalid UTF-8 in the topic (a lone continuation byte, an overlong form, a surrogate, a NUL).
  fc
    .tuple(fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0x00]), fc.nat({ max: TOPIC.length }))
    .map(([bad, at]) => ({
      kind: 'invalid_utf8_topic',
      login: true,
      bytes: publish(
        Buffer.concat([Buffer.from(TOPIC.slice(0, at)), Buffer.from(bad), Buffer.from(TOPIC.slice(at))]),
        Buffer.from('{"total_m3":1}'),
        0,
      ),
    })),
  fc
    .constantFrom('#', '+', `dutyroom/testsite/${DEVICE}/+`, `dutyroom/testsite/#`, `dutyroom/+/${DEVICE}/reading`)
    .map((t) => ({
      kind: 'wildcard_publish_topic',
      login: true,
      bytes: publish(Buffer.from(t), Buffer.from('{"total_m3":1}'), 0),
    })),
  fc
    .tuple(fc.constantFrom(0, 15), bytesArb(0, 30))
    .map(([type, body]) => ({ kind: 'reserved_packet_type', login: true, bytes: packet(type << 4, body) })),
  fc.tuple(fc.integer({ min: 1, max: 200 }), fc.constantFrom<0 | 1>(0, 1)).map(([keep, qos]) => {
    const whole = publish(Buffer.from(TOPIC), Buffer.from(JSON.stringify({ total_m3: 5 }).padEnd(250, ' ')), qos);
    return { kind: 'truncated_publish', login: true, bytes: whole.subarray(0, Math.min(keep, whole.length - 1)) };
  }),
  // A well-formed PUBLISH whose payload is not a reading: refused as a reading, the connection lives on.
  fc
    .tuple(
      fc.oneof(
        bytesArb(0, 200),
        fc.json().map((j) => Buffer.from(j)),
      ),
      fc.constantFrom<0 | 1>(0, 1),
    )
    .map(([payload, qos]) => ({
      kind: 'garbage_payload',
      login: true,
      bytes: publish(Buffer.from(TOPIC), Buffer.concat([Buffer.from('~'), payload]), qos), // never JSON
    })),
];
const caseArb = fc.oneof(...preLogin, ...afterLogin);

/** Sends one case on its own connection, ends our side, and resolves when the socket is closed. */
function run(c: Case, port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.setTimeout(15_000, () => socket.destroy());
    socket.once('connect', () => {
      if (!c.login) return void socket.end(c.bytes);
      socket.write(
        connectPacket(`fz${Math.random().toString(36).slice(2)}`, Buffer.from(DEVICE), Buffer.from(PASSWORD)),
      );
      socket.once('data', (d: Buffer) => {
        // CONNACK accepted: the case is sent as a logged-in device; anything else, the login failed and the case is moot.
        if (d[0] === 0x20 && d[3] === 0) socket.end(c.bytes);
        else socket.end();
      });
    });
  });
}

function metric(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('MQTT fuzz (issue 16)', () => {
  it(`${CASES.toLocaleString('en')} random and malformed packets: no crash, memory bounded, every refusal in /metrics, good readings still taken`, async () => {
    const cases = fc.sample(caseArb, { numRuns: CASES, seed: SEED });
    const port = gw.broker!.ports.mqtt;
    const before = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    const heapBefore = heapAfterGc();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const tally = new Map<string, number>();
    const parallel = 40;
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          tally.set(c.kind, (tally.get(c.kind) ?? 0) + 1);
          await run(c, port);
          if (next % 500 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        }
      }),
    );
    const rssAfter = process.memoryUsage().rss;
    rssPeak = Math.max(rssPeak, rssAfter);
    await waitFor(() => gw.broker!.stats().clients === 0 || null, 'every fuzzing connection closed');
    const heapAfter = heapAfterGc();

    // Still running, never restarted, and a good reading is still taken.
    expect(gw.broker!.restarts).toBe(0);
    expect(gw.broker!.health().status).toBe('ok');
    const mark = systemClock.now();
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () =>
        s.write(connectPacket('after-fuzz', Buffer.from(DEVICE), Buffer.from(PASSWORD))),
      );
      s.on('error', reject);
      s.once('data', () =>
        s.end(
          publish(Buffer.from(TOPIC), Buffer.from(JSON.stringify({ ts: mark, total_m3: 4242.5, flow_m3h: 0 })), 0),
          () => resolve(),
        ),
      );
    });
    await waitFor(
      () => gw.registry.get(DEVICE)?.lastReading?.fields.total_m3 === 4242.5 || null,
      'the reading sent after the fuzz',
    );

    // Every refusal is visible in /metrics, by reason.
    const after = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    const grew = (name: string, labels: Record<string, string>) =>
      metric(after, name, labels) - metric(before, name, labels);
    const byReason = (r: string) => grew('dutyroom_mqtt_refused_total', { reason: r });
    const refused = {
      cut_before_login: byReason('cut_before_login'),
      protocol_error: byReason('protocol_error'),
      publish_refused: byReason('publish_refused'),
      login_refused: byReason('login_refused'),
    };
    const rejected = grew('dutyroom_readings_rejected_total', { protocol: 'mqtt' });
    const summary = {
      sent: CASES,
      kinds: Object.fromEntries(tally),
      refused,
      rejectedReadings: rejected,
      rssMiB: { before: rssBefore >> 20, peak: rssPeak >> 20, after: rssAfter >> 20 },
      heapAfterGcMiB: { before: heapBefore >> 20, after: heapAfter >> 20 },
      stats: gw.broker!.stats(),
    };
    console.log(`MQTT fuzz: ${JSON.stringify(summary)}`);
    expect(refused.cut_before_login).toBeGreaterThanOrEqual(tally.get('oversized_connect') ?? 0);
    expect(refused.protocol_error).toBeGreaterThan(0);
    expect(refused.protocol_error + refused.cut_before_login).toBeGreaterThanOrEqual(
      (tally.get('bad_remaining_length') ?? 0) + (tally.get('not_connect_first') ?? 0),
    );
    // Each garbage payload is one refused reading (not_json), counted under its protocol.
    expect(grew('dutyroom_readings_rejected_total', { protocol: 'mqtt', reason: 'not_json' })).toBe(
      tally.get('garbage_payload'),
    );
    // Memory: bounded while it runs (a connection's buffers per open socket, whatever was declared), and nothing kept after.
    expect(rssPeak - rssBefore).toBeLessThan(150 * 1024 * 1024);
    expect(heapAfter - heapBefore).toBeLessThan(16 * 1024 * 1024);
  }, 600_000);
});
