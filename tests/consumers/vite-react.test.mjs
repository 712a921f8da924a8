// A user's Vite + React app, installed from the packed tarball (`import { Session } from
// "cognito-session"`, the bundler entry), built with `vite build` and run in headless Chromium
// against moto's Cognito behind the rig's proxy. A component subscribed with
// useSyncExternalStore must re-render when the session signs in, when a refresh replaces the
// token (short-lived tokens make the session refresh on its own) and when it signs out.
//
//   node --test tests/consumers/vite-react.test.mjs
//   (needs scripts/bootstrap.sh and tests/e2e/rig/setup.sh first; builds and packs what is stale)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { badTokenRequests, builtApp, listFiles, refreshCount, viteBuild, watchPage } from './lib.mjs';

// moto's tokens re-signed to live 35 s: with the session's 30 s margin it refreshes each one a
// few seconds after it arrives.
const SHORT_LIFETIME_S = 35;

let rig;
let site;
let browser;
let appDir;
let dist;

const app = builtApp('vite-react', viteBuild);
before(async () => {
  ({ appDir, dist, rig, site, browser } = await app.start());
}, { timeout: 600000 });
after(() => app.stop());

async function openApp(query = '') {
  const context = await browser.newContext();
  const page = await context.newPage();
  const obs = watchPage(page);
  await page.goto(`${site.url}${query}`);
  await page.waitForFunction(() => window.appReady === true, null, { timeout: 10000 });
  return { page, obs, close: () => context.close() };
}

const status = (page) =>
  page.evaluate(() => {
    const el = document.getElementById('status');
    return { signedIn: el.dataset.signedIn, expiresAt: el.dataset.expiresAt, renders: Number(el.dataset.renders), text: el.textContent };
  });

describe('a Vite + React app using the packed package', { concurrency: false }, () => {
  test('the build ships the package’s .wasm as an asset, byte for byte', { timeout: 10000 }, (t) => {
    const files = listFiles(dist);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `one .wasm in dist: ${files.join(', ')}`);
    const wasmBytes = fs.statSync(path.join(dist, wasm[0])).size;
    const packaged = fs.statSync(path.join(appDir, 'node_modules', 'cognito-session', 'bundler', 'cognito_session_bg.wasm')).size;
    assert.equal(wasmBytes, packaged, 'the shipped .wasm is the package’s, byte for byte');
    const js = files.filter((f) => f.endsWith('.js')).reduce((n, f) => n + fs.statSync(path.join(dist, f)).size, 0);
    t.diagnostic(`vite build: ${wasm[0]} ${wasmBytes} B, JS (React included) ${js} B`);
  });

  test('signs in, re-renders on every refresh and on sign-out, and calls the API with good tokens only', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    rig.control.setTokenLifetime(SHORT_LIFETIME_S);
    const { page, obs, close } = await openApp();
    try {
      const before = await status(page);
      assert.equal(before.signedIn, 'false', JSON.stringify(before));

      await page.click('#sign-in');
      await page.waitForSelector('#status[data-signed-in="true"]', { timeout: 10000 });
      const signedIn = await status(page);
      const firstExpiry = Number(signedIn.expiresAt);
      assert.ok(Math.abs(firstExpiry - (Date.now() + SHORT_LIFETIME_S * 1000)) < 5000, `expiresAt ${firstExpiry} is about ${SHORT_LIFETIME_S} s ahead`);

      // The session refreshes on its own; the component must render the new expiry.
      await page.waitForFunction((e) => Number(document.getElementById('status').dataset.expiresAt) > e, firstExpiry, { timeout: 20000 });
      const refreshed = await status(page);
      assert.ok(refreshed.renders > signedIn.renders, `re-rendered after the refresh: ${JSON.stringify({ signedIn, refreshed })}`);
      const snap = await page.evaluate(() => window.app.session.getSnapshot());
      assert.equal(String(snap.expiresAt), refreshed.expiresAt, 'the rendered expiry is the session’s');
      assert.ok(refreshCount(rig.counts()) >= 1, 'the proxy saw the refresh');

      const call = await page.evaluate(() => window.app.callApi());
      assert.equal(call.status, 200, JSON.stringify(call));

      await page.click('#sign-out');
      await page.waitForSelector('#status[data-signed-in="false"]', { timeout: 10000 });
      const out = await status(page);
      assert.ok(out.renders > refreshed.renders, 're-rendered on sign-out');
      assert.equal(out.expiresAt, 'null');

      const c = rig.counts();
      assert.equal(c.api.ok, 1);
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.deepEqual(obs.pageErrors, []);
      assert.deepEqual(obs.consoleErrors, []);
      t.diagnostic(`renders: ${signedIn.renders} signed in, ${refreshed.renders} after the refresh, ${out.renders} signed out; ${refreshCount(c)} refreshes`);
    } finally {
      rig.control.setTokenLifetime(null);
      await close();
    }
  });
});
