// The three browser engines the end-to-end contract runs in, behind one small interface, so the
// contract's scenarios (tests/e2e/rig/contract.mjs) are written once and run in each of them
// (tests/e2e/engines.test.mjs) and on both drivers' harness pages in Chromium
// (session.test.mjs, rust.test.mjs):
//
//   const engine = await launchEngine('firefox');   // 'chromium' | 'firefox' | 'webkit'
//   engine.version                                  // e.g. "Firefox 153.8.0esr"
//   const context = await engine.newContext();      // fresh storage (cookies, web storage)
//   const page = await context.newPage();           // another tab of that context
//   await page.goto(url); await page.evaluate(fn, arg); await page.url(); await page.reload();
//   await page.waitForURL((u) => ..., {timeout});   // polls the page's URL
//   await page.pageErrors();                        // uncaught errors in the page (see below)
//   page.observer                                   // Playwright only: ./playwright.mjs
//   await context.close(); await engine.close();
//
// Chromium: Debian's chromium through playwright-core (./playwright.mjs, tests/e2e/rig/browser.mjs);
// `engineOf(browser)` wraps a browser a suite launched itself. Firefox:
// Debian's firefox-esr through geckodriver (`cargo install geckodriver`). WebKit: WebKitGTK's
// MiniBrowser through WebKitWebDriver (Debian's webkit2gtk-driver), on an Xvfb display started
// here when DISPLAY is unset. Firefox and WebKit go over classic WebDriver (./webdriver.mjs): one
// WebDriver session per engine, a context is windows of it whose storage and cookies are wiped
// when it closes, a page a window. WebDriver has no network observer, so the scenarios count on
// the rig's side; page errors are recorded in the page (`watchErrors`, run after every `goto` and
// `reload`), so `pageErrors()` sees the current document's (a document the page navigated to on
// its own has no record: it throws), plus, in Chromium, the observer's.
// Paths: CHROMIUM, FIREFOX, GECKODRIVER, WEBKIT_WEBDRIVER, WEBKIT_BROWSER (environment).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launchChromium } from '../rig/browser.mjs';
import { playwrightEngine } from './playwright.mjs';
import { openSession, startDriver, startXvfb } from './webdriver.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const ENGINES = ['chromium', 'firefox', 'webkit'];

const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const WEBKIT_WEBDRIVER = process.env.WEBKIT_WEBDRIVER || '/usr/bin/WebKitWebDriver';

function geckodriverPath() {
  if (process.env.GECKODRIVER) return process.env.GECKODRIVER;
  const cargoBin = path.join(os.homedir(), '.cargo', 'bin', 'geckodriver');
  return fs.existsSync(cargoBin) ? cargoBin : 'geckodriver';
}

/** MiniBrowser of the installed WebKitGTK (the package's libexec directory varies by arch). */
function webkitBrowserPath() {
  if (process.env.WEBKIT_BROWSER) return process.env.WEBKIT_BROWSER;
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/libexec']) {
    for (const api of ['webkitgtk-6.0', 'webkit2gtk-4.1', 'webkit2gtk-4.0']) {
      const p = path.join(dir, api, 'MiniBrowser');
      if (fs.existsSync(p)) return p;
    }
  }
  return null;
}

/** Whether `name` can run here (its browser and driver are installed): `{ok, why}`. */
export function available(name) {
  const exists = (p) => p && (p.includes('/') ? fs.existsSync(p) : whichOk(p));
  if (name === 'chromium') return exists(process.env.CHROMIUM || '/usr/bin/chromium') ? { ok: true } : { ok: false, why: 'no chromium (scripts/bootstrap.sh installs it)' };
  if (name === 'firefox') {
    if (!exists(FIREFOX)) return { ok: false, why: `no ${FIREFOX} (apt-get install firefox-esr)` };
    if (!exists(geckodriverPath())) return { ok: false, why: 'no geckodriver (cargo install geckodriver)' };
    return { ok: true };
  }
  if (name === 'webkit') {
    if (!exists(WEBKIT_WEBDRIVER)) return { ok: false, why: `no ${WEBKIT_WEBDRIVER} (apt-get install webkit2gtk-driver)` };
    if (!webkitBrowserPath()) return { ok: false, why: 'no WebKitGTK MiniBrowser (apt-get install webkit2gtk-driver)' };
    if (!process.env.DISPLAY && !whichOk('Xvfb')) return { ok: false, why: 'no DISPLAY and no Xvfb (apt-get install xvfb)' };
    return { ok: true };
  }
  return { ok: false, why: `unknown engine ${name}` };
}

function whichOk(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Polls `page.url()` until `predicate(new URL(url))`; navigations in flight may make a read fail. */
async function waitForURL(page, predicate, { timeout = 10000 } = {}) {
  const until = Date.now() + timeout;
  let last = null;
  for (;;) {
    try {
      last = await page.url();
      if (predicate(new URL(last))) return;
    } catch {
      // the page is between documents
    }
    if (Date.now() > until) throw new Error(`waitForURL: still at ${last} after ${timeout} ms`);
    await sleep(50);
  }
}

/** Records uncaught errors and unhandled rejections in the page: `window.__pageErrors`. */
export function watchErrors() {
  window.__pageErrors = [];
  window.addEventListener('error', (e) => window.__pageErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => window.__pageErrors.push(String(e.reason?.stack || e.reason)));
  return true;
}

/** A page of either driver with the interface's common parts: `goto` and `reload` that start
 * `watchErrors`, `waitForURL`, `pageErrors`. */
function common(page) {
  return {
    ...page,
    async goto(url) {
      await page.goto(url);
      await page.evaluate(watchErrors);
    },
    async reload() {
      await page.reload();
      await page.evaluate(watchErrors);
    },
    waitForURL: (predicate, options) => waitForURL(page, predicate, options),
    async pageErrors() {
      const inPage = await page.evaluate(() => window.__pageErrors ?? null);
      if (inPage === null) throw new Error(`pageErrors: no record in ${await page.url()} (a document not loaded with goto or reload)`);
      return [...(page.observer?.obs.pageErrors ?? []), ...inPage];
    },
  };
}

/** An engine whose pages have `common`'s parts. */
function wrapEngine(engine) {
  return {
    ...engine,
    async newContext() {
      const context = await engine.newContext();
      return { ...context, newPage: async () => common(await context.newPage()) };
    },
  };
}

async function launchWebDriver(name) {
  const stops = [];
  try {
    let capabilities;
    let driver;
    if (name === 'firefox') {
      driver = await startDriver({ command: geckodriverPath(), args: (port) => ['--host', '127.0.0.1', '--port', String(port), '--log', 'error'] });
      capabilities = {
        browserName: 'firefox',
        'moz:firefoxOptions': {
          binary: FIREFOX,
          args: ['-headless'],
          // No update checks, telemetry or other calls out (the network here is closed).
          prefs: { 'app.update.enabled': false, 'datareporting.policy.dataSubmissionEnabled': false, 'network.captive-portal-service.enabled': false },
        },
      };
    } else {
      let env = {};
      if (!process.env.DISPLAY) {
        const xvfb = await startXvfb();
        stops.push(xvfb.stop);
        env = { DISPLAY: xvfb.display };
      }
      driver = await startDriver({ command: WEBKIT_WEBDRIVER, args: (port) => [`--port=${port}`], env });
      capabilities = { 'webkitgtk:browserOptions': { binary: webkitBrowserPath(), args: ['--automation'] } };
    }
    stops.unshift(driver.stop);
    // One browser for every context: a context is windows of it, wiped when closed.
    const session = await openSession(driver.url, capabilities);
    stops.unshift(() => session.close());
    const label = name === 'firefox' ? 'Firefox' : 'WebKitGTK';
    return {
      name,
      version: `${label} ${session.capabilities?.browserVersion ?? '?'}`,
      async newContext() {
        return session.newContext();
      },
      async close() {
        for (const stop of stops) await stop();
      },
    };
  } catch (e) {
    for (const stop of stops) await stop();
    throw e;
  }
}

/** Launches `name` (one of ENGINES). */
export async function launchEngine(name) {
  if (name === 'chromium') return wrapEngine(playwrightEngine(await launchChromium(), { owned: true }));
  if (name === 'firefox' || name === 'webkit') return wrapEngine(await launchWebDriver(name));
  throw new Error(`unknown engine ${name}`);
}

/** A Playwright browser a suite launched itself (session.test.mjs, rust.test.mjs) as an engine
 * of this interface; closing the engine leaves the browser open. */
export function engineOf(browser) {
  return wrapEngine(playwrightEngine(browser));
}
