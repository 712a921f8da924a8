// The script-tag build as a user takes it: the packed tarball installed with npm, the file that
// `cognito-session/script` resolves to copied next to a plain HTML page, `<script src>` and plain
// JS, in headless Chromium against moto's Cognito behind the rig's proxy. Also the demo's own
// page, www/script-tag.html, served the way scripts/demo.sh serves it (pkg/ under /pkg/).
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
});
