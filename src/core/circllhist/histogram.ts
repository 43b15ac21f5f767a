import {
  type QuantileType,
  approxMeanOf,
  approxMomentOf,
  approxStddevOf,
  approxSumOf,
  countAboveKey,
  countBelowKey,
  quantilesOf,
  sampleCountOf,
} from './analytics.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { type Bin, type BinCount, assertValidBin, binOfKey, keyOfBin } from './bin.js';
import { keyOfDouble, keyOfIntScale } from './bin-mapping.js';
import { BinStore } from './bin-store.js';
import { bvsEntry, parseBvs } from './bin-text.js';
import { type CountInput, normalizeCount } from './count.js';
import { CircllhistFormatError } from './errors.js';
import { deserializeInto, serializedLength, serializeStore } from './serialization.js';

/** Result of reading a histogram from the front of a byte buffer. */
export interface DeserializeResult {
  readonly histogram: Circllhist;
  readonly bytesRead: number;
}

/**
 * A Circonus log-linear histogram, bit-compatible with libcircllhist (the C reference): same
 * bins, serialization, base64 and text forms, and the same quantile/mean/sum/stddev/threshold
 * results to the last bit.
 *
 * Counts are exact unsigned 64-bit integers that saturate at 2^64−1. Recording into a bin that
 * already exists does not allocate.
 */
export class Circllhist {
  private readonly store: BinStore;

  constructor() {
    this.store = new BinStore();
  }

  /** Reads a whole buffer in the binary format; trailing bytes are an error. */
  static deserialize(bytes: Uint8Array): Circllhist {
    const { histogram, bytesRead } = Circllhist.deserializePrefix(bytes, 0);
    if (bytesRead !== bytes.length) {
      throw new CircllhistFormatError(`${String(bytes.length - bytesRead)} trailing bytes after circllhist data`);
    }
    return histogram;
  }

  /** Reads one histogram starting at `offset` and reports how many bytes it used. */
  static deserializePrefix(bytes: Uint8Array, offset = 0): DeserializeResult {
    const histogram = new Circllhist();
    const bytesRead = deserializeInto(histogram.store, bytes, offset);
    return { histogram, bytesRead };
  }

  /**
   * Reads the base64 form (what cgm ≥ 3.4.4 submits as an `h` metric `_value`). Whitespace is
   * ignored; anything else that is not canonical padded base64 of exactly one histogram throws.
   */
  static fromBase64(text: string): Circllhist {
    const bytes = decodeBase64(text);
    return Circllhist.deserialize(bytes);
  }

  /**
   * Builds a histogram from `H[<float>]=<count>` entries, the way the broker ingests them: each
   * float is binned as if inserted and entries with count 0 are ignored.
   */
  static fromBvs(entries: Iterable<string>): Circllhist {
    const h = new Circllhist();
    for (const text of entries) {
      const { value, count } = parseBvs(text);
      h.insert(value, count);
    }
    return h;
  }

  /** Builds a histogram from explicit bins (e.g. from {@link bins}); repeated bins add up. */
  static fromBins(bins: Iterable<BinCount>): Circllhist {
    const h = new Circllhist();
    for (const b of bins) h.insertBin(b, b.count);
    return h;
  }

  /** A new histogram holding the sum of all inputs. */
  static merged(histograms: Iterable<Circllhist>): Circllhist {
    const h = new Circllhist();
    for (const other of histograms) h.merge(other);
    return h;
  }

  /** Records `value` `count` times (NaN and ±Infinity go to the NaN bin; count 0 is a no-op). */
  insert(value: number, count: CountInput = 1): void {
    // The common integer count skips normalisation so the hot path stays branch-light.
    if (typeof count === 'number' && count >= 1 && count <= Number.MAX_SAFE_INTEGER && Number.isInteger(count)) {
      this.store.add(keyOfDouble(value), count);
      return;
    }
    const c = normalizeCount(count);
    if (c !== 0) this.store.add(keyOfDouble(value), c);
  }

  /**
   * Records the exact value `value · 10^scale` `count` times via integer arithmetic (cgm's
   * `RecordIntScale`; `RecordDuration` is nanoseconds with scale −9). `value` is an int64: pass a
   * bigint beyond ±2^53. The bin is found by truncation, so it can differ from
   * `insert(value * 10 ** scale)` for values within ~1e−13 below a bin edge.
   */
  insertIntScale(value: number | bigint, scale: number, count: CountInput = 1): void {
    const key = keyOfIntScale(value, scale);
    if (typeof count === 'number' && count >= 1 && count <= Number.MAX_SAFE_INTEGER && Number.isInteger(count)) {
      this.store.add(key, count);
      return;
    }
    const c = normalizeCount(count);
    if (c !== 0) this.store.add(key, c);
  }

  /** Adds `count` to an explicit bin; throws RangeError for an invalid bin. */
  insertBin(bin: Bin, count: CountInput = 1): void {
    assertValidBin(bin);
    const c = normalizeCount(count);
    if (c !== 0) this.store.add(keyOfBin(bin.val, bin.exp), c);
  }

  /** Accumulates `other` into this histogram (bin-wise sum, saturating) and returns `this`. */
  merge(other: Circllhist): this {
    this.store.addAll(other.store);
    return this;
  }

  /** Removes every bin; the storage is kept for reuse. */
  clear(): void {
    this.store.clear();
  }

  clone(): Circllhist {
    const h = new Circllhist();
    h.store.addAll(this.store);
    return h;
  }

  /** Number of bins with a non-zero count (the serialized N). */
  get binCount(): number {
    return this.store.size;
  }

  /** True when no sample has been recorded. */
  get isEmpty(): boolean {
    return this.store.size === 0;
  }

  /** Bins in serialization order: NaN bin first, then ascending along the real axis. */
  bins(): BinCount[] {
    const out: BinCount[] = [];
    for (let i = 0; i < this.store.size; i++) {
      const { val, exp } = binOfKey(this.store.keyAt(i));
      out.push({ val, exp, count: this.store.countBigAt(i) });
    }
    return out;
  }

  /** Count held by an exact bin (0n when absent). */
  countOfBin(bin: Bin): bigint {
    assertValidBin(bin);
    const i = this.store.indexOf(keyOfBin(bin.val, bin.exp));
    return i < 0 ? 0n : this.store.countBigAt(i);
  }

  /** Count of the bin that `value` falls in (reference `hist_approx_count_nearby`). */
  countNearby(value: number): bigint {
    const i = this.store.indexOf(keyOfDouble(value));
    return i < 0 ? 0n : this.store.countBigAt(i);
  }

  /** Total samples, NaN bin included (reference `hist_sample_count`), saturating at 2^64−1. */
  sampleCount(): bigint {
    return sampleCountOf(this.store, true);
  }

  /** Total samples outside the NaN bin (what cgm/Go `Count()` reports). */
  nonNanCount(): bigint {
    return sampleCountOf(this.store, false);
  }

  /** Equal bins with equal counts. */
  equals(other: Circllhist): boolean {
    const a = this.store;
    const b = other.store;
    if (a.size !== b.size) return false;
    for (let i = 0; i < a.size; i++) {
      if (a.keyAt(i) !== b.keyAt(i) || a.countAt(i) !== b.countAt(i)) return false;
    }
    return true;
  }

  /** Bytes {@link serialize} returns, without building them. */
  get serializedByteLength(): number {
    return serializedLength(this.store);
  }

  /** Binary form: u16 BE bin count, then (val, exp, width−1, count LE) records. */
  serialize(): Uint8Array {
    return serializeStore(this.store);
  }

  /** Standard padded base64 of {@link serialize}; an empty histogram is `AAA=`. */
  toBase64(): string {
    return encodeBase64(serializeStore(this.store));
  }

  /** cgm DecStrings form, one `H[<edge>]=<count>` per bin, in serialization order. */
  toBvs(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.store.size; i++) out.push(bvsEntry(this.store.keyAt(i), this.store.countAt(i)));
    return out;
  }

  /**
   * Approximate quantiles, ignoring the NaN bin. `qs` must be non-decreasing values in [0, 1]
   * (RangeError otherwise). Each bin's n samples are modelled at l + k/(n+1)·w; type 1 picks the
   * inverse-CDF order statistic, type 7 the floor((N−1)q+1)-th one. All NaN when there are no
   * non-NaN samples.
   */
  quantiles(qs: readonly number[], type: QuantileType = 1): number[] {
    return quantilesOf(this.store, qs, type);
  }

  /** Single-quantile convenience for {@link quantiles}. */
  quantile(q: number, type: QuantileType = 1): number {
    return quantilesOf(this.store, [q], type)[0];
  }

  /** Count-weighted mean of bin midpoints; NaN when there are no non-NaN samples. */
  approxMean(): number {
    return approxMeanOf(this.store);
  }

  /** Σ midpoint·count over non-NaN bins; 0 when empty. */
  approxSum(): number {
    return approxSumOf(this.store);
  }

  /** Population standard deviation over bin midpoints; NaN when there are no non-NaN samples. */
  approxStddev(): number {
    return approxStddevOf(this.store);
  }

  /** Σ m^k·c / N^k over non-NaN bins, as the reference defines it (note N^k, not N). */
  approxMoment(k: number): number {
    return approxMomentOf(this.store, k);
  }

  /** Samples in non-NaN bins at or below the bin of `threshold` (reference `count_below`). */
  countBelowInclusive(threshold: number): bigint {
    return countBelowKey(this.store, keyOfDouble(threshold), true);
  }

  /** Samples in non-NaN bins strictly below the bin of `threshold`. */
  countBelowExclusive(threshold: number): bigint {
    return countBelowKey(this.store, keyOfDouble(threshold), false);
  }

  /**
   * Samples at or above the bin of `threshold` (reference `count_above`). Computed from the total
   * sample count, so NaN-bin samples are always included, as in the reference.
   */
  countAboveInclusive(threshold: number): bigint {
    return countAboveKey(this.store, keyOfDouble(threshold), true);
  }

  /** Samples strictly above the bin of `threshold`; NaN-bin samples included, as in the reference. */
  countAboveExclusive(threshold: number): bigint {
    return countAboveKey(this.store, keyOfDouble(threshold), false);
  }
}
