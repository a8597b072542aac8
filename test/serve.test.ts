// `mnist-sym-wasm serve` argument and data errors, through the built CLI (the served page itself is
// tested in a browser by web.test.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { CLI, ROOT } from './helpers';

function serve(args: string[]) {
  return spawnSync(process.execPath, [CLI, 'serve', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
}

test('a bad --port is a one-line error', () => {
  const r = serve(['--port', 'http']);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe("error: invalid --port: 'http' (expected an integer from 0 to 65535)\n");
});

test('a data folder without the MNIST files is a one-line error', () => {
  const r = serve(['--port', '0', '--data', join(ROOT, 'packages')]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^error: data directory '.*packages' has no train-images-idx3-ubyte \(or train-images-idx3-ubyte\.gz\)\n$/);
});

test('serve is listed in the help', () => {
  const r = spawnSync(process.execPath, [CLI, '--help'], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stdout).toMatch(/serve \[options\]\s+serve the web page/);
});
