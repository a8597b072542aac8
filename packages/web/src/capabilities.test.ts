// Browser capability checks: the SIMD probe and the one-line reasons shown on the page.
import { expect, test } from 'vitest';
import { chooseBuild, detectCapabilities, unsupportedReason, type Capabilities } from './capabilities';

test('SIMD probe validates where WebAssembly SIMD exists (Node 20 has it)', () => {
  expect(detectCapabilities().simd).toBe(true);
});

test('a browser without SIMD, WebAssembly or workers gets a one-line reason', () => {
  const ok: Capabilities = {
    webAssembly: true,
    simd: true,
    crossOriginIsolated: false,
    sharedArrayBuffer: true,
    sharedMemory: true,
    workers: true,
    cores: 2,
  };
  expect(unsupportedReason(ok)).toBeNull();
  expect(unsupportedReason({ ...ok, simd: false })).toMatch(/^this browser has no WebAssembly SIMD support/);
  expect(unsupportedReason({ ...ok, webAssembly: false, simd: false })).toMatch(/no WebAssembly support/);
  expect(unsupportedReason({ ...ok, workers: false })).toMatch(/Web Workers/);
});

test('threaded SIMD only where shared memory can reach a worker; else single-threaded SIMD, with the reason', () => {
  const all: Capabilities = {
    webAssembly: true,
    simd: true,
    crossOriginIsolated: true,
    sharedArrayBuffer: true,
    sharedMemory: true,
    workers: true,
    cores: 4,
  };
  expect(chooseBuild(all, 'auto')).toMatchObject({ build: 'threaded-simd', threads: 4 });
  expect(chooseBuild(all, 2)).toMatchObject({ build: 'threaded-simd', threads: 2 });
  expect(chooseBuild(all, 1)).toEqual({ build: 'simd', threads: 1, reason: 'single-threaded SIMD build: threads=1 asked for' });
  expect(chooseBuild({ ...all, cores: 1 }, 'auto').build).toBe('simd');
  expect(chooseBuild({ ...all, crossOriginIsolated: false }, 'auto').reason).toMatch(/not cross-origin isolated/);
  // WebKitGTK 2.50: isolated, but no global SharedArrayBuffer.
  expect(chooseBuild({ ...all, sharedArrayBuffer: false, sharedMemory: false }, 'auto')).toMatchObject({
    build: 'simd',
    reason: 'single-threaded SIMD build: this browser has no global SharedArrayBuffer, although the page is cross-origin isolated',
  });
  expect(chooseBuild({ ...all, sharedMemory: false }, 'auto').reason).toMatch(/cannot post a shared WebAssembly.Memory/);
  expect(chooseBuild(all, 'auto', 'the threaded SIMD build failed to start: boom').reason).toBe(
    'single-threaded SIMD build: the threaded SIMD build failed to start: boom',
  );
});

test('Node (this test runner) can post shared memory, as an isolated browser page can', () => {
  const c = detectCapabilities();
  expect(c.sharedArrayBuffer).toBe(true);
  expect(c.sharedMemory).toBe(true);
});
