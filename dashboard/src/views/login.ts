import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { t } from '../i18n.js';

export function LoginView({ onLogin }: { onLogin: () => void }) {
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    try {
      await api('/api/login', {
        method: 'POST',
        body: { username: form.get('username'), password: form.get('password') },
      });
      onLogin();
    } catch {
      setError(t('badLogin'));
    }
  };
  return html`<form class="login card" onSubmit=${submit}>
    <h2>${t('title')} · ${t('login')}</h2>
    <label>${t('username')}<input name="username" autocomplete="username" required /></label>
    <label>${t('password')}<input name="password" type="password" autocomplete="current-password" required /></label>
    ${error && html`<p class="error">${error}</p>`}
    <button class="primary" type="submit">${t('login')}</button>
  </form>`;
}
