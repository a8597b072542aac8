// Browser capability checks: the SIMD probe and the one-line reasons shown on the page.
import { expect, test } from 'vitest';
import { detectCapabilities, unsupportedReason } from './capabilities';

test('SIMD probe validates where WebAssembly SIMD exists (Node 20 has it)', () => {
  expect(detectCapabilities().simd).toBe(true);
});

test('a browser without SIMD, WebAssembly or workers gets a one-line reason', () => {
  const ok = { webAssembly: true, simd: true, crossOriginIsolated: false, workers: true };
  expect(unsupportedReason(ok)).toBeNull();
  expect(unsupportedReason({ ...ok, simd: false })).toMatch(/^this browser has no WebAssembly SIMD support/);
  expect(unsupportedReason({ ...ok, webAssembly: false, simd: false })).toMatch(/no WebAssembly support/);
  expect(unsupportedReason({ ...ok, workers: false })).toMatch(/Web Workers/);
});
