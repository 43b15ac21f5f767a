/**
 * Type metadata of every CEXL function and operator (Mixer 1.4: `ast.intrinsics()` plus
 * `lang.ExternFunctionMetadata`). VALUE_TYPE_UNSPECIFIED marks a template position: the first such
 * argument (or the method target) fixes the type, and every later template argument must match it.
 */
import { ValueType } from '../attributes/value-type.js';

const T = ValueType.VALUE_TYPE_UNSPECIFIED;
const { STRING, INT64, DOUBLE, BOOL, TIMESTAMP, IP_ADDRESS, EMAIL_ADDRESS, URI, DNS_NAME, STRING_MAP } = ValueType;

export interface FunctionSignature {
  readonly name: string;
  /** Method-style (`target.fn(args)`): the target is required, and only these accept one. */
  readonly instance: boolean;
  readonly targetType?: ValueType;
  readonly argTypes: readonly ValueType[];
  /** VALUE_TYPE_UNSPECIFIED: the template type. */
  readonly returnType: ValueType;
  /**
   * Template types the operation is implemented for. Mixer's type checker accepts any type and its
   * code generator then fails; we report the same thing as a type error.
   */
  readonly implementedFor?: { readonly types: ReadonlySet<ValueType>; readonly operation: string };
  /** Operators and internals are not suggested as "did you mean" candidates. */
  readonly callable: boolean;
}

const EQUALITY_TYPES: ReadonlySet<ValueType> = new Set([
  STRING, INT64, DOUBLE, BOOL, IP_ADDRESS, TIMESTAMP, DNS_NAME, EMAIL_ADDRESS, URI,
]);
// Mixer's code generator works on IL types, and DNS_NAME, EMAIL_ADDRESS and URI are IL strings: it
// orders and concatenates them as plain strings (only `==` has a dedicated extern for them).
const ORDERED_TYPES: ReadonlySet<ValueType> = new Set([STRING, INT64, DOUBLE, TIMESTAMP, DNS_NAME, EMAIL_ADDRESS, URI]);
const ADDABLE_TYPES: ReadonlySet<ValueType> = new Set([STRING, INT64, DOUBLE, DNS_NAME, EMAIL_ADDRESS, URI]);

function op(
  name: string,
  argTypes: readonly ValueType[],
  returnType: ValueType,
  implementedFor?: FunctionSignature['implementedFor'],
): FunctionSignature {
  return { name, instance: false, argTypes, returnType, callable: false, ...(implementedFor ? { implementedFor } : {}) };
}

function fn(name: string, argTypes: readonly ValueType[], returnType: ValueType): FunctionSignature {
  return { name, instance: false, argTypes, returnType, callable: true };
}

function method(name: string, targetType: ValueType, argTypes: readonly ValueType[], returnType: ValueType): FunctionSignature {
  return { name, instance: true, targetType, argTypes, returnType, callable: true };
}

const equality = { types: EQUALITY_TYPES, operation: 'equality' };
const ordering = { types: ORDERED_TYPES, operation: 'ordering' };

const SIGNATURES: readonly FunctionSignature[] = [
  op('EQ', [T, T], BOOL, equality),
  op('NEQ', [T, T], BOOL, equality),
  op('LT', [T, T], BOOL, ordering),
  op('LEQ', [T, T], BOOL, ordering),
  op('GT', [T, T], BOOL, ordering),
  op('GEQ', [T, T], BOOL, ordering),
  op('OR', [T, T], T),
  op('LOR', [BOOL, BOOL], BOOL),
  op('LAND', [BOOL, BOOL], BOOL),
  op('INDEX', [STRING_MAP, STRING], STRING),
  op('ADD', [T, T], T, { types: ADDABLE_TYPES, operation: 'addition' }),
  fn('conditional', [BOOL, T, T], T),
  fn('size', [STRING], INT64),
  fn('ip', [STRING], IP_ADDRESS),
  fn('timestamp', [STRING], TIMESTAMP),
  fn('dnsName', [STRING], DNS_NAME),
  fn('email', [STRING], EMAIL_ADDRESS),
  fn('uri', [STRING], URI),
  fn('match', [STRING, STRING], BOOL),
  method('matches', STRING, [STRING], BOOL),
  method('startsWith', STRING, [STRING], BOOL),
  method('endsWith', STRING, [STRING], BOOL),
  fn('emptyStringMap', [], STRING_MAP),
  fn('conditionalString', [BOOL, STRING, STRING], STRING),
  fn('toLower', [STRING], STRING),
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map(SIGNATURES.map((s) => [s.name, s]));

/** Names a config author can call; the candidates for "did you mean" on unknown functions. */
export const CALLABLE_FUNCTION_NAMES: readonly string[] = SIGNATURES.filter((s) => s.callable).map((s) => s.name);
