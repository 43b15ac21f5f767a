/**
 * Go-compatible text formatting shared by adapters: pure functions, no dependencies beyond the
 * core's value types.
 */
export { formatGoDuration } from './go-duration.js';
export { formatGoFloatF, formatGoFloatG, formatGoInt, formatOpenMetricsFloat, formatPromFloat } from './go-float.js';
export { compareGoStrings } from './go-string.js';
export { formatIp } from './ip.js';
export {
  formatGoValue,
  goValueFormatterFor,
  stringifierFor,
  stringifyValue,
  type ValueFormatter,
} from './stringify.js';
export { formatGoTime, formatTimestampLabel } from './timestamp.js';
