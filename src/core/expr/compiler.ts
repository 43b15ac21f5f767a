/**
 * Turns a checked expression into closures, once per config load. Each node yields two evaluators:
 * `ev`, the value (a missing attribute is an error), and `tryEv`, the value or `undefined` when it is
 * absent in the sense of `|` (Mixer's nmNone / nmJmpOnValue code generation modes). Constant
 * sub-expressions are folded. Evaluation allocates nothing on the common paths: attribute loads,
 * `|` defaults, `==`, `conditional` and map indexing.
 */
import { AttributeBag } from '../attributes/bag.js';
import { addInt64, type Int64 } from '../attributes/int64.js';
import { EMPTY_STRING_MAP, type AttributeValue, type StringMap, type Timestamp } from '../attributes/value.js';
import { ValueType } from '../attributes/value-type.js';
import type { TypedAttribute, TypedCall, TypedExpr } from './checker.js';
import { checkEmail, emailEqual } from './email.js';
import { ExprEvalError } from './eval-error.js';
import { dnsNameEqual, dnsNameError, toDnsName } from './idna.js';
import { ipEqual, parseIp } from './ip.js';
import { Re2Matcher, compileRe2 } from './re2.js';
import { compareUtf8, globMatch, toLowerGo, utf8ByteLength } from './strings.js';
import { parseRfc3339, RFC3339_LAYOUT } from './timestamp.js';
import { checkUri, uriEqual } from './uri.js';

export type Evaluator = (bag: AttributeBag) => AttributeValue;
type TryEvaluator = (bag: AttributeBag) => AttributeValue | undefined;

interface Compiled {
  readonly ev: Evaluator;
  readonly tryEv: TryEvaluator;
  /** Set when the value is known at compile time. */
  readonly constant?: { readonly value: AttributeValue };
  /** Set for a bare attribute: its bag slot, so `|` can read it without a call. */
  readonly slot?: number;
}

/** Patterns computed at evaluation time are compiled at most once per this many distinct values. */
const REGEX_CACHE_SIZE = 32;

const NO_ATTRIBUTES = new AttributeBag(0);

export function compileTyped(expr: TypedExpr): Evaluator {
  return compile(expr).ev;
}

function constant(value: AttributeValue): Compiled {
  const f = (): AttributeValue => value;
  return { ev: f, tryEv: f, constant: { value } };
}

/** A node that is never absent: calls and operators other than `|` and indexing. */
function present(ev: Evaluator): Compiled {
  return { ev, tryEv: ev };
}

function compile(expr: TypedExpr): Compiled {
  switch (expr.kind) {
    case 'constant':
      return constant(expr.value);
    case 'attribute':
      return attribute(expr);
    case 'call':
      return fold(call(expr), expr);
  }
}

function attribute(expr: TypedAttribute): Compiled {
  const { slot, name } = expr;
  return {
    ev: (bag) => {
      const v = bag.values[slot];
      if (v === undefined) throw new ExprEvalError(`lookup failed: '${name}'`);
      return v;
    },
    tryEv: (bag) => bag.values[slot],
    slot,
  };
}

/**
 * Evaluates a call whose inputs are all constants once, now. If that fails, the call is left to fail
 * at evaluation time, as in Mixer (`ip("bad")` is a runtime error, not a config error).
 */
function fold(c: Compiled, expr: TypedCall): Compiled {
  if (c.constant !== undefined) return c;
  const inputs = expr.target === undefined ? expr.args : [expr.target, ...expr.args];
  if (!inputs.every(isConstantTree)) return c;
  try {
    // A constant index whose key is missing is "" to ev but absent to `|` (emptyStringMap()["k"]):
    // that node must stay as it is, or `| default` would never fall through.
    if (c.tryEv(NO_ATTRIBUTES) === undefined) return c;
    return constant(c.ev(NO_ATTRIBUTES));
  } catch (e) {
    if (e instanceof ExprEvalError) return c;
    throw e;
  }
}

function isConstantTree(e: TypedExpr): boolean {
  if (e.kind === 'constant') return true;
  if (e.kind === 'attribute') return false;
  return (e.target === undefined || isConstantTree(e.target)) && e.args.every(isConstantTree);
}

function call(expr: TypedCall): Compiled {
  const args = expr.args.map(compile);
  const arg = (i: number): Compiled => args[i]!;
  switch (expr.name) {
    case 'OR':
      return or(arg(0), arg(1));
    case 'INDEX':
      return index(arg(0), arg(1));
    case 'conditional':
      return conditional(arg(0), arg(1), arg(2));
    case 'conditionalString': {
      // Unlike `conditional`, both branches are evaluated (and may fail) whatever the condition.
      const [c, x, y] = [arg(0).ev, arg(1).ev, arg(2).ev];
      return present((bag) => {
        const cond = c(bag);
        const a = x(bag);
        const b = y(bag);
        return cond ? a : b;
      });
    }
    case 'LAND': {
      const [l, r] = [arg(0).ev, arg(1).ev];
      return present((bag) => (l(bag) as boolean) && (r(bag) as boolean));
    }
    case 'LOR': {
      const [l, r] = [arg(0).ev, arg(1).ev];
      return present((bag) => (l(bag) as boolean) || (r(bag) as boolean));
    }
    case 'EQ':
      return equality(expr.operandType, arg(0), arg(1), false);
    case 'NEQ':
      return equality(expr.operandType, arg(0), arg(1), true);
    case 'LT':
    case 'LEQ':
    case 'GT':
    case 'GEQ':
      return present(ordering(expr.name, expr.operandType, arg(0).ev, arg(1).ev));
    case 'ADD': {
      const [l, r] = [arg(0).ev, arg(1).ev];
      if (isStringLike(expr.operandType)) return present((bag) => (l(bag) as string) + (r(bag) as string));
      // Go's int64 `+`, exact and wrapping on overflow; DOUBLE adds as float64.
      if (expr.operandType === ValueType.INT64) return present((bag) => addInt64(l(bag) as Int64, r(bag) as Int64));
      return present((bag) => (l(bag) as number) + (r(bag) as number));
    }
    case 'size': {
      const s = arg(0).ev;
      return present((bag) => utf8ByteLength(s(bag) as string));
    }
    case 'toLower': {
      const s = arg(0).ev;
      return present((bag) => toLowerGo(s(bag) as string));
    }
    case 'emptyStringMap':
      return constant(EMPTY_STRING_MAP);
    case 'match':
      return match(arg(0), arg(1));
    case 'matches':
      return matches(expr, compile(expr.target!), arg(0));
    case 'startsWith': {
      const [t, p] = [compile(expr.target!).ev, arg(0).ev];
      return present((bag) => (t(bag) as string).startsWith(p(bag) as string));
    }
    case 'endsWith': {
      const [t, p] = [compile(expr.target!).ev, arg(0).ev];
      return present((bag) => (t(bag) as string).endsWith(p(bag) as string));
    }
    case 'ip':
      return conversion(arg(0).ev, (s) => parseIp(s) ?? fail(`could not convert ${s} to IP_ADDRESS`));
    case 'timestamp':
      return conversion(
        arg(0).ev,
        (s) => parseRfc3339(s) ?? fail(`could not convert '${s}' to TIMESTAMP. expected format: '${RFC3339_LAYOUT}'`),
      );
    case 'dnsName':
      return conversion(arg(0).ev, (s) => {
        const r = toDnsName(s);
        return r.ok ? r.value : fail(dnsNameError(s, r.reason));
      });
    case 'email':
      return conversion(arg(0).ev, (s) => {
        const problem = checkEmail(s);
        return problem === undefined ? s : fail(problem);
      });
    case 'uri':
      return conversion(arg(0).ev, (s) => {
        const problem = checkUri(s);
        return problem === undefined ? s : fail(problem);
      });
    default:
      // The checker only lets through names of FUNCTIONS; this is a table out of sync.
      throw new Error(`internal error: no implementation for function ${expr.name}`);
  }
}

function fail(message: string): never {
  throw new ExprEvalError(message);
}

function conversion(input: Evaluator, convert: (s: string) => AttributeValue): Compiled {
  return present((bag) => convert(input(bag) as string));
}

/** `a | b`: `b` only when `a` is absent; a present empty string is present. */
function or(left: Compiled, right: Compiled): Compiled {
  if (left.constant !== undefined) return left;
  if (left.slot !== undefined && right.constant !== undefined) {
    // `attribute | "default"`, the shape of most dimensions: one closure instead of three calls.
    const slot = left.slot;
    const fallback = right.constant.value;
    const f = (bag: AttributeBag): AttributeValue => {
      const v = bag.values[slot];
      return v !== undefined ? v : fallback;
    };
    return { ev: f, tryEv: f };
  }
  const l = left.tryEv;
  const r = right.ev;
  const rTry = right.tryEv;
  return {
    ev: (bag) => {
      const v = l(bag);
      return v !== undefined ? v : r(bag);
    },
    tryEv: (bag) => {
      const v = l(bag);
      return v !== undefined ? v : rTry(bag);
    },
  };
}

/**
 * `m[k]`: outside `|` a missing key is "" and a missing map or key attribute an error; inside `|` any
 * of the three makes the whole index absent.
 */
function index(map: Compiled, key: Compiled): Compiled {
  const m = map.ev;
  const mTry = map.tryEv;
  if (key.constant !== undefined) {
    const k = key.constant.value as string;
    return {
      ev: (bag) => (m(bag) as StringMap).get(k) ?? '',
      tryEv: (bag) => {
        const mv = mTry(bag);
        return mv === undefined ? undefined : (mv as StringMap).get(k);
      },
    };
  }
  const k = key.ev;
  const kTry = key.tryEv;
  return {
    ev: (bag) => {
      const mv = m(bag) as StringMap;
      return mv.get(k(bag) as string) ?? '';
    },
    tryEv: (bag) => {
      const mv = mTry(bag);
      if (mv === undefined) return undefined;
      const kv = kTry(bag);
      return kv === undefined ? undefined : (mv as StringMap).get(kv as string);
    },
  };
}

/** Lazy: only the chosen branch is evaluated. Always present; a missing attribute in a branch fails. */
function conditional(cond: Compiled, whenTrue: Compiled, whenFalse: Compiled): Compiled {
  if (cond.constant !== undefined) {
    const chosen = cond.constant.value === true ? whenTrue : whenFalse;
    return chosen.constant !== undefined ? chosen : present(chosen.ev);
  }
  const c = cond.ev;
  if (whenTrue.constant !== undefined && whenFalse.constant !== undefined) {
    // Both branches literals (Istio's reporter and security-policy dimensions): no branch calls.
    const [a, b] = [whenTrue.constant.value, whenFalse.constant.value];
    return present((bag) => (c(bag) ? a : b));
  }
  const [x, y] = [whenTrue.ev, whenFalse.ev];
  return present((bag) => (c(bag) ? x(bag) : y(bag)));
}

/** Equality of the types that have one; primitives compare with `===` (NaN ≠ NaN, as in Go). */
function equality(type: ValueType, left: Compiled, right: Compiled, negate: boolean): Compiled {
  const l = left.ev;
  const r = right.ev;
  const same = structuredEquality(type);
  if (same !== undefined) {
    return present(negate ? (bag) => !same(l(bag), r(bag)) : (bag) => same(l(bag), r(bag)));
  }
  const c = right.constant?.value ?? left.constant?.value;
  if (c !== undefined) {
    const other = right.constant !== undefined ? l : r;
    return present(negate ? (bag) => other(bag) !== c : (bag) => other(bag) === c);
  }
  return present(negate ? (bag) => l(bag) !== r(bag) : (bag) => l(bag) === r(bag));
}

function structuredEquality(type: ValueType): ((a: AttributeValue, b: AttributeValue) => boolean) | undefined {
  switch (type) {
    case ValueType.IP_ADDRESS:
      return (a, b) => ipEqual(a as Uint8Array, b as Uint8Array);
    case ValueType.TIMESTAMP:
      return (a, b) => (a as Timestamp).compare(b as Timestamp) === 0;
    case ValueType.DNS_NAME:
      return (a, b) => dnsNameEqual(a as string, b as string);
    case ValueType.EMAIL_ADDRESS:
      return (a, b) => emailEqual(a as string, b as string);
    case ValueType.URI:
      return (a, b) => uriEqual(a as string, b as string);
    default:
      // STRING, INT64, DOUBLE, BOOL: ===. An INT64 is a number or a bigint according to its value
      // alone (int64.ts), so `===` is exact equality for it too.
      return undefined;
  }
}

/**
 * Types held as strings. Mixer's IL has no DNS_NAME, EMAIL_ADDRESS or URI: `<` and `+` on them are its
 * string operations, byte-wise and unnormalised (only `==` normalises).
 */
function isStringLike(type: ValueType): boolean {
  return type === ValueType.STRING || type === ValueType.DNS_NAME || type === ValueType.EMAIL_ADDRESS || type === ValueType.URI;
}

function ordering(op: string, type: ValueType, l: Evaluator, r: Evaluator): Evaluator {
  if (type === ValueType.INT64 || type === ValueType.DOUBLE) {
    // JavaScript compares a number with a bigint by exact value, so an INT64 past 2^53 − 1 (a
    // bigint, see int64.ts) orders exactly against either form.
    switch (op) {
      case 'LT':
        return (bag) => (l(bag) as Int64) < (r(bag) as Int64);
      case 'LEQ':
        return (bag) => (l(bag) as Int64) <= (r(bag) as Int64);
      case 'GT':
        return (bag) => (l(bag) as Int64) > (r(bag) as Int64);
      default:
        return (bag) => (l(bag) as Int64) >= (r(bag) as Int64);
    }
  }
  const cmp: (a: AttributeValue, b: AttributeValue) => number =
    isStringLike(type)
      ? (a, b) => compareUtf8(a as string, b as string)
      : (a, b) => (a as Timestamp).compare(b as Timestamp);
  switch (op) {
    case 'LT':
      return (bag) => cmp(l(bag), r(bag)) < 0;
    case 'LEQ':
      return (bag) => cmp(l(bag), r(bag)) <= 0;
    case 'GT':
      return (bag) => cmp(l(bag), r(bag)) > 0;
    default:
      return (bag) => cmp(l(bag), r(bag)) >= 0;
  }
}

/** `match(str, pattern)`; a constant pattern is analysed once. */
function match(str: Compiled, pattern: Compiled): Compiled {
  const s = str.ev;
  if (pattern.constant === undefined) {
    const p = pattern.ev;
    return present((bag) => globMatch(s(bag) as string, p(bag) as string));
  }
  const p = pattern.constant.value as string;
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return present((bag) => (s(bag) as string).startsWith(prefix));
  }
  if (p.startsWith('*')) {
    const suffix = p.slice(1);
    return present((bag) => (s(bag) as string).endsWith(suffix));
  }
  return present((bag) => s(bag) === p);
}

/** `pattern.matches(str)`: RE2 search. The target is the pattern. */
function matches(expr: TypedCall, target: Compiled, subject: Compiled): Compiled {
  const s = subject.ev;
  const known = expr.pattern ?? (target.constant === undefined ? undefined : compileRe2(target.constant.value as string));
  if (known !== undefined) {
    if (known instanceof Re2Matcher) return present((bag) => known.test(s(bag) as string));
    if (known.ok) {
      const re = known.regexp;
      return present((bag) => re.test(s(bag) as string));
    }
    // A pattern folded from constants (not a literal, which the checker rejects) that is invalid:
    // Go fails when the call runs, after its inputs were evaluated.
    const message = known.message;
    return present((bag) => {
      s(bag);
      return fail(message);
    });
  }
  const t = target.ev;
  const cache = new Map<string, Re2Matcher | string>();
  return present((bag) => {
    const p = t(bag) as string;
    const str = s(bag) as string;
    let re = cache.get(p);
    if (re === undefined) {
      const compiled = compileRe2(p);
      re = compiled.ok ? compiled.regexp : compiled.message;
      if (cache.size >= REGEX_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(p, re);
    }
    if (typeof re === 'string') return fail(re);
    return re.test(str);
  });
}
