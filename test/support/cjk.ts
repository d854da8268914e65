import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';

// Does Chinese text render, or fall back to boxes ("tofu")? A font that lacks a character
// draws its missing-glyph box (.notdef), and it draws the same box for every character it
// lacks. So each Han character on the page is drawn on a canvas in the font of the element
// that shows it and compared, pixel for pixel, with that font's drawing of a character no
// font has (U+F0000, private use): equal means a box. Widths do not tell them apart (with
// WenQuanYi the box and 中 are both 1 em wide), and `document.fonts.check()` answers for web
// fonts, not for what the system falls back to.
//
// A missing font family is not a test of this: Chromium on Linux asks fontconfig for any
// installed font with the glyph, so `font-family: "No Such Font"` still draws 中 in
// WenQuanYi. Only a browser that sees no CJK font at all shows boxes, which is what
// `fontconfigWithoutCjk` gives (the test proving the check fails without the font uses it).

/**
 * The Han characters (and the emoji icons: 🔔, 🔇) shown on the page that render as the
 * missing-glyph box, with the text they are in.
 */
export function boxedGlyphs(page: Page): Promise<{ char: string; in: string }[]> {
  return page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 64;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const draw = (font: string, ch: string) => {
      ctx.clearRect(0, 0, 64, 64);
      ctx.font = font;
      ctx.fillStyle = '#000';
      ctx.textBaseline = 'middle';
      ctx.fillText(ch, 8, 32);
      return canvas.toDataURL();
    };
    const tofu = new Map<string, string>();
    const boxed = new Map<string, string>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !el.getClientRects().length) continue;
      const cs = getComputedStyle(el);
      // At 40 px whatever the element's size: a box and a glyph differ clearly at that size.
      const font = `${cs.fontStyle} ${cs.fontWeight} 40px ${cs.fontFamily}`;
      if (!tofu.has(font)) tofu.set(font, draw(font, '\u{F0000}'));
      for (const ch of new Set(n.textContent?.match(/\p{Script=Han}|\p{Extended_Pictographic}/gu) ?? [])) {
        if (!boxed.has(ch) && draw(font, ch) === tofu.get(font))
          boxed.set(ch, (n.textContent ?? '').trim().slice(0, 40));
      }
    }
    return [...boxed].map(([char, text]) => ({ char, in: text }));
  });
}

/** How many Han characters the page shows (a check of zero boxes means little on a page with no Chinese). */
export function hanCount(page: Page): Promise<number> {
  return page.evaluate(() => new Set(document.body.innerText.match(/\p{Script=Han}/gu) ?? []).size);
}

/**
 * A fontconfig file that sees every font directory of this machine except those holding a
 * font with Chinese glyphs: Chromium launched with FONTCONFIG_FILE set to it is a stock
 * Debian Chromium without fonts-wqy-microhei or fonts-noto-cjk.
 */
export function fontconfigWithoutCjk(dir: string): string {
  const { all, cjk } = fontFiles();
  const cjkDirs = new Set(cjk.map((f) => dirname(f)));
  // fontconfig reads a <dir> with its subdirectories: leave out any that holds a CJK font below it.
  const dirs = [...new Set(all.map((f) => dirname(f)))].filter(
    (d) => ![...cjkDirs].some((c) => c === d || c.startsWith(`${d}/`) || d.startsWith(`${c}/`)),
  );
  const file = join(dir, 'fonts.conf');
  writeFileSync(
    file,
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n${dirs.map((d) => `  <dir>${d}</dir>\n`).join('')}  <cachedir>${join(dir, 'cache')}</cachedir>\n</fontconfig>\n`,
  );
  return file;
}

/**
 * Every font file, and those with Chinese glyphs: from fc-list, or where it is not installed
 * (it comes with the `fontconfig` package, which `--no-install-recommends` leaves out) from the
 * font folders, a CJK font known by its package's folder name.
 */
function fontFiles(): { all: string[]; cjk: string[] } {
  try {
    const list = (...args: string[]) =>
      execFileSync('fc-list', ['--format', '%{file}\n', ...args], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    return { all: list(), cjk: list(':lang=zh') };
  } catch {
    const all = ['/usr/share/fonts', '/usr/local/share/fonts']
      .filter((d) => existsSync(d))
      .flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).map((f) => join(d, f)))
      .filter((f) => /\.(ttf|ttc|otf|otc|pfb)$/i.test(f));
    return { all, cjk: all.filter((f) => /wqy|cjk|arphic|droid|han|uming|ukai/i.test(f)) };
  }
}
