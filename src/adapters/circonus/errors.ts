import type { ErrorCode } from '../../core/adapter.js';

/**
 * Stable codes of the Circonus adapter. Config issues carry the `CIRCONUS_` codes below through
 * `ConfigReporter.issue`; runtime failures surface as a {@link CirconusError} with one of them.
 * Operators grep for these, so a published code keeps its meaning.
 */
export const CIRCONUS_CODES = {
  /** params is not a map, or a field has the wrong JSON shape. */
  fieldType: 'CIRCONUS_FIELD_TYPE',
  unknownField: 'CIRCONUS_UNKNOWN_FIELD',
  duplicateField: 'CIRCONUS_DUPLICATE_FIELD',
  submissionUrl: 'CIRCONUS_SUBMISSION_URL',
  submissionInterval: 'CIRCONUS_SUBMISSION_INTERVAL',
  requestTimeout: 'CIRCONUS_REQUEST_TIMEOUT',
  /** ca_file / tls_server_name given where they cannot apply, or a CA file that cannot be used. */
  tls: 'CIRCONUS_TLS',
  /** max_retries, max_series, max_pending_series, max_pending_bytes out of range. */
  limit: 'CIRCONUS_LIMIT',
  metricType: 'CIRCONUS_METRIC_TYPE',
  valueType: 'CIRCONUS_VALUE_TYPE',
  /** A metrics entry whose name is not an instance bound to the handler. */
  unknownInstance: 'CIRCONUS_UNKNOWN_INSTANCE',
  /** An instance bound to the handler without a metrics entry. */
  missingMetric: 'CIRCONUS_MISSING_METRIC',
  duplicateMetric: 'CIRCONUS_DUPLICATE_METRIC',
  unknownDimension: 'CIRCONUS_UNKNOWN_DIMENSION',
  duplicateDimension: 'CIRCONUS_DUPLICATE_DIMENSION',
  /** A dimension name that cannot be a stream-tag category (empty after normalising, too long, too many). */
  tagCategory: 'CIRCONUS_TAG_CATEGORY',
} as const satisfies Record<string, ErrorCode>;

export type CirconusCode = (typeof CIRCONUS_CODES)[keyof typeof CIRCONUS_CODES];

/** A runtime failure of the Circonus adapter (e.g. an unreadable `ca_file` at start). */
export class CirconusError extends Error {
  constructor(
    readonly code: CirconusCode,
    message: string,
  ) {
    super(message);
    this.name = 'CirconusError';
  }
}
