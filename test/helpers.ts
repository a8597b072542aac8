// Shared helpers for cross-package tests: run the BUILT CLI in a child process, make temp folders.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
/** The installed command's file (what `npx mnist-sym-wasm` runs). */
export const CLI = join(ROOT, 'packages/cli/bin/mnist-sym-wasm.js');
export const FIXTURE = join(ROOT, 'fixtures/mnist-small');
/** Flags that make a run on the small fixture (1000 train / 200 test images) quick. */
export const QUICK = ['--data', FIXTURE, '--validation-size', '100', '--eval-train', '200'];

/** Runs `mnist-sym-wasm ...args` to completion. */
export function runCli(args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
}

/**
 * Runs `mnist-sym-wasm ...args` to completion without blocking the test worker (a long synchronous
 * spawn starves vitest's worker RPC: "Timeout calling onTaskUpdate").
 */
export function runCliAsync(args: string[], cwd = ROOT): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'msw-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
