import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REJECT_REASONS } from '../../../rules/model/reading.js';
import { decodeMessage, parseTimestamp, type TopicDevice } from './decode.js';
import { loadPayloadProfiles } from '../../profiles/payload.js';

// Golden cases (as Telegraf keeps them): one YAML file per payload in ./testcases.
interface Case {
  description: string;
  device: { id: string; kind: TopicDevice['kind']; profile: string } | null;
  topic: string;
  payload: string;
  received_at?: string;
  max_payload_bytes?: number;
  expect: { readings?: { ts: string; quality: string; fields: Record<string, unknown> }[]; rejections?: string[] };
}

const dir = fileURLToPath(new URL('./testcases/', import.meta.url));
const profiles = loadPayloadProfiles();
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => [f, parse(readFileSync(join(dir, f), 'utf8')) as Case] as const);

describe('MQTT payload decoding (golden cases)', () => {
  it.each(cases)('%s', (_file, c) => {
    const received = Date.parse(c.received_at ?? '2026-11-22T00:00:05Z');
    const device = c.device
      ? { id: c.device.id, kind: c.device.kind, profile: profiles.get(c.device.profile)! }
      : undefined;
    const out = decodeMessage(c.topic, Buffer.from(c.payload), device, () => received, {
      maxPayloadBytes: c.max_payload_bytes ?? 65536,
      oldest: received - 7 * 86_400_000,
      newest: received + 300_000,
      maxBatch: 1000,
    });
    expect(
      out.readings.map((r) => ({ ts: new Date(r.ts).toISOString(), quality: r.quality, fields: r.fields })),
    ).toEqual(c.expect.readings ?? []);
    expect(out.rejections.map((r) => r.reason)).toEqual(c.expect.rejections ?? []);
    for (const r of out.readings) expect(r).toMatchObject({ deviceId: c.device!.id, kind: c.device!.kind });
    for (const r of out.rejections) expect(r.detail).toContain(c.topic);
  });

  it('covers every payload-level rejection reason with a golden case', () => {
    const covered = new Set(cases.flatMap(([, c]) => c.expect.rejections ?? []));
    const payloadReasons = REJECT_REASONS.filter((r) => !r.startsWith('spool_'));
    expect([...payloadReasons].filter((r) => !covered.has(r))).toEqual([]);
  });

  it('stamps each item of an array without a time separately', () => {
    let t = 1000;
    const device = { id: 'm', kind: 'water_meter' as const, profile: profiles.get('canonical')! };
    const out = decodeMessage('x', Buffer.from('[{"total_m3":1},{"total_m3":2}]'), device, () => t++, {
      maxPayloadBytes: 1e6,
      oldest: 0,
      newest: 1e15,
      maxBatch: 10,
    });
    expect(out.readings.map((r) => r.ts)).toEqual([1000, 1001]);
  });

  it('refuses an array larger than the batch limit as oversized', () => {
    const device = { id: 'm', kind: 'water_meter' as const, profile: profiles.get('canonical')! };
    const out = decodeMessage('x', Buffer.from(JSON.stringify(Array(11).fill({ total_m3: 1 }))), device, () => 1, {
      maxPayloadBytes: 1e6,
      oldest: 0,
      newest: 1e15,
      maxBatch: 10,
    });
    expect(out.rejections.map((r) => r.reason)).toEqual(['oversized']);
    expect(out.readings).toEqual([]);
  });
});

describe('parseTimestamp', () => {
  it('reads ISO-8601 with a zone, epoch ms and epoch seconds', () => {
    expect(parseTimestamp('2026-11-22T08:00:00+08:00')).toBe(Date.parse('2026-11-22T00:00:00Z'));
    expect(parseTimestamp('2026-11-22T00:00:00.250Z')).toBe(Date.parse('2026-11-22T00:00:00.250Z'));
    expect(parseTimestamp(1795305600000)).toBe(1795305600000);
    expect(parseTimestamp(1795305600)).toBe(1795305600000);
  });
  it('refuses naive local times, garbage and non-positive numbers', () => {
    for (const v of ['2026-11-22T08:00:00', 'yesterday', '', 0, -5, Number.NaN, true, null, {}])
      expect(parseTimestamp(v)).toBeUndefined();
  });
});

describe('payload profiles', () => {
  it('load from data files and map onto canonical fields of their kinds', () => {
    expect([...profiles.keys()].sort()).toEqual(['canonical', 'zigbee2mqtt-float-switch', 'zigbee2mqtt-leak']);
    expect(profiles.get('zigbee2mqtt-leak')!.fields.water_leak!.to).toBe('wet');
  });
});
