import type { ErrorCode } from '../errors.js';
import type { ConfigPath, Focus } from './document.js';

export type Report = (path: ConfigPath, message: string, code: ErrorCode, focus?: Focus) => void;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `compiled_adapter` → `compiledAdapter`: jsonpb accepts both spellings of every field (protoc's JSON name). */
export function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Reads one object of a spec with jsonpb's field-name rules and reports problems at their path.
 * `fields` lists the proto (snake_case) names; anything else is an unknown field.
 */
export class SpecReader {
  constructor(
    readonly obj: Record<string, unknown>,
    readonly path: ConfigPath,
    private readonly report: Report,
  ) {}

  /** The key actually used in YAML for a proto field name, if present. */
  keyOf(field: string): string | undefined {
    if (field in this.obj) return field;
    const c = camel(field);
    return c in this.obj ? c : undefined;
  }

  raw(field: string): unknown {
    const k = this.keyOf(field);
    return k === undefined ? undefined : this.obj[k];
  }

  pathOf(field: string): ConfigPath {
    return [...this.path, this.keyOf(field) ?? field];
  }

  rejectUnknown(fields: readonly string[], what: string): void {
    const known = new Set<string>();
    for (const f of fields) {
      known.add(f);
      known.add(camel(f));
    }
    for (const k of Object.keys(this.obj)) {
      if (!known.has(k)) {
        this.report([...this.path, k], `unknown field '${k}' in ${what} (known: ${fields.map(camel).join(', ')})`, 'CFG_UNKNOWN_FIELD', 'key');
      }
    }
    // Both spellings of one field: reading would silently take the snake_case one.
    for (const f of fields) {
      const c = camel(f);
      if (c !== f && f in this.obj && c in this.obj) {
        this.report([...this.path, c], `'${c}' sets the same field as '${f}'; give it once`, 'CFG_DUPLICATE', 'key');
      }
    }
  }

  string(field: string, opts: { required?: boolean } = {}): string | undefined {
    const v = this.raw(field);
    if (v === undefined || v === null) {
      if (opts.required) this.report(this.path, `missing required field '${camel(field)}'`, 'CFG_FIELD');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.report(this.pathOf(field), `'${camel(field)}' must be a string, got ${describe(v)}`, 'CFG_FIELD');
      return undefined;
    }
    return v;
  }

  /** A map of string → string (expressions, labels); bad entries are reported and skipped. */
  stringMap(field: string): [string, string][] {
    const v = this.raw(field);
    if (v === undefined || v === null) return [];
    if (!isRecord(v)) {
      this.report(this.pathOf(field), `'${camel(field)}' must be a map, got ${describe(v)}`, 'CFG_FIELD');
      return [];
    }
    const out: [string, string][] = [];
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string') {
        this.report([...this.pathOf(field), k], `must be an expression string, got ${describe(val)} (quote it: '${String(val)}' as "${String(val)}")`, 'CFG_FIELD');
        continue;
      }
      out.push([k, val]);
    }
    return out;
  }

  array(field: string): unknown[] {
    const v = this.raw(field);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.report(this.pathOf(field), `'${camel(field)}' must be a list, got ${describe(v)}`, 'CFG_FIELD');
      return [];
    }
    return v;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}
