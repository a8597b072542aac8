// Regression: the replacement BatchMatMul must keep the stock setup, or a re-initialised backend aborts.
// tfjs re-runs the setupFuncs of registered kernels when the backend is initialised again; the
// stock BatchMatMul (wrapped by ours) only rebinds to the new WebAssembly instance through its own
// setupFunc, which the replacement config must carry.
// Own file: tf.engine().reset() disposes every tensor and backend of the process.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { initEngine } from '../engine/engine';

it('tf.matMul still works after the wasm backend is re-initialised (tf.engine().reset())', async () => {
  await initEngine();
  const before = tf.matMul(
    tf.tensor2d([
      [1, 2],
      [3, 4],
    ]),
    tf.tensor2d([
      [1, 0],
      [0, 1],
    ]),
    false,
    true,
  );
  expect(Array.from(before.dataSync())).toEqual([1, 2, 3, 4]);
  tf.engine().reset();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  expect(await tf.setBackend('wasm')).toBe(true);
  // Control: other kernels, including the project's replacements, work on the new instance.
  const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'same')))(tf.tensor4d([1, 4, 4, 2], [1, 2, 2, 1]));
  expect(Array.from(grad.dataSync())).toEqual([0, 1, 0, 0]);
  // The bug: this throws RuntimeError: Aborted().
  const after = tf.matMul(
    tf.tensor2d([
      [1, 2],
      [3, 4],
    ]),
    tf.tensor2d([
      [1, 0],
      [0, 1],
    ]),
  );
  expect(Array.from(after.dataSync())).toEqual([1, 2, 3, 4]);
});
