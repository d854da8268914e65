// The markdown summary of one bench run (bench/results/<date>.md).
import type { MeterReportBench } from './meter-report.js';
import type { BurstResult } from './burst.js';
import type { benchDrain } from './drain.js';
import type { IngestResult } from './ingest.js';
import type { benchLatency } from './latency.js';
import type { benchMemory } from './memory.js';
import type { benchModbus } from './modbus.js';
import type { benchRules } from './rules.js';

export interface BenchResult {
  date: string;
  /** cpuReference: rounds/s of bench/cpu-reference.ts on one core; compare runs of different days by it. */
  machine: { cpus: number; model: string | undefined; memGiB: number; node: string; cpuReference: number };
  quick: boolean;
  raw: {
    aedesPubSub: number;
    aedesIntake: number;
    /** The median of the samples below: the QoS 1 burst's limit. */
    aedesIntakeQos1: number;
    /**
     * QoS 1 intake measured before the bench and just before and after the QoS 1 burst: it
     * swings with the machine (88,000–160,000/s in one day's runs), and one sample taken
     * minutes away from the burst made its ratio swing more than the gateway did.
     */
    aedesIntakeQos1Samples?: number[];
    mosquittoPubSub: number | undefined;
    influxPointsPerS: number;
  };
  /** End to end as devices send (QoS 1 per-device logins first: the headline), the gateway in a process of its own. */
  bursts: (BurstResult & { pctOfIntakeLimit: number })[];
  endToEnd: {
    embedded: IngestResult & { pctOfPubSubLimit: number; pctOfIntakeLimit: number };
    external?: IngestResult & { pctOfPubSubLimit: number };
    /** Every end-to-end run (the two above are the median ones), with the CPU reference taken just before it. */
    runs: {
      embedded: (IngestResult & { cpuReference: number })[];
      external: (IngestResult & { cpuReference: number })[];
    };
  };
  rules: ReturnType<typeof benchRules>;
  alarmLatency: Awaited<ReturnType<typeof benchLatency>>;
  modbus: Awaited<ReturnType<typeof benchModbus>>;
  memory: Awaited<ReturnType<typeof benchMemory>>;
  drain: Awaited<ReturnType<typeof benchDrain>>;
  meterReport: MeterReportBench;
}

const n = (x: number) => x.toLocaleString('en-US');

function burstRow(b: BenchResult['bursts'][number]): string {
  const how = b.bridge ? `one bridge connection, ${n(b.devices)} devices` : `${b.devices} meters, a login each`;
  const lost = b.readings - b.inInflux;
  return `| QoS ${b.qos}, ${how} | ${n(b.acceptedPerS)} | **${n(b.storedPerS)}** | ${b.pctOfIntakeLimit} % | ${n(b.readings)} / ${n(b.inInflux)} (${lost} lost) | **${b.peakRssMb} MB** (idle ${b.idleRssMb} MB, heap limit ${b.heapLimitMb} MiB) | ${b.gatewayCpuUsPerReading} µs |`;
}

/** What issue 20 asks of this run, each against what the run measured. */
export function targets(r: BenchResult): { target: string; result: string; met: boolean }[] {
  const qos1 = r.bursts.find((b) => b.qos === 1 && !b.bridge);
  const bridge = r.bursts.find((b) => b.bridge);
  const lost = [...r.bursts.map((b) => b.readings - b.inInflux), r.memory.sent - r.memory.inInflux];
  const peaks = [...r.bursts.map((b) => b.peakRssMb), r.memory.rssMaxMb, r.memory.soakMaxMb];
  return [
    {
      target: 'QoS 1 stored/s ≥ 60 % of the QoS 1 intake limit',
      result: qos1 ? `${qos1.pctOfIntakeLimit} % (${n(qos1.storedPerS)} of ${n(r.raw.aedesIntakeQos1)}/s)` : 'not run',
      met: (qos1?.pctOfIntakeLimit ?? 0) >= 60,
    },
    {
      target: 'a bridge on one connection ≥ 30,000 readings/s stored',
      result: bridge ? `${n(bridge.storedPerS)}/s` : 'not run',
      met: (bridge?.storedPerS ?? 0) >= 30_000,
    },
    {
      target: '0 lost in every run',
      result: `${lost.reduce((a, b) => a + b, 0)} lost`,
      met: lost.every((x) => x === 0),
    },
    {
      target: 'peak RSS < 256 MB (bursts, 10,000 devices at 5,000/s)',
      result: `highest ${Math.max(...peaks)} MB`,
      met: peaks.every((x) => x < 256),
    },
    {
      target: 'alarm latency p99 < 20 ms at 40,000 readings/s',
      result: `p99 ${r.alarmLatency.p99Ms} ms at ${n(r.alarmLatency.backgroundPerS)}/s`,
      met: r.alarmLatency.p99Ms < 20 && r.alarmLatency.backgroundPerS >= 39_000,
    },
    {
      target: 'Modbus: ≥ 5,000 SDM630s at 1 Hz, < 1 % missed',
      result: `${n(r.modbus.sustained)} sustained`,
      met: r.modbus.sustained >= 5000,
    },
  ];
}

function renderTargets(r: BenchResult): string {
  return `## Targets (issue 20)

| target | this run | met |
|---|---|---|
${targets(r)
  .map((t) => `| ${t.target} | ${t.result} | ${t.met ? 'yes' : '**no**'} |`)
  .join('\n')}
`;
}

/** How the QoS 1 intake figure was taken, when it is a median. */
function qos1Samples(raw: BenchResult['raw']): string {
  const s = raw.aedesIntakeQos1Samples;
  if (!s || s.length < 2) return '';
  return `; median of ${s.length} runs (before the bench, just before and just after the QoS 1 burst): ${s.map(n).join(', ')}`;
}

/** The headline section: end to end as devices send, with the peak RSS of each run. */
export function renderBursts(r: BenchResult): string {
  return `## End to end as devices send (headline: QoS 1)

Readings sent as fast as the broker takes them (a fleet or a bridge replaying an outage's
backlog) into \`dutyroom start\` in a process of its own (with the launcher's memory limits);
its RSS read every 100 ms throughout. accepted = fsynced (PUBACK sent at QoS 1); stored =
confirmed by InfluxDB; the limit is aedes's raw intake at the same QoS (${n(r.raw.aedesIntakeQos1)}/s at QoS 1,
${n(r.raw.aedesIntake)}/s at QoS 0), same publishers, nothing else in its process.

| run | accepted/s | stored/s | stored vs intake limit | sent / in InfluxDB | peak RSS | gateway CPU per reading |
|---|---|---|---|---|---|---|
${r.bursts.map(burstRow).join('\n')}
`;
}

function ingestRow(name: string, r: IngestResult, pct: string): string {
  return `| ${name} | ${n(r.accepted)} | ${n(r.stored)} | ${pct} | ${n(r.readings)} / ${n(r.inInflux)} | ${r.rejected} | ${r.gatewayCpuUsPerReading} µs |`;
}

/** Gateway CPU per device-poll: median and range over the steps that held. */
function modbusCpu(m: BenchResult['modbus']): string {
  const c = m.gatewayCpuUsPerPoll;
  return `${c.median} µs (${c.min}–${c.max} µs)`;
}

/** The Modbus steps in the order they ran (ramp, bisection, repeats) and the spread of the repeated levels. */
function modbusSection(m: BenchResult['modbus']): string {
  const spread = m.spread.map(
    (s) =>
      `| ${n(s.devices)} | ${s.runs} | ${s.missedPct.min}–${s.missedPct.max} % | ${s.gatewayCpuUsPerPoll.min}–${s.gatewayCpuUsPerPoll.max} µs | ${n(s.cpuReference.min)}–${n(s.cpuReference.max)} |`,
  );
  return `Modbus: ${m.requestsPerPoll} requests per poll, ${m.unitsPerEndpoint} unit ids per simulated converter (its own process), ${m.inFlightPerEndpoint} request(s) in flight per converter, ${m.secondsPerStep} s per step; missed = not a good reading (skipped, failed, backed off).
A coarse ramp, a bisection between the last level that held and the first that did not, then both run again. CPU per
device-poll = the process's CPU time over the window / good polls; CPU reference = bench/cpu-reference.ts just before the step.

| phase | devices | missed | skipped | failed requests | slowest poll | gateway CPU | per device-poll | simulator per poll | CPU reference |
|---|---|---|---|---|---|---|---|---|---|
${m.steps.map((s) => `| ${s.phase} | ${s.devices} | ${s.missedPct} % | ${s.skipped} | ${s.failedRequests} | ${s.maxPollMs} ms | ${s.gatewayCpuPct} % | ${s.gatewayCpuUsPerPoll} µs | ${s.simulatorCpuUsPerPoll ?? '?'} µs | ${n(s.cpuReference)} |`).join('\n')}
${
  spread.length
    ? `
Spread over the repeated levels:

| devices | runs | missed | gateway CPU per device-poll | CPU reference |
|---|---|---|---|---|
${spread.join('\n')}
`
    : ''
}`;
}

// eslint-disable-next-line max-lines-per-function -- the results page as one Markdown template: its layout reads best whole
export function renderMarkdown(r: BenchResult): string {
  const { raw, endToEnd: e2e, memory: m, drain: d, alarmLatency: l, modbus } = r;
  const e = e2e.embedded;
  const x = e2e.external;
  const sustained = modbus.steps.find((s) => s.devices === modbus.sustained);
  return `# Bench ${r.date}${r.quick ? ' (quick)' : ''}

Machine: ${r.machine.cpus} × ${r.machine.model}, ${r.machine.memGiB} GiB, Node ${r.machine.node}; CPU reference ${n(r.machine.cpuReference)} rounds/s
(bench/cpu-reference.ts, one core: compare runs of different days by it). Publishers, broker, gateway and
InfluxDB share these cores; every figure below comes from this one run.

${renderTargets(r)}
## Raw limits

| measure | messages or points/s |
|---|---|
| MQTT pub→sub through aedes (no auth, QoS 0, one mqtt.js subscriber) | ${n(raw.aedesPubSub)} |
| MQTT intake of aedes (same publishers, nothing subscribed, counted in-process), QoS 0 | ${n(raw.aedesIntake)} |
| the same at QoS 1 (each publisher at most 1,000 PUBACKs outstanding)${qos1Samples(raw)} | ${n(raw.aedesIntakeQos1)} |
| MQTT pub→sub through mosquitto (QoS 0, one mqtt.js subscriber) | ${raw.mosquittoPubSub === undefined ? 'not installed' : n(raw.mosquittoPubSub)} |
| InfluxDB write of pre-built line protocol (5,000-line batches, one at a time) | ${n(raw.influxPointsPerS)} |

${renderBursts(r)}
## End to end, QoS 0, in-process: MQTT → validation, rules, spool fsync → InfluxDB

${e.devices} meters, each its own login and connection, publishing as fast as the broker takes them from a separate
process (100 PUBLISH packets per socket write). accepted = fsynced in the spool; stored = confirmed by InfluxDB; rates from the
first publish to the last acceptance / confirmation.

| broker | accepted/s | stored/s | stored vs min(raw) | sent / in InfluxDB | rejected | gateway CPU per reading |
|---|---|---|---|---|---|---|
${ingestRow('embedded (own thread, in-process handoff)', e, `${e.pctOfPubSubLimit} % of pub→sub limit, ${e.pctOfIntakeLimit} % of intake limit`)}
${x ? ingestRow('external mosquitto (gateway subscribes over MQTT)', x, `${x.pctOfPubSubLimit} % of mosquitto pub→sub limit`) : '| external mosquitto | not installed | | | | | |'}

${
  e2e.runs.embedded.length > 1
    ? `The median of ${e2e.runs.embedded.length} runs each, embedded and external alternately (the machine's speed swings within minutes). Every run:

| run | broker | CPU reference before | accepted/s | stored/s | gateway CPU per reading |
|---|---|---|---|---|---|
${[
  ...e2e.runs.embedded.map((run, i) => ({ run, i, broker: 'embedded' })),
  ...e2e.runs.external.map((run, i) => ({ run, i, broker: 'external' })),
]
  .sort((a, b) => a.i - b.i)
  .map(
    ({ run, i, broker }) =>
      `| ${i + 1} | ${broker} | ${n(run.cpuReference)} | ${n(run.accepted)} | ${n(run.stored)} | ${run.gatewayCpuUsPerReading} µs |`,
  )
  .join('\n')}
`
    : ''
}
## Alarms, rules, Modbus

| measure | result |
|---|---|
| rule core (observe + evaluate, demo site's rules, one core) | ${n(r.rules.readingsPerS)} readings/s |
| alarm latency, leak payload → SSE event, under ${n(l.backgroundPerS)} readings/s background (\`dutyroom start\`, heap limit ${l.heapLimitMb} MiB) | p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (${l.samples} samples) |
| Modbus poll capacity (SDM630s at 1 Hz, ≤ 1 % of polls missed in every run) | ${n(modbus.sustained)} devices × ${modbus.registersPerPoll} registers = ${n(sustained?.registersPerS ?? 0)} registers/s |
| Modbus gateway CPU per device-poll (steps that held: median, min–max) | ${modbusCpu(modbus)} |

${modbusSection(modbus)}
## Memory

\`dutyroom start\` in a process of its own with the launcher's memory limits (heap limit ${m.heapLimitMb} MiB), ${n(m.devices)} configured meters,
${n(m.ratePerS)} readings/s from an NB-IoT bridge login (20 connections); its RSS read every 100 ms, the highest sample beside each phase.
The V8 heap in use is what the gateway's /metrics says (\`dutyroom_nodejs_heap_size_used_bytes\`), garbage not yet collected included.

| measure | RSS |
|---|---|
| started, before any reading (V8 heap in use ${m.idleHeapMb} MB) | ${m.idleRssMb} MB |
| after ${m.loadS} s of load (highest ${m.rssMaxMb} MB) | ${m.rssMb} MB |
| soak of ${m.soakS} s: start → end (highest) | ${m.soakStartMb} → ${m.soakEndMb} MB (${m.soakGrowthMb >= 0 ? '+' : ''}${m.soakGrowthMb} MB; highest ${m.soakMaxMb} MB) |
| V8 heap in use: before any reading → after the soak | ${m.idleHeapMb} → ${m.afterHeapMb} MB |
| readings sent / accepted / in InfluxDB | ${n(m.sent)} / ${n(m.accepted)} / ${n(m.inInflux)} |

## Outage recovery

A spool of ${n(d.readings)} readings (${Math.round(d.spoolBytes / 2 ** 20)} MiB, left by a database outage) drained into InfluxDB by the
store's writer from disk: **${d.seconds} s** (${n(d.readingsPerS)} readings/s); InfluxDB holds ${n(d.inInflux)} of them afterwards.

## Meter-anomaly report

${n(r.meterReport.meters)} meters, ${r.meterReport.days} days of 15-minute readings (${n(r.meterReport.points)} points) written by the
history backfill at **${n(r.meterReport.backfillPointsPerS)} points/s**; the ${r.meterReport.days}-day report over all of them took
**${r.meterReport.reportMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}** (first cold). Planted anomalies found:
${r.meterReport.found} of ${r.meterReport.planted}; clean meters flagged: ${r.meterReport.falsePositives} of ${n(r.meterReport.cleanMeters)}${
    Object.keys(r.meterReport.falsePositivesByKind).length
      ? ` (${Object.entries(r.meterReport.falsePositivesByKind)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : ''
  }.
`;
}
