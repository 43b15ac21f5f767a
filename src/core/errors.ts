/**
 * Stable error codes. Operators grep for them and tests assert them, so a code, once published,
 * keeps its meaning.
 */
export type ErrorCode =
  // config
  | 'CFG_YAML'
  | 'CFG_READ'
  | 'CFG_ENVELOPE'
  | 'CFG_UNKNOWN_KIND'
  | 'CFG_DUPLICATE'
  | 'CFG_FIELD'
  | 'CFG_UNKNOWN_FIELD'
  | 'CFG_VALUE_TYPE'
  | 'CFG_UNKNOWN_ADAPTER'
  | 'CFG_UNKNOWN_TEMPLATE'
  | 'CFG_UNRESOLVED_HANDLER'
  | 'CFG_UNRESOLVED_INSTANCE'
  | 'CFG_INSTANCE_TEMPLATE'
  | 'CFG_MATCH_TYPE'
  | 'CFG_UNSUPPORTED'
  | 'CFG_UNUSED'
  // expressions
  | 'EXPR_SYNTAX'
  | 'EXPR_UNKNOWN_ATTRIBUTE'
  | 'EXPR_UNKNOWN_FUNCTION'
  | 'EXPR_TYPE'
  | 'EXPR_ARITY'
  | 'EXPR_CONSTANT'
  | 'EXPR_EVAL'
  // wire decoding
  | 'DECODE_MALFORMED'
  | 'DECODE_WORD_INDEX'
  | 'DECODE_DICTIONARY_VERSION'
  | 'DECODE_SEMANTICS'
  | 'DECODE_TYPE_MISMATCH'
  | 'DECODE_DUPLICATE_ATTRIBUTE'
  | 'DECODE_RECORD_LIMIT'
  // adapters
  | 'ADAPTER_CONFIG'
  | 'ADAPTER_BUILD'
  | 'ADAPTER_DISPATCH'
  | 'ADAPTER_FLUSH'
  // runtime
  | 'RUNTIME_CLOSED'
  // admin API
  | 'API_UNAUTHORIZED'
  | 'API_BAD_REQUEST'
  | 'API_TOO_LARGE'
  | 'API_METHOD'
  | 'API_UNAVAILABLE'
  // stat view
  | 'STAT_NO_VIEW'
  | 'STAT_BAD_QUERY'
  // security: TLS material and the tenants file
  | 'TLS_READ'
  | 'TLS_INVALID'
  | 'TENANTS_FIELD'
  | 'TENANTS_DUPLICATE'
  | (string & { readonly __adapterCode?: never });

export class TelemuxError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TelemuxError';
  }
}

/** A position in a config source; line and column are 1-based. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One problem found in configuration, formatted as `file:line:col: path: message [CODE]`. */
export interface ConfigIssue {
  readonly severity: 'error' | 'warning';
  readonly at: SourcePosition;
  readonly path: string;
  readonly message: string;
  readonly code: ErrorCode;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = `${issue.at.file}:${issue.at.line}:${issue.at.col}`;
  const level = issue.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${level}${issue.path ? `${issue.path}: ` : ''}${issue.message} [${issue.code}]`;
}

export class ConfigError extends TelemuxError {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues[0]?.code ?? 'CFG_FIELD', issues.map(formatConfigIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

/** A handler of an otherwise valid config failed to build or start; the config is not applied. */
export class HandlerBuildError extends TelemuxError {
  constructor(
    /** FQN of the handler that failed. */
    readonly handler: string,
    message: string,
  ) {
    super('ADAPTER_BUILD', message);
    this.name = 'HandlerBuildError';
  }
}
