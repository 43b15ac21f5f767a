import { AttributeBag } from '../../../src/core/attributes/bag.js';
import { AttributeManifest } from '../../../src/core/attributes/manifest.js';
import type { AttributeValue } from '../../../src/core/attributes/value.js';
import { ValueType } from '../../../src/core/attributes/value-type.js';
import { compileExpression, type CompiledExpression, type ExprDiagnostic } from '../../../src/core/expr/index.js';

export function manifestOf(types: Readonly<Record<string, ValueType>>): AttributeManifest {
  return new AttributeManifest(Object.entries(types).map(([name, type]) => ({ name, type, description: '' })));
}

export function bagOf(manifest: AttributeManifest, values: Readonly<Record<string, AttributeValue>>): AttributeBag {
  const bag = new AttributeBag(manifest.size);
  for (const [name, v] of Object.entries(values)) {
    const slot = manifest.slotOf(name);
    if (slot < 0) throw new Error(`test bag names unknown attribute ${name}`);
    bag.values[slot] = v;
  }
  return bag;
}

export function compileOk(text: string, manifest: AttributeManifest): CompiledExpression {
  const r = compileExpression(text, manifest);
  if (!r.ok) throw new Error(`expected \`${text}\` to compile, got: ${r.errors.map((e) => e.message).join('; ')}`);
  return r.expr;
}

export function compileErrors(text: string, manifest: AttributeManifest): readonly ExprDiagnostic[] {
  const r = compileExpression(text, manifest);
  if (r.ok) throw new Error(`expected \`${text}\` to fail to compile, but it has type ${ValueType[r.expr.type]}`);
  return r.errors;
}

export function evaluate(
  text: string,
  manifest: AttributeManifest,
  values: Readonly<Record<string, AttributeValue>> = {},
): AttributeValue {
  return compileOk(text, manifest).evaluate(bagOf(manifest, values));
}

/** The text a diagnostic's span covers. */
export function spanText(text: string, d: ExprDiagnostic): string {
  return text.slice(d.start, d.end);
}

export function stringMap(entries: Readonly<Record<string, string>>): ReadonlyMap<string, string> {
  return new Map(Object.entries(entries));
}

/** A bag's contents for test names: maps as objects, byte arrays as lists. */
export function describeBag(values: Readonly<Record<string, AttributeValue>> | undefined): string {
  if (values === undefined) return '(none)';
  return JSON.stringify(values, (_k, v: unknown) => {
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Uint8Array) return [...v];
    return v;
  });
}
