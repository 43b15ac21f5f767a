import { TelemuxError } from '../errors.js';

/**
 * An expression failed while evaluating against a bag (a missing attribute outside `|`, a failed
 * conversion such as `ip("x")`). Rule matches treat it as false; instance building treats it as a
 * failed instance (spec §4.4).
 */
export class ExprEvalError extends TelemuxError {
  constructor(message: string) {
    super('EXPR_EVAL', message);
    this.name = 'ExprEvalError';
  }
}
