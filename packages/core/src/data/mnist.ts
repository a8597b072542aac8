// MNIST splits exactly as TensorFlow's read_data_sets(one_hot=True) built them, and the float32
// pixel/label gathers the model consumes.
import { DataError } from '../errors';
import { parseIdx } from './idx';

/** The four MNIST files, each raw IDX or gzip-compressed bytes. */
export interface MnistFiles {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/** One split. Arrays may be views into the (decompressed) file bytes: treat them as read-only. */
export interface Split {
  count: number;
  /** count * rows * cols uint8 pixels, image after image, each row-major. */
  images: Uint8Array;
  /** count labels, 0..9. */
  labels: Uint8Array;
}

/** The three splits TensorFlow's `read_data_sets` returns, plus the image size. */
export interface MnistData {
  rows: number;
  cols: number;
  /** Training-file images validationSize.. (55,000 with the default). */
  train: Split;
  /** The first validationSize training-file images. */
  validation: Split;
  /** The t10k images. */
  test: Split;
}

/** Number of label classes (one-hot width). */
export const NUM_CLASSES = 10;

/**
 * The float32 pixel scale. TF 0.12's DataSet does
 * `numpy.multiply(images.astype(numpy.float32), 1.0 / 255.0)`: a float32 array times a Python
 * float. numpy 1.x value-based casting (and numpy 2's NEP 50 "weak" Python scalars) keep the
 * result float32 and cast the scalar to float32 first, so each pixel is the float32 product
 * `f32(u) * f32(1/255)` rounded to float32. That is NOT `f32(u / 255)`: 126 of the 256 values
 * differ by one ulp (e.g. u = 3), and 255 still maps to exactly 1.0.
 */
export const PIXEL_SCALE = Math.fround(1 / 255);

/**
 * Float32 value of each uint8 pixel. `u * PIXEL_SCALE` is exact in float64 (8 x 24 significant
 * bits), so one `Math.fround` gives the correctly rounded float32 product numpy computes.
 */
export const PIXEL_LUT: Float32Array = (() => {
  const lut = new Float32Array(256);
  for (let u = 0; u < 256; u++) lut[u] = Math.fround(u * PIXEL_SCALE);
  return lut;
})();

const FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

function readPair(imageBytes: Uint8Array, labelBytes: Uint8Array, imagesName: string, labelsName: string) {
  const images = parseIdx(imageBytes, imagesName, 3);
  const labels = parseIdx(labelBytes, labelsName, 1);
  const [count, rows, cols] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DataError(`${labelsName}: ${labels.dims[0]} labels but ${imagesName} has ${count} images (counts must match)`);
  }
  // TF would silently build a wrong one-hot row (or index out of bounds) for these.
  const data = labels.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i] > 9) throw new DataError(`${labelsName}: label ${data[i]} at index ${i} (expected 0 to 9)`);
  }
  return { count, rows, cols, images: images.data, labels: data };
}

/**
 * Parses and splits MNIST like TF's `read_data_sets(dir, one_hot=True, validation_size=5000)`:
 * validation = the first `validationSize` training images, train = the rest, test = t10k.
 * Splits are views into the parsed bytes (no copies). Throws {@link DataError} when a file is
 * malformed, images and labels disagree, a label is not 0..9, the image sizes of the training
 * and test files differ, or `validationSize` is not 0..(training images - 1).
 */
export function loadMnist(files: MnistFiles, validationSize = 5000): MnistData {
  const trainFile = readPair(files.trainImages, files.trainLabels, FILE_NAMES.trainImages, FILE_NAMES.trainLabels);
  const testFile = readPair(files.testImages, files.testLabels, FILE_NAMES.testImages, FILE_NAMES.testLabels);
  if (trainFile.rows !== testFile.rows || trainFile.cols !== testFile.cols) {
    throw new DataError(
      `${FILE_NAMES.testImages}: images are ${testFile.rows}x${testFile.cols} but ${FILE_NAMES.trainImages} has ${trainFile.rows}x${trainFile.cols}`,
    );
  }
  // TF accepts validation_size == count (empty train); training on nothing is meaningless here.
  if (!Number.isInteger(validationSize) || validationSize < 0 || validationSize >= trainFile.count) {
    throw new DataError(
      `validation size must be between 0 and ${trainFile.count - 1} (${FILE_NAMES.trainImages} has ${trainFile.count} images), got ${validationSize}`,
    );
  }
  const pixels = trainFile.rows * trainFile.cols;
  const split = (f: typeof trainFile, start: number, end: number): Split => ({
    count: end - start,
    images: f.images.subarray(start * pixels, end * pixels),
    labels: f.labels.subarray(start, end),
  });
  return {
    rows: trainFile.rows,
    cols: trainFile.cols,
    train: split(trainFile, validationSize, trainFile.count),
    validation: split(trainFile, 0, validationSize),
    test: split(testFile, 0, testFile.count),
  };
}

function checkGather(split: Split, indices: ArrayLike<number>, out: Float32Array, width: number, what: string): void {
  const needed = indices.length * width;
  if (out.length < needed) {
    throw new RangeError(`${what}: output holds ${out.length} floats, ${indices.length} examples need ${needed}`);
  }
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= split.count) {
      throw new RangeError(`${what}: index ${k} at position ${i} is outside the split (0..${split.count - 1})`);
    }
  }
}

/**
 * Writes the float32 pixels (via {@link PIXEL_LUT}) of `split`'s images `indices[0..]` into
 * `out[0 .. indices.length * rows * cols)`, image after image; the rest of `out` is untouched.
 */
export function gatherPixels(split: Split, indices: ArrayLike<number>, out: Float32Array): void {
  const pixels = split.count === 0 ? 0 : split.images.length / split.count;
  checkGather(split, indices, out, pixels, 'gatherPixels');
  const images = split.images;
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i] * pixels;
    const dst = i * pixels;
    for (let p = 0; p < pixels; p++) out[dst + p] = PIXEL_LUT[images[src + p]];
  }
}

/**
 * Writes one-hot float32 labels (10 classes) of `split`'s examples `indices[0..]` into
 * `out[0 .. indices.length * 10)`, zeroing that range first.
 */
export function gatherOneHot(split: Split, indices: ArrayLike<number>, out: Float32Array): void {
  checkGather(split, indices, out, NUM_CLASSES, 'gatherOneHot');
  out.fill(0, 0, indices.length * NUM_CLASSES);
  for (let i = 0; i < indices.length; i++) out[i * NUM_CLASSES + split.labels[indices[i]]] = 1;
}
