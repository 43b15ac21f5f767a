/**
 * The subset of Go `text/template` that Mixer's StatsD `name_template` is used with: literal
 * text and `{{.dimension}}` actions, with Go's `{{-`/`-}}` trim markers and comment actions.
 * Anything else is rejected at config time with its column, rather than half-supported.
 */
import type { AttributeValue, DimensionSpec } from '../../core/adapter.js';
import { goValueFormatterFor, type ValueFormatter } from '../../core/format/index.js';
import { describeChar, findIllegalStatNameChar, sanitizeStatName } from './sanitize.js';

export type NameTemplatePart =
  /** `column` is the 1-based position of the text's first character in the template. */
  | { readonly kind: 'text'; readonly text: string; readonly column: number }
  /** `column` is the 1-based position of the `.` that starts the reference. */
  | { readonly kind: 'dimension'; readonly name: string; readonly column: number };

export interface NameTemplateProblem {
  /** 1-based position in the template text. */
  readonly column: number;
  readonly message: string;
  readonly kind: 'syntax' | 'unknown-dimension' | 'illegal-text';
}

export type ParsedNameTemplate =
  | { readonly ok: true; readonly parts: readonly NameTemplatePart[] }
  | { readonly ok: false; readonly problem: NameTemplateProblem };

// Go's isAlphaNumeric: `_`, Unicode letters and digits; a field name cannot start with a digit.
const FIELD = /^\.([\p{L}_][\p{L}\p{Nd}_]*)$/u;
const GO_SPACE = /[ \t\r\n]/;

function isGoSpace(c: string | undefined): boolean {
  return c !== undefined && GO_SPACE.test(c);
}

/** Parses a name template. Never throws; the first syntax error is returned with its column. */
export function parseNameTemplate(text: string): ParsedNameTemplate {
  const parts: NameTemplatePart[] = [];
  let i = 0;
  let trimLeading = false;
  while (i <= text.length) {
    const open = text.indexOf('{{', i);
    let chunkStart = i;
    let chunkEnd = open < 0 ? text.length : open;
    if (trimLeading) {
      while (chunkStart < chunkEnd && isGoSpace(text[chunkStart])) chunkStart++;
      trimLeading = false;
    }
    let p = open + 2;
    const trimTrailing = open >= 0 && text[p] === '-' && isGoSpace(text[p + 1]);
    if (trimTrailing) {
      while (chunkEnd > chunkStart && isGoSpace(text[chunkEnd - 1])) chunkEnd--;
      p += 2;
    }
    if (chunkEnd > chunkStart) {
      parts.push({ kind: 'text', text: text.slice(chunkStart, chunkEnd), column: chunkStart + 1 });
    }
    if (open < 0) break;

    if (text.startsWith('/*', p)) {
      const endComment = text.indexOf('*/', p + 2);
      if (endComment < 0) return syntax(open, 'unclosed comment');
      let close = endComment + 2;
      const rightTrim = text[close] === ' ' && text[close + 1] === '-' && text.startsWith('}}', close + 2);
      if (rightTrim) close += 2;
      if (!text.startsWith('}}', close)) return syntax(open, 'comment must end with "*/}}"');
      trimLeading = rightTrim;
      i = close + 2;
      continue;
    }
    const close = text.indexOf('}}', p);
    if (close < 0) return syntax(open, 'unclosed action: "{{" without a matching "}}"');
    let bodyStart = p;
    let bodyEnd = close;
    if (close - 2 >= p && text[close - 1] === '-' && isGoSpace(text[close - 2])) {
      trimLeading = true;
      bodyEnd = close - 2;
    }
    // Spaces inside the delimiters are allowed, as in Go.
    while (bodyStart < bodyEnd && isGoSpace(text[bodyStart])) bodyStart++;
    while (bodyEnd > bodyStart && isGoSpace(text[bodyEnd - 1])) bodyEnd--;
    const body = text.slice(bodyStart, bodyEnd);
    const m = FIELD.exec(body);
    if (m === null) {
      const shown = text.slice(open, close + 2);
      const hint = body === '' ? 'empty action' : `unsupported action ${JSON.stringify(shown)}`;
      return syntax(open, `${hint}: only {{.dimension}} references are supported`);
    }
    parts.push({ kind: 'dimension', name: m[1] as string, column: bodyStart + 1 });
    i = close + 2;
  }
  return { ok: true, parts };
}

function syntax(index: number, message: string): ParsedNameTemplate {
  return { ok: false, problem: { column: index + 1, message, kind: 'syntax' } };
}

/**
 * Checks a parsed template against the instance's dimensions: every reference must name one
 * (Mixer printed `<no value>` instead), and literal text must be sendable as is.
 */
export function checkNameTemplate(
  parts: readonly NameTemplatePart[],
  dimensions: readonly DimensionSpec[],
): NameTemplateProblem[] {
  const known = new Set(dimensions.map((d) => d.name));
  const problems: NameTemplateProblem[] = [];
  for (const part of parts) {
    if (part.kind === 'dimension') {
      if (!known.has(part.name)) {
        const have = dimensions.length === 0 ? 'none' : dimensions.map((d) => d.name).join(', ');
        problems.push({
          column: part.column,
          kind: 'unknown-dimension',
          message: `unknown dimension "${part.name}" (the instance's dimensions are: ${have})`,
        });
      }
      continue;
    }
    const bad = findIllegalStatNameChar(part.text);
    if (bad >= 0) {
      problems.push({
        column: part.column + bad,
        kind: 'illegal-text',
        message: `literal text contains ${describeChar(part.text[bad] as string)}, which StatsD cannot carry in a name`,
      });
    }
  }
  return problems;
}

/** Builds a stat name from an instance's dimension values (in `InstanceSpec.dimensions` order). */
export type StatNameRenderer = (dimensions: readonly AttributeValue[]) => string;

/**
 * Compiles a checked template into a renderer. Dimension values are formatted with Go `%v` and
 * sanitised; the prefix is joined with `.` as Mixer's client did (without doubling a dot the
 * operator already wrote). An empty template names the stat after the instance, as in Mixer.
 * The renderer returns `''` when the template part renders empty, so the caller can drop it.
 */
export function compileStatName(
  parts: readonly NameTemplatePart[],
  dimensions: readonly DimensionSpec[],
  prefix: string,
  instanceName: string,
): StatNameRenderer {
  const head = prefix === '' ? '' : prefix.endsWith('.') ? prefix : `${prefix}.`;
  if (parts.length === 0) {
    const fixed = head + sanitizeStatName(instanceName);
    return () => fixed;
  }
  const index = new Map(dimensions.map((d, i) => [d.name, i] as const));
  // Go's text/template prints a map value with `%v`; the formatter is chosen once per dimension.
  type Segment = string | { readonly at: number; readonly format: ValueFormatter };
  const segments: Segment[] = parts.map((part) => {
    if (part.kind === 'text') return part.text;
    const at = index.get(part.name);
    // checkNameTemplate runs first; reaching this is a programming error, not bad input.
    if (at === undefined) throw new Error(`name template references unknown dimension ${part.name}`);
    return { at, format: goValueFormatterFor((dimensions[at] as DimensionSpec).type) };
  });
  return (values) => {
    // Joined once into a flat string: the name is kept (a map key, a cached name) as long as its
    // series lives, where concatenation would keep a tree of its pieces.
    const pieces: string[] = head === '' ? [] : [head];
    let empty = true;
    for (const seg of segments) {
      let piece: string;
      if (typeof seg === 'string') piece = seg;
      else {
        const v = values[seg.at];
        // A missing value cannot happen for a well-formed instance; treat it like Go's empty map lookup.
        piece = v === undefined ? '' : sanitizeStatName(seg.format(v));
      }
      if (piece === '') continue;
      pieces.push(piece);
      empty = false;
    }
    return empty ? '' : pieces.join('');
  };
}

/**
 * The positions (in `InstanceSpec.dimensions` order) of the dimensions a template references,
 * each once: the values a rendered name depends on. Empty for a template without references.
 */
export function referencedDimensions(parts: readonly NameTemplatePart[], dimensions: readonly DimensionSpec[]): number[] {
  // Resolved as compileStatName resolves them.
  const index = new Map(dimensions.map((d, i) => [d.name, i] as const));
  const out: number[] = [];
  for (const part of parts) {
    if (part.kind !== 'dimension') continue;
    const at = index.get(part.name);
    if (at !== undefined && !out.includes(at)) out.push(at);
  }
  return out;
}

/** What stands in for every dimension value in a metric's overflow stat. */
export const OVERFLOW_VALUE = 'overflow';

/**
 * The stat that takes a metric's new series once its cardinality limit is reached: the template
 * with every dimension value replaced by {@link OVERFLOW_VALUE}, e.g.
 * `istio.requests.overflow.overflow`. The name still says which metric it is, and its counts
 * still add up to the metric's total.
 */
export function overflowStatName(parts: readonly NameTemplatePart[], prefix: string, instanceName: string): string {
  const head = prefix === '' ? '' : prefix.endsWith('.') ? prefix : `${prefix}.`;
  if (parts.length === 0) return head + sanitizeStatName(instanceName);
  let out = '';
  for (const part of parts) out += part.kind === 'text' ? part.text : OVERFLOW_VALUE;
  return head + out;
}
