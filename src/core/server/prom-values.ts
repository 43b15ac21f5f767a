import type { MetricObjectWithValues, MetricValueWithName } from 'prom-client';

/**
 * What prom-client's registry renders for a metric whose values Telemux counts itself and hands
 * over at scrape time (see DispatchTally, RequestCounts).
 */
export type RenderedMetric = MetricObjectWithValues<MetricValueWithName<string>>;

/**
 * The metric object the registry renders. prom-client types `type` as a numeric enum it does not
 * export; at run time its own metrics report the type's name, as these do.
 */
export function renderedMetric(name: string, help: string, type: 'counter' | 'histogram', values: MetricValueWithName<string>[]): RenderedMetric {
  return { name, help, type, values, aggregator: 'sum' } as unknown as RenderedMetric;
}

/**
 * Appends one label set's histogram lines to `out`: a `_bucket` per bound (counts cumulative,
 * `le` first as prom-client writes it), `+Inf`, `_sum` and `_count`.
 */
export function pushHistogramValues(
  out: MetricValueWithName<string>[],
  name: string,
  bounds: readonly number[],
  cumulative: ArrayLike<number>,
  count: number,
  sum: number,
  labels: Readonly<Record<string, string>> = {},
): void {
  for (let b = 0; b < bounds.length; b++) out.push({ metricName: `${name}_bucket`, labels: { le: bounds[b]!, ...labels }, value: cumulative[b]! });
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels }, value: count });
  out.push({ metricName: `${name}_sum`, labels: { ...labels }, value: sum });
  out.push({ metricName: `${name}_count`, labels: { ...labels }, value: count });
}
