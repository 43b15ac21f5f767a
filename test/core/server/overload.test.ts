import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildReport, encodeReport, int, str, type AttributeSet } from '../../../src/client/compressor.js';
import { ValueType } from '../../../src/core/adapter.js';
import {
  LoadShedder,
  OVERLOADED_MESSAGE,
  parseByteSize,
  processLoadSignals,
  REPORT_LIMIT_CODES,
  REPORT_LIMIT_DEFAULTS,
  ReportLimits,
  type LimitViolation,
  type LoadShedderOptions,
  type LoadSignals,
  type ShedReason,
} from '../../../src/core/server/overload.js';
import type { LogFields, Logger } from '../../../src/core/log.js';
import { SelfMetrics } from '../../../src/core/server/self-metrics.js';
import { RecordLimitError, ReportDecoder } from '../../../src/core/attributes/decode.js';
import { istioManifest } from '../../support/vocabulary.js';

const manifest = istioManifest();

/** Signals the test sets by hand, read once per `sample()`. */
function fakeSignals(): LoadSignals & { delayMs: number; utilization: number; rss: number; started: number; stopped: number } {
  const s = {
    delayMs: 0,
    utilization: 0.2,
    eventLoopUtilization: () => s.utilization,
    rss: 100 * 1024 * 1024,
    started: 0,
    stopped: 0,
    eventLoopDelayMs: () => s.delayMs,
    rssBytes: () => s.rss,
    start: () => void s.started++,
    stop: () => void s.stopped++,
  };
  return s;
}

function recordingLogger(): Logger & { lines: { level: string; msg: string; fields?: LogFields }[] } {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const logger = {
    lines,
    debug: (msg: string, fields?: LogFields) => void lines.push({ level: 'debug', msg, fields }),
    info: (msg: string, fields?: LogFields) => void lines.push({ level: 'info', msg, fields }),
    warn: (msg: string, fields?: LogFields) => void lines.push({ level: 'warn', msg, fields }),
    error: (msg: string, fields?: LogFields) => void lines.push({ level: 'error', msg, fields }),
    child: () => logger,
  };
  return logger;
}

function shedder(opts: LoadShedderOptions = {}) {
  const signals = fakeSignals();
  const shed: ShedReason[] = [];
  let now = 0;
  const logger = recordingLogger();
  const s = new LoadShedder({ signals, onShed: (r) => shed.push(r), logger, now: () => now, ...opts });
  return { s, signals, shed, logger, advance: (ms: number) => void (now += ms) };
}

describe('the load shedder', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits every Report and starts no timer when no limit is set', () => {
    const { s, signals } = shedder();
    expect(s.enabled).toBe(false);
    s.start();
    expect(signals.started).toBe(0);
    signals.delayMs = 10_000;
    s.sample();
    for (let i = 0; i < 100; i++) expect(s.admit(1_000_000)).toBeUndefined();
  });

  it('refuses with UNAVAILABLE and Mixer\'s message while the event loop lags, and counts each refusal', () => {
    const { s, signals, shed } = shedder({ maxEventLoopDelayMs: 50 });
    signals.delayMs = 10;
    s.sample();
    expect(s.admit(100)).toBeUndefined();
    s.release(100);
    signals.delayMs = 51;
    s.sample();
    const refusal = s.admit(100);
    expect(refusal).toEqual({ code: Status.UNAVAILABLE, details: 'Server is currently overloaded. Please try again.', reason: 'event_loop_delay' });
    expect(OVERLOADED_MESSAGE).toBe('Server is currently overloaded. Please try again.');
    s.admit(100);
    expect(shed).toEqual(['event_loop_delay', 'event_loop_delay']);
    expect(s.state.shed).toEqual({ event_loop_utilization: 0, event_loop_delay: 2, memory: 0, in_flight: 0 });
    expect(s.state.inFlightReports).toBe(0);
  });

  it('resumes only once the delay has dropped below 80% of the limit, so it does not flap at the edge', () => {
    const { s, signals } = shedder({ maxEventLoopDelayMs: 50 });
    signals.delayMs = 60;
    s.sample();
    expect(s.state.shedding).toBe('event_loop_delay');
    signals.delayMs = 45;
    s.sample();
    expect(s.admit(1)).toBeDefined();
    signals.delayMs = 39;
    s.sample();
    expect(s.state.shedding).toBeUndefined();
    expect(s.admit(1)).toBeUndefined();
  });

  it('admits a shrinking share of Reports, evenly spread, while the event loop is busier than its target, and all again once it is not', () => {
    const { s, signals, shed } = shedder({ maxEventLoopUtilization: 0.9 });
    const admitted = (n: number): number => {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        if (s.admit(1) === undefined) {
          ok++;
          s.release(1);
        }
      }
      return ok;
    };
    signals.utilization = 0.5;
    s.sample();
    expect(admitted(100)).toBe(100);
    signals.utilization = 1;
    s.sample();
    expect(s.state.admitRatio).toBeCloseTo(0.8);
    expect(admitted(100)).toBe(80);
    s.sample();
    s.sample();
    expect(s.state.admitRatio).toBeCloseTo(0.512);
    // Never below 5% on utilization alone.
    for (let i = 0; i < 30; i++) s.sample();
    expect(s.state.admitRatio).toBeCloseTo(0.05);
    expect(admitted(100)).toBe(5);
    expect(shed.every((r) => r === 'event_loop_utilization')).toBe(true);
    // Near the target it holds; clearly below, it grows back a twentieth per sample.
    signals.utilization = 0.85;
    s.sample();
    expect(s.state.admitRatio).toBeCloseTo(0.05);
    signals.utilization = 0.3;
    for (let i = 0; i < 19; i++) s.sample();
    expect(s.state).toMatchObject({ admitRatio: 1, shedding: undefined });
    expect(admitted(50)).toBe(50);
  });

  it('exports what it measured and the share it admits as telemux_load on the self-metrics endpoint', async () => {
    const { s, signals } = shedder({ maxEventLoopUtilization: 0.9 });
    const metrics = new SelfMetrics(() => [], () => [], () => s.state);
    signals.utilization = 1;
    s.sample();
    const text = await metrics.registry.metrics();
    expect(text).toContain('telemux_load{signal="admitted_ratio"} 0.8\n');
    expect(text).toContain('telemux_load{signal="event_loop_utilization"} 1\n');
    // Without a shedder there is nothing to say, rather than a misleading 1.
    expect(await new SelfMetrics(() => []).registry.metrics()).not.toMatch(/^telemux_load\{/m);
  });

  it('takes a window with no delay sample at all as a loop blocked for the whole window', () => {
    const { s, signals } = shedder({ maxEventLoopDelayMs: 50, sampleIntervalMs: 100 });
    signals.delayMs = Number.NaN;
    s.sample();
    expect(s.state).toMatchObject({ shedding: 'event_loop_delay', eventLoopDelayMs: 100 });
  });

  it('refuses while RSS is at 90% of the cap or more, before any delay, and resumes below 72%', () => {
    const MiB = 1024 * 1024;
    const { s, signals } = shedder({ maxRssBytes: 1000 * MiB, maxEventLoopDelayMs: 50 });
    signals.rss = 899 * MiB;
    s.sample();
    expect(s.admit(1)).toBeUndefined();
    s.release(1);
    signals.rss = 900 * MiB;
    signals.delayMs = 500;
    s.sample();
    expect(s.admit(1)?.reason).toBe('memory');
    signals.rss = 800 * MiB;
    signals.delayMs = 0;
    s.sample();
    expect(s.admit(1)?.reason).toBe('memory');
    signals.rss = 719 * MiB;
    s.sample();
    expect(s.admit(1)).toBeUndefined();
  });

  it('bounds Reports and bytes in flight, admitting a lone oversized Report, and frees them on release', () => {
    const { s, shed } = shedder({ maxInFlightReports: 2, maxInFlightBytes: 1000 });
    expect(s.admit(5000)).toBeUndefined();
    expect(s.admit(1)?.reason).toBe('in_flight');
    s.release(5000);
    expect(s.admit(600)).toBeUndefined();
    expect(s.admit(600)?.reason).toBe('in_flight');
    expect(s.admit(400)).toBeUndefined();
    expect(s.admit(0)?.reason).toBe('in_flight');
    s.release(600);
    s.release(400);
    expect(s.state).toMatchObject({ inFlightReports: 0, inFlightBytes: 0 });
    expect(shed).toEqual(['in_flight', 'in_flight', 'in_flight']);
  });

  it('logs entering overload at most once per 10 s, and the recovery', () => {
    const { s, signals, logger, advance } = shedder({ maxEventLoopDelayMs: 50 });
    for (let i = 0; i < 5; i++) {
      signals.delayMs = 80;
      s.sample();
      signals.delayMs = 1;
      s.sample();
      advance(1000);
    }
    const warns = logger.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toBe('overloaded: refusing Reports with UNAVAILABLE until load drops');
    expect(warns[0]?.fields).toMatchObject({ reason: 'event_loop_delay', event_loop_delay_ms: 80, max_event_loop_delay_ms: 50 });
    expect(logger.lines.filter((l) => l.msg === 'load back under the limits; accepting Reports again')).toHaveLength(5);
  });

  it('samples on an unref\'d timer, and stop ends sampling and shedding', () => {
    vi.useFakeTimers();
    const { s, signals } = shedder({ maxEventLoopDelayMs: 50, sampleIntervalMs: 100 });
    s.start();
    s.start();
    expect(signals.started).toBe(1);
    signals.delayMs = 70;
    vi.advanceTimersByTime(99);
    expect(s.admit(1)).toBeUndefined();
    s.release(1);
    vi.advanceTimersByTime(1);
    expect(s.admit(1)?.reason).toBe('event_loop_delay');
    s.stop();
    s.stop();
    expect(signals.stopped).toBe(1);
    expect(s.admit(1)).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('measures a real stall of the event loop', async () => {
    const signals = processLoadSignals(5);
    signals.start();
    try {
      await new Promise((r) => setTimeout(r, 20));
      signals.eventLoopDelayMs();
      const until = performance.now() + 80;
      while (performance.now() < until);
      await new Promise((r) => setTimeout(r, 10));
      // One ~80 ms sample among a few ~0 ms ones.
      expect(signals.eventLoopDelayMs()).toBeGreaterThan(10);
      await new Promise((r) => setTimeout(r, 30));
      expect(signals.eventLoopDelayMs()).toBeLessThan(10);
      expect(signals.rssBytes()).toBeGreaterThan(10 * 1024 * 1024);
    } finally {
      signals.stop();
    }
  });
});

function sets(n: number, extra: (i: number) => AttributeSet = () => ({})): AttributeSet[] {
  return Array.from({ length: n }, (_, i) => ({
    'destination.service.host': str('reviews.default.svc.cluster.local'),
    'response.code': int(200),
    ...extra(i),
  }));
}

describe('the Report limits', () => {
  const limits = new ReportLimits();

  it('default to 1 MiB, 1000 sets, 512 attributes per set and 64 KiB strings', () => {
    expect(REPORT_LIMIT_DEFAULTS).toEqual({ maxMessageBytes: 1048576, maxSetsPerReport: 1000, maxAttributesPerSet: 512, maxStringBytes: 65536 });
    expect(limits.check(encodeReport(buildReport(sets(1000))))).toBeUndefined();
  });

  it('refuse a Report over the message size with RESOURCE_EXHAUSTED, before reading it', () => {
    const v = new ReportLimits({ maxMessageBytes: 100 }).check(new Uint8Array(101));
    expect(v).toMatchObject({ code: REPORT_LIMIT_CODES.tooLarge, grpcCode: Status.RESOURCE_EXHAUSTED, limit: 100, found: 101 });
    expect(v?.details).toBe('Report is 101 bytes; at most 100 are accepted [REPORT_TOO_LARGE]');
  });

  it('refuse too many attribute sets with RESOURCE_EXHAUSTED, saying how many there were', () => {
    const v = limits.check(encodeReport(buildReport(sets(1500))));
    expect(v).toMatchObject({ code: REPORT_LIMIT_CODES.tooManySets, grpcCode: Status.RESOURCE_EXHAUSTED, record: undefined, limit: 1000, found: 1500 });
    expect(v?.message).toBe('Report has 1500 attribute sets; at most 1000 are accepted per Report');
  });

  it('refuse a set with too many attributes with INVALID_ARGUMENT, naming the record, as the decoder reads it', () => {
    const small = new ReportLimits({ maxAttributesPerSet: 10 });
    const wide = sets(5, (i) => (i === 3 ? Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`custom.a${k}`, str('v')])) : {}));
    const v = decodeViolation(small, encodeReport(buildReport(wide)));
    expect(v).toMatchObject({ code: REPORT_LIMIT_CODES.tooManyAttributes, grpcCode: Status.INVALID_ARGUMENT, record: 3, limit: 10, found: 14 });
    expect(v?.details).toBe('attributes[3]: 14 attributes; at most 10 are accepted per attribute set [REPORT_TOO_MANY_ATTRIBUTES]');
    // At the limit exactly, it decodes.
    expect(decodeViolation(new ReportLimits({ maxAttributesPerSet: 14 }), encodeReport(buildReport(wide)))).toBeUndefined();
  });

  it('refuse an overlong word or bytes value, naming where it is', () => {
    const small = new ReportLimits({ maxStringBytes: 1000 });
    const longPath = encodeReport(buildReport(sets(3, (i) => (i === 2 ? { 'request.path': str('/'.repeat(1001)) } : {}))));
    expect(small.check(longPath)).toMatchObject({ code: REPORT_LIMIT_CODES.stringTooLong, grpcCode: Status.INVALID_ARGUMENT, record: undefined, found: 1001 });
    expect(small.check(longPath)?.message).toMatch(/^default_words\[\d+\] is 1001 bytes; at most 1000 are accepted$/);

    const req = buildReport(sets(2));
    (req.attributes[1] as { words: string[] }).words = ['ok', 'x'.repeat(2000)];
    expect(small.check(encodeReport(req))).toBeUndefined();
    expect(decodeViolation(small, encodeReport(req))?.message).toBe('attributes[1]: words[1] is 2000 bytes; at most 1000 are accepted');

    const blob = encodeReport(buildReport(sets(2, (i) => (i === 0 ? { 'source.ip': { type: ValueType.IP_ADDRESS, value: new Uint8Array(1500) } } : {}))));
    expect(decodeViolation(small, blob)?.message).toBe('attributes[0]: a bytes value is 1500 bytes; at most 1000 are accepted');
    // Also for an attribute outside the vocabulary, whose value is otherwise never read.
    const unknown = encodeReport(buildReport(sets(1, () => ({ 'custom.blob': { type: ValueType.IP_ADDRESS, value: new Uint8Array(1001) } }))));
    expect(decodeViolation(small, unknown)?.message).toBe('attributes[0]: a bytes value is 1001 bytes; at most 1000 are accepted');
  });

  it('let bytes they cannot parse through, for the decoder to report precisely', () => {
    expect(limits.check(Uint8Array.of(0x0a, 0xff))).toBeUndefined();
    expect(limits.check(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBeUndefined();
    expect(limits.check(new Uint8Array(0))).toBeUndefined();
  });

  it('count the sets of a Report for the rate limit without decoding it', () => {
    expect(limits.scan(encodeReport(buildReport(sets(37))))).toEqual({ sets: 37, violation: undefined });
    expect(limits.checkSets(1000)).toBeUndefined();
    expect(limits.checkSets(1001)?.code).toBe(REPORT_LIMIT_CODES.tooManySets);
    expect(() => new ReportLimits({ maxSetsPerReport: 0 })).toThrow(RangeError);
  });
});

/** What the Report service answers when the decoder, bounded by `limits`, stops at a set. */
function decodeViolation(limits: ReportLimits, bytes: Uint8Array): LimitViolation | undefined {
  try {
    new ReportDecoder(manifest).decode(bytes, limits);
    return undefined;
  } catch (e) {
    if (e instanceof RecordLimitError) return limits.violationOf(e);
    throw e;
  }
}

describe('byte sizes on the command line', () => {
  it('read plain bytes, SI and binary units, Kubernetes style included', () => {
    expect(parseByteSize('1048576')).toBe(1048576);
    expect(parseByteSize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseByteSize('1Gi')).toBe(1024 ** 3);
    expect(parseByteSize('1.5GB')).toBe(1.5e9);
    expect(parseByteSize('64 KiB')).toBe(65536);
    expect(parseByteSize('lots')).toBeUndefined();
    expect(parseByteSize('0')).toBeUndefined();
    expect(parseByteSize('-5MiB')).toBeUndefined();
  });
});
