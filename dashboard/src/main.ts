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
import { HQ_SITE_ID, HqView } from './views/hq.js';
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

/** Who is signed in (undefined while asking, null if no one) and the site; load asks again. */
function useSession() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [site, setSite] = useState<Site | null>(null);
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
  return { me, site, setMe, load };
}

/** The view the route names; the alarm board by default. */
function routeView(route: string[], site: Site, me: Me, health: ReturnType<typeof useHealth>, wall: boolean) {
  switch (route[0]) {
    case 'estate':
      return html`<${EstateView} site=${site} />`;
    case 'incidents':
      return route[1] ? html`<${IncidentView} id=${route[1]} me=${me} />` : html`<${IncidentsView} />`;
    case 'devices':
      return html`<${DeviceView} id=${route[1] ?? ''} />`;
    case 'drills':
      return html`<${DrillsView} me=${me} />`;
    case 'reports':
      return html`<${ReportsView} me=${me} />`;
    case 'health':
      return html`<${HealthView} state=${health} />`;
    default:
      return html`<${AlarmBoard} me=${me} wall=${wall} />`;
  }
}

/** The page's header: the site's name, the tabs, the language, the wall and the sign-out. */
function pageHeader(
  site: Site,
  me: Me,
  route: string[],
  health: ReturnType<typeof useHealth>,
  switchLang: () => void,
  logout: () => void,
) {
  const wall = route[0] === 'wall';
  const tab = (id: string, word: Parameters<typeof t>[0]) =>
    html`<a href=${`#/${id}`} class=${route[0] === id ? 'active' : ''}>${t(word)}</a>`;
  return html`<header>
      <h1>${t('title')} · ${tx(site.name)}</h1>
      <nav>${tab('alarms', 'alarms')}${tab('estate', 'estate')}${tab('incidents', 'incidents')}${tab('drills', 'drills')}${tab('reports', 'reports')}<a href="#/health" class=${route[0] === 'health' ? 'active' : ''} data-testid="health-tab">${t('health')}<span class=${`dot ${shownStatus(health, health.health?.status)}`}></span></a></nav>
      <span class="spacer"></span>
      <span class="controls">
        <button onClick=${switchLang} data-testid="lang" lang=${getLang() === 'zh' ? 'en' : 'zh-CN'}>${getLang() === 'zh' ? 'English' : '中文'}</button>
        <a href=${wall ? '#/alarms' : '#/wall'}><button>${t('wall')}</button></a>
        <span class="muted"> ${tx(me.name)} (${me.role}) </span>
        <button onClick=${logout}>${t('logout')}</button>
      </span>
    </header>`;
}

/** The head-office console (`dutyroom hq`): the same page, one view of every site. */
function hqPage(me: Me, switchLang: () => void, logout: () => void) {
  return html`<header>
      <h1>${t('title')} · ${t('hqTitle')}</h1>
      <span class="spacer"></span>
      <span class="controls">
        <button onClick=${switchLang} data-testid="lang" lang=${getLang() === 'zh' ? 'en' : 'zh-CN'}>${getLang() === 'zh' ? 'English' : '中文'}</button>
        <span class="muted"> ${tx(me.name)} (${me.role}) </span>
        <button onClick=${logout}>${t('logout')}</button>
      </span>
    </header>
    <main><${HqView} /></main>`;
}

function App() {
  const { me, site, setMe, load } = useSession();
  const [, rerender] = useState(0);
  const route = useRoute();
  const [linkUp, setLinkUp] = useState(true);
  useEffect(() => onLinkChange(setLinkUp), []);
  const wall = route[0] === 'wall';
  const health = useHealth();
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
  if (site.id === HQ_SITE_ID) return hqPage(me, switchLang, logout);
  return html`
    ${pageHeader(site, me, route, health, switchLang, logout)}
    ${!linkUp && html`<div class="link-lost" data-testid="link-lost">${t('linkLost')}</div>`}
    <main>${routeView(route, site, me, health, wall)}</main>`;
}

setLang(getLang());
render(html`<${App} />`, document.getElementById('app')!);
