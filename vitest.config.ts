import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@palisade/source'] },
  ssr: { resolve: { conditions: ['@palisade/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // Forks, not threads: the native roaring addon can crash when worker threads exit.
    pool: 'forks',
  },
});
