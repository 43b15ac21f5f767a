import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DispatchTally, TalliedCounter, TalliedHistogram } from './dispatch-tally.js';
import { MIXER_DURATION_BUCKETS, MixerMetrics } from './mixer-metrics.js';

/**
 * Sampling interval of the event-loop delay monitor. Node records each whole interval between
 * samples, so this is subtracted again; 1 ms keeps short stalls visible and costs a timer tick
 * per millisecond only while the loop is otherwise idle.
 */
const EVENT_LOOP_RESOLUTION_MS = 1;
const EVENT_LOOP_QUANTILES: readonly [string, number][] = [
  ['0.5', 50],
  ['0.99', 99],
  ['0.999', 99.9],
  ['1', 100],
];

/** The part of the load shedder's state exported as `telemux_load`. */
export interface LoadReading {
  readonly admitRatio: number;
  readonly eventLoopUtilization: number;
}

/**
 * Telemux's own metrics, served on the admin port. Kept in prom-client (the hot per-set work is
 * counted in plain numbers and added once per Report, so its cost stays off the per-record path).
 */
export class SelfMetrics {
  readonly registry = new Registry();
  readonly reports: Counter<'code'>;
  readonly attributeSets: Counter;
  /**
   * Handler dispatches, rendered as telemux_instances_total, telemux_dispatch_duration_seconds and
   * Mixer's two mixer_runtime_dispatch* metrics.
   */
  readonly dispatches: DispatchTally;
  readonly instanceBuildErrors: Counter<'instance'>;
  readonly matchErrors: Counter<'rule'>;
  readonly decodeErrors: Counter<'code'>;
  readonly configIssues: Gauge<'severity'>;
  readonly configApplies: Counter<'result'>;
  readonly configInfo: Gauge<'hash'>;
  readonly configLastApplySuccess: Gauge;
  readonly configLastApplyTime: Gauge;
  readonly flushDuration: Histogram<'handler'>;
  readonly flushFailures: Counter<'handler'>;
  readonly handlerEvents: Counter<'handler' | 'event'>;
  readonly liveSeries: Gauge<'handler'>;
  readonly reportsShed: Counter<'reason'>;
  readonly eventLoopDelay: Gauge<'quantile'>;
  readonly admissionRefusals: Counter<'tenant' | 'reason'>;
  readonly tenantSeries: Gauge<'tenant'>;
  readonly securityReloads: Counter<'source' | 'result'>;
  readonly tlsNotAfter: Gauge<'endpoint'>;
  readonly load: Gauge<'signal'>;
  // Counted on the Report path in plain numbers and added to their counters when scraped: a
  // labelled prom-client inc costs more than the rest of a Report's self-monitoring.
  private okReports = 0;
  private acceptedSets = 0;

  /** A Report dispatched: its attribute sets are counted, whatever its answer. */
  setsAccepted(sets: number): void {
    this.acceptedSets += sets;
  }

  /** A Report answered OK. */
  reportAnsweredOk(): void {
    this.okReports++;
  }

  /** The same measurements under Mixer's names, for dashboards built on Mixer (spec §8.5). */
  readonly mixer: MixerMetrics;

  constructor(
    liveSeries: () => Iterable<[string, number]>,
    tenantSeries: () => Iterable<{ readonly tenant: string; readonly series: number }> = () => [],
    load: () => LoadReading | undefined = () => undefined,
  ) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'telemux_' });
    const reports: Counter<'code'> = new Counter({
      name: 'telemux_reports_total',
      help: 'Report RPCs answered, by gRPC status code name.',
      labelNames: ['code'],
      registers: [r],
      collect: () => {
        if (this.okReports === 0) return;
        reports.inc({ code: 'OK' }, this.okReports);
        this.okReports = 0;
      },
    });
    this.reports = reports;
    const attributeSets = new Counter({
      name: 'telemux_attribute_sets_total',
      help: 'Attribute sets (reported requests) accepted.',
      registers: [r],
      collect: () => {
        if (this.acceptedSets === 0) return;
        attributeSets.inc(this.acceptedSets);
        this.acceptedSets = 0;
      },
    });
    this.attributeSets = attributeSets;
    // Mixer's buckets for both duration histograms, so the two read alike.
    this.dispatches = new DispatchTally(MIXER_DURATION_BUCKETS);
    new TalliedCounter(r, this.dispatches, {
      name: 'telemux_instances_total',
      help: 'Metric instances dispatched, by handler.',
      labelNames: ['handler'],
      labelsOf: (c) => ({ handler: c.handler }),
      valueOf: (c) => c.instances,
    });
    new TalliedHistogram(r, this.dispatches, {
      name: 'telemux_dispatch_duration_seconds',
      help: 'Time a handler took to record one Report batch.',
      labelNames: ['handler', 'adapter', 'error'],
      labelsOf: (c) => ({ handler: c.handler, adapter: c.adapter, error: c.failed ? 'true' : 'false' }),
    });
    this.instanceBuildErrors = new Counter({ name: 'telemux_instance_build_errors_total', help: 'Instances that failed to build (expression evaluation errors), by instance.', labelNames: ['instance'], registers: [r] });
    this.matchErrors = new Counter({ name: 'telemux_rule_match_errors_total', help: 'Rule conditions that failed to evaluate (counted as no match), by rule.', labelNames: ['rule'], registers: [r] });
    this.decodeErrors = new Counter({ name: 'telemux_report_rejections_total', help: 'Reports rejected before dispatch, by error code.', labelNames: ['code'], registers: [r] });
    this.configIssues = new Gauge({ name: 'telemux_config_issues', help: 'Issues found in the most recently loaded configuration.', labelNames: ['severity'], registers: [r] });
    this.configApplies = new Counter({ name: 'telemux_config_applies_total', help: 'Configuration loads, by result (applied, rejected).', labelNames: ['result'], registers: [r] });
    this.configInfo = new Gauge({ name: 'telemux_config_info', help: 'The active configuration, by content hash (value is always 1).', labelNames: ['hash'], registers: [r] });
    this.configLastApplySuccess = new Gauge({ name: 'telemux_config_last_apply_success', help: 'Whether the most recent config apply succeeded (1) or was rejected (0); the last good config keeps serving.', registers: [r] });
    this.configLastApplyTime = new Gauge({ name: 'telemux_config_last_apply_timestamp_seconds', help: 'When the most recent config apply was attempted, in seconds since the epoch.', registers: [r] });
    this.flushDuration = new Histogram({ name: 'telemux_handler_flush_duration_seconds', help: 'Handler flush duration.', labelNames: ['handler'], buckets: [...MIXER_DURATION_BUCKETS], registers: [r] });
    this.flushFailures = new Counter({ name: 'telemux_handler_flush_failures_total', help: 'Handler flushes that failed or timed out.', labelNames: ['handler'], registers: [r] });
    this.handlerEvents = new Counter({ name: 'telemux_handler_events_total', help: 'Events reported by handlers (drops, send errors, overflow), by handler and event.', labelNames: ['handler', 'event'], registers: [r] });
    this.reportsShed = new Counter({ name: 'telemux_reports_shed_total', help: 'Reports refused with UNAVAILABLE because the process was overloaded, by reason.', labelNames: ['reason'], registers: [r] });
    // How long work waited for the event loop (a Report's latency floor, and what a long
    // synchronous task such as a big render costs everyone else), since the previous scrape.
    const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    delay.enable();
    this.eventLoopDelay = new Gauge({
      name: 'telemux_event_loop_delay_seconds',
      help: 'Event-loop delay since the previous scrape of this endpoint, by quantile (1 = the longest).',
      labelNames: ['quantile'],
      registers: [r],
      collect() {
        for (const [label, p] of EVENT_LOOP_QUANTILES) {
          const ns = delay.count === 0 ? 0 : p === 100 ? delay.max : delay.percentile(p);
          this.set({ quantile: label }, Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS) / 1e3);
        }
        delay.reset();
      },
    });
    this.liveSeries = new Gauge({
      name: 'telemux_handler_live_series',
      help: 'Series or aggregation keys held in memory, by handler.',
      labelNames: ['handler'],
      registers: [r],
      collect() {
        this.reset();
        for (const [h, n] of liveSeries()) this.set({ handler: h }, n);
      },
    });
    this.admissionRefusals = new Counter({
      name: 'telemux_admission_refusals_total',
      help: 'Reports refused before dispatch for a missing or invalid token, a rate limit or a series quota, by tenant ("" without a valid token) and reason.',
      labelNames: ['tenant', 'reason'],
      registers: [r],
    });
    this.tenantSeries = new Gauge({
      name: 'telemux_tenant_series',
      help: 'Series counted against each tenant\'s maxSeries quota.',
      labelNames: ['tenant'],
      registers: [r],
      collect() {
        this.reset();
        for (const u of tenantSeries()) this.set({ tenant: u.tenant }, u.series);
      },
    });
    this.securityReloads = new Counter({
      name: 'telemux_security_reloads_total',
      help: 'Reloads of changed TLS files (source grpc-tls, http-tls) and of the tenants file (tenants), by result (applied, rejected: the previous ones stay in force).',
      labelNames: ['source', 'result'],
      registers: [r],
    });
    this.load = new Gauge({
      name: 'telemux_load',
      help: 'What the load shedder last measured and decided: admitted_ratio (share of Reports admitted; below 1 while the event loop is busier than its target), event_loop_utilization (0 to 1).',
      labelNames: ['signal'],
      registers: [r],
      collect() {
        const reading = load();
        if (reading === undefined) return;
        this.set({ signal: 'admitted_ratio' }, reading.admitRatio);
        this.set({ signal: 'event_loop_utilization' }, reading.eventLoopUtilization);
      },
    });
    this.tlsNotAfter = new Gauge({
      name: 'telemux_tls_certificate_expiry_timestamp_seconds',
      help: 'When the certificate an endpoint serves expires (notAfter), in seconds since the epoch, by endpoint (grpc, http).',
      labelNames: ['endpoint'],
      registers: [r],
    });
    this.mixer = new MixerMetrics(r, this.dispatches);
  }
}
