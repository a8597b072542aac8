// The engine line's two texts: what this browser is expected to run before a start (the worker
// decides again in its own scope), and what the worker reports it ran once the engine started.
import type { EngineInfo, ExperimentConfig } from '@mnist-sym-wasm/core';
import { chooseBuild, unsupportedReason, type BuildChoice, type Capabilities } from './capabilities';
import { pageLocale } from './locale';

/** What the page expects to run before a run starts (the worker decides again in its own scope). */
export function describeBrowser(capabilities: Capabilities, config: ExperimentConfig): string {
  const locale =
    pageLocale.used === pageLocale.reported
      ? ''
      : `; numbers in ${pageLocale.used} (the browser's language '${pageLocale.reported}' is not a tag Intl accepts)`;
  const unsupported = unsupportedReason(capabilities);
  return `${unsupported ?? `this browser: ${chooseBuild(capabilities, config.threads).reason}`}${locale}`;
}

/** The engine the worker started, and the build it chose (null if its `build` event never came). */
export function describeEngine(capabilities: Capabilities, e: EngineInfo, build: BuildChoice | null): string {
  return (
    `tfjs ${e.tfjsVersion} ${e.backend}, SIMD ${e.simd ? 'on' : 'off'}, ${e.threads} thread${e.threads === 1 ? '' : 's'} (own kernels: ${e.kernelThreads}); ` +
    `crossOriginIsolated: ${capabilities.crossOriginIsolated ? 'yes' : 'no'}${build ? `; ${build.reason}` : ''}`
  );
}
