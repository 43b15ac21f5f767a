/**
 * Runs an RE2 program as a lazily built DFA (RE2's own strategy for match/no-match questions). A DFA
 * state is a set of NFA instructions plus what the previous character was; its transition on each
 * code point is computed once, on first use, then cached, so a match is one array lookup per
 * character for ASCII subjects. Time is linear in the subject for every pattern.
 */
import {
  ASSERT_BEGIN_LINE,
  ASSERT_BEGIN_TEXT,
  ASSERT_END_LINE,
  ASSERT_END_TEXT,
  ASSERT_WORD_BOUNDARY,
  OP_ASSERT,
  OP_CHAR,
  OP_MATCH,
  OP_SPLIT,
  type Re2Program,
} from './re2-program.js';

/** Context bits: what precedes the position (kept in the state) and what follows it (the input). */
const AT_BEGIN = 1;
const AFTER_NEWLINE = 2;
const AFTER_WORD = 4;
const AT_END = 8;
const BEFORE_NEWLINE = 16;
const BEFORE_WORD = 32;

const END_OF_TEXT = -1;
const ASCII = 128;

/**
 * Cached states per pattern, and cached transitions on non-ASCII code points (kept in maps, one
 * entry per state and code point, so a subject full of distinct characters would otherwise grow
 * them without bound). When either is full the cache starts over (RE2 does the same), which bounds
 * memory to a few MB per pattern while keeping matching linear.
 */
const MAX_STATES = 2000;
const MAX_OTHER_TRANSITIONS = 50_000;

class DfaState {
  /** Transitions on ASCII code points, filled on first use. */
  readonly ascii: (DfaState | undefined)[] = new Array<DfaState | undefined>(ASCII).fill(undefined);
  other: Map<number, DfaState> | undefined;
  atEnd: DfaState | undefined;

  constructor(
    /** Sorted instruction indexes to resume from (before following empty transitions). */
    readonly pcs: Int32Array,
    /** AT_BEGIN, AFTER_NEWLINE and AFTER_WORD bits of the position. */
    readonly before: number,
  ) {}
}

/** Sentinels: a match has been found, or none can be found whatever follows. */
const MATCHED = new DfaState(new Int32Array(0), 0);
const DEAD = new DfaState(new Int32Array(0), 0);

function isWordChar(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f;
}

function assertionHolds(code: number, context: number): boolean {
  switch (code) {
    case ASSERT_BEGIN_TEXT:
      return (context & AT_BEGIN) !== 0;
    case ASSERT_END_TEXT:
      return (context & AT_END) !== 0;
    case ASSERT_BEGIN_LINE:
      return (context & (AT_BEGIN | AFTER_NEWLINE)) !== 0;
    case ASSERT_END_LINE:
      return (context & (AT_END | BEFORE_NEWLINE)) !== 0;
    case ASSERT_WORD_BOUNDARY:
      return ((context & AFTER_WORD) !== 0) !== ((context & BEFORE_WORD) !== 0);
    default: // ASSERT_NOT_WORD_BOUNDARY
      return ((context & AFTER_WORD) !== 0) === ((context & BEFORE_WORD) !== 0);
  }
}

/** An RE2 pattern's matcher: `test(s)` is Go's `regexp.MatchString` (a match anywhere in `s`). */
export class Re2Matcher {
  private states = new Map<string, DfaState>();
  private otherTransitions = 0;
  private initial: DfaState;
  /**
   * Whether a match may start after the first character: false for `^abc` (without (?m)), which lets
   * the search stop as soon as the anchored attempt fails.
   */
  private readonly searchOnward: boolean;
  // Scratch space for computing a transition: instruction marks and a work stack.
  private readonly seen: Uint32Array;
  private readonly queued: Uint32Array;
  private mark = 0;
  private readonly stack: Int32Array;
  private readonly found: Int32Array;

  constructor(private readonly program: Re2Program) {
    const size = program.op.length;
    this.seen = new Uint32Array(size);
    this.queued = new Uint32Array(size);
    // Each instruction is expanded once and pushes at most two more.
    this.stack = new Int32Array(3 * size + 1);
    this.found = new Int32Array(size + 1);
    this.searchOnward = this.canStartAfterBeginning();
    this.initial = this.state(Int32Array.of(program.start), AT_BEGIN);
  }

  test(subject: string): boolean {
    let state = this.initial;
    const length = subject.length;
    for (let i = 0; i < length; i++) {
      let cp = subject.charCodeAt(i);
      let next: DfaState | undefined;
      if (cp < ASCII) {
        next = state.ascii[cp];
      } else {
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < length) {
          const low = subject.charCodeAt(i + 1);
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
            i++;
          }
        }
        next = state.other?.get(cp);
      }
      if (next === undefined) next = this.transition(state, cp);
      if (next === MATCHED) return true;
      if (next === DEAD) return false;
      state = next;
    }
    return (state.atEnd ?? this.transition(state, END_OF_TEXT)) === MATCHED;
  }

  /** Computes, caches and returns `state`'s transition on `cp` (or on the end of the text). */
  private transition(state: DfaState, cp: number): DfaState {
    const { op, arg, next: nextPc, predicates } = this.program;
    const after =
      cp === END_OF_TEXT ? AT_END : (cp === 0x0a ? BEFORE_NEWLINE : 0) | (isWordChar(cp) ? BEFORE_WORD : 0);
    const context = state.before | after;
    const mark = this.nextMark();
    const { seen, queued, stack, found } = this;
    let foundCount = 0;
    let matched = false;
    let top = 0;
    for (let k = state.pcs.length - 1; k >= 0; k--) stack[top++] = state.pcs[k]!;
    while (top > 0 && !matched) {
      const pc = stack[--top]!;
      if (seen[pc] === mark) continue;
      seen[pc] = mark;
      switch (op[pc]) {
        case OP_CHAR:
          if (cp !== END_OF_TEXT && predicates[arg[pc]!]!(cp)) {
            const to = nextPc[pc]!;
            if (queued[to] !== mark) {
              queued[to] = mark;
              found[foundCount++] = to;
            }
          }
          break;
        case OP_SPLIT:
          stack[top++] = arg[pc]!;
          stack[top++] = nextPc[pc]!;
          break;
        case OP_ASSERT:
          if (assertionHolds(arg[pc]!, context)) stack[top++] = nextPc[pc]!;
          break;
        case OP_MATCH:
          matched = true;
          break;
      }
    }
    let target: DfaState;
    if (matched) {
      target = MATCHED;
    } else if (cp === END_OF_TEXT) {
      target = DEAD;
    } else {
      const start = this.program.start;
      if (this.searchOnward && queued[start] !== mark) found[foundCount++] = start;
      target =
        foundCount === 0
          ? DEAD
          : this.state(found.slice(0, foundCount).sort(), (cp === 0x0a ? AFTER_NEWLINE : 0) | (isWordChar(cp) ? AFTER_WORD : 0));
    }
    if (cp === END_OF_TEXT) state.atEnd = target;
    else if (cp < ASCII) state.ascii[cp] = target;
    else {
      if (++this.otherTransitions > MAX_OTHER_TRANSITIONS) this.startOver();
      (state.other ??= new Map()).set(cp, target);
    }
    return target;
  }

  private state(pcs: Int32Array, before: number): DfaState {
    const key = `${before}:${pcs.join(',')}`;
    let state = this.states.get(key);
    if (state === undefined) {
      if (this.states.size >= MAX_STATES) this.startOver();
      state = new DfaState(pcs, before);
      this.states.set(key, state);
    }
    return state;
  }

  /**
   * Drops every cached state and transition. A match in progress keeps its current state, whose
   * cached transitions still hold; it only stops being reachable from the new initial state.
   */
  private startOver(): void {
    this.states = new Map();
    this.otherTransitions = 0;
    this.initial = new DfaState(this.initial.pcs, this.initial.before);
    this.states.set(`${this.initial.before}:${this.initial.pcs.join(',')}`, this.initial);
  }

  /**
   * Whether anything can match from the start instruction at a position that is not the beginning
   * of the text, taking every assertion but "beginning of text" as possibly true.
   */
  private canStartAfterBeginning(): boolean {
    const { op, arg, next } = this.program;
    const mark = this.nextMark();
    const work = [this.program.start];
    while (work.length > 0) {
      const pc = work.pop()!;
      if (this.seen[pc] === mark) continue;
      this.seen[pc] = mark;
      switch (op[pc]) {
        case OP_CHAR:
        case OP_MATCH:
          return true;
        case OP_SPLIT:
          work.push(arg[pc]!, next[pc]!);
          break;
        case OP_ASSERT:
          if (arg[pc] !== ASSERT_BEGIN_TEXT) work.push(next[pc]!);
          break;
      }
    }
    return false;
  }

  private nextMark(): number {
    if (this.mark === 0xffffffff) {
      this.seen.fill(0);
      this.queued.fill(0);
      this.mark = 0;
    }
    return ++this.mark;
  }
}
