/**
 * An RE2 syntax tree compiled to a Thompson NFA: a flat instruction list that re2-matcher.ts runs
 * as a set of states, so a match costs time linear in the subject whatever the pattern (RE2's
 * guarantee, which a backtracking engine such as JS RegExp does not give: `(a+)+$` on a long run of
 * `a` takes exponential time there).
 */
import { Re2Error, type Assertion, type CharSet, type Re2Node } from './re2-syntax.js';

export const OP_CHAR = 0;
/** Follow both `next` and `arg` (the alternative). */
export const OP_SPLIT = 1;
export const OP_ASSERT = 2;
export const OP_MATCH = 3;

export const ASSERT_BEGIN_TEXT = 0;
export const ASSERT_END_TEXT = 1;
export const ASSERT_BEGIN_LINE = 2;
export const ASSERT_END_LINE = 3;
export const ASSERT_WORD_BOUNDARY = 4;
export const ASSERT_NOT_WORD_BOUNDARY = 5;

const ASSERTION_CODES: Readonly<Record<Assertion, number>> = {
  beginText: ASSERT_BEGIN_TEXT,
  endText: ASSERT_END_TEXT,
  beginLine: ASSERT_BEGIN_LINE,
  endLine: ASSERT_END_LINE,
  wordBoundary: ASSERT_WORD_BOUNDARY,
  notWordBoundary: ASSERT_NOT_WORD_BOUNDARY,
};

/**
 * Counted repetition is expanded (`a{3}` is `aaa`). The parser already refuses nested counts past
 * 1000 copies (`(a{1000}){1000}`), as Go does, but a run of large counts still adds up. Go 1.19 and
 * later reject such patterns as "expression too large"; so does Telemux, at a size no hand-written
 * pattern nears, to keep each match step's cost bounded.
 */
export const MAX_INSTRUCTIONS = 1 << 18;

export type CharPredicate = (codePoint: number) => boolean;

export interface Re2Program {
  readonly op: Uint8Array;
  /** CHAR: predicate index; SPLIT: the alternative's pc; ASSERT: the assertion code. */
  readonly arg: Int32Array;
  readonly next: Int32Array;
  readonly start: number;
  readonly predicates: readonly CharPredicate[];
}

class ProgramBuilder {
  readonly op: number[] = [];
  readonly arg: number[] = [];
  readonly next: number[] = [];
  readonly predicates: CharPredicate[] = [];
  private readonly predicateIndex = new Map<string, number>();

  constructor(private readonly pattern: string) {}

  /** Compiles `node` so that it continues at `next`, and returns its first instruction. */
  compile(node: Re2Node, next: number): number {
    switch (node.kind) {
      case 'empty':
        return next;
      case 'char':
        return this.emit(OP_CHAR, this.predicate(node.set), next);
      case 'assert':
        return this.emit(OP_ASSERT, ASSERTION_CODES[node.assertion], next);
      case 'concat': {
        let pc = next;
        for (let i = node.items.length - 1; i >= 0; i--) pc = this.compile(node.items[i]!, pc);
        return pc;
      }
      case 'alternate': {
        let pc = this.compile(node.items[node.items.length - 1]!, next);
        for (let i = node.items.length - 2; i >= 0; i--) pc = this.emit(OP_SPLIT, pc, this.compile(node.items[i]!, next));
        return pc;
      }
      case 'repeat':
        return this.repeat(node.body, node.min, node.max, next);
    }
  }

  private repeat(body: Re2Node, min: number, max: number, next: number): number {
    let pc: number;
    if (max < 0) {
      // The loop: a SPLIT that enters the body (which returns to the SPLIT) or leaves.
      const loop = this.emit(OP_SPLIT, next, -1);
      const bodyStart = this.compile(body, loop);
      this.next[loop] = bodyStart;
      // `x+` enters the body first; `x*` enters at the SPLIT. Further required copies precede it.
      pc = min > 0 ? bodyStart : loop;
      for (let i = 1; i < min; i++) pc = this.compile(body, pc);
      return pc;
    }
    pc = next;
    for (let i = min; i < max; i++) pc = this.emit(OP_SPLIT, next, this.compile(body, pc));
    for (let i = 0; i < min; i++) pc = this.compile(body, pc);
    return pc;
  }

  emit(op: number, arg: number, next: number): number {
    if (this.op.length >= MAX_INSTRUCTIONS) throw new Re2Error('expression too large', this.pattern);
    this.op.push(op);
    this.arg.push(arg);
    this.next.push(next);
    return this.op.length - 1;
  }

  /** One predicate per distinct character set, so `[a-z]{100}` builds one RegExp, not a hundred. */
  private predicate(set: CharSet): number {
    const key = `${set.fold ? 'i' : ''}:${set.source}`;
    let index = this.predicateIndex.get(key);
    if (index === undefined) {
      index = this.predicates.length;
      this.predicates.push(charPredicate(set));
      this.predicateIndex.set(key, index);
    }
    return index;
  }
}

function charPredicate(set: CharSet): CharPredicate {
  const literal = set.codePoint;
  if (literal !== undefined) return (cp) => cp === literal;
  // Anchored so the one-character string must match as a whole; V8 applies Unicode properties and
  // simple case folding. Under `i` the `v` flag folds as RE2's (?i) does, negated properties too:
  // `(?i)\P{Lu}` folds Lu, then negates it, so it matches neither 'A' nor 'a' (with `u` it matches both).
  const re = new RegExp(`^${set.source}$`, set.fold ? 'iv' : 'u');
  return (cp) => re.test(String.fromCodePoint(cp));
}

/** Throws Re2Error ("expression too large") or a SyntaxError from a character set V8 rejects. */
export function compileProgram(pattern: string, root: Re2Node): Re2Program {
  const builder = new ProgramBuilder(pattern);
  const match = builder.emit(OP_MATCH, 0, -1);
  const start = builder.compile(root, match);
  return {
    op: Uint8Array.from(builder.op),
    arg: Int32Array.from(builder.arg),
    next: Int32Array.from(builder.next),
    start,
    predicates: builder.predicates,
  };
}
