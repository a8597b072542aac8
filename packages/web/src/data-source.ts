// The page's two data sources, both ending in core's IDX reader (in the worker): the four files
// fetched from the server (raw, else .gz), or the four files the user picks.
import type { MnistFiles } from '@mnist-sym-wasm/core';

/** The original MNIST file names, by MnistFiles key. */
export const MNIST_NAMES: Record<keyof MnistFiles, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

async function fetchOne(baseUrl: string, name: string): Promise<Uint8Array> {
  const tried: string[] = [];
  for (const file of [name, `${name}.gz`]) {
    const url = new URL(file, new URL(baseUrl, location.href)).href;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new Error(`missing data: cannot fetch ${url} (${(e as Error).message})`);
    }
    if (response.ok) return new Uint8Array(await response.arrayBuffer());
    tried.push(`${file}: HTTP ${response.status}`);
  }
  throw new Error(`missing data: ${new URL(baseUrl, location.href).href} has no ${name} (or .gz) (${tried.join(', ')})`);
}

/** Fetches the four files from a folder URL (relative to the page). */
export async function fetchMnistFiles(baseUrl: string): Promise<MnistFiles> {
  const keys = Object.keys(MNIST_NAMES) as (keyof MnistFiles)[];
  // Fetched together; a failure is reported for the first file in file order (not whichever
  // request happened to fail first), so the message is the same every time.
  const results = await Promise.allSettled(keys.map((k) => fetchOne(baseUrl, MNIST_NAMES[k])));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const bytes = results.map((r) => (r as PromiseFulfilledResult<Uint8Array>).value);
  return Object.fromEntries(keys.map((k, i) => [k, bytes[i]])) as unknown as MnistFiles;
}

/** Reads the four files the user picked, matched by their original names (optionally .gz). */
export async function readPickedFiles(files: Iterable<File>): Promise<MnistFiles> {
  const byName = new Map<string, File>();
  for (const f of files) byName.set(f.name.replace(/\.gz$/, ''), f);
  const out = {} as MnistFiles;
  const missing: string[] = [];
  for (const [key, name] of Object.entries(MNIST_NAMES) as [keyof MnistFiles, string][]) {
    const file = byName.get(name);
    if (!file) missing.push(name);
    else out[key] = new Uint8Array(await file.arrayBuffer());
  }
  if (missing.length > 0) throw new Error(`missing data: pick all four MNIST files; not picked: ${missing.join(', ')} (raw or .gz)`);
  return out;
}
