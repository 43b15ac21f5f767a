/**
 * "Did you mean …?" for unknown attribute and function names. Typos in attribute names are the most
 * common config mistake, and Mixer's bare `unknown attribute X` leaves the author guessing.
 */

/** Levenshtein distance, giving up (returning `limit + 1`) once it must exceed `limit`. */
export function boundedEditDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/**
 * The closest candidate: within edit distance 2 (1 for names of up to 3 characters, where 2 edits
 * would relate almost anything), or failing that the nearest one sharing the last dotted segment
 * (`destination.host` → `destination.service.host`). Ties go to the alphabetically first name.
 */
export function suggestName(unknown: string, candidates: Iterable<string>): string | undefined {
  const limit = unknown.length <= 3 ? 1 : 2;
  const segment = unknown.includes('.') ? lastSegment(unknown) : '';
  let best: string | undefined;
  let bestDistance = Infinity;
  let bySegment: string | undefined;
  let bySegmentDistance = Infinity;
  for (const c of candidates) {
    if (c === unknown) continue;
    const d = boundedEditDistance(unknown, c, limit);
    if (d <= limit && (d < bestDistance || (d === bestDistance && best !== undefined && c < best))) {
      best = c;
      bestDistance = d;
    }
    if (best === undefined && segment.length >= 3 && lastSegment(c) === segment) {
      const full = boundedEditDistance(unknown, c, Math.max(unknown.length, c.length));
      if (full < bySegmentDistance || (full === bySegmentDistance && bySegment !== undefined && c < bySegment)) {
        bySegment = c;
        bySegmentDistance = full;
      }
    }
  }
  return best ?? bySegment;
}
