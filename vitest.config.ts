import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Every test file builds its own servers, temp folders and databases; files run in parallel.
    pool: 'forks',
  },
});
