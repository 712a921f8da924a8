// End-to-end tests of token signature checks (issue 14): the built module (pkg/web/) in headless
// Chromium against moto behind the rig's fault proxy. moto serves its key set at
// /<pool>/.well-known/jwks.json and signs every token with that one key (kid "dummy"), so the
// session's default key location (the pool's JWKS under `endpoint`) checks moto's tokens for
// real; the proxy alters answers (a changed signature byte, `alg: none`, HS256 keyed with the
// public key) and the protected API counts every request that carries a token it does not accept.
//
//   node --test tests/e2e/verify.test.mjs    (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, alterSignature, decodeJwt, forgeAlg, startRig } from './rig/rig.mjs';
import { launchChromium } from './rig/browser.mjs';
import { startStaticServer } from './rig/serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const HARNESS = 'tests/e2e/pages/harness.html';
const nowS = () => Math.floor(Date.now() / 1000);

let rig;
let site;
let browser;

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh`);
  rig = await startRig();
  site = await startStaticServer({ dir: REPO_ROOT, config: () => rig.control.config() });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (site) await site.close();
  if (rig) await rig.stop();
});

async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  await page.goto(`${site.url}${HARNESS}`);
  await page.evaluate(() => window.H.ready);
  return { page, context, pageErrors, close: () => context.close() };
}

/** moto's refresh token with an access token ten minutes expired (signed with moto's key). */
async function expiredSession() {
  const ar = await rig.control.signIn();
  const accessToken = rig.control.mintToken({ tokenUse: 'access', iat: nowS() - 3600, expiresInS: 3000 });
  return { accessToken, refreshToken: ar.RefreshToken };
}

const count = (op) => rig.counts().proxy.byOperation[op]?.total ?? 0;
const refreshes = () => rig.counts().proxy.refresh.total;
const badApiRequests = () => rig.counts().api.total - rig.counts().api.ok;

function byCode(results) {
  const out = {};
  for (const r of results) {
    const k = r.ok ? 'ok' : (r.code ?? `untyped ${r.name}: ${r.message}`);
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

function fresh() {
  rig.control.reset();
  rig.control.setTokenLifetime(null);
}

describe('token signatures checked in Chromium against moto behind the fault proxy', { concurrency: false }, () => {
  test('50 concurrent calls at start-up → 1 key-set request and 1 refresh; the tokens are moto-signed and pass the API', { timeout: 30000 }, async (t) => {
    fresh();
    const { page, close, pageErrors } = await openPage();
    try {
      await page.evaluate(() => window.H.make());
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), await expiredSession()), { ok: true });
      // Start-up: a new page load of the tab resumes the stored session, with no key set yet.
      await page.reload();
      await page.evaluate(() => window.H.ready);
      rig.control.reset();
      await page.evaluate(() => window.H.make());
      assert.equal(await page.evaluate(() => window.H.keysRecord()), null, 'the key set was fetched before it was needed');
      const results = await page.evaluate(() => window.H.tokens(50));
      assert.deepEqual(byCode(results), { ok: 50 });
      assert.equal(count('jwks'), 1, 'key-set requests');
      assert.equal(refreshes(), 1, 'refresh requests');
      assert.equal(new Set(results.map((r) => r.value)).size, 1);
      assert.equal(decodeJwt(results[0].value).header.kid, 'dummy');
      const calls = await page.evaluate(() => window.H.burst(5));
      assert.deepEqual(calls.map((c) => c.value?.status), [200, 200, 200, 200, 200]);
      assert.equal(badApiRequests(), 0);
      const snapshot = await page.evaluate(() => window.H.snapshot());
      assert.equal(snapshot.verifyTokens, true);
      const keys = await page.evaluate(() => window.H.keysRecord());
      assert.equal(keys.url, rig.jwksUrl, 'the pool’s key set under `endpoint`');
      assert.ok(keys.until - keys.at >= 3_600_000, 'kept at least an hour');
      // A second load of the tab uses the stored key set.
      await page.reload();
      await page.evaluate(() => window.H.ready);
      await page.evaluate(() => window.H.make());
      assert.deepEqual(byCode(await page.evaluate(() => window.H.tokens(10))), { ok: 10 });
      assert.equal(count('jwks'), 1, 'the stored key set was fetched again');
      assert.deepEqual(pageErrors, []);
      t.diagnostic(`50 callers at start-up: ${count('jwks')} key-set request, ${refreshes()} refresh`);
    } finally {
      await close();
    }
  });

  test('a refresh answered with an altered signature: never sent, callers get BAD_RESPONSE, the refresh token is kept and the next good answer is used', { timeout: 60000 }, async () => {
    fresh();
    const { page, close, pageErrors } = await openPage();
    try {
      await page.evaluate(() => window.H.make());
      const session = await expiredSession();
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), session), { ok: true });
      // Two altered answers in a row: the second failure backs off for at least 4 s, so a
      // caller that waits 1.5 s is told whatever the first retry's jitter.
      rig.control.setFault({ mode: 'bad-signature', count: 2 });
      const failed = await page.evaluate(() => window.H.tokens(5, 1500));
      assert.deepEqual(byCode(failed), { BAD_RESPONSE: 5 }, JSON.stringify(failed[0]));
      assert.equal(await page.evaluate(() => window.H.snapshot().signedIn), true);
      // API calls meanwhile wait for a good token (the next answer, within their 10 s) or fail
      // typed; the API never sees an altered one.
      const calls = await page.evaluate(() => window.H.burst(3));
      assert.ok(calls.every((c) => c.value?.status === 200 || c.code === 'BAD_RESPONSE'), JSON.stringify(calls));
      assert.equal(badApiRequests(), 0, 'an altered token reached the API');
      assert.equal((await page.evaluate(() => window.H.record())).refresh, session.refreshToken, 'the refresh token was lost');
      // The next (good) answer is used.
      const later = await page.evaluate(() => window.H.tokens(1, 40000));
      assert.deepEqual(byCode(later), { ok: 1 });
      const ok = await page.evaluate(() => window.H.burst(2));
      assert.deepEqual(ok.map((c) => c.value?.status), [200, 200]);
      assert.equal(badApiRequests(), 0);
      const sent = rig.counts().proxy.events.filter((e) => e.op === 'InitiateAuth/REFRESH_TOKEN_AUTH');
      assert.ok(sent.length >= 3, `refreshes: ${sent.length}`);
      assert.deepEqual(pageErrors, []);
    } finally {
      await close();
    }
  });

  test('alg none and HS256 keyed with the public key are refused from the token endpoint and from setTokens', { timeout: 90000 }, async () => {
    for (const alg of ['none', 'HS256']) {
      fresh();
      const { page, close } = await openPage();
      try {
        await page.evaluate(() => window.H.make());
        assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), await expiredSession()), { ok: true });
        rig.control.setFault({ mode: 'forged-alg', alg, count: 2 });
        const failed = await page.evaluate(() => window.H.tokens(3, 1500));
        assert.deepEqual(byCode(failed), { BAD_RESPONSE: 3 }, `${alg}: ${JSON.stringify(failed[0])}`);
        assert.equal(rig.counts().api.total, 0);
        assert.equal(await page.evaluate(() => window.H.snapshot().signedIn), true);
      } finally {
        await close();
      }
    }
    // Handed in by the app: the forged token is never handed out; the refresh token gets new ones.
    // (The key set read here goes through the proxy too: before counting.)
    const pem = await publicPem();
    fresh();
    const { page, close } = await openPage();
    try {
      await page.evaluate(() => window.H.make());
      const ar = await rig.control.signIn();
      const forged = forgeAlg(rig.control.mintToken({ tokenUse: 'access' }), 'HS256', pem);
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), { accessToken: forged, refreshToken: ar.RefreshToken }), { ok: true });
      const calls = await page.evaluate(() => window.H.burst(3));
      assert.deepEqual(calls.map((c) => c.value?.status), [200, 200, 200]);
      assert.equal(badApiRequests(), 0, 'the forged token reached the API');
      const events = await page.evaluate(() => window.H.events.map((e) => e.type));
      assert.ok(events.includes('tokenRejected'), events.join());
      assert.equal(refreshes(), 1);
      assert.equal(count('jwks'), 1, 'one key-set request, for the refreshed tokens');
    } finally {
      await close();
    }
  });

  test('a stored token with an altered signature is discarded with an event and no API request carries it', { timeout: 30000 }, async () => {
    fresh();
    const { page, close, pageErrors } = await openPage();
    try {
      await page.evaluate(() => window.H.make());
      const ar = await rig.control.signIn();
      const good = rig.control.mintToken({ tokenUse: 'access' });
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), { accessToken: good, refreshToken: ar.RefreshToken }), { ok: true });
      // Someone alters the stored token; the tab loads again.
      const altered = alterSignature(good);
      await page.evaluate(
        ([from, to]) => {
          for (let i = 0; i < sessionStorage.length; i += 1) {
            const key = sessionStorage.key(i);
            const value = sessionStorage.getItem(key);
            if (value.includes(from)) sessionStorage.setItem(key, value.replace(from, to));
          }
        },
        [good, altered],
      );
      await page.reload();
      await page.evaluate(() => window.H.ready);
      rig.control.reset();
      await page.evaluate(() => window.H.make());
      const calls = await page.evaluate(() => window.H.burst(3));
      assert.deepEqual(calls.map((c) => c.value?.status), [200, 200, 200]);
      assert.equal(badApiRequests(), 0, 'the altered token reached the API');
      const events = await page.evaluate(() => window.H.events);
      const rejected = events.filter((e) => e.type === 'tokenRejected');
      assert.equal(rejected.length, 1, JSON.stringify(events));
      assert.equal(rejected[0].detail, 'bad JWT signature');
      assert.equal(refreshes(), 1, 'the refresh token got new tokens');
      assert.notEqual((await page.evaluate(() => window.H.record())).access, altered);
      assert.deepEqual(pageErrors, []);
    } finally {
      await close();
    }
  });

  test('a key set that is not served with CORS is a BAD_CONFIG error naming it, not a failed refresh', { timeout: 30000 }, async () => {
    fresh();
    // The key set, served without Access-Control-Allow-Origin.
    const jwks = (await fetch(rig.jwksUrl).then((r) => r.text()));
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(jwks);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${server.address().port}/jwks.json`;
    const { page, close } = await openPage();
    try {
      await page.evaluate((jwksUri) => window.H.make({ jwksUri }), uri);
      const ar = await rig.control.signIn();
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), { accessToken: ar.AccessToken, refreshToken: ar.RefreshToken }), { ok: true });
      const [r] = await page.evaluate(() => window.H.tokens(1, 5000));
      assert.equal(r.code, 'BAD_CONFIG', JSON.stringify(r));
      assert.ok(r.message.includes(uri), r.message);
      assert.equal(refreshes(), 0);
      assert.equal(await page.evaluate(() => window.H.snapshot().signedIn), true);
      // verifyTokens: false turns the checks off, and the snapshot says so.
      await page.evaluate((jwksUri) => window.H.make({ jwksUri, verifyTokens: false }), uri);
      assert.equal(await page.evaluate(() => window.H.snapshot().verifyTokens), false);
    } finally {
      await close();
      server.close();
    }
  });

  for (const [mode, code] of [
    ['unavailable', 'UNAVAILABLE'],
    ['throttle', 'THROTTLED'],
  ]) {
    test(`the key set answering ${mode} for 30 s: nobody is signed out, attempts are bounded, callers get ${code} with retryAt`, { timeout: 120000 }, async (t) => {
      fresh();
      const { page, close, pageErrors } = await openPage();
      try {
        await page.evaluate(() => window.H.make());
        assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), await expiredSession()), { ok: true });
        rig.control.setFault({ mode, operations: ['jwks'], forMs: 30000 });
        const early = await page.evaluate(() => window.H.tokens(1, 2000));
        assert.equal(early[0].code, code, JSON.stringify(early));
        assert.ok(early[0].retryAt > Date.now() - 5000, 'no retryAt');
        const waiting = await page.evaluate(() => window.H.tokens(1, 90000));
        assert.deepEqual(byCode(waiting), { ok: 1 }, JSON.stringify(waiting));
        const attempts = count('jwks');
        assert.ok(attempts >= 2 && attempts <= 9, `key-set requests: ${attempts}`);
        assert.equal(refreshes(), 1, 'the refresh answer was kept while the keys were away');
        assert.deepEqual(await page.evaluate(() => window.H.loginRequired), []);
        const calls = await page.evaluate(() => window.H.burst(2));
        assert.deepEqual(calls.map((c) => c.value?.status), [200, 200]);
        assert.equal(badApiRequests(), 0);
        assert.deepEqual(pageErrors, []);
        t.diagnostic(`key set ${mode} 30 s: ${attempts} key-set requests, ${refreshes()} refresh, no sign-out`);
      } finally {
        await close();
      }
    });
  }
});

/** moto's public key in PEM (the HS256 forgery's secret). */
async function publicPem() {
  const { createPublicKey } = await import('node:crypto');
  const set = await fetch(rig.jwksUrl).then((r) => r.json());
  return createPublicKey({ key: set.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}
