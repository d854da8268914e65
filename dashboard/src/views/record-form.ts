import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { t, tx } from '../i18n.js';
import { fromSiteStamp, siteStamp } from '../site-time.js';
import type { RecordFieldDef, StepDef } from '../types.js';
import { serverNow } from '../clock.js';

// The records a step asks for (rules/incidents/playbook.ts), as a form: times in the site's
// 24-hour clock, a choice as a list, and a group (each passenger, each police car, fire engine
// or ambulance) as rows one adds. The gateway validates again; this only helps fill it in.

type Item = Record<string, string | number | boolean>;

function readValue(f: RecordFieldDef, raw: FormDataEntryValue | null): string | number | boolean | undefined {
  if (f.type === 'bool') return raw === 'on';
  if (raw === null || raw === '') return undefined;
  if (f.type === 'number') return Number(raw);
  if (f.type === 'time') return fromSiteStamp(String(raw)) ?? String(raw);
  return String(raw);
}

function Input({ f, prefix }: { f: RecordFieldDef; prefix: string }) {
  const name = `${prefix}${f.name}`;
  if (f.type === 'bool') return html`<input type="checkbox" name=${name} />`;
  if (f.type === 'choice')
    return html`<select name=${name} required=${f.required}><option value="">—</option>${(f.options ?? []).map((o) => html`<option value=${o.value}>${tx(o.label)}</option>`)}</select>`;
  const required = f.required && !f.required_when && !f.required_unless;
  if (f.type === 'time')
    // A required time starts at "now" (an arrival recorded with one tap); any other is one tap away.
    return html`<span class="time-input"><input name=${name} data-kind="time" inputmode="numeric" pattern="\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}" placeholder="YYYY-MM-DD HH:mm" title="YYYY-MM-DD HH:mm" size="16" defaultValue=${required ? siteStamp(serverNow()) : ''} required=${required} /><button type="button" class="now" onClick=${(
      e: Event,
    ) => {
      const input = (e.currentTarget as HTMLElement).previousElementSibling as HTMLInputElement;
      input.value = siteStamp(serverNow());
    }}>${t('now')}</button></span>`;
  return html`<input name=${name} type=${f.type === 'number' ? 'number' : 'text'} required=${required} />`;
}

const star = (f: RecordFieldDef) => (f.required || f.required_when ? '*' : '');

function Group({
  f,
  count,
  onAdd,
  onRemove,
}: {
  f: RecordFieldDef;
  count: number;
  onAdd: () => void;
  onRemove: () => void;
}) {
  return html`<fieldset class="record-group" data-group=${f.name}>
    <legend>${tx(f.label)}${star(f)}</legend>
    ${Array.from({ length: count }, (_, i) => html`<div class="group-item" data-item=${i}><b>${i + 1}.</b> ${(f.fields ?? []).map((g) => html`<label>${tx(g.label)}${star(g)} <${Input} f=${g} prefix=${`${f.name}.${i}.`} /></label> `)}</div>`)}
    <button type="button" onClick=${onAdd} data-testid=${`add-${f.name}`}>＋ ${t('addEntry')}</button>
    ${count > 0 && html`<button type="button" onClick=${onRemove}>－ ${t('removeEntry')}</button>`}
  </fieldset>`;
}

export function StepForm({ step, onDone }: { step: StepDef; onDone: (fields: Record<string, unknown>) => void }) {
  const [counts, setCounts] = useState<Record<string, number>>(() =>
    Object.fromEntries(step.record.filter((f) => f.type === 'group').map((f) => [f.name, f.required ? 1 : 0])),
  );
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const fields: Record<string, unknown> = {};
    for (const f of step.record) {
      if (f.type !== 'group') {
        const v = readValue(f, form.get(f.name));
        if (v !== undefined) fields[f.name] = v;
        continue;
      }
      const items: Item[] = [];
      for (let i = 0; i < (counts[f.name] ?? 0); i++) {
        const item: Item = {};
        for (const g of f.fields ?? []) {
          const v = readValue(g, form.get(`${f.name}.${i}.${g.name}`));
          // An unticked box says nothing: "declined" only when ticked.
          if (v !== undefined && v !== false) item[g.name] = v;
        }
        if (Object.keys(item).length) items.push(item);
      }
      if (items.length) fields[f.name] = items;
    }
    onDone(fields);
  };
  const set = (name: string, d: number) =>
    setCounts((c) => ({ ...c, [name]: Math.max(0, Math.min(50, (c[name] ?? 0) + d)) }));
  return html`<form class="inline record-form" onSubmit=${submit}>${step.record.map((f) =>
    f.type === 'group'
      ? html`<${Group} f=${f} count=${counts[f.name] ?? 0} onAdd=${() => set(f.name, 1)} onRemove=${() => set(f.name, -1)} />`
      : html`<label>${tx(f.label)}${star(f)} <${Input} f=${f} prefix="" /></label> `,
  )}<button class="primary" type="submit">${t('done')}</button></form>`;
}
