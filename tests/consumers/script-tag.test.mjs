// The script-tag build as a user takes it: the packed tarball installed with npm, the file that
// `cognito-session/script` resolves to copied next to a plain HTML page, `<script src>` and plain
// JS, in headless Chromium against moto's Cognito behind the rig's proxy. Also the demo's own
// page, www/script-tag.html, served the way scripts/demo.sh serves it (pkg/ under /pkg/), the
// page under a Content-Security-Policy without 'wasm-unsafe-eval' (LOAD_FAILED), and
// `cognito-session/web` in a page: BAD_CONFIG before init(), LOAD_FAILED for a missing file.
//
//   node --test tests/consumers/script-tag.test.mjs
//   (needs scripts/bootstrap.sh and tests/e2e/rig/setup.sh first; builds and packs what is stale)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CONSUMERS_DIR,
  REPO_ROOT,
  badTokenRequests,
  installApp,
  launchChromium,
  refreshCount,
  removeApp,
  startRig,
  startStaticServer,
  watchPage,
} from './lib.mjs';

const CALLS = 20;

let rig;
let browser;
let appDir;
let scriptFile;

before(async () => {
  appDir = await installApp(path.join(CONSUMERS_DIR, 'script-tag'));
  const resolved = createRequire(path.join(appDir, 'package.json')).resolve('cognito-session/script');
  scriptFile = path.join(appDir, 'cognito-session.js');
  fs.copyFileSync(resolved, scriptFile);
  rig = await startRig();
  browser = await launchChromium();
}, { timeout: 600000 });

after(async () => {
  if (browser) await browser.close();
  if (rig) await rig.stop();
  removeApp(appDir);
});

async function withSite(options, fn) {
  const site = await startStaticServer({ ...options, config: () => rig.control.config() });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const obs = watchPage(page);
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    return await fn({ site, page, obs, requests });
  } finally {
    await context.close();
    await site.close();
  }
}

describe('the script-tag build', { concurrency: false }, () => {
  test('is one classic script: the global defined with var, no module syntax', { timeout: 10000 }, () => {
    const text = fs.readFileSync(scriptFile, 'utf8');
    assert.ok(/\bvar CognitoSession\s*=/.test(text), 'defines the global with var');
    assert.ok(!/^\s*(import|export)\s/m.test(text), 'no import or export statement');
  });

  test('a plain page: Session usable on the next line, signs in, 20 concurrent session.fetch calls, 0 bad tokens', { timeout: 30000 }, async (t) => {
    rig.control.reset();
    await withSite({ dir: appDir }, async ({ site, page, obs, requests }) => {
      await page.goto(`${site.url}index.html`);
      const info = await page.evaluate(() => window.page.then((p) => ({ version: p.version, syncCheck: p.syncCheck })));
      const pkgVersion = JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules', 'cognito-session', 'package.json'), 'utf8')).version;
      assert.equal(info.version, pkgVersion);
      assert.deepEqual(info.syncCheck, { ok: true, signedIn: false }, 'a Session made synchronously right after the script tag');

      const signIn = await page.evaluate(() => window.page.then((p) => p.signIn()));
      assert.equal(signIn.status, 'signedIn', JSON.stringify(signIn));
      const results = await page.evaluate((n) => window.page.then((p) => Promise.all(Array.from({ length: n }, () => p.callApi()))), CALLS);
      assert.deepEqual(results.map((r) => r.status), Array(CALLS).fill(200));
      assert.equal(await page.textContent('#status'), 'signedIn');

      const c = rig.counts();
      assert.equal(c.api.ok, CALLS);
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.equal(refreshCount(c), 0, 'a fresh token needs no refresh');
      assert.deepEqual(requests.filter((u) => u.endsWith('.wasm')), [], 'no .wasm fetched');
      assert.deepEqual(obs.pageErrors, []);
      assert.deepEqual(obs.consoleErrors, []);
      t.diagnostic(`script tag file: ${fs.statSync(scriptFile).size} B`);
    });
  });

  test('the demo’s www/script-tag.html (pkg/ under /pkg/, as scripts/demo.sh serves it) signs in and calls the API', { timeout: 30000 }, async () => {
    rig.control.reset();
    const mounted = path.join(REPO_ROOT, 'pkg', 'script', 'cognito-session.js');
    assert.ok(fs.existsSync(mounted), `${mounted} exists (scripts/package.sh writes it)`);
    await withSite({ dir: path.join(REPO_ROOT, 'www'), mounts: { '/pkg/': path.join(REPO_ROOT, 'pkg') } }, async ({ site, page, obs }) => {
      await page.goto(`${site.url}script-tag.html`);
      await page.waitForSelector('#signin-button:not([disabled])', { timeout: 10000 });
      await page.click('#signin-button');
      await page.waitForFunction(() => document.getElementById('status').dataset.state === 'signedIn', null, { timeout: 10000 });
      await page.click('#call');
      await page.waitForFunction(() => /^200\b/.test(document.getElementById('result').textContent), null, { timeout: 10000 });
      await page.click('#signout');
      await page.waitForFunction(() => document.getElementById('status').dataset.state === 'signedOut', null, { timeout: 10000 });
      const c = rig.counts();
      assert.equal(c.api.ok, 1);
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.deepEqual(obs.pageErrors, []);
    });
  });

  test("under a Content-Security-Policy without 'wasm-unsafe-eval': new CognitoSession.Session() throws LOAD_FAILED, and ready rejects with it", { timeout: 30000 }, async () => {
    const policy = "script-src 'self' 'unsafe-inline'";
    await withSite({ dir: appDir, headers: () => ({ 'Content-Security-Policy': policy }) }, async ({ site, page }) => {
      await page.goto(`${site.url}index.html`);
      const syncCheck = await page.evaluate(() => syncCheck);
      assert.equal(syncCheck.ok, false);
      assert.match(syncCheck.error, /^CognitoSessionError: could not load the WebAssembly module \(serve that file; with a Content-Security-Policy, add 'wasm-unsafe-eval' to script-src\): /);
      const ready = await page.evaluate(() => CognitoSession.ready.then(() => 'resolved', (e) => ({ typed: CognitoSession.isSessionError(e), code: e.code, message: e.message })));
      assert.equal(ready.typed, true, JSON.stringify(ready));
      assert.equal(ready.code, 'LOAD_FAILED');
      assert.match(ready.message, /add 'wasm-unsafe-eval' to script-src\): .*Content Security Policy/i);
    });
  });
});

describe('cognito-session/web in a page, without a bundler', { concurrency: false }, () => {
  test('new Session() before init() throws BAD_CONFIG; init() from a missing URL rejects LOAD_FAILED; init() then loads it', { timeout: 30000 }, async () => {
    const web = path.join(appDir, 'node_modules', 'cognito-session', 'web');
    fs.writeFileSync(
      path.join(appDir, 'web.html'),
      `<!DOCTYPE html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module">
import init, { Session, isSessionError } from '/web/cognito_session.js';
const config = { userPoolId: 'us-east-1_AbC123', clientId: 'webprobe', storage: 'memory' };
const seen = (e) => ({ typed: isSessionError(e), code: e.code, message: e.message });
const out = {};
try { new Session(config); out.before = 'constructed'; } catch (e) { out.before = seen(e); }
out.missing = await init('/web/missing.wasm').then(() => 'loaded', seen);
out.loaded = await init().then(() => new Session(config).getSnapshot().signedIn, seen);
window.result = out;
</script>`,
    );
    await withSite({ dir: appDir, mounts: { '/web/': web } }, async ({ site, page, obs }) => {
      await page.goto(`${site.url}web.html`);
      const out = await page.waitForFunction(() => window.result, null, { timeout: 10000 }).then((h) => h.jsonValue());
      assert.deepEqual(out.before, { typed: true, code: 'BAD_CONFIG', message: 'the WebAssembly module is not loaded yet: await init() (or call initSync) before new Session()' });
      assert.equal(out.missing.code, 'LOAD_FAILED', JSON.stringify(out.missing));
      assert.match(out.missing.message, /^could not load http:\/\/127\.0\.0\.1:\d+\/web\/missing\.wasm \(serve that file; .*\): HTTP 404$/);
      assert.equal(out.loaded, false, 'a signed-out Session after init()');
      assert.deepEqual(obs.pageErrors, []);
    });
  });
});
