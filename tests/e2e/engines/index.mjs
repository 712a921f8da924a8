// The three browser engines the end-to-end contract runs in, behind one small interface, so
// tests/e2e/engines.test.mjs is written once:
//
//   const engine = await launchEngine('firefox');   // 'chromium' | 'firefox' | 'webkit'
//   engine.version                                  // e.g. "Firefox 153.8.0esr"
//   const context = await engine.newContext();      // fresh storage (cookies, web storage)
//   const page = await context.newPage();           // another tab of that context
//   await page.goto(url); await page.evaluate(fn, arg); await page.url(); await page.reload();
//   await page.waitForURL((u) => ..., {timeout});   // polls the page's URL
//   await context.close(); await engine.close();
//
// Chromium: Debian's chromium through playwright-core (tests/e2e/rig/browser.mjs). Firefox:
// Debian's firefox-esr through geckodriver (`cargo install geckodriver`). WebKit: WebKitGTK's
// MiniBrowser through WebKitWebDriver (Debian's webkit2gtk-driver), on an Xvfb display started
// here when DISPLAY is unset. Firefox and WebKit go over classic WebDriver (./webdriver.mjs): one
// WebDriver session per engine, a context is windows of it whose storage and cookies are wiped
// when it closes, a page a window. Page observers
// (network, page errors) differ per driver, so the suite counts on the rig's side instead.
// Paths: CHROMIUM, FIREFOX, GECKODRIVER, WEBKIT_WEBDRIVER, WEBKIT_BROWSER (environment).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launchChromium } from '../rig/browser.mjs';
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

/** Adds `waitForURL` to a page of either driver. */
function withWait(page) {
  return { ...page, waitForURL: (predicate, options) => waitForURL(page, predicate, options) };
}

async function launchPlaywrightChromium() {
  const browser = await launchChromium();
  return {
    name: 'chromium',
    version: `Chromium ${browser.version()}`,
    async newContext() {
      const context = await browser.newContext();
      return {
        async newPage() {
          const p = await context.newPage();
          return withWait({
            goto: (url) => p.goto(url).then(() => undefined),
            reload: () => p.reload().then(() => undefined),
            url: async () => p.url(),
            evaluate: (fn, arg = null) => p.evaluate(fn, arg),
            close: () => p.close(),
          });
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
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
        const context = session.newContext();
        return {
          newPage: async () => withWait(await context.newPage()),
          close: () => context.close(),
        };
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
  if (name === 'chromium') return launchPlaywrightChromium();
  if (name === 'firefox' || name === 'webkit') return launchWebDriver(name);
  throw new Error(`unknown engine ${name}`);
}
