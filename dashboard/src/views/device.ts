import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api, canAct, type Me } from '../api.js';
import { html } from '../html.js';
import { getLang, siteZone, t, tx, type Text, type Word } from '../i18n.js';
import { siteStamp } from '../site-time.js';
import type { Device } from '../types.js';
import { serverNow } from '../clock.js';
import { useLoad } from '../load.js';

/** A field as the gateway's catalogue describes it (GET /api/devices/:id/fields). */
interface FieldInfo {
  name: string;
  type: 'float' | 'int' | 'bool' | 'enum';
  label: Text;
  unit?: string;
  counter?: boolean;
  values?: string[];
  valueLabels?: Record<string, Text>;
  min?: number;
  max?: number;
  writable: boolean;
}

/** GET /api/devices/:id/readings?every=…: one row per interval, aggregated by the database. */
interface History {
  from: string;
  to: string;
  every: string;
  everyMs: number;
  aggregation: Record<string, 'use' | 'mean' | 'max'>;
  rows: { time: string; fields: Record<string, number | null>; max?: Record<string, number | null> }[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Each range with the interval the database aggregates it by: 60 to 170 points, what a
// phone can draw and a wall screen can read (the API allows at most 2000).
const RANGES = [
  { id: '1h', ms: HOUR, every: '1m', word: 'devRange1h' },
  { id: '6h', ms: 6 * HOUR, every: '5m', word: 'devRange6h' },
  { id: '24h', ms: DAY, every: '15m', word: 'devRange24h' },
  { id: '7d', ms: 7 * DAY, every: '1h', word: 'devRange7d' },
  { id: '30d', ms: 30 * DAY, every: '6h', word: 'devRange30d' },
  { id: '90d', ms: 90 * DAY, every: '1d', word: 'devRange90d' },
] as const satisfies readonly { id: string; ms: number; every: string; word: Word }[];
type RangeId = (typeof RANGES)[number]['id'];

const KIND_WORD: Record<string, Word> = {
  water_meter: 'devKindWaterMeter',
  electricity_meter: 'devKindElectricityMeter',
  lift: 'devKindLift',
  pump: 'devKindPump',
  boiler: 'devKindBoiler',
  leak_sensor: 'devKindLeakSensor',
  level_sensor: 'devKindLevelSensor',
};

const COLOURS = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00'];

/** "15m" → "15 分钟" / "15 min". */
function everyWords(every: string): string {
  const m = /^(\d+)([smhd])$/.exec(every);
  if (!m) return every;
  const n = m[1]!;
  const word: Word = m[2] === 'd' ? 'devEveryDay' : m[2] === 'h' ? 'devEveryHour' : 'devEveryMin';
  return t(word).replace('{n}', n);
}

function number(v: number): string {
  const abs = Math.abs(v);
  const digits = abs === 0 ? 0 : abs < 10 ? 3 : abs < 1000 ? 2 : 1;
  return new Intl.NumberFormat(getLang() === 'zh' ? 'zh-CN' : 'en-GB', { maximumFractionDigits: digits }).format(v);
}

/** A value as people read it: the number with its unit, a flag as yes/no, a state in words. */
export function formatValue(f: FieldInfo | undefined, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return t(v ? 'devYes' : 'devNo');
  if (typeof v === 'number') return f?.unit ? `${number(v)} ${f.unit}` : number(v);
  if (typeof v === 'string' && f?.valueLabels?.[v]) return tx(f.valueLabels[v]);
  return String(v);
}

/**
 * The charts: one per quantity (fields that share a unit share an axis: the three phase
 * voltages on one V axis), counters as bars of their use per interval, gauges as lines of
 * their mean. Each chart has its own y scale, so a flow of 0.5 m³/h is never flattened by a
 * total of 550 m³.
 */
interface ChartGroup {
  key: string;
  unit: string;
  bars: boolean;
  fields: FieldInfo[];
}

function chartGroups(fields: FieldInfo[]): ChartGroup[] {
  const groups = new Map<string, ChartGroup>();
  // Codes (int) are not quantities and flags/states are not numbers: the table shows them.
  for (const f of fields.filter((x) => x.type === 'float')) {
    const unit = f.unit ?? '';
    const key = `${f.counter ? 'use' : 'level'}:${unit}`;
    const g = groups.get(key) ?? { key, unit, bars: Boolean(f.counter), fields: [] };
    g.fields.push(f);
    groups.set(key, g);
  }
  // Use first: it is what a meter is for.
  return [...groups.values()].sort((a, b) => Number(b.bars) - Number(a.bars));
}

// 24-hour labels at every zoom, dates as yyyy-mm-dd: uPlot's defaults are 12-hour, US style.
const X_VALUES: uPlot.Axis.Values = [
  [365 * 86400, '{YYYY}', null, null, null, null, null, null, 1],
  [28 * 86400, '{YYYY}-{MM}', null, null, null, null, null, null, 1],
  [86400, '{MM}-{DD}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{YYYY}-{MM}-{DD}', null, '\n{MM}-{DD}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{YYYY}-{MM}-{DD}', null, '\n{MM}-{DD}', null, null, null, 1],
  [1, '{HH}:{mm}:{ss}', '\n{YYYY}-{MM}-{DD}', null, '\n{MM}-{DD}', null, null, null, 1],
];

/** The y scale of a group: use starts at zero, a level that did not move gets a narrow band. */
function chartScale(group: ChartGroup): uPlot.Scale {
  // Use starts at zero: a bar's height is the amount.
  // A level that did not move (50 Hz) gets a narrow band around it, not 0–100.
  return group.bars
    ? { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] }
    : {
        range: (_u, min, max) =>
          min === max
            ? [min - Math.max(1, Math.abs(min) * 0.02), max + Math.max(1, Math.abs(max) * 0.02)]
            : uPlot.rangeNum(min, max, 0.1, true),
      };
}

/** The time series and one series per field of the group, bars for use, lines for levels. */
function chartSeries(group: ChartGroup, history: History): uPlot.Series[] {
  return [
    { label: t('colTime'), value: '{YYYY}-{MM}-{DD} {HH}:{mm}' },
    ...group.fields.map((f, i) => ({
      label: tx(f.label),
      scale: group.key,
      stroke: COLOURS[i % COLOURS.length],
      width: group.bars ? 0 : 1.5,
      value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${number(v)} ${group.unit}`),
      ...(group.bars
        ? {
            fill: `${COLOURS[i % COLOURS.length]}${i === 0 ? 'cc' : '99'}`,
            // A later counter of the same unit (reverse, export) is drawn narrower over the first.
            paths: uPlot.paths.bars!({ size: [i === 0 ? 0.85 : 0.45, 40], align: 1, gap: 1 }),
            points: { show: false },
          }
        : { points: { show: history.rows.length < 30 } }),
    })),
  ];
}

/** uPlot's options for one group's chart drawn into el. */
function chartOptions(el: HTMLDivElement, group: ChartGroup, history: History, zone: string): uPlot.Options {
  const narrow = el.clientWidth < 600;
  const unitText = group.bars ? `${group.unit} / ${everyWords(history.every)}` : group.unit;
  return {
    width: Math.max(280, el.clientWidth),
    height: narrow ? 170 : 260,
    // The site's zone on the axis and in the legend, whatever the browser's zone is.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
    cursor: { sync: { key: 'device' } },
    legend: { live: true },
    scales: { x: { time: true }, [group.key]: chartScale(group) },
    axes: [
      { values: X_VALUES, space: narrow ? 60 : 80 },
      // uPlot's own tick labels: they carry as many decimals as the ticks' spacing needs (49.99, 50, 50.01).
      { scale: group.key, label: unitText, size: narrow ? 56 : 70 },
    ],
    series: chartSeries(group, history),
    hooks: {
      // For the test and for people reading the page's source: what the x axis spans.
      draw: [
        (u) => {
          el.dataset.xMin = String(u.scales.x!.min);
          el.dataset.xMax = String(u.scales.x!.max);
        },
      ],
    },
  };
}

function Chart({ group, history, zone }: { group: ChartGroup; history: History; zone: string }) {
  const box = useRef<HTMLDivElement>(null);
  const lang = getLang();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = history.rows.map((r) => Date.parse(r.time) / 1000);
    const data = [
      xs,
      ...group.fields.map((f) => history.rows.map((r) => r.fields[f.name] ?? null)),
    ] as uPlot.AlignedData;
    const plot = new uPlot(chartOptions(el, group, history, zone), data, el);
    return () => plot.destroy();
  }, [group, history, zone, lang]);
  const title = group.fields.map((f) => tx(f.label)).join(' · ');
  const how = group.bars ? t('devUsePer') : t('devAveragePer');
  return html`<div class="card device-chart" data-chart=${group.key} data-kind=${group.bars ? 'bars' : 'lines'} data-unit=${group.unit} data-fields=${group.fields.map((f) => f.name).join(',')}>
    <h3>${title} <span class="muted">(${group.unit}, ${how.replace('{every}', everyWords(history.every))})</span></h3>
    <div ref=${box} class="plot"></div>
  </div>`;
}

/** Sending a command to a device: the stage it is at (idle, asking, sending) and the gateway's answer. */
function useCommand(device: string, field: FieldInfo, target: unknown, onDone: () => void) {
  const [stage, setStage] = useState<'idle' | 'asking' | 'sending'>('idle');
  const [outcome, setOutcome] = useState<{ cls: string; text: string } | null>(null);
  const send = async () => {
    setStage('sending');
    setOutcome({ cls: 'sent', text: t('commandSending') });
    try {
      const r = await api<{ confirmed: boolean; readBack: unknown }>(
        `/api/devices/${encodeURIComponent(device)}/commands`,
        { method: 'POST', body: { field: field.name, value: target } },
      );
      setOutcome(
        r.confirmed
          ? {
              cls: 'confirmed',
              text: `${t('commandConfirmed')} (${t('devReadBack')}: ${formatValue(field, r.readBack)})`,
            }
          : {
              cls: 'no_answer',
              text: `${t('commandNoAnswer')} (${t('devReadBack')}: ${formatValue(field, r.readBack)})`,
            },
      );
      onDone();
    } catch (err) {
      setOutcome({ cls: 'refused', text: `${t('commandRefused')}: ${(err as Error).message}` });
    }
    setStage('idle');
  };
  return { stage, setStage, outcome, send };
}

/** The words of a command: its button, its question and its yes (the valve has its own). */
function commandWords(field: FieldInfo, target: unknown) {
  const valve = field.name === 'valve_open';
  const label = valve
    ? t(target ? 'devOpenValve' : 'closeValve')
    : `${tx(field.label)}: ${t('devSetTo')} ${formatValue(field, target)}`;
  const ask = valve
    ? t(target ? 'devOpenValveAsk' : 'closeValveAsk')
    : `${t('devCommandAsk')} ${tx(field.label)} → ${formatValue(field, target)}`;
  const yes = valve ? t(target ? 'devOpenValveYes' : 'closeValveYes') : t('devCommandYes');
  return { valve, label, ask, yes };
}

/** Where a command's value is typed (a number) or picked (a state); a flag has none. */
function commandInput(field: FieldInfo, draft: string, setDraft: (v: string) => void) {
  return field.type === 'float' || field.type === 'int'
    ? html`<label>${tx(field.label)}${field.unit ? ` (${field.unit})` : ''} <input type="number" step="any" min=${field.min} max=${field.max} value=${draft} onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)} /></label> `
    : field.type === 'enum'
      ? html`<label>${tx(field.label)} <select value=${draft} onChange=${(e: Event) => setDraft((e.target as HTMLSelectElement).value)}>${(field.values ?? []).map((v) => html`<option value=${v}>${formatValue(field, v)}</option>`)}</select></label> `
      : null;
}

/** A command for a writable field: the button, the question, the answer. */
function CommandControl({
  device,
  field,
  current,
  onDone,
}: {
  device: string;
  field: FieldInfo;
  current: unknown;
  onDone: () => void;
}) {
  const [draft, setDraft] = useState('');
  // A flag is switched to its other state; a number or a state is typed or picked.
  const target: unknown =
    field.type === 'bool' ? current !== true : field.type === 'enum' ? draft || field.values?.[0] : Number(draft);
  const { stage, setStage, outcome, send } = useCommand(device, field, target, onDone);
  const { valve, label, ask, yes } = commandWords(field, target);
  const badNumber =
    (field.type === 'float' || field.type === 'int') && (draft.trim() === '' || !Number.isFinite(Number(draft)));
  return html`<div class="device-cmd" data-command=${field.name}>
    ${commandInput(field, draft, setDraft)}
    ${stage !== 'asking' && html`<button class=${valve && !target ? 'danger' : ''} disabled=${stage === 'sending' || badNumber} data-testid="command-ask" onClick=${() => setStage('asking')}>${label}</button>`}
    ${
      stage === 'asking' &&
      html`<div class="confirm-box" role="alertdialog" data-testid="confirm-command">
      <p><b>${device}</b> · ${ask}</p>
      <button class="danger" data-testid="confirm-yes" onClick=${() => void send()}>${yes}</button>
      <button type="button" data-testid="confirm-no" onClick=${() => setStage('idle')}>${t('commandCancel')}</button>
    </div>`
    }
    ${outcome && html`<span class=${`command-outcome ${outcome.cls}`} data-testid="command-outcome">${outcome.text}</span>`}
  </div>`;
}

type HistoryState = History | 'loading' | { error: string };

/** The device, its field catalogue and who is looking; loadDevice reads the device again. */
function useDevice(id: string) {
  const enc = encodeURIComponent(id);
  const device = useLoad<Device>(`/api/devices/${enc}`);
  const fields = useLoad<{ fields: FieldInfo[] }>(`/api/devices/${enc}/fields`);
  const me = useLoad<Me>('/api/me');
  return { device: device.data, fields: fields.data?.fields ?? null, me: me.data, loadDevice: device.reload };
}

/** The device's history over the range for the charted fields, read again when the range changes. */
function useHistory(id: string, fields: FieldInfo[] | null, groups: ChartGroup[], range: RangeId): HistoryState {
  const [history, setHistory] = useState<HistoryState>('loading');
  const enc = encodeURIComponent(id);
  useEffect(() => {
    if (!fields || groups.length === 0) return;
    const r = RANGES.find((x) => x.id === range)!;
    const to = serverNow();
    const names = groups.flatMap((g) => g.fields.map((f) => f.name));
    setHistory('loading');
    let stale = false;
    api<History>(
      `/api/devices/${enc}/readings?from=${new Date(to - r.ms).toISOString()}&to=${new Date(to).toISOString()}&every=${r.every}&fields=${names.join(',')}`,
    ).then(
      (h) => !stale && setHistory(h),
      (err: Error) => !stale && setHistory({ error: err.message }),
    );
    return () => {
      stale = true;
    };
  }, [fields, range, id]);
  return history;
}

/** The device's live values and, for those who may act, its commands. */
function DeviceSide({
  device,
  fields,
  me,
  onDone,
}: {
  device: Device;
  fields: FieldInfo[];
  me: Me | null;
  onDone: () => void;
}) {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const values = device.lastReading?.fields ?? {};
  // In the catalogue's order, not the order the device happened to send them in.
  const shown = fields.filter((f) => f.name in values);
  const writable = fields.filter((f) => f.writable);
  return html`<div class="device-side">
      <div class="card"><h3>${t('devCurrent')}</h3>
        <table class="device-values" data-testid="current-values">${shown.map((f) => html`<tr data-field=${f.name}><th scope="row">${tx(f.label)}</th><td><b>${formatValue(byName.get(f.name), values[f.name])}</b></td></tr>`)}</table>
        <p class="muted">${t('devReadAt')} ${device.lastReading ? siteStamp(Date.parse(device.lastReading.ts)) : '—'}</p>
      </div>
      ${
        canAct(me) &&
        writable.length > 0 &&
        html`<div class="card" data-testid="device-commands"><h3>${t('devCommands')}</h3>
        ${writable.map((f) => html`<${CommandControl} key=${f.name} device=${device.id} field=${f} current=${values[f.name]} onDone=${onDone} />`)}
      </div>`
      }
    </div>`;
}

/** The range buttons and the charts of the device's history (or why there are none). */
function DeviceHistory({
  history,
  groups,
  range,
  setRange,
  zone,
}: {
  history: HistoryState;
  groups: ChartGroup[];
  range: RangeId;
  setRange: (r: RangeId) => void;
  zone: string;
}) {
  const rangeText =
    history !== 'loading' && 'rows' in history
      ? `${siteStamp(Date.parse(history.from))} – ${siteStamp(Date.parse(history.to))}`
      : '';
  return html`<div class="device-history">
      <div class="card device-ranges">
        <h3>${t('history')}</h3>
        <span role="group" aria-label=${t('range')}>${RANGES.map((r) => html`<button class=${r.id === range ? 'active' : ''} aria-pressed=${r.id === range} data-range=${r.id} onClick=${() => setRange(r.id)}>${t(r.word)}</button>`)}</span>
        <span class="muted" data-testid="chart-range">${rangeText} (${t('devTimesIn')}: ${zone})</span>
      </div>
      ${
        history === 'loading'
          ? html`<p class="muted" data-testid="history-loading">${t('devLoading')}</p>`
          : 'error' in history
            ? html`<p class="error" data-testid="history-error">${t('devHistoryFailed')}: ${history.error}</p>`
            : groups.length === 0
              ? html`<p class="muted" data-testid="no-history">${t('devNoHistory')}</p>`
              : html`<div class="device-charts" data-testid="charts" data-every=${history.every}>${groups.map((g) => html`<${Chart} key=${g.key} group=${g} history=${history} zone=${zone} />`)}</div>`
      }
    </div>`;
}

/**
 * One device: its live values in words and units, its history per quantity over 1 hour to
 * 90 days (aggregated by the database, times in the site's zone), and its commands.
 */
export function DeviceView({ id }: { id: string }) {
  const { device, fields, me, loadDevice } = useDevice(id);
  const [range, setRange] = useState<RangeId>('24h');
  // Kept while the catalogue is: a new group object would redraw every chart on each render.
  const groups = useMemo(() => (fields ? chartGroups(fields) : []), [fields]);
  const history = useHistory(id, fields, groups, range);

  // Fields the device never sent in the range (the L2/L3 phases of a single-phase meter)
  // would only add empty lines and "—" to the legends.
  const shownGroups = useMemo(() => {
    if (history === 'loading' || 'error' in history) return [];
    const sent = (f: FieldInfo) =>
      history.rows.some((r) => r.fields[f.name] !== null && r.fields[f.name] !== undefined);
    return groups.map((g) => ({ ...g, fields: g.fields.filter(sent) })).filter((g) => g.fields.length > 0);
  }, [groups, history]);

  if (!device || !fields) return html`<p class="loading">…</p>`;
  // The site's zone, as the page had it from /api/site: every time on this page is the site's.
  const zone = siteZone();
  const kind = KIND_WORD[device.kind];
  return html`<div class="device-page" data-device=${device.id} data-kind=${device.kind} data-role=${me?.role ?? ''}>
    <h2>${device.name ? `${tx(device.name)} · ` : ''}${device.id} <span class="muted">${kind ? t(kind) : device.kind} · ${device.online ? t('online') : t('offline')}</span></h2>
    <${DeviceSide} device=${device} fields=${fields} me=${me} onDone=${loadDevice} />
    <${DeviceHistory} history=${history} groups=${shownGroups} range=${range} setRange=${setRange} zone=${zone} />
  </div>`;
}
