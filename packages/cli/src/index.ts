// Entry point of the mnist-sym-wasm binary. Core must load after node-globals (see there), so the
// commands are imported dynamically, after the globals exist.
import './node-globals';

const { main } = await import('./main');
process.exit(await main(process.argv));
