// Unit tests live next to the code (packages/*/src/**/*.test.ts), the float64 reference's in
// packages/core/test-support; cross-package tests in test/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test-support/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    server: {
      deps: {
        // tfjs's ESM build uses extension-less imports that Node cannot load; let Vite resolve
        // them. The emscripten glue in wasm-out/ is CommonJS and stays external.
        inline: [/@tensorflow\/tfjs-(core|backend-wasm|backend-cpu)\/dist/],
      },
    },
  },
});
