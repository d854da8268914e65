import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { t, time, tx, type Text } from '../i18n.js';
import type { Alarm } from '../types.js';

// The alarms of an incident as the duty room left them: what fired on which device, whether it
// cleared, who acknowledged it with which comment, and the notes added to it since — so the
// engineer on the case reads what the board's operator wrote without going back to the board.

export function IncidentAlarms({ ids, kinds }: { ids: string[]; kinds: Record<string, { title: Text }> }) {
  const [alarms, setAlarms] = useState<Record<string, Alarm | null>>({});
  const key = ids.join('|');
  useEffect(() => {
    for (const id of ids)
      void api<Alarm>(`/api/alarms/${encodeURIComponent(id)}`).then(
        (a) => setAlarms((m) => ({ ...m, [id]: a })),
        () => setAlarms((m) => ({ ...m, [id]: null })),
      );
  }, [key]);
  if (ids.length === 0) return null;
  return html`<section data-testid="incident-alarms"><h3>${t('alarms')}</h3><ul>
    ${ids.map((id) => {
      const a = alarms[id];
      if (!a) return html`<li class="muted">${id}</li>`;
      return html`<li data-alarm=${id}>
        <b>${tx(kinds[a.kind]?.title) || a.kind}</b> · <a href=${`#/devices/${a.deviceId}`}>${a.deviceId}</a> · ${a.raisedAt ? time(a.raisedAt) : ''} · <span class="muted">${a.status === 'cleared' || a.status === 'closed' ? t('cleared') : t('firingWord')}</span>
        ${a.ack && html`<div class="muted" data-ack>✔ ${a.ack.by} ${time(a.ack.at)}${a.ack.comment ? html`: <q>${a.ack.comment}</q>` : ''}</div>`}
        ${(a.comments ?? []).map((c) => html`<div class="muted" data-comment>💬 ${c.by} ${time(c.at)}: ${c.text}</div>`)}
      </li>`;
    })}
  </ul></section>`;
}
