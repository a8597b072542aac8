// The small real-MNIST fixture (fixtures/mnist-small: 1100 train, 200 test images) for unit tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist, type MnistData } from '../packages/core/src/data/mnist';

/** Folder of the fixture's four gzip IDX files. */
export const SMALL_MNIST_DIR = join(__dirname, '..', 'fixtures', 'mnist-small');

/** The fixture's splits; validationSize 100 leaves 1000 train images. */
export function loadSmallMnist(validationSize = 100): MnistData {
  const read = (name: string) => new Uint8Array(readFileSync(join(SMALL_MNIST_DIR, `${name}.gz`)));
  return loadMnist(
    {
      trainImages: read('train-images-idx3-ubyte'),
      trainLabels: read('train-labels-idx1-ubyte'),
      testImages: read('t10k-images-idx3-ubyte'),
      testLabels: read('t10k-labels-idx1-ubyte'),
    },
    validationSize,
  );
}
