import {
  ValueType,
  type AttributeValue,
  type ExposedFamily,
  type ExpositionFormat,
  type ExpositionSource,
  type Handler,
  type HandlerEnv,
  type HandleResult,
  type InstanceSpec,
  type MetricInstance,
} from '../../core/adapter.js';
import { stringifierFor, type ValueFormatter } from '../../core/format/index.js';
import type { PromConfig } from './config.js';
import { renderFamilyChunks } from './exposition.js';
import { seriesKey } from './label-text.js';
import { valueConverterFor, type ValueConverter } from './prom-value.js';
import { MetricFamily } from './series-store.js';

/** Everything handleMetrics needs for one instance name, resolved when the handler is built. */
interface Binding {
  readonly spec: InstanceSpec;
  readonly family: MetricFamily;
  readonly convert: ValueConverter;
  /** Per label, in label-name order: which dimension of the instance feeds it. */
  readonly dimIndex: readonly number[];
  readonly stringify: readonly ValueFormatter[];
  /** Reused for label values; copied only when a new series is created. */
  readonly scratch: string[];
}

/** At most this many distinct messages are spelled out in a HandleResult. */
const MAX_MESSAGES = 5;

/** Stats events, counted per handler by the core. */
const EVENTS = {
  unknownInstance: 'unknown_instance',
  badValue: 'bad_value',
  negativeCounter: 'negative_counter',
  dimensionMismatch: 'dimension_mismatch',
  expired: 'series_expired',
} as const;

/**
 * The Prometheus handler: an in-memory series store fed by handleMetrics and rendered on
 * scrape through the shared exposition registry. Mixer's process-wide registry is replaced by
 * one store per handler; the core keeps an unchanged handler across reloads, so series survive.
 */
export class PrometheusHandler implements Handler {
  readonly flushIntervalMs: number | undefined;
  private readonly families: readonly MetricFamily[];
  /** By instance name; a string when the instance can never be recorded, saying why. */
  private readonly bindings: ReadonlyMap<string, Binding | string>;
  /** Bindings for InstanceSpec objects other than the one seen at build time. */
  private readonly rebound = new WeakMap<InstanceSpec, Binding | string>();
  private readonly ttlMs: number | undefined;
  private readonly source: ExpositionSource;
  private registered = false;

  constructor(
    config: PromConfig,
    instances: readonly InstanceSpec[],
    private readonly env: HandlerEnv,
  ) {
    const specs = new Map(instances.map((i) => [i.name, i]));
    const families = new Map<string, MetricFamily>();
    const bindings = new Map<string, Binding | string>();
    for (const m of config.metrics) {
      let family = families.get(m.fullName);
      if (family === undefined) {
        // parseConfig guarantees metrics sharing a name have identical definitions.
        family = new MetricFamily(m.fullName, m.help, m.kind, [...m.labels].sort(), m.upperBounds);
        families.set(m.fullName, family);
      }
      const spec = specs.get(m.instanceName);
      if (spec !== undefined) bindings.set(m.instanceName, bindingFor(spec, family));
    }
    this.families = [...families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.bindings = bindings;
    this.ttlMs = config.expiry === undefined ? undefined : config.expiry.ttlNs / 1e6;
    this.flushIntervalMs = config.expiry === undefined ? undefined : Math.max(1, config.expiry.checkIntervalNs / 1e6);
    const exposed = this.families.map((f) => exposedFamily(f));
    this.source = { families: () => exposed.filter((e) => e.family.size > 0) };
  }

  async start(): Promise<void> {
    this.env.exposition.register(this.env.name, this.source);
    this.registered = true;
  }

  handleMetrics(batch: readonly MetricInstance[]): HandleResult | undefined {
    const now = this.ttlMs === undefined ? 0 : this.env.clock.now();
    let errors: Errors | undefined;
    for (const inst of batch) {
      let b = this.bindings.get(inst.spec.name);
      if (b === undefined) {
        errors = addError(errors, EVENTS.unknownInstance, `could not find metric info from adapter config for ${inst.spec.name}`);
        continue;
      }
      if (typeof b === 'string') {
        errors = addError(errors, EVENTS.dimensionMismatch, b);
        continue;
      }
      if (b.spec !== inst.spec) {
        const r = this.rebind(b, inst.spec);
        if (typeof r === 'string') {
          errors = addError(errors, EVENTS.dimensionMismatch, r);
          continue;
        }
        b = r;
      }

      const v = b.convert(inst.value);
      if (typeof v === 'string') {
        errors = addError(errors, EVENTS.badValue, `could not get value for metric ${inst.spec.name}: ${v}`);
        continue;
      }
      const family = b.family;
      if (family.kind === 'COUNTER' && v < 0) {
        // client_golang panics here and Mixer lost the rest of the batch; only this one is dropped.
        errors = addError(
          errors,
          EVENTS.negativeCounter,
          `could not add ${v} to counter ${family.name} for ${inst.spec.name}: counter cannot decrease in value`,
        );
        continue;
      }

      const dims = inst.dimensions;
      const values = b.scratch;
      for (let j = 0; j < values.length; j++) {
        values[j] = (b.stringify[j] as ValueFormatter)(dims[b.dimIndex[j] as number] as AttributeValue);
      }
      const key = seriesKey(values);
      const series = family.get(key) ?? family.create(key, values.slice());
      switch (family.kind) {
        case 'GAUGE':
          series.value = v;
          break;
        case 'COUNTER':
          series.value += v;
          break;
        case 'DISTRIBUTION':
          family.observe(series, v);
          break;
      }
      series.touchedAt = now;
    }
    if (errors === undefined) return undefined;
    for (const [event, n] of errors.byEvent) this.env.stats.count(event, n);
    const more = errors.failed - errors.messages.length;
    const listed = errors.messages.join('; ');
    return {
      failed: errors.failed,
      message: errors.failed === 1 ? listed : `${errors.failed} instances failed: ${listed}${more > 0 ? ` (and ${more} more)` : ''}`,
    };
  }

  /** Evicts series idle for at least the TTL (Mixer's ttlCache removes entries whose deadline <= now). */
  async flush(signal: AbortSignal): Promise<void> {
    if (this.ttlMs === undefined) return;
    const cutoff = this.env.clock.now() - this.ttlMs;
    let removed = 0;
    for (const f of this.families) {
      if (signal.aborted) break;
      removed += f.evictTouchedBefore(cutoff);
    }
    if (removed > 0) {
      this.env.stats.count(EVENTS.expired, removed);
      this.env.logger.debug('expired idle series', { removed, live: this.liveSeries() });
    }
  }

  async close(): Promise<void> {
    if (!this.registered) return;
    this.registered = false;
    this.env.exposition.unregister(this.env.name, this.source);
  }

  liveSeries(): number {
    let n = 0;
    for (const f of this.families) n += f.size;
    return n;
  }

  /**
   * The core may hand over an equivalent InstanceSpec object (say after a reload that kept this
   * handler); bind it by dimension names once and remember the answer.
   */
  private rebind(original: Binding, spec: InstanceSpec): Binding | string {
    let b = this.rebound.get(spec);
    if (b === undefined) {
      b = bindingFor(spec, original.family);
      this.rebound.set(spec, b);
    }
    return b;
  }
}

/** Resolves label order, stringifiers and value conversion for one instance spec. */
function bindingFor(spec: InstanceSpec, family: MetricFamily): Binding | string {
  const names = spec.dimensions.map((d) => d.name).sort();
  if (names.join('\u0000') !== family.labelNames.join('\u0000')) {
    // parseConfig rules this out for the specs it saw; a different spec can still arrive.
    return `dimensions of instance ${spec.name} (${names.join(', ')}) do not match the labels of metric ${family.name} (${family.labelNames.join(', ')})`;
  }
  const dimIndex = family.labelNames.map((l) => spec.dimensions.findIndex((d) => d.name === l));
  return {
    spec,
    family,
    convert: valueConverterFor(spec.valueType),
    dimIndex,
    stringify: dimIndex.map((i) => stringifierFor(spec.dimensions[i]?.type ?? ValueType.VALUE_TYPE_UNSPECIFIED)),
    scratch: new Array<string>(family.labelNames.length).fill(''),
  };
}

interface ExposedPromFamily extends ExposedFamily {
  readonly family: MetricFamily;
}

function exposedFamily(family: MetricFamily): ExposedPromFamily {
  return {
    name: family.name,
    family,
    chunks: (format: ExpositionFormat) => renderFamilyChunks(family, format),
  };
}

interface Errors {
  failed: number;
  readonly messages: string[];
  readonly byEvent: Map<string, number>;
}

function addError(errors: Errors | undefined, event: string, message: string): Errors {
  const e = errors ?? { failed: 0, messages: [], byEvent: new Map<string, number>() };
  e.failed++;
  e.byEvent.set(event, (e.byEvent.get(event) ?? 0) + 1);
  if (e.messages.length < MAX_MESSAGES && !e.messages.includes(message)) e.messages.push(message);
  return e;
}
