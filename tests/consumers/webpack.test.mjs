// A user's webpack 5 app, installed from the packed tarball (`import { Session } from
// "cognito-session"`, the main entry) and built with no setting for the package (the README asks
// webpack users for none), run in headless Chromium against moto's Cognito behind the rig's proxy.
//
//   node --test tests/consumers/webpack.test.mjs
//   (needs scripts/bootstrap.sh and tests/e2e/rig/setup.sh first; builds and packs what is stale)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { badTokenRequests, builtApp, listFiles, refreshCount, watchPage, webpackBuild } from './lib.mjs';

let rig;
let site;
let browser;
let appDir;
let dist;

const app = builtApp('webpack-app', webpackBuild);
before(async () => {
  ({ appDir, dist, rig, site, browser } = await app.start());
}, { timeout: 600000 });
after(() => app.stop());

describe('a webpack 5 app using the packed package', { concurrency: false }, () => {
  test('the build emits the package’s .wasm as its own file, byte for byte', { timeout: 10000 }, (t) => {
    const files = listFiles(dist);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `one .wasm in dist: ${files.join(', ')}`);
    const emitted = fs.readFileSync(path.join(dist, wasm[0]));
    const packaged = fs.readFileSync(path.join(appDir, 'node_modules', 'cognito-session', 'bundler', 'cognito_session_bg.wasm'));
    assert.ok(emitted.equals(packaged), 'the emitted .wasm is the package’s');
    const js = files.filter((f) => f.endsWith('.js')).reduce((n, f) => n + fs.statSync(path.join(dist, f)).size, 0);
    t.diagnostic(`webpack build: ${wasm[0]} ${emitted.length} B, JS ${js} B`);
  });

  test('signs in, sends 20 concurrent API calls with good tokens only, signs out to NOT_SIGNED_IN', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const obs = watchPage(page);
      await page.goto(site.url);
      await page.waitForFunction(() => window.appReady === true, null, { timeout: 10000 });

      const before = await page.evaluate(() => window.app.token());
      assert.equal(before.code, 'NOT_SIGNED_IN', JSON.stringify(before));
      const signedIn = await page.evaluate(() => window.app.signIn());
      assert.deepEqual(signedIn, { ok: true, value: { status: 'signedIn' } });
      const statuses = await page.evaluate(() => window.app.burst(20));
      assert.deepEqual(statuses, Array(20).fill({ ok: true, value: 200 }));
      const out = await page.evaluate(() => window.app.signOut());
      assert.equal(out.ok, true, JSON.stringify(out));
      const after = await page.evaluate(() => window.app.token());
      assert.equal(after.code, 'NOT_SIGNED_IN', JSON.stringify(after));

      const c = rig.counts();
      assert.equal(c.api.ok, 20);
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.equal(refreshCount(c), 0, 'fresh tokens need no refresh');
      assert.deepEqual(obs.pageErrors, []);
      assert.deepEqual(obs.consoleErrors, []);
      t.diagnostic(`webpack app: signed in, ${c.api.ok} API calls with good tokens, 0 bad, signed out`);
    } finally {
      await context.close();
    }
  });
});
