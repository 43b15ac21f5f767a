import { status } from '@grpc/grpc-js';

/** Why a Report is not accepted, as the gRPC status to answer it with. */
export interface Refusal {
  readonly ok: false;
  readonly code: status;
  readonly message: string;
  /** For self-metrics: `unauthenticated`, `rate_limited`, `series_quota`. */
  readonly reason: RefusalReason;
}

export type RefusalReason = 'unauthenticated' | 'rate_limited' | 'series_quota';

export function refusal(code: status, reason: RefusalReason, message: string): Refusal {
  return { ok: false, code, reason, message };
}
