/**
 * The names of Mixer's in-process adapters and templates. Both sets name things in two ways: as
 * the `compiledAdapter` / `compiledTemplate` of a handler or instance, and, in 1.0/1.1-era config,
 * as a resource `kind` of their own (spec §5.5).
 */

/** Mixer's in-process adapters, Telemux's three among them. */
export const MIXER_ADAPTERS: ReadonlySet<string> = new Set([
  'prometheus', 'statsd', 'circonus', 'stdio', 'kubernetesenv', 'denier', 'memquota', 'listchecker', 'noop', 'fluentd',
  'stackdriver', 'opa', 'rbac', 'redisquota', 'solarwinds', 'signalfx', 'cloudwatch', 'dogstatsd', 'zipkin', 'bypass',
]);

/** Mixer's templates; Telemux implements `metric`. */
export const MIXER_TEMPLATES: ReadonlySet<string> = new Set([
  'metric', 'logentry', 'tracespan', 'kubernetes', 'quota', 'listentry', 'checknothing', 'reportnothing',
  'authorization', 'apikey', 'edge',
]);

/** The template Telemux implements. */
export const METRIC_TEMPLATE = 'metric';
