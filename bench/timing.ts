/** Small helpers shared by the benches: timing loops, medians, percentiles, formatting. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { nextTurn } from '../src/core/schedule/time-slicer.js';

/**
 * Runs `pass` (which does `opsPerPass` operations) repeatedly for about `ms` milliseconds after a
 * warm-up of the same length, `rounds` times; returns the median nanoseconds per operation.
 */
export function nsPerOp(pass: () => void, opsPerPass: number, ms = 300, rounds = 5): number {
  const until = performance.now() + ms;
  while (performance.now() < until) pass();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      pass();
      ops += opsPerPass;
      t = performance.now();
    }
    samples.push(((t - t0) * 1e6) / ops);
  }
  return median(samples);
}

/**
 * As nsPerOp, but the event loop turns between passes and only the passes are timed: for work
 * whose owners run tickers (a handler's flush), so the state a pass meets is the state a server
 * holds between flushes, not what piles up while a synchronous loop keeps every flush away.
 */
export async function nsPerOpTurning(pass: () => void, opsPerPass: number, ms = 300, rounds = 5): Promise<number> {
  const timed = async (): Promise<number> => {
    let busy = 0;
    let ops = 0;
    const until = performance.now() + ms;
    while (performance.now() < until) {
      const t0 = performance.now();
      pass();
      busy += performance.now() - t0;
      ops += opsPerPass;
      await nextTurn();
    }
    return (busy * 1e6) / ops;
  };
  await timed();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) samples.push(await timed());
  return median(samples);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of unsorted samples (p in 0..100). */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const s = Float64Array.from(xs as ArrayLike<number>).sort();
  const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return s[rank]!;
}

export function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond.toFixed(0)}/s`;
}

export function fmtNs(ns: number): string {
  return ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n.toFixed(0)} B`;
}

/** The machine line every bench prints, so published figures say where they came from. */
export function machineLine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    // lscpu's "Model name" comes from here on Linux; `cpus()` can be terser in containers.
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) model = m[1].trim();
  } catch {
    // Not Linux: keep what os.cpus() said.
  }
  return `machine: ${cpus().length} CPUs (${model}), Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Runs `task` while a 1 ms timer watches the event loop; returns its duration and the longest gap. */
export async function longestBlock(task: () => Promise<unknown>): Promise<{ ms: number; longest: number }> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  await task();
  const ms = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 2));
  clearInterval(timer);
  return { ms, longest: Math.max(longest, performance.now() - last) };
}
