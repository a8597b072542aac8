import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-wasm';
export async function probe(): Promise<string> {
  await tf.setBackend('wasm');
  const x = tf.tensor([1, 2, 3]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(a, a)))(x);
  return `${tf.getBackend()} simd=${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')} ${Array.from(g.dataSync())}`;
}
export { tf };
