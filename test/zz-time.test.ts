import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { initEngine } from '../packages/core/src/engine';
it('time', async () => {
  await initEngine();
  for (const [s, perm] of [[[50,14,14,32],[3,1,2,0]], [[50,14,14,64],[1,2,0,3]], [[32,5,5,64],[1,2,0,3]], [[5,5,32,64],[0,1,3,2]], [[50,3136],[1,0]], [[50,1024],[1,0]], [[3136,50],[1,0]], [[1,28,28,50],[3,1,2,0]], [[50,28,28,32],[1,2,0,3]]] as const) {
    const x = tf.randomNormal(s as any);
    for (let i = 0; i < 2; i++) tf.transpose(x, perm as any).dispose();
    const t0 = performance.now(); const n = 20;
    for (let i = 0; i < n; i++) tf.transpose(x, perm as any).dispose();
    console.log(JSON.stringify(s), JSON.stringify(perm), ((performance.now() - t0) / n).toFixed(3), 'ms');
  }
});
