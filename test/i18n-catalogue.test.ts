import { beforeAll, describe, expect, it } from 'vitest';

// The dashboard's catalogue (dashboard/src/i18n.ts): every word a person reads, in zh-CN and
// English. The type says both keys exist; this says neither is empty and the Chinese is
// Chinese (a word copied across untranslated leaves an English label on a zh-CN screen).

type Text = { zh: string; en: string };
let catalogue: {
  WORDS: Record<string, Text>;
  ANOMALY_TITLES: Record<string, Text>;
  SEVERITY_WORD: Record<string, string>;
};

beforeAll(async () => {
  // The module reads the saved language and the browser's on load; Node has neither.
  Object.defineProperty(globalThis, 'localStorage', {
    value: { getItem: () => null, setItem: () => undefined },
    configurable: true,
  });
  Object.defineProperty(globalThis, 'navigator', { value: { language: 'zh-CN' }, configurable: true });
  catalogue = (await import('../dashboard/src/i18n.js')) as unknown as typeof catalogue;
});

/** zh strings that are rightly not Chinese characters: none so far. */
const NOT_HAN: readonly string[] = [];

describe('dashboard word catalogue', () => {
  it('has every word in both languages, neither empty, the Chinese in Chinese', () => {
    const all = {
      ...catalogue.WORDS,
      ...Object.fromEntries(Object.entries(catalogue.ANOMALY_TITLES).map(([k, v]) => [`anomaly:${k}`, v])),
    };
    expect(Object.keys(all).length).toBeGreaterThan(100);
    const bad = Object.entries(all).filter(
      ([k, w]) => !w.zh?.trim() || !w.en?.trim() || (!/\p{Script=Han}/u.test(w.zh) && !NOT_HAN.includes(k)),
    );
    expect(bad).toEqual([]);
  });

  it('names every severity with a word of the catalogue', () => {
    for (const word of Object.values(catalogue.SEVERITY_WORD)) expect(catalogue.WORDS[word], word).toBeDefined();
  });
});
