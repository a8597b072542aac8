// Every door as a user meets it, from the packed tarballs (`npm pack` of each workspace) installed
// into an empty temporary project: the `mnist-sym-wasm` bin through npx (help, train, eval, explain,
// serve and the served page in Chromium), core from plain Node ESM, CommonJS and TypeScript (strict,
// node16 and bundler resolution, no skipLibCheck), core bundled into a minified Vite app in
// Chromium, and `npm publish --dry-run` of each package. The reference hash is the workspace CLI's
// for the same config. Nothing here imports the workspace's own files.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import sirv from 'sirv';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HAS_CHROMIUM, launchChromium, warnIfNoChromium } from './browser';
import { CLI, FIXTURE, ROOT, tempDir } from './helpers';

warnIfNoChromium('packed-install.test');

const TMP = tempDir('msw-packed-');
/** The empty project the tarballs are installed into. */
const APP = join(TMP, 'app');
/** One short config, as CLI flags, and the same as the examples hard-code it. */
const FLAGS = ['--steps', '20', '--eval-every', '10', '--eval-train', '200', '--validation-size', '100', '--widths', '16,32,32'];
const QUERY = 'steps=20&evalEvery=10&evalTrain=200&validationSize=100&widths=16,32,32';
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const PACKAGES = ['core', 'cli', 'web'];

/**
 * Runs a command in `cwd`; fails the test with its output when it exits non-zero. Asynchronous: a
 * worker blocked for minutes (npm install) misses vitest's own messages.
 */
function run(command: string, args: string[], cwd = APP, timeout = 300_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status === 0) done({ stdout, stderr });
      else fail(new Error(`${command} ${args.join(' ')} exited ${status}:\n${stdout}\n${stderr}`));
    });
  });
}

/** The `weightsSha256 <hex>` line an example prints. */
function printedHash(output: string): string {
  const m = /weightsSha256 ([0-9a-f]{64})/.exec(output);
  if (!m) throw new Error(`no weightsSha256 line in:\n${output}`);
  return m[1];
}

let reference = '';

beforeAll(async () => {
  // The reference: the workspace CLI on the same config.
  const out = join(TMP, 'reference-run');
  await run(process.execPath, [CLI, 'train', '--data', FIXTURE, ...FLAGS, '--threads', '1', '--out', out], ROOT);
  reference = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).weightsSha256;

  const packs = join(TMP, 'packs');
  mkdirSync(packs, { recursive: true });
  await run('npm', ['pack', '--workspaces', '--ignore-scripts', '--pack-destination', packs], ROOT);
  mkdirSync(APP, { recursive: true });
  writeFileSync(join(APP, 'package.json'), `${JSON.stringify({ name: 'msw-consumer', private: true, type: 'module' }, null, 2)}\n`);
  const tarballs = readdirSync(packs).map((f) => join(packs, f));
  expect(tarballs).toHaveLength(PACKAGES.length);
  // What a user adds for the TypeScript and Vite examples; the versions the workspace already has.
  const viteApp = JSON.parse(readFileSync(join(ROOT, 'examples/vite-app/package.json'), 'utf8'));
  const extras = ['@types/node@^20.19.0', `vite@${viteApp.devDependencies.vite}`, `terser@${viteApp.devDependencies.terser}`];
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs, ...extras]);
  // The data a user brings: here the small fixture, beside the app.
  cpSync(FIXTURE, join(APP, 'mnist'), { recursive: true });
}, 600_000);

afterAll(() => {
  rmSync(TMP, { recursive: true, force: true });
});

describe('the CLI from the packed tarballs, through npx', () => {
  test('--help lists the commands', async () => {
    const r = await run('npx', ['mnist-sym-wasm', '--help']);
    for (const command of ['train', 'eval', 'serve', 'explain', 'sweep', 'bench']) expect(r.stdout).toContain(command);
    expect((await run('npx', ['mnist-sym-wasm', 'explain', '--help'])).stdout).toContain('--full');
  });

  test('train gives the workspace CLI hash; eval scores its checkpoint', async () => {
    await run('npx', ['mnist-sym-wasm', 'train', '--data', 'mnist', ...FLAGS, '--checkpoint-every', '20', '--out', 'run']);
    const summary = JSON.parse(readFileSync(join(APP, 'run/summary.json'), 'utf8'));
    expect(summary.weightsSha256).toBe(reference);
    const checkpoints = readdirSync(join(APP, 'run/checkpoints')).filter((f) => f.endsWith('.ckpt'));
    expect(checkpoints.length).toBeGreaterThan(0);
    const evaluation = await run('npx', [
      'mnist-sym-wasm',
      'eval',
      '--checkpoint',
      join('run/checkpoints', checkpoints.at(-1)!),
      '--split',
      'test',
      '--json',
    ]);
    expect(JSON.parse(evaluation.stdout.trim().split('\n').at(-1)!).accuracy).toBe(summary.final.test);
  });
});

describe('core as a library, from the packed tarball', () => {
  test.each([
    ['plain Node ESM', 'train-node.mjs'],
    ['CommonJS require', 'train-commonjs.cjs'],
  ])('%s trains to the CLI hash, with 1 thread and every core', async (_, file) => {
    copyFileSync(join(ROOT, 'examples', file), join(APP, file));
    for (const threads of ['1', 'auto']) {
      const r = await run(process.execPath, [file, 'mnist', threads]);
      expect(r.stdout).toMatch(threads === '1' ? /engine: 1 thread\(s\)/ : /engine: \d+ thread\(s\)/);
      expect(printedHash(r.stdout)).toBe(reference);
    }
  });

  test('TypeScript, strict and without skipLibCheck: node16 compiles and trains to the CLI hash; bundler type-checks', async () => {
    mkdirSync(join(APP, 'ts'), { recursive: true });
    copyFileSync(join(ROOT, 'examples/train-typescript.ts'), join(APP, 'ts/train-typescript.ts'));
    const base = { target: 'ES2022', strict: true, skipLibCheck: false, types: ['node'] };
    writeFileSync(
      join(APP, 'tsconfig.node16.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16', outDir: 'build' }, include: ['ts'] }),
    );
    writeFileSync(
      join(APP, 'tsconfig.bundler.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler', noEmit: true }, include: ['ts'] }),
    );
    await run(process.execPath, [TSC, '-p', 'tsconfig.node16.json']);
    await run(process.execPath, [TSC, '-p', 'tsconfig.bundler.json']);
    expect(printedHash((await run(process.execPath, ['build/train-typescript.js', 'mnist'])).stdout)).toBe(reference);
  });
});

test('every package publishes (npm publish --dry-run)', async () => {
  for (const name of PACKAGES) {
    const r = await run('npm', ['publish', '--dry-run', '--ignore-scripts'], join(ROOT, 'packages', name));
    expect(r.stderr).toMatch(/\(dry-run\)/);
  }
});

describe.skipIf(!HAS_CHROMIUM)('in Chromium', () => {
  let browser: Browser;
  let serveProcess: ChildProcess | undefined;
  const httpServers: Server[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    // npx runs the bin in a child of its own: end the whole process group.
    if (serveProcess?.pid) process.kill(-serveProcess.pid, 'SIGTERM');
    for (const s of httpServers) s.close();
  });

  /** Opens `url`, waits for a weights hash or an error in the page, returns the hash and the page's text. */
  async function pageRun(url: string, hashSelector: string, errorSelector: string): Promise<{ hash: string; text: string }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(
      ([h, e]) => Boolean(document.querySelector(h)?.textContent || document.querySelector(e)?.textContent),
      [hashSelector, errorSelector],
      { timeout: 120_000 },
    );
    const error = await page.textContent(errorSelector);
    expect(error || '', errors.join('\n')).toBe('');
    const hash = (await page.textContent(hashSelector)) ?? '';
    const text = (await page.textContent('body')) ?? '';
    await page.close();
    return { hash, text };
  }

  test('npx mnist-sym-wasm serve: isolation headers, and the page trains to the CLI hash', async () => {
    const server = spawn('npx', ['mnist-sym-wasm', 'serve', '--port', '0', '--data', 'mnist', '--json'], {
      cwd: APP,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    serveProcess = server;
    const base = await new Promise<string>((ok, fail) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) ok(JSON.parse(out.split('\n')[0]).url);
      });
      server.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
    });
    const index = await fetch(base);
    expect(index.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(index.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const { hash } = await pageRun(`${base}?${QUERY}&autorun=1`, '[data-testid=weights-sha256]', '[data-testid=error]');
    expect(hash).toBe(reference);
  });

  test('a Vite app (production build, terser) bundles core and trains in a worker to the CLI hash, with and without isolation', async () => {
    const app = join(APP, 'vite-app');
    cpSync(join(ROOT, 'examples/vite-app'), app, { recursive: true, filter: (f) => !f.includes('node_modules') && !f.endsWith('/dist') });
    await run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
    const dist = join(app, 'dist');
    expect(readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThan(0);
    cpSync(join(APP, 'mnist'), join(dist, 'mnist'), { recursive: true });
    for (const isolated of [true, false]) {
      const files = sirv(dist, { dev: true });
      const server = createServer((req, res) => {
        if (isolated) {
          res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
          res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        }
        files(req, res, () => {
          res.writeHead(404).end();
        });
      });
      httpServers.push(server);
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      const { port } = server.address() as { port: number };
      const { hash, text } = await pageRun(`http://127.0.0.1:${port}/`, '#weights-sha256', '#error');
      expect(hash).toBe(reference);
      // Isolated: the threaded build (every core, up to 4); otherwise one thread.
      expect(text).toMatch(isolated ? /engine: [2-4] thread\(s\)/ : /engine: 1 thread\(s\)/);
    }
  });
});
