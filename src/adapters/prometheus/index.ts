export { prometheusAdapter } from './adapter.js';
export { DEF_BUCKETS, exponentialBuckets, linearBuckets, resolveBuckets, type BucketsDefinition } from './buckets.js';
export {
  checkAcrossHandlers,
  MAX_BUCKETS,
  parseConfig,
  PROM_CONFIG_CODES,
  type PromConfig,
  type PromExpiryPolicy,
  type PromMetricConfig,
  type PromMetricKind,
} from './config.js';
export { escapeHelp, renderFamilyBytes, renderFamilyChunks, renderHeader, SERIES_PER_CHUNK } from './exposition.js';
export { escapeLabelValue, renderLabelText, seriesKey } from './label-text.js';
export { PrometheusHandler } from './handler.js';
export { idKey, LabelValues, MetricFamily, Series, type FamilyView } from './series-store.js';
export { fullMetricName, helpText, safeName } from './naming.js';
export { goDurationSeconds, parseGoFloat } from './prom-value.js';
