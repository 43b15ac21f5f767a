/**
 * Raised when serialized or textual histogram data is malformed (truncated records, bad base64,
 * trailing bytes, unparsable bvs entries). Argument mistakes by the caller raise RangeError or
 * TypeError instead, so handlers can tell bad input data from bad code.
 */
export class CircllhistFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CircllhistFormatError';
  }
}
