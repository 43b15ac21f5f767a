/**
 * One object of an adapter's `params`, read with jsonpb's field-name rules, as Mixer read them:
 * every proto field may be spelt in snake_case or lowerCamelCase, a key that is no field is an
 * error, and so is one field given under both spellings.
 */
import type { ConfigReporter } from '../adapter.js';
import type { ErrorCode } from '../errors.js';
import type { ConfigPath } from './document.js';
import { camel } from './spec-reader.js';

/**
 * A reporter that passes every problem on and counts the errors, so a parser that reports all
 * problems at once can still tell whether it found any (warnings do not count).
 */
export class CountingReporter implements ConfigReporter {
  errors = 0;

  constructor(private readonly report: ConfigReporter) {}

  get failed(): boolean {
    return this.errors > 0;
  }

  issue(path: ConfigPath, message: string, code?: ErrorCode, focus?: 'key'): void {
    this.errors++;
    this.report.issue(path, message, code, focus);
  }

  warn(path: ConfigPath, message: string, code?: ErrorCode, focus?: 'key'): void {
    this.report.warn(path, message, code, focus);
  }
}

/** The codes an adapter reports its params problems under. */
export interface JsonpbFieldCodes {
  readonly unknownField: ErrorCode;
  readonly duplicateField: ErrorCode;
  /** A field's value is wrong (what {@link JsonpbObject.issue} reports when given no code). */
  readonly field: ErrorCode;
}

/** A field present in the object, as the operator wrote it. */
export interface JsonpbField {
  /** The proto (snake_case) name. */
  readonly name: string;
  /** The key as written: the proto name or its lowerCamelCase form. */
  readonly key: string;
  /** As written; `null` included (jsonpb reads it as "not set"). */
  readonly value: unknown;
  readonly path: ConfigPath;
}

export class JsonpbObject {
  /** Present fields, in the order written. */
  readonly fields: readonly JsonpbField[];
  private readonly byName = new Map<string, JsonpbField>();

  /**
   * Reads `obj` against `names` (proto field names), reporting unknown and doubled keys at the
   * key; those keys are then left out, so the rest of the object can still be checked.
   * `what` names the object in messages ("statsd params", "a metrics entry").
   */
  constructor(
    obj: Record<string, unknown>,
    readonly path: ConfigPath,
    names: readonly string[],
    what: string,
    private readonly codes: JsonpbFieldCodes,
    private readonly report: ConfigReporter,
  ) {
    const byKey = new Map<string, string>();
    for (const n of names) {
      byKey.set(n, n);
      byKey.set(camel(n), n);
    }
    const fields: JsonpbField[] = [];
    for (const [key, value] of Object.entries(obj)) {
      const name = byKey.get(key);
      const at = [...path, key];
      if (name === undefined) {
        report.issue(at, `unknown field "${key}" in ${what} (known fields: ${names.join(', ')})`, codes.unknownField, 'key');
        continue;
      }
      const earlier = this.byName.get(name);
      if (earlier !== undefined) {
        report.issue(at, `"${key}" sets the same field as "${earlier.key}"; give it once`, codes.duplicateField, 'key');
        continue;
      }
      const field = { name, key, value, path: at };
      this.byName.set(name, field);
      fields.push(field);
    }
    this.fields = fields;
  }

  /** The field as written, `null` value included; undefined when absent. */
  field(name: string): JsonpbField | undefined {
    return this.byName.get(name);
  }

  /** The field's value, with jsonpb's `null` read as absent (undefined). */
  value(name: string): unknown {
    const v = this.byName.get(name)?.value;
    return v === null ? undefined : v;
  }

  /** The key as written, or the proto name when the field is absent. */
  keyOf(name: string): string {
    return this.byName.get(name)?.key ?? name;
  }

  /** Where the field is, or where it would be when absent. */
  pathOf(name: string): ConfigPath {
    return this.byName.get(name)?.path ?? [...this.path, name];
  }

  /** A problem with the field's value, reported where it is (or would be). */
  issue(name: string, message: string, code: ErrorCode = this.codes.field): void {
    this.report.issue(this.pathOf(name), message, code);
  }

  /** A problem inside a field, such as one element of a list. */
  issueAt(path: ConfigPath, message: string, code: ErrorCode = this.codes.field): void {
    this.report.issue(path, message, code);
  }

  warn(name: string, message: string, code: ErrorCode = this.codes.field): void {
    this.report.warn(this.pathOf(name), message, code);
  }
}
