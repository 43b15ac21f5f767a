/**
 * The StatsD line format, as pure functions: `<name>:<value>|<type>[|@<rate>]`.
 * Names reach these functions already sanitised and prefixed.
 */
import { formatGoFloatF } from '../../core/format/index.js';

/**
 * Values are written without an exponent (Go's `'f'`, -1 precision, as Mixer's client did for
 * timings): not every server parses `1e-7`, and none is confused by `0.0000001`. Integers beyond
 * 2^53 come out as their shortest round-trip digits (`1152921504606847000`), which parse back to
 * the same double.
 */
export function formatStatValue(v: number): string {
  // -0 would read as a gauge *delta* of zero on the wire; it means zero.
  if (v === 0) return '0';
  const abs = Math.abs(v);
  // In this range JavaScript already prints the shortest digits without an exponent, exactly as
  // Go's 'f', -1 does; this is the hot case (timer milliseconds), so skip the general path.
  // JSON.stringify of a finite number is ToString of it by definition, but unlike String() it
  // leaves V8's number-to-string cache alone: that cache lives in the old generation, so each of
  // a flush's tens of thousands of new digit strings it held was promoted there (BENCHMARKS.md,
  // round 13). It is faster too.
  if (abs >= 1e-6 && abs < 1e21) return JSON.stringify(v);
  // Only a sum can get here unbounded (a DOUBLE counter past the largest double): `+Inf` is a
  // bad line to every server, so it saturates, as the Circonus adapter's double counters do.
  if (abs === Number.POSITIVE_INFINITY) return formatGoFloatF(v > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE);
  return formatGoFloatF(v);
}

/**
 * The `|@rate` suffix, empty when every sample is sent. Mixer printed six decimals
 * (`|@0.500000`); the shortest exact decimal is used instead so that a rate like 1/3 scales
 * counts back exactly on the server. Config validation keeps rates at or above 1e-6.
 */
export function formatSampleRateSuffix(rate: number): string {
  return rate >= 1 ? '' : `|@${formatGoFloatF(rate)}`;
}

export function encodeCounterLine(name: string, value: number): string {
  return `${name}:${formatStatValue(value)}|c`;
}

/**
 * A gauge line. A leading sign on the wire means "adjust by", so a negative value is sent as a
 * reset to zero followed by the delta. The two lines come back as one unit (joined by `\n`) so
 * the packer keeps them in the same datagram, in order.
 */
export function encodeGaugeLine(name: string, value: number): string {
  if (value < 0) return `${name}:0|g\n${name}:${formatStatValue(value)}|g`;
  return `${name}:${formatStatValue(value)}|g`;
}

/** Lines {@link encodeGaugeLine} writes for `value`: what a gauge costs on the wire and in limits. */
export function gaugeLineCount(value: number): number {
  return value < 0 ? 2 : 1;
}

/** A timer sample; `rateSuffix` comes from formatSampleRateSuffix. */
export function encodeTimingLine(name: string, value: number, rateSuffix: string): string {
  return `${name}:${formatStatValue(value)}|ms${rateSuffix}`;
}
