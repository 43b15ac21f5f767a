/**
 * `compiledAdapter: statsd`: Mixer's StatsD adapter params, aggregated between flushes and sent
 * as packed UDP datagrams. See README.md in this folder.
 */
import { defineAdapter, type AnyAdapter } from '../../core/adapter.js';
import { parseStatsdConfig, type StatsdConfig } from './config.js';
import { StatsdHandler } from './handler.js';

export const statsdAdapter: AnyAdapter = defineAdapter<StatsdConfig>({
  name: 'statsd',
  templates: ['metric'],
  parseConfig: parseStatsdConfig,
  createHandler: (config, instances, env) => new StatsdHandler(config, instances, env),
});

export {
  MAX_PENDING_LINES_LIMIT,
  MAX_SERIES_LIMIT,
  MIN_SAMPLING_RATE,
  parseStatsdAddress,
  parseStatsdConfig,
  STATSD_DEFAULTS,
  STATSD_ILLEGAL_NAME_TEXT,
  STATSD_TEMPLATE_SYNTAX,
  STATSD_TEMPLATE_UNKNOWN_DIMENSION,
  STATSD_UNBOUND_METRIC,
  STATSD_UNCONFIGURED_INSTANCE,
  StatsdMetricType,
  type StatsdAddress,
  type StatsdConfig,
  type StatsdMetricConfig,
} from './config.js';
export {
  DEFAULT_DNS_REFRESH_MS,
  DEFAULT_MAX_DATAGRAMS_IN_FLIGHT,
  STATSD_EVENTS,
  StatsdHandler,
  type StatsdHandlerOptions,
} from './handler.js';
export { MAX_RECYCLED_UNITS, selectUnits, StatsdAggregator, type AggregateSnapshot, type StatKind } from './aggregator.js';
export { encodeSnapshot, encodeUnitsInSteps, type UnitSink } from './encoder.js';
export { encodeCounterLine, encodeGaugeLine, encodeTimingLine, formatSampleRateSuffix, formatStatValue } from './line.js';
export { checkNameTemplate, compileStatName, OVERFLOW_VALUE, overflowStatName, parseNameTemplate } from './name-template.js';
export type { NameTemplatePart, NameTemplateProblem, ParsedNameTemplate, StatNameRenderer } from './name-template.js';
export { DatagramPacker, datagramTexts, MAX_UDP_PAYLOAD, packLines, type PackedDatagrams } from './packer.js';
export { AddressResolver, systemLookup, type LookupFn, type ResolvedAddress } from './resolver.js';
export { sanitizeStatName } from './sanitize.js';
export { SEND_RESULT, sendWindowed, type DatagramSource, type SendOutcome } from './send-window.js';
export { hotShotsTransport, type DatagramTransport, type TransportFactory, type TransportTarget } from './transport.js';
export { connectedUdpTransport } from './udp-transport.js';
