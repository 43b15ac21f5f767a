/** Label pairs as both exposition formats write them. */

const LABEL_ESCAPES = /[\\\n"]/;

/** Label values: `\` → `\\`, newline → `\n`, `"` → `\"` (both formats). */
export function escapeLabelValue(v: string): string {
  if (!LABEL_ESCAPES.test(v)) return v;
  return v.replace(/[\\\n"]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** `name="value",…` for names already in the order to print; values escaped here. */
export function renderLabelText(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    out += `${i > 0 ? ',' : ''}${names[i] ?? ''}="${escapeLabelValue(values[i] ?? '')}"`;
  }
  return out;
}

/**
 * The series key for label values: each value followed by NUL, so the key always ends in NUL.
 * A value that itself contains NUL would make that ambiguous; such label sets use a JSON key
 * behind a leading NUL instead, which ends in `]` and so can never equal a plain key.
 */
export function seriesKey(values: readonly string[]): string {
  let key = '';
  for (const v of values) {
    if (v.includes('\u0000')) return `\u0000${JSON.stringify(values)}`;
    key += `${v}\u0000`;
  }
  return key;
}
