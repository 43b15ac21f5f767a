import type { InstanceSpec, MetricInstance } from '../adapter.js';
import type { AttributeBag } from '../attributes/bag.js';
import type { AttributeValue } from '../attributes/value.js';
import type { CompiledExpression } from '../expr/index.js';

const NO_DIMENSIONS: readonly AttributeValue[] = Object.freeze([]);

/**
 * Builds `metric` instances (spec §6) from a bag with expressions compiled at config load.
 * Every expression is evaluated; the first error aborts the instance (the caller counts it).
 */
export class MetricInstanceBuilder {
  constructor(
    readonly spec: InstanceSpec,
    private readonly value: CompiledExpression | undefined,
    private readonly dimensions: readonly CompiledExpression[],
    private readonly monitoredResourceType: CompiledExpression | undefined,
    private readonly monitoredResourceDimensions: readonly CompiledExpression[],
  ) {}

  build(bag: AttributeBag): MetricInstance {
    const dims = this.dimensions;
    const values: AttributeValue[] = new Array<AttributeValue>(dims.length);
    for (let i = 0; i < dims.length; i++) values[i] = dims[i]!.evaluate(bag);
    const mrd = this.monitoredResourceDimensions;
    let mrdValues = NO_DIMENSIONS;
    if (mrd.length > 0) {
      const out = new Array<AttributeValue>(mrd.length);
      for (let i = 0; i < mrd.length; i++) out[i] = mrd[i]!.evaluate(bag);
      mrdValues = out;
    }
    return {
      spec: this.spec,
      value: this.value === undefined ? null : this.value.evaluate(bag),
      dimensions: values,
      monitoredResourceType: this.monitoredResourceType === undefined ? '' : (this.monitoredResourceType.evaluate(bag) as string),
      monitoredResourceDimensions: mrdValues,
    };
  }
}
