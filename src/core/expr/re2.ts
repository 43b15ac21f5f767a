/**
 * RE2 (Go `regexp`) patterns for `matches()`: parsed with RE2's grammar and error messages
 * (re2-syntax.ts), compiled to an NFA (re2-program.ts) and run as a lazy DFA (re2-matcher.ts), so
 * that, as in Mixer, matching takes time linear in the subject. Attribute values come from the
 * proxies' traffic; a backtracking engine would let one request header stall the Report path.
 */
import { Re2Matcher } from './re2-matcher.js';
import { compileProgram } from './re2-program.js';
import { Re2Error, parseRe2 } from './re2-syntax.js';

export { Re2Matcher } from './re2-matcher.js';

export type Re2Result = { readonly ok: true; readonly regexp: Re2Matcher } | { readonly ok: false; readonly message: string };

/** Compiles an RE2 pattern. Failures carry Go's `error parsing regexp: …` message. */
export function compileRe2(pattern: string): Re2Result {
  try {
    return { ok: true, regexp: new Re2Matcher(compileProgram(pattern, parseRe2(pattern))) };
  } catch (e) {
    if (e instanceof Re2Error) return { ok: false, message: e.message };
    if (e instanceof SyntaxError) {
      return { ok: false, message: `error parsing regexp: unsupported pattern: \`${pattern}\`` };
    }
    throw e;
  }
}
