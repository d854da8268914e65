import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { projectPath } from '../gateway/files/paths.js';
import { targets, type BenchResult } from '../bench/report.js';
import { MOSQUITTO } from './support/mosquitto.js';

// `npm run bench -- --quick`, so the bench cannot rot: every section runs and reports figures
// that make sense. Behaviour, not speed: no timing thresholds (the machine is shared).

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'dutyroom-bench-quick-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('runs every section and reports sane figures', { timeout: 300_000 }, async () => {
    const runJs = projectPath('dist', 'bench', 'run.js');
    if (!existsSync(runJs))
      throw new Error('dist/bench/run.js is missing: run `npm run build` (npm test does it first)');
    await run(process.execPath, [runJs, '--quick', '--out', out], {
      env: { ...process.env, INFLUX_URL: inject('influxUrl') },
      maxBuffer: 1 << 22,
    });
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith('-quick.json'));
    expect(json, 'the JSON result').toBeDefined();
    expect(files).toContain(json!.replace(/\.json$/, '.md'));
    const r = JSON.parse(readFileSync(join(out, json!), 'utf8')) as BenchResult;

    expect(r.quick).toBe(true);
    expect(r.machine.cpuReference).toBeGreaterThan(0);
    for (const v of [r.raw.aedesPubSub, r.raw.aedesIntake, r.raw.influxPointsPerS]) expect(v).toBeGreaterThan(0);

    // The QoS 1 limit: the median of three samples, before the bench and on both sides of its burst.
    const samples = r.raw.aedesIntakeQos1Samples!;
    expect(samples).toHaveLength(3);
    for (const v of samples) expect(v).toBeGreaterThan(0);
    expect(r.raw.aedesIntakeQos1).toBe([...samples].sort((a, b) => a - b)[1]);
    expect(r.bursts[0]!.pctOfIntakeLimit).toBe(Math.round((100 * r.bursts[0]!.storedPerS) / r.raw.aedesIntakeQos1));

    // As devices send: QoS 1 and 0 per-device logins, and a bridge on one connection.
    expect(r.bursts.map((b) => [b.qos, b.bridge])).toEqual([
      [1, false],
      [0, false],
      [1, true],
    ]);
    // The launcher's limits (process.execve, Node.js 22.15+): the gateway's RSS stays bounded,
    // sampled every 100 ms through the burst, not only at its end.
    const limited = typeof (process as unknown as { execve?: unknown }).execve === 'function';
    for (const b of r.bursts) {
      expect(b.inInflux).toBe(b.readings);
      expect(b.rejected).toBe(0);
      expect(b.storedPerS).toBeGreaterThan(0);
      expect(b.peakRssMb).toBeGreaterThanOrEqual(b.idleRssMb);
      if (limited) {
        expect(b.heapLimitMb).toBeLessThan(128);
        expect(b.peakRssMb, `peak RSS of the QoS ${b.qos}${b.bridge ? ' bridge' : ''} burst`).toBeLessThan(256);
      } else expect(b.heapLimitMb).toBeGreaterThan(128);
    }

    const ingests = [r.endToEnd.embedded, ...(MOSQUITTO ? [r.endToEnd.external!] : [])];
    if (MOSQUITTO) expect(r.raw.mosquittoPubSub).toBeGreaterThan(0);
    for (const e of ingests) {
      expect(e.readings).toBeGreaterThan(0);
      // Every reading sent is in InfluxDB, none refused, none twice.
      expect(e.inInflux).toBe(e.readings);
      expect(e.rejected).toBe(0);
      expect(e.accepted).toBeGreaterThan(0);
      expect(e.stored).toBeGreaterThan(0);
      expect(e.stored).toBeLessThanOrEqual(e.accepted);
      expect(e.gatewayCpuUsPerReading).toBeGreaterThan(0);
    }
    expect(r.endToEnd.embedded.pctOfIntakeLimit).toBeGreaterThan(0);
    // --quick runs each once; the result is that run, with the CPU reference taken before it.
    expect(r.endToEnd.runs.embedded).toHaveLength(1);
    expect(r.endToEnd.runs.embedded[0]).toMatchObject({
      stored: r.endToEnd.embedded.stored,
      cpuReference: expect.any(Number),
    });
    expect(r.endToEnd.runs.external).toHaveLength(MOSQUITTO ? 1 : 0);

    expect(r.rules.readingsPerS).toBeGreaterThan(0);
    // Every leak payload raised its alarm on the SSE stream (a miss would be Infinity → null).
    expect(r.alarmLatency.samples).toBeGreaterThan(0);
    for (const v of [r.alarmLatency.p50Ms, r.alarmLatency.p99Ms, r.alarmLatency.maxMs])
      expect(Number.isFinite(v) && v >= 0).toBe(true);
    expect(r.alarmLatency.backgroundPerS).toBeGreaterThan(0);

    expect(r.modbus.steps.length).toBeGreaterThan(0);
    expect(r.modbus.sustained).toBeGreaterThan(0);

    // 10,000 configured meters at 5,000 readings/s into `dutyroom start`, RSS sampled every 100 ms.
    const m = r.memory;
    expect(m.devices).toBe(10_000);
    expect(m.idleRssMb).toBeGreaterThan(0);
    expect(m.rssMb).toBeGreaterThan(0);
    expect(m.rssMaxMb).toBeGreaterThanOrEqual(m.rssMb);
    expect(m.soakMaxMb).toBeGreaterThanOrEqual(m.soakEndMb);
    expect(m.idleHeapMb).toBeGreaterThan(0);
    expect(m.afterHeapMb).toBeGreaterThan(0);
    expect(m.sent).toBeGreaterThan(0);
    expect(m.accepted).toBe(m.sent);
    expect(m.inInflux).toBe(m.sent);
    if (limited) {
      expect(m.heapLimitMb).toBeLessThan(128);
      expect(Math.max(m.rssMaxMb, m.soakMaxMb), 'highest RSS of the memory run').toBeLessThan(256);
    } else expect(m.heapLimitMb).toBeGreaterThan(128);

    expect(r.drain.inInflux).toBe(r.drain.readings);
    expect(r.drain.seconds).toBeGreaterThan(0);

    // The meter report on backfilled history: every point written, every plant found.
    expect(r.meterReport.points).toBeGreaterThan(r.meterReport.meters * r.meterReport.days * 90);
    expect(r.meterReport.backfillPointsPerS).toBeGreaterThan(0);
    expect(r.meterReport.reportMs).toHaveLength(3);
    expect(r.meterReport.planted).toBeGreaterThan(0);
    expect(r.meterReport.found).toBe(r.meterReport.planted);

    const md = readFileSync(join(out, json!.replace(/\.json$/, '.md')), 'utf8');
    // Each of issue 20's targets is set against this run's own figures (met or not: --quick is small).
    const rows = targets(r);
    expect(rows.map((t) => t.target)).toHaveLength(6);
    for (const t of rows) expect(md).toContain(`| ${t.target} | ${t.result} | ${t.met ? 'yes' : '**no**'} |`);
    for (const heading of [
      '## Targets (issue 20)',
      '## Raw limits',
      '## End to end',
      '## Alarms, rules, Modbus',
      '## Memory',
      '## Outage recovery',
      '## Meter-anomaly report',
    ])
      expect(md).toContain(heading);
  });
});
