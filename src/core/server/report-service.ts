import { status as Status } from '@grpc/grpc-js';
import { DecodeError, RecordLimitError } from '../attributes/decode.js';
import { dispatchReport, type DispatchObserver } from '../dispatch/dispatcher.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../log.js';
import type { ActiveConfig, Runtime } from '../runtime/runtime.js';
import { CheckResponse } from '../../gen/istio/mixer/v1/mixer.js';
import type { SelfMetrics } from './self-metrics.js';
import type { Clock } from '../adapter.js';
import { Admission } from '../security/admission.js';
import type { UnaryCall, UnaryMethod } from './grpc/unary.js';
import { OVERLOADED_MESSAGE, ReportLimits, type LoadShedder } from './overload.js';
import { TurnBudgetQueue } from './turn-budget-queue.js';

const EMPTY = Buffer.alloc(0);

/** The paths of `istio.mixer.v1.Mixer`'s two methods. */
export const MIXER_REPORT_PATH = '/istio.mixer.v1.Mixer/Report';
export const MIXER_CHECK_PATH = '/istio.mixer.v1.Mixer/Check';

/** Mixer's answer to Check with no policy adapters (spec §1.2): OK for 1 minute or 10000 uses. */
const CHECK_OK = Buffer.from(
  CheckResponse.encode({
    precondition: {
      status: { code: 0, message: '', details: [] },
      validDuration: { seconds: 60n, nanos: 0 },
      validUseCount: 10000,
      referencedAttributes: { words: [], attributeMatches: [] },
      routeDirective: undefined,
    },
    quotas: {},
  }).finish(),
);

export interface ReportServiceOptions {
  readonly runtime: Runtime;
  readonly metrics: SelfMetrics;
  readonly logger: Logger;
  /** Authentication, rate limits, series quotas; default: everyone admitted, no tenant. */
  readonly admission?: Admission;
  readonly clock?: Clock;
  /** Refuses Reports with UNAVAILABLE while the process is past its limits. */
  readonly shedder?: LoadShedder;
  /** Bounds on one Report's sets, attributes per set and string length; default: ReportLimits' defaults. */
  readonly limits?: ReportLimits;
  /**
   * Report work one turn of the event loop may do before further Reports wait for the next turn
   * (default 5 ms): a burst that HTTP/2 delivers in one read then cannot hold timers and other
   * sockets for tens of milliseconds.
   */
  readonly turnBudgetMs?: number;
  /** Bytes of Reports that may wait for a later turn; past it they are refused as overload (default 32 MiB). */
  readonly maxQueuedBytes?: number;
}

const DEFAULT_TURN_BUDGET_MS = 5;
const DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024;

export class ReportService {
  private draining = false;
  private readonly errorLog: RateLimitedLog;
  private readonly observer: DispatchObserver;
  private readonly admission: Admission;
  private readonly clock: Clock;
  private readonly limits: ReportLimits;
  private readonly pending: TurnBudgetQueue<UnaryCall>;

  constructor(private readonly opts: ReportServiceOptions) {
    this.pending = new TurnBudgetQueue((call) => this.process(call), {
      budgetMs: opts.turnBudgetMs ?? DEFAULT_TURN_BUDGET_MS,
      maxQueuedBytes: opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    });
    this.errorLog = new RateLimitedLog(opts.logger, 10_000);
    this.admission = opts.admission ?? new Admission();
    this.clock = opts.clock ?? Date;
    this.limits = opts.limits ?? new ReportLimits();
    const m = opts.metrics;
    this.observer = {
      buildError: (instance) => m.instanceBuildErrors.inc({ instance }),
      matchError: (rule) => m.matchErrors.inc({ rule }),
      handlerDispatched: (d, instances, seconds, failed) => m.dispatches.record(d, instances, seconds, failed),
      requests: m.mixer.requests,
    };
  }

  /** From now on Reports are refused with UNAVAILABLE (the listener stays up so clients are told). */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Reports received and waiting for a turn of the event loop. */
  get queuedReports(): number {
    return this.pending.size;
  }

  /** Resolves once every Report received so far has been answered (those waiting for a turn included). */
  settled(): Promise<void> {
    return this.pending.idle();
  }

  /** The Mixer service's methods by path, raw bytes in and out: Report bytes go straight to the config-bound decoder. */
  readonly methods: ReadonlyMap<string, UnaryMethod> = new Map<string, UnaryMethod>([
    [MIXER_CHECK_PATH, (call) => call.ok(CHECK_OK)],
    [MIXER_REPORT_PATH, (call) => this.report(call)],
  ]);

  /**
   * Counts a call the gRPC server refused before its message was whole (its bound on bytes still
   * arriving), with the Report refusals counted here.
   */
  refusedWhileArriving(path: string): void {
    if (path !== MIXER_REPORT_PATH) return;
    this.opts.metrics.reports.inc({ code: Status[Status.UNAVAILABLE] });
    this.opts.metrics.reportsShed.inc({ reason: 'pending_bytes' });
  }

  /** Answers one Report call: now, in a later turn of the event loop, or with a refusal. */
  report(call: UnaryCall): void {
    const refusal = this.enqueue(call);
    if (refusal === undefined) return;
    call.releaseRequest();
    refuse(this.opts.metrics, call, refusal.code, refusal.details);
  }

  /** Queues the call for {@link process}, or says why it is refused. */
  private enqueue(call: UnaryCall): { readonly code: Status; readonly details: string } | undefined {
    const bytes = call.request;
    if (this.draining) return { code: Status.UNAVAILABLE, details: 'Telemux is shutting down; Report not accepted' };
    if (this.opts.runtime.active === undefined) return { code: Status.UNAVAILABLE, details: 'no configuration is active yet' };
    // Overload first: a refusal must be the cheapest answer there is.
    const shed = this.opts.shedder?.admit(bytes.length);
    if (shed) return shed;
    if (!this.pending.offer(call, bytes.length)) {
      this.opts.shedder?.release(bytes.length);
      this.opts.metrics.reportsShed.inc({ reason: 'report_queue' });
      return { code: Status.UNAVAILABLE, details: OVERLOADED_MESSAGE };
    }
    return undefined;
  }

  /** A Report admitted by the shedder, now or in a later turn; never throws. */
  private process(call: UnaryCall): void {
    const bytes = call.request;
    try {
      // Read now, not on arrival: a reload in between may have closed the handlers of the config
      // the Report arrived under. `report` admitted it with a config active, and one is never withdrawn.
      this.admitted(call, this.opts.runtime.active!);
    } catch (e) {
      // A bug, not bad input: answer the caller and keep serving the others.
      this.opts.logger.error('Report failed', { error: (e as Error).stack ?? String(e) });
      refuse(this.opts.metrics, call, Status.INTERNAL, `internal error: ${(e as Error).message}`);
    } finally {
      // Decoding copied out everything the Report's instances keep (strings, IP bytes).
      call.releaseRequest();
      this.opts.shedder?.release(bytes.length);
    }
  }

  private admitted(call: UnaryCall, active: ActiveConfig): void {
    const m = this.opts.metrics;
    const bytes = call.request;
    // The token first: a caller without one is told only that, whatever its Report holds.
    const who = this.admission.identify(call.metadata);
    if (!who.ok) return refuse(m, call, who.code, who.message);
    // One scan of the envelope gives both its limit check and the set count the rate limit needs;
    // the decoder bounds each set as it reads it.
    const { sets, violation } = this.limits.scan(bytes);
    if (violation) {
      m.decodeErrors.inc({ code: violation.code });
      this.errorLog.warn('Report rejected', { code: violation.code, error: violation.message });
      return refuse(m, call, violation.grpcCode, violation.details);
    }
    // Before decoding, so that a refused Report costs next to nothing.
    const now = this.clock.now();
    const admitted = this.admission.charge(who, sets, now);
    if (!admitted.ok) {
      return refuse(m, call, admitted.code, admitted.message);
    }
    let bags;
    try {
      bags = active.decoder.decode(bytes, this.limits).bags;
    } catch (e) {
      if (e instanceof RecordLimitError) {
        const v = this.limits.violationOf(e);
        m.decodeErrors.inc({ code: v.code });
        this.errorLog.warn('Report rejected', { code: v.code, error: v.message });
        return refuse(m, call, v.grpcCode, v.details);
      }
      if (!(e instanceof DecodeError)) throw e;
      m.decodeErrors.inc({ code: e.code });
      this.errorLog.warn('Report rejected', { code: e.code, error: e.message });
      // Mixer's own status, word for word (spec §1.3): clients may match its text.
      if (e.code === 'DECODE_DICTIONARY_VERSION') return refuse(m, call, Status.INTERNAL, e.message);
      return refuse(m, call, Status.INVALID_ARGUMENT, `${e.message} [${e.code}]`);
    }
    // Always written, also without tenants: a sidecar must not be able to claim a tenant.
    for (let i = 0; i < bags.length; i++) bags[i]!.values[active.tenantSlot] = admitted.tenant;
    const outcome = dispatchReport(bags, active.routing, active.namespaces, this.observer, this.admission.seriesCheck(admitted.tenant, now));
    if (outcome.refusal) {
      return refuse(m, call, outcome.refusal.code, outcome.refusal.message);
    }
    m.setsAccepted(bags.length);
    if (outcome.errors.length > 0) {
      this.errorLog.warn('Report dispatched with errors', { error: outcome.errors[0] });
      return refuse(m, call, Status.UNKNOWN, outcome.errors.join('\n'));
    }
    m.reportAnsweredOk();
    call.ok(EMPTY);
  }
}

/** Answers a Report with a non-OK status, counting it under the status's name. */
function refuse(m: SelfMetrics, call: UnaryCall, code: Status, details: string): void {
  m.reports.inc({ code: Status[code] });
  call.fail(code, details);
}
