import { CircllhistFormatError } from './errors.js';

// Implemented here rather than with Buffer: the module stays runtime-neutral, and Node's decoder
// is lenient (it skips invalid characters and accepts the URL-safe alphabet), which would let a
// corrupt payload decode to something.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d; // '='

const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

// Character code → 6-bit value; −1 invalid, −2 whitespace (skipped, as the reference decoder does).
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
for (const ws of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]) DECODE[ws] = -2;

// Characters are produced into a byte buffer and turned into a string in large chunks: appending
// one or two characters at a time builds rope strings, and keeping thousands of those alive (one
// per series in a flush) made encoding GC-bound and several times slower.
const CHUNK = 8192;

function latin1(codes: Uint8Array): string {
  let out = '';
  for (let k = 0; k < codes.length; k += CHUNK) {
    // apply() takes any array-like, and a typed array avoids a copy into number[].
    out += String.fromCharCode.apply(null, codes.subarray(k, k + CHUNK) as unknown as number[]);
  }
  return out;
}

/** Standard RFC 4648 base64 with `=` padding and no line breaks. */
export function encodeBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = CODES[n >>> 18];
    out[o++] = CODES[(n >>> 12) & 63];
    out[o++] = CODES[(n >>> 6) & 63];
    out[o++] = CODES[n & 63];
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
    out[o++] = CODES[n >>> 18];
    out[o++] = CODES[(n >>> 12) & 63];
    out[o++] = rest === 2 ? CODES[(n >>> 6) & 63] : PAD;
    out[o] = PAD;
  }
  return latin1(out);
}

/**
 * Strict standard base64: ASCII whitespace is ignored (as in the reference decoder); otherwise
 * only the standard alphabet, a length that is a multiple of 4, at most two `=` and only at the
 * very end, and zero bits in the unused tail are accepted. Throws CircllhistFormatError.
 */
export function decodeBase64(text: string): Uint8Array {
  const sextets = new Uint8Array(text.length);
  let n = 0;
  let pads = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1;
    if (v === -2) continue;
    if (c === PAD) {
      pads++;
      continue;
    }
    if (v < 0) throw new CircllhistFormatError(`invalid base64 character at offset ${String(i)}`);
    if (pads > 0) throw new CircllhistFormatError('base64 data after padding');
    sextets[n++] = v;
  }
  if ((n + pads) % 4 !== 0 || pads > 2 || (pads > 0 && n % 4 === 0)) {
    throw new CircllhistFormatError('base64 length or padding is invalid');
  }
  const tail = n % 4;
  if (tail === 1) throw new CircllhistFormatError('base64 length or padding is invalid');
  const out = new Uint8Array(((n - tail) / 4) * 3 + (tail === 0 ? 0 : tail - 1));
  let o = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const v = (sextets[i] << 18) | (sextets[i + 1] << 12) | (sextets[i + 2] << 6) | sextets[i + 3];
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (tail === 2) {
    if ((sextets[i + 1] & 0x0f) !== 0) throw new CircllhistFormatError('base64 has non-zero padding bits');
    out[o] = (sextets[i] << 2) | (sextets[i + 1] >>> 4);
  } else if (tail === 3) {
    if ((sextets[i + 2] & 0x03) !== 0) throw new CircllhistFormatError('base64 has non-zero padding bits');
    const v = (sextets[i] << 18) | (sextets[i + 1] << 12) | (sextets[i + 2] << 6);
    out[o++] = v >>> 16;
    out[o] = (v >>> 8) & 0xff;
  }
  return out;
}
