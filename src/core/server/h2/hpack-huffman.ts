/**
 * The static Huffman code HPACK string literals may be written in (RFC 7541 §5.2, Appendix B).
 *
 * The code is canonical: within one length, codes are consecutive in symbol order, and shorter
 * codes come first. So the 257 code lengths below determine every code, and a short table is one
 * a reviewer can hold against the RFC's `len` column. The codes they generate are checked here at
 * load (the code must be complete, and EOS must come out as 0x3fffffff in 30 bits), and the test
 * suite checks all 256 symbol codes against the RFC's hex column.
 *
 * Decoding is on the hot path (nghttp2, and so grpc-js, Huffman-codes every literal that comes out
 * shorter, which for header values is nearly all of them), so it is a state machine table built
 * here once, read once per input octet, decoding into a reused scratch buffer and making one
 * string at the end.
 */

/** A malformed header block: to the caller a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3). */
export class HpackError extends Error {
  readonly code = 'HPACK_DECODE';

  constructor(message: string) {
    super(message);
    this.name = 'HpackError';
  }
}

const EOS = 256;

const CODE_LENGTHS: readonly number[] = [
  /*   0 */ 13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  /*  16 */ 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  /*  32 */ 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  /*  48 */ 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  /*  64 */ 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  /*  80 */ 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  /*  96 */ 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  /* 112 */ 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  /* 128 */ 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  /* 144 */ 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  /* 160 */ 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  /* 176 */ 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  /* 192 */ 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  /* 208 */ 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  /* 224 */ 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  /* 240 */ 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  /* EOS */ 30,
];

/** Code of each symbol, right-aligned in `LENGTHS[sym]` bits. */
const CODES = new Uint32Array(257);
const LENGTHS = new Uint8Array(CODE_LENGTHS);

{
  const order = Array.from({ length: 257 }, (_, sym) => sym).sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  let code = 0;
  let len = LENGTHS[order[0]!]!;
  for (const sym of order) {
    code *= 2 ** (LENGTHS[sym]! - len);
    len = LENGTHS[sym]!;
    CODES[sym] = code;
    code += 1;
  }
  // A complete prefix code ends exactly at 2^maxLen; anything else means a mistyped length.
  if (code !== 2 ** len || CODES[EOS] !== 0x3fffffff || len !== 30) throw new Error('HPACK Huffman table is inconsistent');
}

/*
 * The decoder is a state machine over input octets. States 0-255 are the code tree's inner nodes
 * (0 is the root, i.e. a symbol boundary); DEAD is entered on EOS and never left, which spares the
 * loop a branch per octet: it is caught with bad padding by one check at the end.
 *
 * Entry `TRANSITIONS[state << 8 | octet]`: next state in bits 0-8, the first symbol the octet
 * completes in bits 9-16, a second in bits 17-24 (codes are at least 5 bits, so never a third), and
 * how many it completes in bits 25-26. 257 × 256 entries (257 KiB) against a nibble table's 16 KiB:
 * one lookup per octet instead of two decodes a typical header value about 1.7× as fast.
 */
const DEAD = 256;
const TRANSITIONS = new Int32Array(257 * 256);
/** States a string may end in: the root, or at most 7 bits into the all-ones (EOS) path. */
const ACCEPTING = new Uint8Array(257);

{
  // Inner nodes of the code tree, numbered in creation order; child < 0 is the leaf ~sym.
  const children: number[] = [0, 0];
  const depth: number[] = [0];
  const allOnes: boolean[] = [true];
  for (let sym = 0; sym < 257; sym++) {
    let node = 0;
    for (let bit = LENGTHS[sym]! - 1; bit >= 0; bit--) {
      const b = Math.floor(CODES[sym]! / 2 ** bit) & 1;
      const slot = node * 2 + b;
      if (bit === 0) {
        children[slot] = ~sym;
      } else {
        if (children[slot] === 0) {
          const id = depth.length;
          children.push(0, 0);
          depth.push(depth[node]! + 1);
          allOnes.push(allOnes[node]! && b === 1);
          children[slot] = id;
        }
        node = children[slot]!;
      }
    }
  }
  if (depth.length !== 256) throw new Error('HPACK Huffman tree has the wrong shape');

  // First per nibble (4 tree steps, at most one symbol: codes are at least 5 bits) ...
  const nibbleNext = new Int16Array(257 * 16).fill(DEAD);
  const nibbleSym = new Int16Array(257 * 16).fill(-1);
  for (let state = 0; state < 256; state++) {
    ACCEPTING[state] = state === 0 || (allOnes[state]! && depth[state]! <= 7) ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      for (let bit = 3; bit >= 0 && node !== DEAD; bit--) {
        const child = children[node * 2 + ((nibble >> bit) & 1)]!;
        if (child >= 0) {
          node = child;
        } else if (~child === EOS) {
          node = DEAD;
        } else {
          nibbleSym[(state << 4) | nibble] = ~child;
          node = 0;
        }
      }
      nibbleNext[(state << 4) | nibble] = node;
    }
  }
  // ... then per octet, as two nibble steps.
  for (let state = 0; state < 257; state++) {
    for (let octet = 0; octet < 256; octet++) {
      const high = (state << 4) | (octet >> 4);
      const low = (nibbleNext[high]! << 4) | (octet & 0xf);
      let entry = nibbleNext[low]!;
      let count = 0;
      const first = nibbleSym[high]!;
      const second = nibbleSym[low]!;
      if (first >= 0) entry |= first << (9 + 8 * count++);
      if (second >= 0) entry |= second << (9 + 8 * count++);
      TRANSITIONS[(state << 8) | octet] = entry | (count << 25);
    }
  }
}

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
/** Node's own one-byte-per-char slice: works on any Uint8Array, and skips `toString`'s encoding dispatch. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: Latin1Slice }).latin1Slice;

let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * Decodes the Huffman-coded octets `src[start..end)` into a latin1 string (one char per octet).
 * Throws {@link HpackError} on an EOS symbol in the string, or padding that is longer than 7 bits
 * or not a prefix of EOS (RFC 7541 §5.2).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  // 5 bits is the shortest code, so n octets decode to at most 8n/5 symbols.
  const most = ((end - start) * 8) / 5;
  if (most > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(Math.ceil(most), scratch.length * 2));
  const out = scratch;
  let n = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const t = TRANSITIONS[(state << 8) | src[i]!]!;
    const count = t >> 25;
    if (count !== 0) {
      out[n++] = t >> 9;
      if (count === 2) out[n++] = t >> 17;
    }
    state = t & 0x1ff;
  }
  if (ACCEPTING[state] === 0) {
    throw new HpackError(state === DEAD ? 'Huffman-coded string contains EOS' : 'Huffman-coded string has invalid padding');
  }
  return latin1Slice.call(out, 0, n);
}

/** Octets `s` (a latin1 string) takes Huffman-coded, padding included. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[octetAt(s, i)]!;
  return Math.ceil(bits / 8);
}

/** `s` (a latin1 string: every char ≤ U+00FF) Huffman-coded and padded with EOS's leading 1s. */
export function huffmanEncode(s: string): Buffer {
  const out = Buffer.allocUnsafe(huffmanEncodedLength(s));
  let at = 0;
  // Up to 7 pending bits plus a 30-bit code: beyond 32-bit int arithmetic, well within a double.
  let acc = 0;
  let pending = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = octetAt(s, i);
    const len = LENGTHS[sym]!;
    acc = acc * 2 ** len + CODES[sym]!;
    pending += len;
    while (pending >= 8) {
      pending -= 8;
      const unit = 2 ** pending;
      const octet = Math.floor(acc / unit);
      out[at++] = octet;
      acc -= octet * unit;
    }
  }
  if (pending > 0) out[at++] = (acc << (8 - pending)) | (0xff >> pending);
  return out;
}

function octetAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c > 0xff) throw new TypeError(`HPACK strings are octets; got U+${c.toString(16).padStart(4, '0')} at ${i}`);
  return c;
}
