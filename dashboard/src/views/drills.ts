import { useEffect, useState } from 'preact/hooks';
import { api, canAct, type Me } from '../api.js';
import { html } from '../html.js';
import { t, tx, type Text } from '../i18n.js';

interface Scenario {
  name: string;
  title: Text;
}

/** Start and stop a scenario (operators); shows an empty state where no simulated estate is attached. */
export function DrillsView({ me }: { me: Me }) {
  const [scenarios, setScenarios] = useState<Scenario[] | null>(null);
  const [status, setStatus] = useState<unknown>(null);
  const [error, setError] = useState('');
  const load = () => {
    api<{ scenarios: Scenario[] }>('/api/drills/scenarios').then((r) => setScenarios(r.scenarios), () => setScenarios([]));
    api('/api/drills').then(setStatus, () => setStatus(null));
  };
  useEffect(load, []);
  const act = async (path: string, body: unknown) => {
    try {
      await api(path, { method: 'POST', body });
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (scenarios === null) return html`<p class="loading">…</p>`;
  if (scenarios.length === 0) return html`<p class="empty">${t('noDrills')}</p>`;
  return html`<div>
    ${error && html`<p class="error">${error}</p>`}
    <table>${scenarios.map((s) => html`<tr><td>${s.name}</td><td>${tx(s.title)}</td><td>${canAct(me) && html`<button class="primary" onClick=${() => act('/api/drills', { scenario: s.name })}>${t('start')}</button>`}</td></tr>`)}</table>
    ${canAct(me) && html`<p><button onClick=${() => act('/api/drills/stop', {})}>${t('stop')}</button></p>`}
    <pre class="card">${JSON.stringify(status, null, 1)}</pre>
  </div>`;
}
