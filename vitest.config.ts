import { defineConfig } from 'vitest/config';

/**
 * The suites that exercise the app through its stores run on both backends: the `postgres`
 * project runs them again against one PostgreSQL server of its own (test/helpers/pg-global-setup.ts).
 */
const BOTH_BACKENDS = [
  'test/api/sessions.test.ts',
  'test/api/install.test.ts',
  'test/api/tenant.test.ts',
  'test/api/ingest.test.ts',
  'test/api/rules.test.ts',
  'test/api/audit.test.ts',
  'test/api/audit-export.test.ts',
  'test/api/isolation.test.ts',
  'test/api/divisions.test.ts',
  'test/api/ops.test.ts',
  'test/delivery/end-to-end.test.ts',
  'test/delivery/attempt-counts.test.ts',
  'test/delivery/deliver.test.ts',
  'test/delivery/process-events.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Every test file builds its own servers, temp folders and databases; files run in parallel.
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: ['test/bench/**'] },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: BOTH_BACKENDS,
          env: { RELAY_TEST_BACKEND: 'postgres' },
          globalSetup: ['test/helpers/pg-global-setup.ts'],
        },
      },
    ],
  },
});
