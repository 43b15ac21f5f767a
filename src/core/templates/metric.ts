import type { InstanceSpec, MetricInstance } from '../adapter.js';
import type { AttributeBag } from '../attributes/bag.js';
import type { AttributeValue } from '../attributes/value.js';
import type { CompiledExpression } from '../expr/index.js';

const NO_DIMENSIONS: readonly AttributeValue[] = Object.freeze([]);

/**
 * Builds `metric` instances (spec §6) from a bag with expressions compiled at config load.
 * Every expression is evaluated; the first error aborts the instance (the caller counts it).
 *
 * Dimensions are evaluated first, through `evaluateDimensions`, so that the dispatcher can
 * evaluate a dimension list once per attribute set and share the resulting array between every
 * instance whose list is written identically (Istio's four HTTP metrics have the same twenty
 * dimensions): `build(bag)` and `buildWith(bag, evaluateDimensions(bag))` are the same thing.
 */
export class MetricInstanceBuilder {
  /**
   * Identical for two builders exactly when their dimension lists are written identically (same
   * names, same expression texts, same order), so either's evaluation serves both.
   */
  readonly dimensionSignature: string;

  constructor(
    readonly spec: InstanceSpec,
    private readonly value: CompiledExpression | undefined,
    private readonly dimensions: readonly CompiledExpression[],
    private readonly monitoredResourceType: CompiledExpression | undefined,
    private readonly monitoredResourceDimensions: readonly CompiledExpression[],
  ) {
    // Names are part of it: a dimension list feeds adapters by position and by name.
    this.dimensionSignature = JSON.stringify([spec.dimensions.map((d) => d.name), dimensions.map((d) => d.text)]);
  }

  build(bag: AttributeBag): MetricInstance {
    return this.buildWith(bag, this.evaluateDimensions(bag));
  }

  /** The dimension values, in the spec's order. Throws the first evaluation error. */
  evaluateDimensions(bag: AttributeBag): readonly AttributeValue[] {
    const dims = this.dimensions;
    const values: AttributeValue[] = new Array<AttributeValue>(dims.length);
    for (let i = 0; i < dims.length; i++) values[i] = dims[i]!.evaluate(bag);
    return values;
  }

  /** The instance, given dimension values this builder's list produced for `bag`. */
  buildWith(bag: AttributeBag, dimensions: readonly AttributeValue[]): MetricInstance {
    const mrd = this.monitoredResourceDimensions;
    let mrdValues = NO_DIMENSIONS;
    if (mrd.length > 0) {
      const out = new Array<AttributeValue>(mrd.length);
      for (let i = 0; i < mrd.length; i++) out[i] = mrd[i]!.evaluate(bag);
      mrdValues = out;
    }
    let value: AttributeValue | null = null;
    let int64Value: bigint | undefined;
    if (this.value !== undefined) {
      value = this.value.evaluate(bag);
      // An INT64 past 2^53 − 1 (a bigint, see int64.ts) becomes the nearest double here: the
      // float sinks (Prometheus, StatsD, Circonus histograms) take sample values as float64, as
      // Mixer's adapters did. The exact value rides along for integer wire types (Circonus `l`
      // and `L`, which Mixer's cgm sent as exact Go integers). Dimensions keep the exact value:
      // their text is a label.
      if (typeof value === 'bigint') {
        int64Value = value;
        value = Number(value);
      }
    }
    return {
      spec: this.spec,
      value,
      int64Value,
      dimensions,
      monitoredResourceType: this.monitoredResourceType === undefined ? '' : (this.monitoredResourceType.evaluate(bag) as string),
      monitoredResourceDimensions: mrdValues,
    };
  }
}
