import { defineConfig } from 'vitest/config';

/** Files that measure CPU-bound behaviour (overload): they run last, one at a time, with nothing beside them. */
const SOLO = 'test/**/*.solo.test.ts';

const shared = {
  testTimeout: 20_000,
  hookTimeout: 20_000,
  pool: 'forks',
} as const;

export const config = defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        extends: false,
        test: { ...shared, name: 'telemux', include: ['test/**/*.test.ts', 'src/**/*.test.ts'], exclude: [SOLO, '**/node_modules/**'] },
      },
      {
        extends: false,
        test: { ...shared, name: 'solo', include: [SOLO], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
// vitest discovers its config through the default export; this is the one exception to the rule.
export default config;
