/**
 * Fuzz budget: small in `npm test`, large in `npm run fuzz` (FUZZ_RUNS). Every property also has
 * a per-input time limit, so a hang is a failure rather than a stuck run.
 */
export const FUZZ_RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
export const FUZZ_TIMEOUT_MS = Number(process.env['FUZZ_TIMEOUT_MS'] ?? 20_000) * Math.max(1, FUZZ_RUNS / 300);
export const PER_INPUT_MS = 200;
