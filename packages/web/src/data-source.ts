// The page's two data sources, both ending in core's IDX reader (in the worker): the four files
// fetched from the server (raw, else .gz), or the four files the user picks.
import { parseIdx, validateAgainstData, type ExperimentConfig, type MnistData, type MnistFiles } from '@mnist-sym-wasm/core';

/** The original MNIST file names, by MnistFiles key. */
export const MNIST_NAMES: Record<keyof MnistFiles, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

async function fetchOne(baseUrl: string, name: string, from: string): Promise<Uint8Array> {
  const tried: string[] = [];
  for (const file of [name, `${name}.gz`]) {
    const url = new URL(file, new URL(baseUrl, location.href)).href;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      // A network error says no more in any browser; cross-origin folders also need CORS and CORP
      // headers, since the page is cross-origin isolated.
      throw new Error(`missing data: cannot fetch ${url} (${(e as Error).message})${from}`);
    }
    if (response.ok) return new Uint8Array(await response.arrayBuffer());
    tried.push(`${file}: HTTP ${response.status}`);
  }
  throw new Error(`missing data: ${new URL(baseUrl, location.href).href} has no ${name} (or .gz) (${tried.join(', ')})${from}`);
}

/**
 * Refuses a config the train split cannot hold (evalTrain or batch larger than it) from the train
 * labels alone, with core's own check and message, so that it comes before the images' download.
 * A validation size the file cannot hold is left to core's loadMnist, which names it.
 */
export function checkTrainSplit(config: ExperimentConfig, trainLabels: Uint8Array): void {
  const count = parseIdx(trainLabels, MNIST_NAMES.trainLabels, 1).dims[0];
  if (config.validationSize >= count) return;
  // validateAgainstData reads only the splits' sizes.
  validateAgainstData(config, { train: { count: count - config.validationSize } } as MnistData);
}

/**
 * Fetches the four files from a folder URL (relative to the page); `chosenBy` names who chose it,
 * for errors. The train labels (the smallest file) come first: with `config`, checkTrainSplit runs
 * on them before the rest is fetched.
 */
export async function fetchMnistFiles(baseUrl: string, chosenBy?: string, config?: ExperimentConfig): Promise<MnistFiles> {
  const from = chosenBy ? `; the folder comes from ${chosenBy}` : '';
  const trainLabels = await fetchOne(baseUrl, MNIST_NAMES.trainLabels, from);
  if (config) checkTrainSplit(config, trainLabels);
  const keys = (Object.keys(MNIST_NAMES) as (keyof MnistFiles)[]).filter((k) => k !== 'trainLabels');
  // Fetched together; a failure is reported for the first file in file order (not whichever
  // request happened to fail first), so the message is the same every time.
  const results = await Promise.allSettled(keys.map((k) => fetchOne(baseUrl, MNIST_NAMES[k], from)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const bytes = results.map((r) => (r as PromiseFulfilledResult<Uint8Array>).value);
  return { ...(Object.fromEntries(keys.map((k, i) => [k, bytes[i]])) as Omit<MnistFiles, 'trainLabels'>), trainLabels };
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
