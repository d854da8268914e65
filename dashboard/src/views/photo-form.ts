import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';

// A photo from the scene, straight from the phone's camera (capture): posted as the image
// itself; the gateway keeps it and puts it on the timeline. Large phone photos are sent as
// taken: the gateway refuses above 8 MB and the page says so.

export function PhotoForm({ incidentId, onDone }: { incidentId: string; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const file = (form.elements.namedItem('photo') as HTMLInputElement).files?.[0];
    if (!file) return;
    const caption = String(new FormData(form).get('caption') ?? '').trim();
    setBusy(true);
    setError('');
    try {
      const res = await fetch(
        `/api/incidents/${encodeURIComponent(incidentId)}/photos${caption ? `?caption=${encodeURIComponent(caption)}` : ''}`,
        {
          method: 'POST',
          headers: { 'content-type': file.type || 'application/octet-stream' },
          body: file,
          credentials: 'same-origin',
        },
      );
      if (!res.ok)
        throw new Error(((await res.json().catch(() => ({}))) as { message?: string }).message ?? res.statusText);
      form.reset();
      onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline photo-form" data-testid="photo-form" onSubmit=${submit}>
    <label>📷 ${t('photo')} <input type="file" name="photo" accept="image/jpeg,image/png,image/webp" capture="environment" required /></label>
    <input name="caption" placeholder=${t('photoCaption')} aria-label=${t('photoCaption')} maxlength="200" />
    <button type="submit" class="primary" disabled=${busy}>${busy ? '…' : t('addPhoto')}</button>
    ${error && html`<span class="error" role="alert">${error}</span>`}
  </form>`;
}
