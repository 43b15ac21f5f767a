/**
 * Stream-tagged metric names, `<name>|ST[b"<cat>":b"<val>",…]`, as circonus-gometrics builds them
 * (circllhist-spec §8.4), with the broker's limits enforced here so a bad tag cannot make the
 * broker reject or silently truncate the whole metric.
 */
import { compareGoStrings } from '../../core/format/index.js';

/** Longest tag category the broker keeps (NOIT_TAG_MAX_CAT_LEN), in UTF-8 bytes. */
export const MAX_TAG_CATEGORY_BYTES = 254;
/** A plain `cat:val` pair must be shorter than this (NOIT_TAG_MAX_PAIR_LEN), in UTF-8 bytes. */
export const MAX_TAG_PAIR_BYTES = 256;
/** Most tags the broker reads from one name (MAX_TAGS). */
export const MAX_TAGS = 256;
/** Longest metric name, tags included (MAX_METRIC_TAGGED_NAME), in bytes. */
export const MAX_METRIC_NAME_BYTES = 4096;

/** A dimension's stream-tag category, normalised once at config time. */
export interface TagCategory {
  /** Lowercased, whitespace removed: what the tags are sorted and de-duplicated by. */
  readonly plain: string;
  /** `b"<base64 of plain>"`. */
  readonly encoded: string;
  readonly plainBytes: number;
}

/** Go's `unicode.IsSpace`, which cgm uses both to strip categories and to trim values. */
export function isGoSpace(code: number): boolean {
  if (code <= 0xff) return (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0x85 || code === 0xa0;
  return (
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** `strings.TrimSpace`. Every Go space is a single UTF-16 unit, so units can be tested directly. */
export function trimGoSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function removeGoSpace(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) if (!isGoSpace(s.charCodeAt(i))) out += s[i];
  return out;
}

function encodePart(plain: string): string {
  return `b"${Buffer.from(plain, 'utf8').toString('base64')}"`;
}

/** The category cgm derives from a tag name: lowercased, all whitespace removed. */
export function tagCategory(dimensionName: string): TagCategory {
  const plain = removeGoSpace(dimensionName.toLowerCase());
  return { plain, encoded: encodePart(plain), plainBytes: Buffer.byteLength(plain, 'utf8') };
}

/** The longest prefix of `s` that fits `maxBytes` of UTF-8 without splitting a character. */
function truncateUtf8(s: string, maxBytes: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxBytes) return s;
  let end = Math.max(0, maxBytes);
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

export interface StreamTaggedName {
  readonly name: string;
  /** Tag values shortened to keep their `cat:val` pair under the broker's limit. */
  readonly truncatedValues: number;
}

interface Tag {
  readonly plain: string;
  readonly encoded: string;
}

function byPlain(a: Tag, b: Tag): number {
  return compareGoStrings(a.plain, b.plain);
}

/**
 * `base|ST[…]` for one dimension tuple: values trimmed, each tag `cat:val` kept under
 * {@link MAX_TAG_PAIR_BYTES} by shortening the value (cgm dropped the whole tag, which silently
 * folded the series into its untagged sibling), tags sorted by their plain text and
 * de-duplicated, then base64-encoded. Unlike cgm, a value that already looks like `b"…"` is
 * encoded too: values come from requests, so they are data, never pre-encoded tags. No tags at
 * all leave the name bare.
 */
export function streamTaggedName(base: string, categories: readonly TagCategory[], values: readonly string[]): StreamTaggedName {
  if (categories.length === 0) return { name: base, truncatedValues: 0 };
  const tags: Tag[] = [];
  let truncatedValues = 0;
  for (let i = 0; i < categories.length; i++) {
    const cat = categories[i] as TagCategory;
    let v = trimGoSpace(values[i] ?? '');
    const room = MAX_TAG_PAIR_BYTES - 1 - cat.plainBytes - 1;
    if (v.length > room / 3 && Buffer.byteLength(v, 'utf8') > room) {
      v = trimGoSpace(truncateUtf8(v, room));
      truncatedValues++;
    }
    tags.push({ plain: `${cat.plain}:${v}`, encoded: v === '' ? `${cat.encoded}:` : `${cat.encoded}:${encodePart(v)}` });
  }
  tags.sort(byPlain);
  let list = '';
  let previous: string | undefined;
  for (const t of tags) {
    if (t.plain === previous) continue;
    list += list === '' ? t.encoded : `,${t.encoded}`;
    previous = t.plain;
  }
  return { name: `${base}|ST[${list}]`, truncatedValues };
}
