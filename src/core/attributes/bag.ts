import type { AttributeValue } from './value.js';

/**
 * The attributes of one reported action, indexed by manifest slot (see AttributeManifest.slotOf).
 * `undefined` means absent. Compiled expressions read `values[slot]` directly, so a lookup costs an
 * array load instead of a string-keyed map probe.
 */
export class AttributeBag {
  readonly values: (AttributeValue | undefined)[];

  constructor(size: number) {
    this.values = new Array<AttributeValue | undefined>(size).fill(undefined);
  }

  clear(): void {
    this.values.fill(undefined);
  }
}
