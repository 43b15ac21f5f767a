import { ValueType } from './value-type.js';

export interface AttributeInfo {
  readonly name: string;
  readonly type: ValueType;
  readonly description: string;
}

/**
 * The attribute vocabulary of one config snapshot: the union of every attributemanifest (a later
 * manifest overrides an earlier one), with each attribute given a dense slot number for AttributeBag.
 */
export class AttributeManifest {
  private readonly slots = new Map<string, number>();
  readonly attributes: readonly AttributeInfo[];

  constructor(attributes: Iterable<AttributeInfo>) {
    const list: AttributeInfo[] = [];
    for (const a of attributes) {
      const existing = this.slots.get(a.name);
      if (existing === undefined) {
        this.slots.set(a.name, list.length);
        list.push(a);
      } else {
        list[existing] = a;
      }
    }
    this.attributes = list;
  }

  get size(): number {
    return this.attributes.length;
  }

  /** Slot of the attribute, or -1 when it is not in the vocabulary. */
  slotOf(name: string): number {
    return this.slots.get(name) ?? -1;
  }

  typeOf(name: string): ValueType | undefined {
    const slot = this.slots.get(name);
    return slot === undefined ? undefined : this.attributes[slot]!.type;
  }

  names(): IterableIterator<string> {
    return this.slots.keys();
  }
}
