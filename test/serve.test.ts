// `mnist-sym-wasm serve` through the built CLI: argument and data errors, no file outside its folders
// (`/..`, symlinks planted in the page folder or the data folder), the warning off loopback, and the
// first Ctrl-C ending open downloads (the served page itself is tested in a browser by web.test.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { get as httpGet, request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, FIXTURE, ROOT } from './helpers';

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

/** Starts `serve --port 0 --json ...args`; resolves with the child and its URL once it listens. */
function startServe(
  args: string[],
): Promise<{ child: ChildProcess; url: string; web: string; stderr: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      if (!out.includes('\n')) return;
      const info = JSON.parse(out) as { url: string; web: string };
      resolve({ child, url: info.url, web: info.web, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

/** GET with the path sent exactly as given (no URL normalisation). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve stays inside its folders', () => {
  test("'/..' and symlinks planted in the page folder answer 404", async () => {
    const s = await startServe([]);
    // Planted in the built page folder for this test only (files are looked up per request).
    const link = join(s.web, `test-link-${process.pid}.txt`);
    const dirLink = join(s.web, `test-dir-link-${process.pid}`);
    symlinkSync('/etc/passwd', link);
    symlinkSync('/etc', dirLink);
    try {
      expect((await rawGet(s.url, '/..')).status).toBe(404);
      expect((await rawGet(s.url, '/%2e%2e/')).status).toBe(404);
      const viaLink = await rawGet(s.url, `/test-link-${process.pid}.txt`);
      expect(viaLink.status).toBe(404);
      expect(viaLink.body).not.toMatch(/root:/);
      expect((await rawGet(s.url, `/test-dir-link-${process.pid}/passwd`)).status).toBe(404);
      expect((await rawGet(s.url, '/')).status).toBe(200);
    } finally {
      rmSync(link, { force: true });
      rmSync(dirLink, { force: true });
      s.child.kill('SIGINT');
      await s.exited;
    }
  });

  test('a data file that links out of the data folder is refused at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'msw-serve-'));
    for (const name of readdirSync(FIXTURE)) {
      if (name.startsWith('train-images')) symlinkSync('/etc/passwd', join(dir, name));
      else cpSync(join(FIXTURE, name), join(dir, name));
    }
    const r = serve(['--port', '0', '--data', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^error: '.*train-images-idx3-ubyte.gz' links out of the data folder, and serve never serves a file outside its folders; copy the file into '.*'\n$/,
    );
  });
});

describe('serve on the network and on Ctrl-C', () => {
  test('--host 0.0.0.0 warns that the page is reachable from other machines', async () => {
    const s = await startServe(['--host', '0.0.0.0']);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toMatch(/^warning: listening on 0\.0\.0\.0: every machine that can reach this one/);
  });

  test('the loopback default prints no warning', async () => {
    const s = await startServe([]);
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toBe('');
  });

  test('the first Ctrl-C ends a download in progress and exits', async () => {
    const s = await startServe([]);
    // The embedded training images (47 MB), read no further than the first chunk: the download stays open.
    const res = await new Promise<IncomingMessage>((resolve) => httpGet(`${s.url}mnist/train-images-idx3-ubyte`, resolve));
    expect(res.statusCode).toBe(200);
    res.pause();
    const t0 = Date.now();
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    res.destroy();
  });
});
