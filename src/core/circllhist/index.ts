// Public surface of the circllhist module: Circonus log-linear histograms, bit-exact with
// libcircllhist (spec: shared/specs/circllhist-spec.md). Anything not re-exported here is internal
// and may change. Layout: bin.ts (bin model and ordering), pow10.ts, bin-mapping.ts (double and
// int-scale → bin), bin-geometry.ts, bin-text.ts (bvs / C string forms), count.ts (u64 counts),
// bin-store.ts (sorted storage), analytics.ts, serialization.ts, base64.ts, histogram.ts (facade).
export { Circllhist, type DeserializeResult } from './histogram.js';
export type { QuantileType } from './analytics.js';
export {
  type Bin,
  type BinCount,
  NAN_BIN,
  ZERO_BIN,
  compareBins,
  isNanBin,
  isValidBin,
  isZeroBin,
} from './bin.js';
export { doubleToBin, intScaleToBin } from './bin-mapping.js';
export { binLower, binMidpoint, binToDouble, binUpper, binWidth } from './bin-geometry.js';
export { type BvsEntry, binToCString, formatBvs, parseBvs } from './bin-text.js';
export { type CountInput, U64_MAX } from './count.js';
export { decodeBase64, encodeBase64 } from './base64.js';
export { CircllhistFormatError } from './errors.js';
export { POWERS_OF_TEN, powerOfTen } from './pow10.js';
