import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running; `integration` gets a real Temporal dev server and a fresh
// PostgreSQL database from test/helpers/global-setup.ts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/sevdesk/**/*.test.ts', 'test/sandbox/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'test/db/**/*.test.ts',
            'test/activities/**/*.test.ts',
            'test/workflows/**/*.test.ts',
            'test/replay/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/chaos/**/*.test.ts',
            'test/webhooks/**/*.test.ts',
          ],
          globalSetup: ['test/helpers/global-setup.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
