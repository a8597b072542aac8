// Shared pieces of the browser tests: Debian's Chromium through playwright-core, the built
// `serve` on a free loopback port, and the comparison that ignores wall-clock fields.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { CLI, ROOT } from './helpers';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);

/** Says loudly that a browser test file did not run. */
export function warnIfNoChromium(file: string): void {
  if (!HAS_CHROMIUM) {
    console.warn(`\n[${file}] SKIPPED: ${CHROMIUM} is absent (apt-get install chromium); the browser tests did not run.\n`);
  }
}

/** Headless Chromium with the flags this closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Starts `mnist-sym-wasm serve` on 127.0.0.1 with a free port; resolves with its URL. */
export async function startServe(dataDir: string): Promise<{ server: ChildProcess; base: string }> {
  const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr!.on('data', (d) => (stderr += d));
  const base = await new Promise<string>((ok, fail) => {
    let out = '';
    server.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) ok((JSON.parse(out.split('\n')[0]) as { url: string }).url);
    });
    server.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { server, base };
}

type Json = Record<string, unknown>;

/**
 * Drops what may differ between two runs of one config: wall-clock fields, and the engine's thread
 * count (the CLI may run the threaded build, the page runs one thread; results do not depend on it).
 */
export function untimed<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, function (this: Json, k, v) {
      if (k === 'elapsedMs' || k === 'wallMs' || k === 'msPerStep') return undefined;
      if ((k === 'threads' || k === 'kernelThreads') && 'backend' in this) return undefined;
      return v;
    }),
  );
}
