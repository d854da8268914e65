import { useEffect, useRef, useState } from 'preact/hooks';
import { api, canAct, stream, type Me } from '../api.js';
import { html } from '../html.js';
import { ago, SEVERITY_WORD, t, tx, type Text } from '../i18n.js';
import type { Alarm, Device } from '../types.js';
import { every } from '../clock.js';

/** Live alarms in the board's order as the API gives it (real before drill, critical first); refetched on every change of the stream. */
export function useAlarms(): { alarms: Alarm[]; kinds: Record<string, { title: Text }>; devices: Map<string, Device> } {
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const [kinds, setKinds] = useState<Record<string, { title: Text }>>({});
  const [devices, setDevices] = useState(new Map<string, Device>());
  useEffect(() => {
    const refresh = () => void api<{ alarms: Alarm[] }>('/api/alarms').then((r) => setAlarms(r.alarms));
    refresh();
    void api<{ kinds: Record<string, { title: Text }> }>('/api/alarms/kinds').then((r) => setKinds(r.kinds));
    void api<{ devices: Device[] }>('/api/devices').then((r) => setDevices(new Map(r.devices.map((d) => [d.id, d]))));
    const close = stream('/api/alarms/stream', 'alarm', refresh);
    const stop = every(15_000, refresh);
    return () => {
      close();
      stop();
    };
  }, []);
  return { alarms, kinds, devices };
}

/** The drill running now, if any (I8: the DRILL banner shows only while one runs, not while drill alarms linger). */
function useRunningDrill(): { id: string; title: Text } | null {
  const [drill, setDrill] = useState<{ id: string; title: Text } | null>(null);
  useEffect(() => {
    const refresh = () =>
      void api<{ current: { id: string; title: Text } | null }>('/api/drills').then(
        (r) => setDrill(r.current),
        () => setDrill(null),
      );
    refresh();
    const close = stream('/api/alarms/stream', 'alarm', refresh);
    const stop = every(5000, refresh);
    return () => {
      close();
      stop();
    };
  }, []);
  return drill;
}

/** A short beep, repeated while an unacknowledged critical alarm is on the board and the sound is on. */
function useAlarmSound(active: boolean, muted: boolean): void {
  const ctx = useRef<AudioContext | null>(null);
  useEffect(() => {
    if (!active || muted) return;
    const beep = () => {
      try {
        ctx.current ??= new AudioContext();
        const o = ctx.current.createOscillator();
        o.frequency.value = 880;
        o.connect(ctx.current.destination);
        o.start();
        o.stop(ctx.current.currentTime + 0.25);
      } catch {
        // No audio device: the flashing row still shows it.
      }
    };
    beep();
    return every(2000, beep);
  }, [active, muted]);
}

export function AlarmBoard({ me, wall }: { me: Me; wall: boolean }) {
  const { alarms, kinds, devices } = useAlarms();
  const [sound, setSound] = useState<{ muted: boolean; by: string | null }>({ muted: false, by: null });
  const [, tick] = useState(0);
  useEffect(() => {
    void api<typeof sound>('/api/alarms/sound').then(setSound);
    return every(1000, () => tick((n) => n + 1));
  }, []);
  const live = alarms.filter((a) => !a.inhibitedBy);
  const inhibited = alarms.filter((a) => a.inhibitedBy);
  const needsAttention = live.some(
    (a) => a.severity === 'critical' && !a.ack && a.status === 'firing' && !a.silencedBy,
  );
  useAlarmSound(needsAttention, sound.muted);
  const toggleSound = async () =>
    setSound(await api('/api/alarms/sound', { method: 'POST', body: { muted: !sound.muted } }));
  const drill = useRunningDrill();
  const where = (a: Alarm) => {
    const d = devices.get(a.deviceId);
    if (d)
      return [d.place.building, d.place.floor, d.place.unit ?? d.place.room, a.deviceId].filter(Boolean).join(' / ');
    // The gateway's own alarms (rules/alarms/system.ts) are about the gateway or one of its Modbus lines.
    if (a.deviceId === 'gateway') return html`<a href="#/health">${t('gatewayItself')}</a>`;
    if (a.deviceId.startsWith('modbus:'))
      return html`<a href="#/health">${t('modbusLine')} ${a.deviceId.slice('modbus:'.length)}</a>`;
    return a.deviceId;
  };
  const row = (
    a: Alarm,
  ) => html`<tr key=${a.id} data-alarm=${a.id} class=${[a.severity === 'critical' && !a.ack && a.status === 'firing' ? 'flash' : '', a.drill ? 'drill' : '', a.inhibitedBy ? 'inhibited' : ''].join(' ')}>
    <td><span class=${`sev ${a.severity}`}>${t(SEVERITY_WORD[a.severity])}</span></td>
    <td>${tx(kinds[a.kind]?.title) || a.kind}${a.reopened ? html` <span class="muted">×${a.reopened + 1}</span>` : ''}${a.status === 'cleared' ? html` <span class="muted">(${t('cleared')})</span>` : ''}${a.drill ? html` <b class="drill-tag">${t('drillWord')}</b>` : ''}</td>
    <td>${where(a)}</td>
    <td>${tx(a.evidence.text)}${a.silencedBy ? html`<div class="muted">${t('silenced')}: ${a.silencedBy.reason} (${a.silencedBy.by})</div>` : ''}</td>
    <td>${ago(a.raisedAt ?? a.since)}</td>
    <td>${a.ack ? html`${a.ack.by}${a.ack.comment ? html`<div class="muted">${a.ack.comment}</div>` : ''}` : wall || !canAct(me) ? '—' : html`<${AckForm} alarm=${a} />`}</td>
  </tr>`;
  return html`<div>
    ${drill && html`<div class="drill-banner" data-testid="drill-banner">${t('drillRunning')} · ${tx(drill.title)} · ${drill.id}</div>`}
    <div class="controls" style="margin-bottom:.5em">
      ${canAct(me) && html`<button onClick=${toggleSound} data-testid="mute">${sound.muted ? `🔇 ${t('unmute')}` : `🔔 ${t('mute')}`}</button>`}
      ${sound.muted && sound.by ? html` <span class="muted">🔇 ${sound.by}</span>` : ''}
    </div>
    ${
      live.length === 0
        ? html`<p class="empty">${t('noAlarms')}</p>`
        : html`<table data-testid="alarm-board"><tr><th>${t('severity')}</th><th>${t('alarm')}</th><th>${t('where')}</th><th>${t('evidence')}</th><th>${t('since')}</th><th>${t('owner')}</th></tr>${live.map(row)}</table>`
    }
    ${
      inhibited.length > 0 &&
      html`<details class="card"><summary>${t('inhibited')} (${inhibited.length})</summary>
      <table>${inhibited.map((a) => html`${row(a)}<tr class="inhibited"><td></td><td colspan="5" class="muted">${t('inhibitedBy')}: ${'link' in a.inhibitedBy! ? a.inhibitedBy.link : `${tx(kinds[a.inhibitedBy!.kind]?.title)} (${a.inhibitedBy!.deviceId})`}</td></tr>`)}</table>
    </details>`
    }
  </div>`;
}

function AckForm({ alarm }: { alarm: Alarm }) {
  const [comment, setComment] = useState('');
  const ack = async (e: Event) => {
    e.preventDefault();
    await api(`/api/alarms/${encodeURIComponent(alarm.id)}/ack`, { method: 'POST', body: comment ? { comment } : {} });
  };
  return html`<form class="inline" onSubmit=${ack}><input placeholder=${t('comment')} aria-label=${t('ackCommentFor')} value=${comment} onInput=${(e: Event) => setComment((e.target as HTMLInputElement).value)} /><button class="primary" type="submit">${t('acknowledge')}</button></form>`;
}
