// npm run bench — ingest throughput against the raw limits of this machine, alarm latency,
// Modbus poll capacity, memory and outage recovery, in one run (so that the noise of a shared
// machine falls on all of them alike).
//   node dist/bench/run.js [--quick] [--out DIR]
// Writes <DIR or bench/results>/<date>[-quick].json and .md. Not part of npm test, but
// test/bench-quick.test.ts runs --quick (under a minute) so the bench cannot rot.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../gateway/files/paths.js';
import { benchInflux } from './bench-influx.js';
import { cpuReference as benchCpuReference } from './cpu-reference.js';
import { benchBurst, burstSize, type BurstResult } from './burst.js';
import { benchDrain } from './drain.js';
import { benchIngest, type IngestResult } from './ingest.js';
import { benchLatency } from './latency.js';
import { benchMemory } from './memory.js';
import { benchMeterReport } from './meter-report.js';
import { benchModbus } from './modbus.js';
import { MOSQUITTO, startMosquitto } from './mosquitto.js';
import { rawAedesIntake, rawAedesPubSub, rawInflux, rawPubSub } from './raw.js';
import { renderMarkdown, type BenchResult } from './report.js';
import { benchRules } from './rules.js';

const quick = process.argv.includes('--quick');
const outAt = process.argv.indexOf('--out');
const outDir = outAt >= 0 ? process.argv[outAt + 1]! : projectPath('bench', 'results');
// Publishing clients: 100 meters, each its own login and connection.
const DEVICES = Number(process.env.BENCH_DEVICES ?? (quick ? 20 : 100));
// Raw limits: a fixed count per device. End to end: 2.5 million readings, about a minute of
// the gateway's work here. A fixed count rather than a fixed time: the publishers can push
// far more into the loopback sockets' buffers in a minute than the gateway takes in one, and
// every reading sent must be found in InfluxDB.
const RAW_PER_DEVICE = quick ? 500 : 3000;
const E2E = { perDevice: quick ? 500 : 25_000 };
const E2E_REPEATS = 3;

type IngestRun = IngestResult & { cpuReference: number };

/** The run in the middle by stored/s (the lower middle of an even count). */
function medianRun(runs: IngestRun[]): IngestRun | undefined {
  return [...runs].sort((a, b) => a.stored - b.stored)[Math.floor((runs.length - 1) / 2)];
}

/** The middle value (the lower middle of an even count). */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const step = (name: string) => console.error(`[bench] ${new Date().toISOString().slice(11, 19)} ${name}`);

const influx = await benchInflux();
try {
  step('CPU reference');
  const cpuReference = benchCpuReference();
  const raw = { devices: DEVICES, perDevice: RAW_PER_DEVICE };
  step('raw limits');
  const rawResult = {
    aedesPubSub: await rawAedesPubSub(raw),
    aedesIntake: await rawAedesIntake(raw),
    aedesIntakeQos1: await rawAedesIntake({ ...raw, qos: 1 }),
    aedesIntakeQos1Samples: undefined as number[] | undefined,
    mosquittoPubSub: undefined as number | undefined,
    influxPointsPerS: await rawInflux(influx.url, quick ? 20 : 100),
  };
  // The end-to-end runs, embedded and external alternately, several times: this shared
  // machine's speed swings by half within minutes (see the CPU reference taken before each
  // run), so one run says little. The median run (by stored/s) is the result; all are kept.
  const repeats = quick ? 1 : E2E_REPEATS;
  const runs: { embedded: IngestRun[]; external: IngestRun[] } = { embedded: [], external: [] };
  const mosquitto = MOSQUITTO ? await startMosquitto() : undefined;
  try {
    if (mosquitto) {
      step('raw limit, mosquitto');
      rawResult.mosquittoPubSub = await rawPubSub(mosquitto.url, raw);
    }
    for (let i = 1; i <= repeats; i++) {
      step(`end to end ${i}/${repeats}, embedded broker`);
      runs.embedded.push({
        cpuReference: benchCpuReference(),
        ...(await benchIngest(influx.url, { devices: DEVICES, ...E2E })),
      });
      if (!mosquitto) continue;
      step(`end to end ${i}/${repeats}, external mosquitto`);
      runs.external.push({
        cpuReference: benchCpuReference(),
        ...(await benchIngest(influx.url, { devices: DEVICES, ...E2E, externalUrl: mosquitto.url })),
      });
    }
  } finally {
    await mosquitto?.stop();
  }
  // As devices send: QoS 1 per-device logins (the headline), QoS 0, and one bridge connection
  // carrying 5,000 devices; each against the gateway as users run it, its RSS sampled throughout.
  // The QoS 1 burst's limit is measured on both sides of it as well, and the median taken.
  const bursts: BurstResult[] = [];
  const intakeQos1 = () => rawAedesIntake({ ...raw, qos: 1 });
  const qos1Samples = [rawResult.aedesIntakeQos1];
  for (const [qos, bridge] of [
    [1, false],
    [0, false],
    [1, true],
  ] as const) {
    const headline = qos === 1 && !bridge;
    if (headline) step('raw limit, aedes intake at QoS 1, just before its burst');
    if (headline) qos1Samples.push(await intakeQos1());
    step(`end to end as devices send: QoS ${qos}${bridge ? ', one bridge connection' : ''}`);
    bursts.push(await benchBurst(influx.url, { qos, bridge, ...burstSize(quick, bridge) }));
    if (headline) step('raw limit, aedes intake at QoS 1, just after its burst');
    if (headline) qos1Samples.push(await intakeQos1());
  }
  rawResult.aedesIntakeQos1 = median(qos1Samples);
  rawResult.aedesIntakeQos1Samples = qos1Samples;
  const embedded = medianRun(runs.embedded)!;
  const external = medianRun(runs.external);
  step('rule core');
  const rules = benchRules(quick);
  step('alarm latency');
  const alarmLatency = await benchLatency(influx.url, quick);
  step('Modbus poll capacity');
  const modbus = await benchModbus(quick);
  step('memory');
  const memory = await benchMemory(influx.url, quick);
  step('outage recovery');
  const drain = await benchDrain(influx.url, quick ? 100_000 : 1_000_000);
  step('meter-anomaly report');
  const meterReport = await benchMeterReport(influx.url, quick);

  const ratio = (rate: number, limit: number) => Math.round((100 * rate) / limit);
  const result: BenchResult = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      cpuReference,
    },
    quick,
    raw: rawResult,
    bursts: bursts.map((b) => ({
      ...b,
      // Against the raw intake of aedes at the same QoS, same publishers, nothing else in the process.
      pctOfIntakeLimit: ratio(b.storedPerS, b.qos === 1 ? rawResult.aedesIntakeQos1 : rawResult.aedesIntake),
    })),
    endToEnd: {
      embedded: {
        ...embedded,
        // The limit (MQTT pub→sub through aedes, InfluxDB), and the limit of the path the data actually takes (aedes intake, InfluxDB).
        pctOfPubSubLimit: ratio(embedded.stored, Math.min(rawResult.aedesPubSub, rawResult.influxPointsPerS)),
        pctOfIntakeLimit: ratio(embedded.stored, Math.min(rawResult.aedesIntake, rawResult.influxPointsPerS)),
      },
      runs,
      ...(external && rawResult.mosquittoPubSub
        ? {
            external: {
              ...external,
              pctOfPubSubLimit: ratio(external.stored, Math.min(rawResult.mosquittoPubSub, rawResult.influxPointsPerS)),
            },
          }
        : {}),
    },
    rules,
    alarmLatency,
    modbus,
    memory,
    drain,
    meterReport,
  };
  mkdirSync(outDir, { recursive: true });
  const stamp = `${result.date.slice(0, 19).replace(/[:T]/g, '-')}${quick ? '-quick' : ''}`;
  const md = renderMarkdown(result);
  writeFileSync(join(outDir, `${stamp}.json`), JSON.stringify(result, null, 2));
  writeFileSync(join(outDir, `${stamp}.md`), md);
  console.log(md);
  console.error(`[bench] written ${join(outDir, stamp)}.json and .md`);
} finally {
  await influx.stop();
}
