/** Metric and label naming exactly as Mixer's prometheus adapter and client_golang do it. */

/** Mixer's namespace when a metric does not set one. */
export const DEFAULT_NAMESPACE = 'istio';

/**
 * Mixer's `safeName`: drop one leading `/`, turn `/`, `.` and space into `_`, and delete `-`
 * (so `destination-app` becomes `destinationapp`, not `destination_app`).
 */
export function safeName(name: string): string {
  const s = name.startsWith('/') ? name.slice(1) : name;
  let out = '';
  for (const c of s) {
    if (c === '/' || c === '.' || c === ' ') out += '_';
    else if (c !== '-') out += c;
  }
  return out;
}

/** client_golang `BuildFQName` over (namespace, name): empty parts are skipped, `_` joins. */
export function buildFqName(namespace: string, name: string): string {
  if (name === '') return '';
  return namespace === '' ? name : `${namespace}_${name}`;
}

/** The namespace part Mixer uses: `istio` when unset, else `safeName(namespace)`. */
export function metricNamespace(namespace: string): string {
  return namespace.length > 0 ? safeName(namespace) : DEFAULT_NAMESPACE;
}

/** Mixer names a metric after its instance when `name` is empty. */
export function unsanitisedMetricName(name: string, instanceName: string): string {
  return name.length > 0 ? name : instanceName;
}

/** The exposed family name, e.g. `istio_requests_total`. */
export function fullMetricName(namespace: string, name: string, instanceName: string): string {
  return buildFqName(metricNamespace(namespace), safeName(unsanitisedMetricName(name, instanceName)));
}

/** HELP text: the description, or else the unsanitised metric name. */
export function helpText(description: string, name: string, instanceName: string): string {
  return description.length > 0 ? description : unsanitisedMetricName(name, instanceName);
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus' (legacy) metric-name rule, which client_golang enforces at registration. */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** Prometheus' label-name rule; names starting with `__` are reserved for Prometheus itself. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && !name.startsWith('__');
}
