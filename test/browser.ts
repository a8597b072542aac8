// Shared pieces of the browser tests: Debian's Chromium through playwright-core, Firefox ESR
// through puppeteer-core (WebDriver BiDi), WebKitGTK through its WebDriver over plain HTTP, the
// built `serve` on a free loopback port, and the comparison that ignores wall-clock fields.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
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
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
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
 * Starts `serve` on `dataDir` and a headless Chromium before the enclosing describe's tests and
 * stops both after them (then runs `cleanup`); the returned object gives the page's base URL and
 * the browser once started.
 */
export function useServedChromium(dataDir: string, cleanup?: () => void): { readonly base: string; readonly browser: Browser } {
  let server: ChildProcess | undefined;
  let base = '';
  let browser: Browser | undefined;
  beforeAll(async () => {
    ({ server, base } = await startServe(dataDir));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    cleanup?.();
  });
  return {
    get base() {
      return base;
    },
    get browser() {
      return browser!;
    },
  };
}

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

// ---- Firefox and WebKit: one small driver interface, enough for the page's tests ----

export const FIREFOX = '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
/** Debian's WebKitGTK browser (in the architecture's lib folder), which WebKitWebDriver starts; it needs an X display: xvfb-run. */
export const MINIBROWSER = findMiniBrowser();
function findMiniBrowser(): string {
  const libs = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')) : [];
  const found = libs.map((d) => `/usr/lib/${d}/webkit2gtk-4.1/MiniBrowser`).find((f) => existsSync(f));
  return found ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
}
export const XVFB_RUN = '/usr/bin/xvfb-run';
export const HAS_FIREFOX = existsSync(FIREFOX);
export const HAS_WEBKIT = [WEBKIT_DRIVER, MINIBROWSER, XVFB_RUN].every((f) => existsSync(f));

/** Says loudly that a browser's tests did not run, and how to install it. */
export function warnIfAbsent(file: string, browser: string, present: boolean, install: string): void {
  if (!present) console.warn(`\n[${file}] SKIPPED in ${browser}: it is absent (${install}); these browser tests did not run.\n`);
}

/** A browser tab, as the cross-browser tests drive it. */
export interface BrowserDriver {
  /** e.g. `Firefox 153.8.0esr`, `WebKitGTK 2.50.6`. */
  readonly version: string;
  goto(url: string): Promise<void>;
  /** Runs `body`, an async function body (`return …`), in the page; resolves with its JSON result. */
  run<T>(body: string): Promise<T>;
  close(): Promise<void>;
}

/** Polls `condition` (an expression) in the page until it is truthy. */
export async function waitFor(driver: BrowserDriver, condition: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await driver.run<boolean>(`return Boolean(${condition});`)) return;
    if (Date.now() > until) {
      // What the page showed, so a timeout says more than that it happened.
      const shown = await driver
        .run<string>(
          `const t = (id) => document.querySelector('[data-testid=' + id + ']')?.textContent;
           return location.href + ' (' + document.readyState + '): status ' + JSON.stringify(t('status')) + ', error ' + JSON.stringify(t('error'));`,
        )
        .catch((e: Error) => `(page unreadable: ${e.message})`);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${condition}; ${shown}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Headless Firefox ESR over WebDriver BiDi. `language` sets navigator.language (its
 * intl.accept_languages pref), so a test can run the page in a locale of its choice; `prefs` adds
 * others (e.g. WebAssembly SIMD off).
 */
export async function launchFirefox(language: string, prefs: Record<string, unknown> = {}): Promise<BrowserDriver> {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: { 'intl.accept_languages': language, 'network.dns.disableIPv6': true, ...prefs },
  });
  const page = await browser.newPage();
  const version = (await browser.version()).replace(/^firefox\//i, 'Firefox ');
  return {
    version,
    goto: async (url) => void (await page.goto(url)),
    run: <T>(body: string) => page.evaluate(`(async () => { ${body} })()`) as Promise<T>,
    close: () => browser.close(),
  };
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

/**
 * WebKitGTK's MiniBrowser through WebKitWebDriver, spoken to as plain WebDriver HTTP (a handful of
 * endpoints), under xvfb-run since MiniBrowser has no headless mode. `env` is the browser's
 * environment: LANG=C.UTF-8 makes navigator.language "C", the case that once left the page blank.
 */
export async function launchWebKit(env: Record<string, string>): Promise<BrowserDriver> {
  const port = await freePort();
  // Its own process group, so the whole tree (xvfb-run, Xvfb, the driver, MiniBrowser) is ended together.
  const driver = spawn(XVFB_RUN, ['-a', WEBKIT_DRIVER, `--port=${port}`, '--host=127.0.0.1'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  const kill = () => {
    try {
      process.kill(-driver.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const endpoint = `http://127.0.0.1:${port}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${endpoint}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const json = (await res.json()) as { value: T & { error?: string; message?: string } };
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  };
  try {
    for (let i = 0; ; i++) {
      try {
        await fetch(`${endpoint}/status`);
        break;
      } catch (e) {
        if (i > 150) throw new Error(`WebKitWebDriver did not answer on port ${port}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const session = await call<{ sessionId: string; capabilities: { browserVersion: string } }>('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } },
    });
    const id = session.sessionId;
    await call('POST', `/session/${id}/timeouts`, { script: 120_000 });
    return {
      version: `WebKitGTK ${session.capabilities.browserVersion}`,
      goto: async (url) => void (await call('POST', `/session/${id}/url`, { url })),
      run: async <T>(body: string) => {
        const script = `const done = arguments[arguments.length - 1];
          (async () => { ${body} })().then((value) => done({ value }), (e) => done({ error: String(e) + (e && e.stack ? ' at ' + e.stack : '') }));`;
        const out = await call<{ value?: T; error?: string }>('POST', `/session/${id}/execute/async`, { script, args: [] });
        if (out.error !== undefined) throw new Error(`in WebKit: ${out.error}`);
        return out.value as T;
      },
      close: async () => {
        await call('DELETE', `/session/${id}`).catch(() => {});
        kill();
      },
    };
  } catch (e) {
    kill();
    throw e;
  }
}
