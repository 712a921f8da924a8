// A minimal W3C WebDriver (classic) client over fetch, for the engines playwright-core cannot
// drive with the system browsers: Firefox ESR through geckodriver and WebKitGTK through
// WebKitWebDriver. It starts the driver on a free 127.0.0.1 port, and for WebKit an Xvfb display
// when there is none (WebKitGTK's MiniBrowser needs one). Only what tests/e2e/engines.test.mjs
// uses: sessions (one per browser context: its own profile, so its own storage), windows in a
// session (which share that profile's localStorage), navigation, the current URL and scripts.
//
// Classic WebDriver runs one command at a time per session and only in the current window; the
// client queues commands per session and switches windows as needed, so two tabs' scripts
// interleave only at command boundaries. Tests that need concurrent work in two tabs start it in
// each (a script that returns at once) and collect it afterwards.

import { spawn } from 'node:child_process';
import { getFreePort } from '../rig/rig.mjs';

const HOST = '127.0.0.1';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts an Xvfb display (`-displayfd` picks a free one) and resolves `{display, stop()}`. */
export async function startXvfb() {
  const child = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not report a display within 10 s')), 10000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
  });
  return { display, stop: () => child.kill('SIGTERM') };
}

/**
 * Spawns a WebDriver server binary (`command` with `args(port)`) and waits until it answers
 * GET /status. Resolves `{url, stop()}`.
 */
export async function startDriver({ command, args, env = {} }) {
  const port = await getFreePort();
  const child = spawn(command, args(port), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  let exited = null;
  child.on('exit', (code) => {
    exited = code;
  });
  child.on('error', (e) => {
    exited = String(e);
  });
  const url = `http://${HOST}:${port}`;
  const until = Date.now() + 20000;
  for (;;) {
    if (exited !== null) throw new Error(`${command} exited (${exited}): ${stderr}`);
    try {
      const r = await fetch(`${url}/status`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`${command} did not answer on ${url} within 20 s: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    url,
    stop: async () => {
      if (exited !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
      if (exited === null) child.kill('SIGKILL');
    },
  };
}

/** A WebDriver error answer as an Error with its `error` code. */
class WebDriverError extends Error {
  constructor(method, path, body) {
    const v = body?.value ?? {};
    super(`${method} ${path}: ${v.error ?? 'error'}: ${String(v.message ?? JSON.stringify(body)).slice(0, 500)}`);
    this.error = v.error;
  }
}

async function call(base, method, path, body, timeoutMs = 150000) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path}: HTTP ${r.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (!r.ok) throw new WebDriverError(method, path, parsed);
  return parsed.value;
}

/**
 * The script WebDriver runs for `evaluate(fn, arg)`: calls the function (its source pasted in, so
 * no eval and no Content-Security-Policy exemption needed), awaits it, and hands back
 * `{ok, value}` or `{ok: false, error}` so a rejection arrives as data.
 */
function asyncScript(fn) {
  return `const done = arguments[arguments.length - 1];
const arg = arguments[0];
Promise.resolve().then(() => (${fn.toString()})(arg)).then(
  (value) => done({ ok: true, value: value === undefined ? null : value }),
  (e) => done({ ok: false, error: String(e) + ' ' + String((e && e.stack) || '') }),
);`;
}

/**
 * One WebDriver session: a browser with its own fresh profile. `capabilities` go in
 * `alwaysMatch`. Resolves `{capabilities, newContext(), close()}`. A context is a set of windows
 * of this session (they share the profile's localStorage, each has its own sessionStorage);
 * closing it closes them and wipes what they left: the web storage of every origin they were
 * seen at and the cookies. So each context starts clean without the seconds a new browser
 * takes (Firefox: about 3 s to start, 1 s to stop). The session's first window is kept, blank,
 * for that wiping: a session ends with its last window.
 */
export async function openSession(driverUrl, capabilities) {
  const created = await call(driverUrl, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } }, 60000);
  const base = `${driverUrl}/session/${created.sessionId}`;
  await call(base, 'POST', '/timeouts', { script: 140000, pageLoad: 30000, implicit: 0 });
  const home = await call(base, 'GET', '/window');
  let current = home;
  let queue = Promise.resolve();
  // One command at a time, in the window it is for.
  const run = (handle, method, path, body) => {
    const next = queue.then(async () => {
      if (handle !== current) {
        await call(base, 'POST', '/window', { handle });
        current = handle;
      }
      return call(base, method, path, body);
    });
    queue = next.catch(() => {});
    return next;
  };

  function page(handle) {
    return {
      async goto(url) {
        await run(handle, 'POST', '/url', { url });
      },
      async reload() {
        await run(handle, 'POST', '/refresh', {});
      },
      async url() {
        return run(handle, 'GET', '/url');
      },
      async evaluate(fn, arg = null) {
        const out = await run(handle, 'POST', '/execute/async', { script: asyncScript(fn), args: [arg] });
        if (!out?.ok) throw new Error(`script failed in the page: ${out?.error ?? JSON.stringify(out)}`);
        return out.value;
      },
      async close() {
        await run(handle, 'DELETE', '/window').catch(() => {});
      },
    };
  }

  return {
    capabilities: created.capabilities,
    newContext() {
      const handles = [];
      const origins = new Set();
      const seen = (url) => {
        if (/^https?:/.test(url)) origins.add(new URL(url).origin);
        return url;
      };
      return {
        async newPage() {
          // A window rather than a tab: a background tab's timers may be throttled.
          const made = await run(current, 'POST', '/window/new', { type: 'window' });
          handles.push(made.handle);
          const p = page(made.handle);
          return { ...p, goto: (url) => p.goto(seen(url)), url: async () => seen(await p.url()) };
        },
        async close() {
          for (const handle of handles) await run(handle, 'DELETE', '/window').catch(() => {});
          for (const origin of origins) {
            await run(home, 'POST', '/url', { url: `${origin}/favicon.ico` }).catch(() => {});
            await run(home, 'POST', '/execute/sync', { script: 'localStorage.clear(); sessionStorage.clear(); return true;', args: [] }).catch(() => {});
            // Cookies belong to the host, whatever the port: this clears 127.0.0.1's.
            await run(home, 'DELETE', '/cookie').catch(() => {});
          }
          await run(home, 'POST', '/url', { url: 'about:blank' }).catch(() => {});
        },
      };
    },
    async close() {
      await queue;
      await call(base, 'DELETE', '', undefined, 20000).catch(() => {});
    },
  };
}
