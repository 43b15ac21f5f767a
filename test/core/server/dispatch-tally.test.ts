import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DispatchTally, TalliedCounter, TalliedHistogram, type DispatchTarget } from '../../../src/core/server/dispatch-tally.js';
import { SelfMetrics } from '../../../src/core/server/self-metrics.js';
import { parsePrometheusText, sampleOf } from '../../support/prom-text.js';

const BOUNDS = [0.001, 0.01, 0.1];

function metricsOf(tally: DispatchTally): Registry {
  const r = new Registry();
  new TalliedCounter(r, tally, {
    name: 'instances_total',
    help: 'instances',
    labelNames: ['handler'],
    labelsOf: (c) => ({ handler: c.handler }),
    valueOf: (c) => c.instances,
  });
  new TalliedHistogram(r, tally, {
    name: 'duration_seconds',
    help: 'durations',
    labelNames: ['handler', 'error'],
    labelsOf: (c) => ({ handler: c.mixerHandler, error: c.failed ? 'true' : 'false' }),
  });
  return r;
}

const target = (name: string, mixerName = name, adapter = 'prometheus'): DispatchTarget => ({ name, mixerName, adapter });

describe('DispatchTally', () => {
  it('renders cumulative buckets, sum and count per label set, and instances summed over outcomes', async () => {
    const tally = new DispatchTally(BOUNDS);
    const r = metricsOf(tally);
    const prom = target('prom.handler.ns', 'prom.ns');
    tally.record(prom, 400, 0.0005, false);
    tally.record(prom, 400, 0.001, false); // on a bound: counted in that bucket, as le means
    tally.record(prom, 400, 0.05, false);
    tally.record(prom, 3, 2, true); // past the last bound: only +Inf
    const f = parsePrometheusText(await r.metrics());
    expect(sampleOf(f, 'instances_total', { handler: 'prom.handler.ns' })?.value).toBe('1203');
    const ok = sampleOf(f, 'duration_seconds', { handler: 'prom.ns', error: 'false' });
    expect(ok?.buckets).toEqual({ '0.001': '2', '0.01': '2', '0.1': '3', '+Inf': '3' });
    expect(Number(ok?.sum)).toBeCloseTo(0.0515, 12);
    expect(ok?.count).toBe('3');
    const failed = sampleOf(f, 'duration_seconds', { handler: 'prom.ns', error: 'true' });
    expect(failed?.buckets).toEqual({ '0.001': '0', '0.01': '0', '0.1': '0', '+Inf': '1' });
    expect(failed?.sum).toBe('2');
  });

  it('carries counts on across destinations rebuilt with the same names (a config reload)', async () => {
    const tally = new DispatchTally(BOUNDS);
    const r = metricsOf(tally);
    tally.record(target('a.handler.ns'), 10, 0.0001, false);
    tally.record(target('a.handler.ns'), 5, 0.0001, false);
    tally.record(target('b.handler.ns'), 7, 0.0001, false);
    const f = parsePrometheusText(await r.metrics());
    expect(sampleOf(f, 'instances_total', { handler: 'a.handler.ns' })?.value).toBe('15');
    expect(sampleOf(f, 'instances_total', { handler: 'b.handler.ns' })?.value).toBe('7');
    expect(sampleOf(f, 'duration_seconds', { handler: 'a.handler.ns', error: 'false' })?.count).toBe('2');
  });

  it('adds together cells whose labels coincide', async () => {
    const tally = new DispatchTally(BOUNDS);
    const r = metricsOf(tally);
    // Two handlers that Mixer's naming prints alike land in one series of the Mixer-named histogram.
    tally.record(target('x.handler.ns', 'x.ns'), 1, 0.002, false);
    tally.record(target('x.prometheus.ns', 'x.ns'), 1, 0.02, false);
    const f = parsePrometheusText(await r.metrics());
    expect(sampleOf(f, 'duration_seconds', { handler: 'x.ns', error: 'false' })?.buckets).toEqual({ '0.001': '0', '0.01': '1', '0.1': '2', '+Inf': '2' });
  });

  it('renders only HELP and TYPE before anything is dispatched', async () => {
    const text = await metricsOf(new DispatchTally(BOUNDS)).metrics();
    expect(text).not.toMatch(/^instances_total/m);
    expect(text).not.toMatch(/^duration_seconds/m);
    expect(text).toMatch(/^# TYPE duration_seconds histogram$/m);
  });
});

describe('SelfMetrics counted on the Report path', () => {
  it('renders OK Reports and accepted sets counted in plain numbers, and keeps counting after a scrape', async () => {
    const m = new SelfMetrics(() => []);
    m.reportAnsweredOk();
    m.reportAnsweredOk();
    m.setsAccepted(100);
    m.reports.inc({ code: 'INVALID_ARGUMENT' });
    let f = parsePrometheusText(await m.registry.metrics());
    expect(sampleOf(f, 'telemux_reports_total', { code: 'OK' })?.value).toBe('2');
    expect(sampleOf(f, 'telemux_reports_total', { code: 'INVALID_ARGUMENT' })?.value).toBe('1');
    expect(sampleOf(f, 'telemux_attribute_sets_total')?.value).toBe('100');
    m.reportAnsweredOk();
    m.setsAccepted(50);
    f = parsePrometheusText(await m.registry.metrics());
    expect(sampleOf(f, 'telemux_reports_total', { code: 'OK' })?.value).toBe('3');
    expect(sampleOf(f, 'telemux_attribute_sets_total')?.value).toBe('150');
    f = parsePrometheusText(await m.registry.metrics());
    expect(sampleOf(f, 'telemux_reports_total', { code: 'OK' })?.value).toBe('3');
  });
});
