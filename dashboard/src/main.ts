import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onLinkChange, type Me } from './api.js';
import { html } from './html.js';
import { getLang, setLang, setZone, t, tx } from './i18n.js';
import type { Site } from './types.js';
import { AlarmBoard } from './views/alarms.js';
import { DeviceView } from './views/device.js';
import { DrillsView } from './views/drills.js';
import { EstateView } from './views/estate.js';
import { HealthView, shownStatus, useHealth } from './views/health.js';
import { IncidentsView, IncidentView } from './views/incidents.js';
import { LoginView } from './views/login.js';
import { ReportsView } from './views/reports.js';
import { setServerNow } from './clock.js';

// Hash routes keep the page a single static file: #/alarms, #/estate, #/incidents/inc-3, …
function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'alarms').split('/');
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [site, setSite] = useState<Site | null>(null);
  const [, rerender] = useState(0);
  const route = useRoute();
  const [linkUp, setLinkUp] = useState(true);
  useEffect(() => onLinkChange(setLinkUp), []);
  const wall = route[0] === 'wall';
  const health = useHealth();

  const load = () =>
    api<Me>('/api/me').then(
      async (m) => {
        const s = await api<Site>('/api/site');
        setZone(s.timezone);
        setServerNow(s.now);
        setSite(s);
        setMe(m);
      },
      () => setMe(null),
    );
  useEffect(() => {
    void load();
  }, []);
  useEffect(() => {
    document.body.classList.toggle('wall', wall);
  }, [wall]);

  if (me === undefined) return html`<p class="loading">…</p>`;
  if (me === null || !site) return html`<${LoginView} onLogin=${load} />`;
  const switchLang = () => {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    rerender((n) => n + 1);
  };
  const logout = async () => {
    await api('/api/logout', { method: 'POST', body: {} }).catch(() => undefined);
    setMe(null);
  };
  const tab = (id: string, word: Parameters<typeof t>[0]) =>
    html`<a href=${`#/${id}`} class=${route[0] === id ? 'active' : ''}>${t(word)}</a>`;
  let view;
  switch (route[0]) {
    case 'estate':
      view = html`<${EstateView} site=${site} />`;
      break;
    case 'incidents':
      view = route[1] ? html`<${IncidentView} id=${route[1]} me=${me} />` : html`<${IncidentsView} />`;
      break;
    case 'devices':
      view = html`<${DeviceView} id=${route[1] ?? ''} />`;
      break;
    case 'drills':
      view = html`<${DrillsView} me=${me} />`;
      break;
    case 'reports':
      view = html`<${ReportsView} me=${me} />`;
      break;
    case 'health':
      view = html`<${HealthView} state=${health} />`;
      break;
    default:
      view = html`<${AlarmBoard} me=${me} wall=${wall} />`;
  }
  return html`
    <header>
      <h1>${t('title')} · ${tx(site.name)}</h1>
      <nav>${tab('alarms', 'alarms')}${tab('estate', 'estate')}${tab('incidents', 'incidents')}${tab('drills', 'drills')}${tab('reports', 'reports')}<a href="#/health" class=${route[0] === 'health' ? 'active' : ''} data-testid="health-tab">${t('health')}<span class=${`dot ${shownStatus(health, health.health?.status)}`}></span></a></nav>
      <span class="spacer"></span>
      <span class="controls">
        <button onClick=${switchLang} data-testid="lang" lang=${getLang() === 'zh' ? 'en' : 'zh-CN'}>${getLang() === 'zh' ? 'English' : '中文'}</button>
        <a href=${wall ? '#/alarms' : '#/wall'}><button>${t('wall')}</button></a>
        <span class="muted"> ${tx(me.name)} (${me.role}) </span>
        <button onClick=${logout}>${t('logout')}</button>
      </span>
    </header>
    ${!linkUp && html`<div class="link-lost" data-testid="link-lost">${t('linkLost')}</div>`}
    <main>${view}</main>`;
}

setLang(getLang());
render(html`<${App} />`, document.getElementById('app')!);
