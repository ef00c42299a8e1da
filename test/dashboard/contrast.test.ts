/**
 * WCAG AA contrast of the dashboard's colours, in the light and the dark scheme, read from
 * web/src/styles.css and the chart palette: 4.5:1 for text, 3:1 for the chart's bars.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const WEB = join(import.meta.dirname, '..', '..', 'web', 'src');
const css = readFileSync(join(WEB, 'styles.css'), 'utf8');

function vars(block: string): Record<string, string> {
  return Object.fromEntries([...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1], m[2]]));
}

const light = vars(/:root\s*{([^}]*)}/.exec(css)![1]);
const dark = { ...light, ...vars(/prefers-color-scheme:\s*dark\)\s*{\s*:root\s*{([^}]*)}/.exec(css)![1]) };
const palette = [
  ...readFileSync(join(WEB, 'ui', 'chart.tsx'), 'utf8')
    .match(/PALETTE = \[([^\]]*)\]/)![1]
    .matchAll(/#[0-9a-f]{6}/gi),
].map((m) => m[0]);

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** Text colour on background colour, as the stylesheet pairs them. */
const TEXT_PAIRS: Array<[string, string]> = [
  ['text', 'bg'],
  ['text', 'panel'],
  ['muted', 'bg'],
  ['muted', 'panel'],
  ['accent', 'bg'],
  ['accent', 'panel'],
  ['accent-text', 'accent'],
  ['danger', 'bg'],
  ['danger', 'panel'],
  ['ok', 'bg'],
  ['ok', 'panel'],
];

for (const [name, scheme] of [
  ['light', light],
  ['dark', dark],
] as const) {
  test(`text contrast is at least 4.5:1 in the ${name} scheme`, () => {
    for (const [fg, bg] of TEXT_PAIRS) {
      const ratio = contrast(scheme[fg], scheme[bg]);
      assert.ok(ratio >= 4.5, `--${fg} ${scheme[fg]} on --${bg} ${scheme[bg]}: ${ratio.toFixed(2)}:1`);
    }
  });

  test(`chart colours stand 3:1 against the ${name} background`, () => {
    assert.ok(palette.length >= 8);
    for (const c of palette) {
      const ratio = contrast(c, scheme.bg);
      assert.ok(ratio >= 3, `${c} on ${scheme.bg}: ${ratio.toFixed(2)}:1`);
    }
  });
}
