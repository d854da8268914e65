import type { RecordValue } from './incident.js';
import type { RecordField } from './playbook.js';

// Recorded values in words, both languages: a field by its label, a choice by its option's
// label, yes/no for a box, a group item by item. The timeline, the report and the reasons a
// step was skipped all say it the same way.

type Text = { zh: string; en: string };

/** A recorded value in words: a choice by its label, a group item by item, yes/no in both languages. */
export function valueText(def: Pick<RecordField, 'type' | 'options' | 'fields'>, v: RecordValue): Text {
  const one = (d: Pick<RecordField, 'type' | 'options'>, x: unknown): Text => {
    if (d.type === 'choice') return d.options?.find((o) => o.value === x)?.label ?? { zh: String(x), en: String(x) };
    if (typeof x === 'boolean') return x ? { zh: '是', en: 'yes' } : { zh: '否', en: 'no' };
    return { zh: String(x), en: String(x) };
  };
  if (!Array.isArray(v)) return one(def, v);
  const items = v.map((item, i) => {
    const parts = (def.fields ?? [])
      .filter((f) => item[f.name] !== undefined && item[f.name] !== '')
      .map((f) => ({ f, t: one(f, item[f.name]) }));
    return {
      zh: `${i + 1}. ${parts.map((p) => `${p.f.label.zh}：${p.t.zh}`).join('，')}`,
      en: `${i + 1}. ${parts.map((p) => `${p.f.label.en}: ${p.t.en}`).join(', ')}`,
    };
  });
  return { zh: items.map((x) => x.zh).join('；'), en: items.map((x) => x.en).join('; ') };
}

/** "Label: value" for each recorded field, in the step's order (unknown names as written). */
export function fieldsText(
  defs: readonly RecordField[],
  fields: Readonly<Record<string, RecordValue | undefined>>,
): Text {
  const parts = Object.entries(fields)
    .filter((e): e is [string, RecordValue] => e[1] !== undefined)
    .map(([k, v]) => {
      const d = defs.find((x) => x.name === k);
      const t = d ? valueText(d, v) : { zh: String(v), en: String(v) };
      return { zh: `${d?.label.zh ?? k}：${t.zh}`, en: `${d?.label.en ?? k}: ${t.en}` };
    });
  return { zh: parts.map((p) => p.zh).join('；'), en: parts.map((p) => p.en).join('; ') };
}
