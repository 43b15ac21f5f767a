import { status as Status, type Metadata, type ServiceDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { DecodeError } from '../attributes/decode.js';
import { dispatchReport, type DispatchObserver } from '../dispatch/dispatcher.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../log.js';
import type { ActiveConfig, Runtime } from '../runtime/runtime.js';
import { CheckResponse } from '../../gen/istio/mixer/v1/mixer.js';
import type { SelfMetrics } from './self-metrics.js';
import type { Clock } from '../adapter.js';
import { Admission } from '../security/admission.js';
import type { LoadShedder, ReportLimits } from './overload.js';

const identity = (b: Buffer): Buffer => b;
const EMPTY = Buffer.alloc(0);

/**
 * `istio.mixer.v1.Mixer` with raw-bytes (de)serialisers: Report bytes go straight to the
 * config-bound decoder instead of through a protobuf object graph.
 */
export const RAW_MIXER_SERVICE: ServiceDefinition = {
  Check: {
    path: '/istio.mixer.v1.Mixer/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  Report: {
    path: '/istio.mixer.v1.Mixer/Report',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

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
  /** Bounds on one Report's sets, attributes per set and string length. */
  readonly limits?: ReportLimits;
}

export class ReportService {
  private draining = false;
  private readonly errorLog: RateLimitedLog;
  private readonly observer: DispatchObserver;
  private readonly admission: Admission;
  private readonly clock: Clock;

  constructor(private readonly opts: ReportServiceOptions) {
    this.errorLog = new RateLimitedLog(opts.logger, 10_000);
    this.admission = opts.admission ?? new Admission();
    this.clock = opts.clock ?? Date;
    const m = opts.metrics;
    this.observer = {
      buildError: (instance) => m.instanceBuildErrors.inc({ instance }),
      matchError: (rule) => m.matchErrors.inc({ rule }),
      handlerDispatched: (d, instances, seconds, failed) => {
        m.instances.inc({ handler: d.name }, instances);
        m.dispatchDuration.observe({ handler: d.name, adapter: d.adapter, error: failed ? 'true' : 'false' }, seconds);
      },
    };
  }

  /** From now on Reports are refused with UNAVAILABLE (the listener stays up so clients are told). */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  readonly implementation = {
    Check: (_call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>): void => {
      cb(null, CHECK_OK);
    },
    Report: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>): void => {
      this.report(call.request, call.metadata, cb);
    },
  };

  private report(bytes: Buffer, metadata: Metadata, cb: sendUnaryData<Buffer>): void {
    const m = this.opts.metrics;
    if (this.draining) {
      m.reports.inc({ code: 'UNAVAILABLE' });
      cb({ code: Status.UNAVAILABLE, details: 'Telemux is shutting down; Report not accepted' });
      return;
    }
    const active = this.opts.runtime.active;
    if (!active) {
      m.reports.inc({ code: 'UNAVAILABLE' });
      cb({ code: Status.UNAVAILABLE, details: 'no configuration is active yet' });
      return;
    }
    // Overload first: a refusal must be the cheapest answer there is.
    const shed = this.opts.shedder?.admit(bytes.length);
    if (shed) {
      m.reports.inc({ code: 'UNAVAILABLE' });
      cb({ code: shed.code, details: shed.details });
      return;
    }
    try {
      this.admitted(bytes, metadata, active, cb);
    } finally {
      this.opts.shedder?.release(bytes.length);
    }
  }

  private admitted(bytes: Buffer, metadata: Metadata, active: ActiveConfig, cb: sendUnaryData<Buffer>): void {
    const m = this.opts.metrics;
    const violation = this.opts.limits?.check(bytes);
    if (violation) {
      m.reports.inc({ code: Status[violation.grpcCode] });
      m.decodeErrors.inc({ code: violation.code });
      this.errorLog.warn('Report rejected', { code: violation.code, error: violation.message });
      cb({ code: violation.grpcCode, details: violation.details });
      return;
    }
    // Before decoding, so that a refused Report costs next to nothing.
    const now = this.clock.now();
    const admitted = this.admission.admit(metadata, bytes, now);
    if (!admitted.ok) {
      m.reports.inc({ code: Status[admitted.code] });
      cb({ code: admitted.code, details: admitted.message });
      return;
    }
    let bags;
    try {
      bags = active.decoder.decode(bytes).bags;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const code = e.code === 'DECODE_DICTIONARY_VERSION' ? Status.INTERNAL : Status.INVALID_ARGUMENT;
      m.reports.inc({ code: Status[code] });
      m.decodeErrors.inc({ code: e.code });
      this.errorLog.warn('Report rejected', { code: e.code, error: e.message });
      cb({ code, details: `${e.message} [${e.code}]` });
      return;
    }
    // Always written, also without tenants: a sidecar must not be able to claim a tenant.
    for (let i = 0; i < bags.length; i++) bags[i]!.values[active.tenantSlot] = admitted.tenant;
    const outcome = dispatchReport(bags, active.routing, active.namespaces, this.observer, this.admission.seriesCheck(admitted.tenant, now));
    if (outcome.refusal) {
      m.reports.inc({ code: Status[outcome.refusal.code] });
      cb({ code: outcome.refusal.code, details: outcome.refusal.message });
      return;
    }
    m.attributeSets.inc(bags.length);
    if (outcome.errors.length > 0) {
      m.reports.inc({ code: 'UNKNOWN' });
      this.errorLog.warn('Report dispatched with errors', { error: outcome.errors[0] });
      cb({ code: Status.UNKNOWN, details: outcome.errors.join('\n') });
      return;
    }
    m.reports.inc({ code: 'OK' });
    cb(null, EMPTY);
  }
}
