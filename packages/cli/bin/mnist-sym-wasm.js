#!/usr/bin/env node
// The mnist-sym-wasm command. Committed (not built) so that npm links it on the first install of a
// fresh clone, before `prepare` has built dist/.
import('../dist/index.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/index.js')) {
    process.stderr.write("error: mnist-sym-wasm is not built (no dist/index.js); run 'npm run build' in the repository\n");
  } else {
    process.stderr.write(`internal failure: ${error?.stack ? error.stack : String(error)}\n`);
  }
  process.exit(70);
});
