import http2 from 'node:http2';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from '../../../../src/core/server/h2/hpack-huffman.js';
import { decodeInteger, encodeHeaderBlock, encodeInteger, HpackDecoder, HpackError } from '../../../../src/core/server/h2/hpack.js';
import { seededRandom } from '../../../support/seeded-random.js';

type Field = [string, string];

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function pairs(flat: readonly string[]): Field[] {
  const out: Field[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function decodeBlock(decoder: HpackDecoder, block: Buffer, maxListBytes = Infinity): { fields: Field[]; size: number } {
  const out: string[] = [];
  const size = decoder.decode(block, 0, block.length, out, maxListBytes);
  return { fields: pairs(out), size };
}

function expectHpackError(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(HpackError);
  expect((thrown as HpackError).code).toBe('HPACK_DECODE');
}

/** RFC 7541 Appendix B, as (code right-aligned, length in bits) for symbols 0..255 and EOS, read off the RFC's hex and len columns. */
const RFC_HUFFMAN_CODES: readonly (readonly [number, number])[] = [
  [0x1ff8, 13], [0x7fffd8, 23], [0xfffffe2, 28], [0xfffffe3, 28], [0xfffffe4, 28], [0xfffffe5, 28], [0xfffffe6, 28], [0xfffffe7, 28],
  [0xfffffe8, 28], [0xffffea, 24], [0x3ffffffc, 30], [0xfffffe9, 28], [0xfffffea, 28], [0x3ffffffd, 30], [0xfffffeb, 28], [0xfffffec, 28],
  [0xfffffed, 28], [0xfffffee, 28], [0xfffffef, 28], [0xffffff0, 28], [0xffffff1, 28], [0xffffff2, 28], [0x3ffffffe, 30], [0xffffff3, 28],
  [0xffffff4, 28], [0xffffff5, 28], [0xffffff6, 28], [0xffffff7, 28], [0xffffff8, 28], [0xffffff9, 28], [0xffffffa, 28], [0xffffffb, 28],
  [0x14, 6], [0x3f8, 10], [0x3f9, 10], [0xffa, 12], [0x1ff9, 13], [0x15, 6], [0xf8, 8], [0x7fa, 11],
  [0x3fa, 10], [0x3fb, 10], [0xf9, 8], [0x7fb, 11], [0xfa, 8], [0x16, 6], [0x17, 6], [0x18, 6],
  [0x0, 5], [0x1, 5], [0x2, 5], [0x19, 6], [0x1a, 6], [0x1b, 6], [0x1c, 6], [0x1d, 6],
  [0x1e, 6], [0x1f, 6], [0x5c, 7], [0xfb, 8], [0x7ffc, 15], [0x20, 6], [0xffb, 12], [0x3fc, 10],
  [0x1ffa, 13], [0x21, 6], [0x5d, 7], [0x5e, 7], [0x5f, 7], [0x60, 7], [0x61, 7], [0x62, 7],
  [0x63, 7], [0x64, 7], [0x65, 7], [0x66, 7], [0x67, 7], [0x68, 7], [0x69, 7], [0x6a, 7],
  [0x6b, 7], [0x6c, 7], [0x6d, 7], [0x6e, 7], [0x6f, 7], [0x70, 7], [0x71, 7], [0x72, 7],
  [0xfc, 8], [0x73, 7], [0xfd, 8], [0x1ffb, 13], [0x7fff0, 19], [0x1ffc, 13], [0x3ffc, 14], [0x22, 6],
  [0x7ffd, 15], [0x3, 5], [0x23, 6], [0x4, 5], [0x24, 6], [0x5, 5], [0x25, 6], [0x26, 6],
  [0x27, 6], [0x6, 5], [0x74, 7], [0x75, 7], [0x28, 6], [0x29, 6], [0x2a, 6], [0x7, 5],
  [0x2b, 6], [0x76, 7], [0x2c, 6], [0x8, 5], [0x9, 5], [0x2d, 6], [0x77, 7], [0x78, 7],
  [0x79, 7], [0x7a, 7], [0x7b, 7], [0x7ffe, 15], [0x7fc, 11], [0x3ffd, 14], [0x1ffd, 13], [0xffffffc, 28],
  [0xfffe6, 20], [0x3fffd2, 22], [0xfffe7, 20], [0xfffe8, 20], [0x3fffd3, 22], [0x3fffd4, 22], [0x3fffd5, 22], [0x7fffd9, 23],
  [0x3fffd6, 22], [0x7fffda, 23], [0x7fffdb, 23], [0x7fffdc, 23], [0x7fffdd, 23], [0x7fffde, 23], [0xffffeb, 24], [0x7fffdf, 23],
  [0xffffec, 24], [0xffffed, 24], [0x3fffd7, 22], [0x7fffe0, 23], [0xffffee, 24], [0x7fffe1, 23], [0x7fffe2, 23], [0x7fffe3, 23],
  [0x7fffe4, 23], [0x1fffdc, 21], [0x3fffd8, 22], [0x7fffe5, 23], [0x3fffd9, 22], [0x7fffe6, 23], [0x7fffe7, 23], [0xffffef, 24],
  [0x3fffda, 22], [0x1fffdd, 21], [0xfffe9, 20], [0x3fffdb, 22], [0x3fffdc, 22], [0x7fffe8, 23], [0x7fffe9, 23], [0x1fffde, 21],
  [0x7fffea, 23], [0x3fffdd, 22], [0x3fffde, 22], [0xfffff0, 24], [0x1fffdf, 21], [0x3fffdf, 22], [0x7fffeb, 23], [0x7fffec, 23],
  [0x1fffe0, 21], [0x1fffe1, 21], [0x3fffe0, 22], [0x1fffe2, 21], [0x7fffed, 23], [0x3fffe1, 22], [0x7fffee, 23], [0x7fffef, 23],
  [0xfffea, 20], [0x3fffe2, 22], [0x3fffe3, 22], [0x3fffe4, 22], [0x7ffff0, 23], [0x3fffe5, 22], [0x3fffe6, 22], [0x7ffff1, 23],
  [0x3ffffe0, 26], [0x3ffffe1, 26], [0xfffeb, 20], [0x7fff1, 19], [0x3fffe7, 22], [0x7ffff2, 23], [0x3fffe8, 22], [0x1ffffec, 25],
  [0x3ffffe2, 26], [0x3ffffe3, 26], [0x3ffffe4, 26], [0x7ffffde, 27], [0x7ffffdf, 27], [0x3ffffe5, 26], [0xfffff1, 24], [0x1ffffed, 25],
  [0x7fff2, 19], [0x1fffe3, 21], [0x3ffffe6, 26], [0x7ffffe0, 27], [0x7ffffe1, 27], [0x3ffffe7, 26], [0x7ffffe2, 27], [0xfffff2, 24],
  [0x1fffe4, 21], [0x1fffe5, 21], [0x3ffffe8, 26], [0x3ffffe9, 26], [0xffffffd, 28], [0x7ffffe3, 27], [0x7ffffe4, 27], [0x7ffffe5, 27],
  [0xfffec, 20], [0xfffff3, 24], [0xfffed, 20], [0x1fffe6, 21], [0x3fffe9, 22], [0x1fffe7, 21], [0x1fffe8, 21], [0x7ffff3, 23],
  [0x3fffea, 22], [0x3fffeb, 22], [0x1ffffee, 25], [0x1ffffef, 25], [0xfffff4, 24], [0xfffff5, 24], [0x3ffffea, 26], [0x7ffff4, 23],
  [0x3ffffeb, 26], [0x7ffffe6, 27], [0x3ffffec, 26], [0x3ffffed, 26], [0x7ffffe7, 27], [0x7ffffe8, 27], [0x7ffffe9, 27], [0x7ffffea, 27],
  [0x7ffffeb, 27], [0xffffffe, 28], [0x7ffffec, 27], [0x7ffffed, 27], [0x7ffffee, 27], [0x7ffffef, 27], [0x7fffff0, 27], [0x3ffffee, 26],
  [0x3fffffff, 30],
];

describe('HPACK Huffman code (RFC 7541 Appendix B)', () => {
  it('encodes every symbol with the RFC code, padded with 1s, and decodes it back', () => {
    expect(RFC_HUFFMAN_CODES).toHaveLength(257);
    for (let sym = 0; sym < 256; sym++) {
      const [code, len] = RFC_HUFFMAN_CODES[sym]!;
      const octets = Math.ceil(len / 8);
      const pad = octets * 8 - len;
      const expected = Buffer.alloc(octets);
      expected.writeUIntBE(code * 2 ** pad + (2 ** pad - 1), 0, octets);
      const s = String.fromCharCode(sym);
      expect(huffmanEncode(s).toString('hex'), `symbol ${sym}`).toBe(expected.toString('hex'));
      expect(huffmanEncodedLength(s)).toBe(octets);
      expect(huffmanDecode(expected, 0, octets)).toBe(s);
    }
    expect(RFC_HUFFMAN_CODES[256]).toEqual([0x3fffffff, 30]);
  });

  it('decodes the empty string from no octets', () => {
    expect(huffmanDecode(Buffer.alloc(0), 0, 0)).toBe('');
    expect(huffmanEncode('')).toHaveLength(0);
  });

  it('refuses an EOS symbol inside the string', () => {
    expectHpackError(() => huffmanDecode(hex('ffffffff'), 0, 4));
    // 'a' (00011), EOS (30 ones), then padding: EOS first, anything after it.
    expectHpackError(() => huffmanDecode(hex('1fffffff fc'), 0, 5));
  });

  it('refuses padding longer than 7 bits', () => {
    expect(huffmanDecode(hex('1f'), 0, 1)).toBe('a');
    expectHpackError(() => huffmanDecode(hex('1fff'), 0, 2));
    expectHpackError(() => huffmanDecode(hex('ff'), 0, 1));
  });

  it('refuses padding that is not all 1s', () => {
    // 'a' then 000: a prefix of the code of '0', not of EOS.
    expectHpackError(() => huffmanDecode(hex('18'), 0, 1));
    expectHpackError(() => huffmanDecode(hex('1e'), 0, 1));
  });

  it('decodes only the given range', () => {
    const b = Buffer.concat([hex('ff'), huffmanEncode('www.example.com'), hex('00')]);
    expect(huffmanDecode(b, 1, b.length - 1)).toBe('www.example.com');
  });

  it('round-trips all 256 octets, and strings longer than its scratch buffer', () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    const coded = huffmanEncode(all);
    expect(huffmanDecode(coded, 0, coded.length)).toBe(all);
    const long = 'x-request-id: 0123456789abcdef'.repeat(5000);
    const codedLong = huffmanEncode(long);
    expect(huffmanDecode(codedLong, 0, codedLong.length)).toBe(long);
    expect(huffmanDecode(coded, 0, coded.length)).toBe(all);
  });

  it('round-trips arbitrary latin1 strings', () => {
    const latin1 = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 400 }).map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(latin1, (s) => {
        const coded = huffmanEncode(s);
        expect(coded.length).toBe(huffmanEncodedLength(s));
        expect(huffmanDecode(coded, 0, coded.length)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses non-latin1 strings to encode', () => {
    expect(() => huffmanEncode('\u0100')).toThrow(TypeError);
  });
});

describe('HPACK integers (RFC 7541 C.1)', () => {
  it('C.1.1: 10 with a 5-bit prefix', () => {
    expect(encodeInteger(10, 5)).toEqual(hex('0a'));
    expect(decodeInteger(hex('ea'), 0, 1, 5)).toEqual({ value: 10, next: 1 });
  });

  it('C.1.2: 1337 with a 5-bit prefix', () => {
    expect(encodeInteger(1337, 5)).toEqual(hex('1f9a0a'));
    expect(decodeInteger(hex('ff9a0a'), 0, 3, 5)).toEqual({ value: 1337, next: 3 });
  });

  it('C.1.3: 42 at an octet boundary (8-bit prefix)', () => {
    expect(encodeInteger(42, 8)).toEqual(hex('2a'));
    expect(decodeInteger(hex('2a'), 0, 1, 8)).toEqual({ value: 42, next: 1 });
  });

  it('the same integers drive a dynamic table size update (5-bit prefix)', () => {
    const decoder = new HpackDecoder(4096);
    expect(decodeBlock(decoder, hex('2a')).fields).toEqual([]);
    expect(decoder.dynamicTableMaxSize).toBe(10);
    decodeBlock(decoder, hex('3f9a0a'));
    expect(decoder.dynamicTableMaxSize).toBe(1337);
  });

  it('round-trips integers at every prefix width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 1, max: 8 }), (value, prefix) => {
        const b = encodeInteger(value, prefix);
        expect(decodeInteger(b, 0, b.length, prefix)).toEqual({ value, next: b.length });
      }),
    );
  });
});

describe('HPACK header field representations (RFC 7541 C.2)', () => {
  it('C.2.1: literal with indexing', () => {
    const decoder = new HpackDecoder();
    const { fields, size } = decodeBlock(decoder, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    expect(fields).toEqual([['custom-key', 'custom-header']]);
    expect(size).toBe(55);
    expect(decoder.dynamicTableEntries()).toEqual([['custom-key', 'custom-header']]);
    expect(decoder.dynamicTableSize).toBe(55);
  });

  it('C.2.2: literal without indexing', () => {
    const decoder = new HpackDecoder();
    expect(decodeBlock(decoder, hex('040c 2f73 616d 706c 652f 7061 7468')).fields).toEqual([[':path', '/sample/path']]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
    expect(decoder.dynamicTableSize).toBe(0);
  });

  it('C.2.3: literal never indexed', () => {
    const decoder = new HpackDecoder();
    expect(decodeBlock(decoder, hex('1008 7061 7373 776f 7264 0673 6563 7265 74')).fields).toEqual([['password', 'secret']]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
  });

  it('C.2.4: indexed field', () => {
    const decoder = new HpackDecoder();
    expect(decodeBlock(decoder, hex('82')).fields).toEqual([[':method', 'GET']]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
  });
});

interface Step {
  readonly block: string;
  readonly fields: Field[];
  /** Dynamic table after the block, newest first. */
  readonly table: Field[];
  readonly tableSize: number;
}

function runSequence(maxTableBytes: number, steps: readonly Step[]): void {
  const decoder = new HpackDecoder(maxTableBytes);
  for (const step of steps) {
    const { fields, size } = decodeBlock(decoder, hex(step.block));
    expect(fields).toEqual(step.fields);
    expect(size).toBe(step.fields.reduce((sum, [n, v]) => sum + n.length + v.length + 32, 0));
    expect(decoder.dynamicTableEntries()).toEqual(step.table);
    expect(decoder.dynamicTableSize).toBe(step.tableSize);
  }
}

const REQUEST_1: Field[] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQUEST_2: Field[] = [...REQUEST_1, ['cache-control', 'no-cache']];
const REQUEST_3: Field[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];
const REQUEST_TABLES: [Field[], Field[], Field[]] = [
  [[':authority', 'www.example.com']],
  [
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ],
  [
    ['custom-key', 'custom-value'],
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ],
];

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSE_1: Field[] = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', DATE_1],
  ['location', LOCATION],
];
const RESPONSE_2: Field[] = [[':status', '307'], ...RESPONSE_1.slice(1)];
const RESPONSE_3: Field[] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', DATE_2],
  ['location', LOCATION],
  ['content-encoding', 'gzip'],
  ['set-cookie', COOKIE],
];
const RESPONSE_TABLES: [Field[], Field[], Field[]] = [
  [
    ['location', LOCATION],
    ['date', DATE_1],
    ['cache-control', 'private'],
    [':status', '302'],
  ],
  [
    [':status', '307'],
    ['location', LOCATION],
    ['date', DATE_1],
    ['cache-control', 'private'],
  ],
  [
    ['set-cookie', COOKIE],
    ['content-encoding', 'gzip'],
    ['date', DATE_2],
  ],
];

describe('HPACK request and response sequences (RFC 7541 C.3-C.6)', () => {
  it('C.3: requests without Huffman coding', () => {
    runSequence(4096, [
      { block: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', fields: REQUEST_1, table: REQUEST_TABLES[0], tableSize: 57 },
      { block: '8286 84be 5808 6e6f 2d63 6163 6865', fields: REQUEST_2, table: REQUEST_TABLES[1], tableSize: 110 },
      {
        block: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
        fields: REQUEST_3,
        table: REQUEST_TABLES[2],
        tableSize: 164,
      },
    ]);
  });

  it('C.4: requests with Huffman coding', () => {
    runSequence(4096, [
      { block: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', fields: REQUEST_1, table: REQUEST_TABLES[0], tableSize: 57 },
      { block: '8286 84be 5886 a8eb 1064 9cbf', fields: REQUEST_2, table: REQUEST_TABLES[1], tableSize: 110 },
      {
        block: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
        fields: REQUEST_3,
        table: REQUEST_TABLES[2],
        tableSize: 164,
      },
    ]);
  });

  it('C.5: responses without Huffman coding, 256-octet table with evictions', () => {
    runSequence(256, [
      {
        block: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                6c65 2e63 6f6d`,
        fields: RESPONSE_1,
        table: RESPONSE_TABLES[0],
        tableSize: 222,
      },
      { block: '4803 3330 37c1 c0bf', fields: RESPONSE_2, table: RESPONSE_TABLES[1], tableSize: 222 },
      {
        block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
                3d31`,
        fields: RESPONSE_3,
        table: RESPONSE_TABLES[2],
        tableSize: 215,
      },
    ]);
  });

  it('C.6: responses with Huffman coding, 256-octet table with evictions', () => {
    runSequence(256, [
      {
        block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
        fields: RESPONSE_1,
        table: RESPONSE_TABLES[0],
        tableSize: 222,
      },
      { block: '4883 640e ffc1 c0bf', fields: RESPONSE_2, table: RESPONSE_TABLES[1], tableSize: 222 },
      {
        block: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
        fields: RESPONSE_3,
        table: RESPONSE_TABLES[2],
        tableSize: 215,
      },
    ]);
  });
});

describe('HPACK decoder', () => {
  it('reads every static table entry by index', () => {
    const decoder = new HpackDecoder();
    const block = Buffer.from(Array.from({ length: 61 }, (_, i) => 0x80 | (i + 1)));
    const { fields } = decodeBlock(decoder, block);
    expect(fields).toHaveLength(61);
    expect(fields[0]).toEqual([':authority', '']);
    expect(fields[1]).toEqual([':method', 'GET']);
    expect(fields[15]).toEqual(['accept-encoding', 'gzip, deflate']);
    expect(fields[30]).toEqual(['content-type', '']);
    expect(fields[60]).toEqual(['www-authenticate', '']);
    // 62 is the first dynamic index, and the table is empty.
    expectHpackError(() => decodeBlock(decoder, hex('be')));
  });

  it('decodes a block inside a larger buffer, from start to end only', () => {
    const decoder = new HpackDecoder();
    const b = Buffer.concat([hex('ffff'), hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'), hex('ff')]);
    const out: string[] = [];
    decoder.decode(b, 2, b.length - 1, out, Infinity);
    expect(pairs(out)).toEqual(REQUEST_1);
  });

  it('accepts a plain Uint8Array', () => {
    const decoder = new HpackDecoder();
    const out: string[] = [];
    decoder.decode(new Uint8Array(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')), 0, 17, out, Infinity);
    expect(pairs(out)).toEqual(REQUEST_1);
  });

  it('keeps header bytes as latin1, one char per octet', () => {
    const decoder = new HpackDecoder();
    const { fields } = decodeBlock(decoder, hex('0003 782d 6102 c3a9'));
    expect(fields).toEqual([['x-a', '\u00c3\u00a9']]);
  });

  it('stops adding fields to the list past maxListBytes but keeps the table in step', () => {
    const decoder = new HpackDecoder();
    const block = encodeHeaderBlock(
      [
        ['a', '1'],
        ['bb', '22'],
        ['ccc', '333'],
        ['d', '4'],
      ],
      { index: true },
    );
    const { fields, size } = decodeBlock(decoder, block, 70);
    expect(fields).toEqual([
      ['a', '1'],
      ['bb', '22'],
    ]);
    expect(size).toBe(34 + 36 + 38 + 34);
    expect(decoder.dynamicTableEntries()).toEqual([
      ['d', '4'],
      ['ccc', '333'],
      ['bb', '22'],
      ['a', '1'],
    ]);
    // The next block refers to entries the refused one added.
    expect(decodeBlock(decoder, hex('bf c0')).fields).toEqual([
      ['ccc', '333'],
      ['bb', '22'],
    ]);
    expect(decodeBlock(decoder, hex('82'), 0).fields).toEqual([]);
  });

  it('empties the table for an entry larger than the whole table, without error', () => {
    const decoder = new HpackDecoder(64);
    decodeBlock(decoder, encodeHeaderBlock([['a', 'b']], { index: true }));
    expect(decoder.dynamicTableSize).toBe(34);
    const big = 'v'.repeat(40);
    expect(decodeBlock(decoder, encodeHeaderBlock([['x', big]], { index: true })).fields).toEqual([['x', big]]);
    expect(decoder.dynamicTableEntries()).toEqual([]);
    expect(decoder.dynamicTableSize).toBe(0);
  });

  it('applies size updates at the start of a block, evicting down to the new size', () => {
    const decoder = new HpackDecoder(4096);
    decodeBlock(decoder, hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    decodeBlock(decoder, hex('8286 84be 5808 6e6f 2d63 6163 6865'));
    expect(decoder.dynamicTableSize).toBe(110);
    // Down to 60: only the newest entry (53) fits.
    expect(decodeBlock(decoder, hex('3f1d be')).fields).toEqual([['cache-control', 'no-cache']]);
    expect(decoder.dynamicTableEntries()).toEqual([['cache-control', 'no-cache']]);
    expect(decoder.dynamicTableMaxSize).toBe(60);
    // Two updates in a row (0 then 4096) clear the table and restore the limit.
    decodeBlock(decoder, hex('20 3fe11f'));
    expect(decoder.dynamicTableEntries()).toEqual([]);
    expect(decoder.dynamicTableMaxSize).toBe(4096);
  });

  it('wraps its ring buffer through many insertions and evictions', () => {
    const decoder = new HpackDecoder(256);
    const model: Field[] = [];
    let modelSize = 0;
    for (let i = 0; i < 500; i++) {
      const field: Field = [`k${i % 7}`, 'v'.repeat(i % 50)];
      decodeBlock(decoder, encodeHeaderBlock([field], { index: true }));
      model.unshift(field);
      modelSize += field[0].length + field[1].length + 32;
      while (modelSize > 256) {
        const [n, v] = model.pop()!;
        modelSize -= n.length + v.length + 32;
      }
      expect(decoder.dynamicTableEntries()).toEqual(model);
      expect(decoder.dynamicTableSize).toBe(modelSize);
      const oldest = 61 + model.length;
      expect(decodeBlock(decoder, encodeInteger(oldest, 7, 0x80)).fields).toEqual([model[model.length - 1]]);
    }
  });

  describe('refuses malformed blocks with HpackError', () => {
    const cases: [string, string][] = [
      ['indexed field with index 0', '80'],
      ['index past the static table with an empty dynamic table', 'be'],
      ['index far past the end', 'ff80 01'],
      ['literal naming an index past the end', '0f2f 0161'],
      ['literal with indexing naming index past the end', '7f00 0161'],
      ['integer cut off after its prefix', 'ff'],
      ['integer cut off in its continuation', 'ff80'],
      ['integer over 2^31', 'ffff ffff ff0f'],
      ['integer with too many continuation octets', 'ff80 8080 8080 00'],
      ['block ending before a name', '40'],
      ['block ending before a value', '41'],
      ['name shorter than its length', '4005 6162'],
      ['value shorter than its length', '0405 61'],
      ['Huffman value with 8 bits of padding', '0481 ff'],
      ['Huffman value with padding that is not 1s', '0481 18'],
      ['Huffman value containing EOS', '0484 ffff ffff'],
      ['Huffman name with bad padding', '0081 1801 61'],
      ['size update after a field', '82 20'],
      ['size update over the allowed maximum', '3fe2 1f'],
    ];
    it.each(cases)('%s', (_, block) => {
      expectHpackError(() => decodeBlock(new HpackDecoder(4096), hex(block)));
    });

    it('index one past the dynamic table', () => {
      const decoder = new HpackDecoder();
      decodeBlock(decoder, hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
      expect(decodeBlock(decoder, hex('be')).fields).toEqual([[':authority', 'www.example.com']]);
      expectHpackError(() => decodeBlock(decoder, hex('bf')));
    });

    it('size update over a smaller configured maximum', () => {
      decodeBlock(new HpackDecoder(256), hex('3fe1 01'));
      expectHpackError(() => decodeBlock(new HpackDecoder(256), hex('3fe2 01')));
    });
  });
});

describe('HPACK encoder', () => {
  it('matches the RFC examples', () => {
    expect(encodeHeaderBlock([['custom-key', 'custom-header']], { index: true })).toEqual(
      hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'),
    );
    expect(encodeHeaderBlock([[':path', '/sample/path']])).toEqual(hex('040c 2f73 616d 706c 652f 7061 7468'));
    expect(encodeHeaderBlock([[':method', 'GET']])).toEqual(hex('82'));
    expect(encodeHeaderBlock(REQUEST_1, { index: true })).toEqual(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    expect(encodeHeaderBlock(REQUEST_1, { index: true, huffman: true })).toEqual(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'));
    expect(encodeHeaderBlock([['custom-key', 'custom-value']], { index: true, huffman: true })).toEqual(
      hex('4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'),
    );
  });

  it('writes literals without indexing by default, naming the static entry when it can', () => {
    expect(encodeHeaderBlock([['content-type', 'application/grpc']])).toEqual(
      Buffer.concat([hex('0f10 10'), Buffer.from('application/grpc', 'latin1')]),
    );
    expect(encodeHeaderBlock([['grpc-status', '0']])).toEqual(Buffer.concat([hex('000b'), Buffer.from('grpc-status'), hex('0130')]));
  });

  it('uses Huffman only where it is shorter', () => {
    const block = encodeHeaderBlock([['x', '\u00ff\u00fe']], { huffman: true });
    expect(block).toEqual(hex('0001 7802 fffe'));
  });

  it('refuses uppercase names and non-latin1 strings', () => {
    expect(() => encodeHeaderBlock([['Content-Type', 'x']])).toThrow(TypeError);
    expect(() => encodeHeaderBlock([['x', '\u20ac']])).toThrow(TypeError);
  });

  it('round-trips through the decoder', () => {
    const name = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
    const staticName = fc.constantFrom(':path', ':status', 'content-type', 'accept-encoding', 'user-agent', 'te');
    const value = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 120 }).map((codes) => String.fromCharCode(...codes));
    const staticValue = fc.constantFrom('/', '200', 'gzip, deflate', '');
    const field = fc.tuple(fc.oneof(name, staticName), fc.oneof(value, staticValue));
    const options = fc.record({ huffman: fc.boolean(), index: fc.boolean() });
    const decoder = new HpackDecoder(512);
    fc.assert(
      fc.property(fc.array(field, { maxLength: 12 }), options, (fields, opts) => {
        const block = encodeHeaderBlock(fields, opts);
        expect(decodeBlock(decoder, block).fields).toEqual(fields);
      }),
      { numRuns: 1000 },
    );
  });
});


describe('HPACK decoder against nghttp2 (a node:http2 client)', () => {
  const closers: (() => void)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) close();
  });

  it('decodes every request header block a real encoder sends on one connection', async () => {
    const REQUESTS = 200;
    const rnd = seededRandom(7541);
    const int = (n: number): number => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    // Printable ASCII plus the latin1 upper half: node:http2 sends both as single octets.
    const valueChar = (): string => String.fromCharCode(rnd() < 0.9 ? 0x20 + int(95) : 0x80 + int(128));
    const freshValue = (max: number): string => Array.from({ length: int(max + 1) }, valueChar).join('');
    const namePool = ['x-a', 'x-trace-id', 'grpc-timeout', 'user-agent', 'content-type', 'accept-encoding', 'authorization', 'cache-control'];
    const valuePool = ['', 'gzip, deflate', 'application/grpc', 'grpc-node-js/1.14.7', '100m', freshValue(40), freshValue(300)];

    const sent = new Map<string, Field[]>();
    const decoded = new Map<string, Field[]>();
    const decoder = new HpackDecoder(4096);
    let continuations = 0;
    let done!: () => void;
    const allDecoded = new Promise<void>((resolve) => (done = resolve));

    const server = net.createServer((socket) => {
      closers.push(() => socket.destroy());
      let buf = Buffer.alloc(0);
      let prefaceSeen = false;
      let fragments: Buffer[] = [];
      let blockStream = 0;
      const finishBlock = (): void => {
        const out: string[] = [];
        const block = Buffer.concat(fragments);
        decoder.decode(block, 0, block.length, out, Infinity);
        const fields = pairs(out);
        const seq = fields.find(([n]) => n === 'x-seq')?.[1] ?? `stream ${blockStream}`;
        decoded.set(seq, fields);
        fragments = [];
        if (decoded.size === REQUESTS) done();
      };
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (!prefaceSeen) {
          if (buf.length < 24) return;
          expect(buf.subarray(0, 24).toString('latin1')).toBe('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
          buf = buf.subarray(24);
          prefaceSeen = true;
        }
        while (buf.length >= 9) {
          const length = buf.readUIntBE(0, 3);
          if (buf.length < 9 + length) break;
          const type = buf[3]!;
          const flags = buf[4]!;
          const stream = buf.readUInt32BE(5) & 0x7fffffff;
          const payload = buf.subarray(9, 9 + length);
          buf = buf.subarray(9 + length);
          if (type === 0x1) {
            expect(fragments).toHaveLength(0);
            let from = 0;
            let to = payload.length;
            if (flags & 0x8) {
              to -= payload[0]!;
              from = 1;
            }
            if (flags & 0x20) from += 5;
            blockStream = stream;
            fragments.push(payload.subarray(from, to));
            if (flags & 0x4) finishBlock();
          } else if (type === 0x9) {
            expect(stream).toBe(blockStream);
            continuations++;
            fragments.push(payload);
            if (flags & 0x4) finishBlock();
          }
        }
      });
    });
    closers.push(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;

    // No SETTINGS ever come from this server, so lift node's assumed limit of 100 open streams.
    const session = http2.connect(`http://127.0.0.1:${port}`, { peerMaxConcurrentStreams: 1000 });
    closers.push(() => session.destroy());
    session.on('error', () => {});

    for (let i = 0; i < REQUESTS; i++) {
      const headers: Record<string, string> = { ':path': `/svc.Service/M${int(5)}`, 'x-seq': String(i) };
      if (rnd() < 0.3) headers[':method'] = 'POST';
      const count = int(12);
      for (let h = 0; h < count; h++) {
        const name = rnd() < 0.5 ? pick(namePool) : `x-${int(1e6).toString(36)}`;
        headers[name] = rnd() < 0.4 ? pick(valuePool) : freshValue(300);
      }
      // Every 40th request is larger than one 16 KiB frame, so it ends in CONTINUATION frames;
      // its values are too large to share a 4096-octet table, so each one empties it.
      if (i % 40 === 39) for (let h = 0; h < 5; h++) headers[`x-big-${h}`] = 'x'.repeat(3500) + freshValue(500);
      const expected: Field[] = Object.entries(headers);
      if (!(':method' in headers)) expected.push([':method', 'GET']);
      expected.push([':scheme', 'http'], [':authority', `127.0.0.1:${port}`]);
      sent.set(String(i), expected);
      const request = session.request(headers, { endStream: true });
      request.on('error', () => {});
    }

    await allDecoded;
    const sorted = (fields: Field[]): Field[] => [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [seq, fields] of sent) expect(sorted(decoded.get(seq) ?? []), `request ${seq}`).toEqual(sorted(fields));
    expect(continuations).toBeGreaterThan(0);
    expect(decoder.dynamicTableSize).toBeGreaterThan(0);
    expect([...decoded.values()].some((fields) => fields.some(([, v]) => /[\u0080-\u00ff]/.test(v)))).toBe(true);
  });
});
