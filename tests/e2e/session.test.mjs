// End-to-end tests of the browser session: the built module (pkg/web/) in headless Chromium,
// against moto's Cognito behind the rig's fault-injecting proxy, calling the rig's protected API.
// Every test asserts counts the rig took on the wire (refresh requests at the proxy, good and bad
// bearer tokens at the API), not just the absence of an error.
//
//   bash scripts/e2e.sh                       (installs the rig, builds if needed, runs these)
//   node --test tests/e2e/session.test.mjs    (after setup.sh and scripts/build.sh)
//
// How a test gets a session that needs a refresh: the refresh token is moto's own (signed in
// straight at moto, not counted), the access token one the rig signs with moto's key but with
// `exp` ten minutes in the past, handed in with `setTokens`. The API answers such a token with
// 401 "expired", so had the session ever sent it, the API's bad-token count would show it. The
// tab is made to look hidden where a test needs the refresh to start only when a caller asks.
// The scenarios of the behaviour contract (burst, tabs, storms, revoked token, hostile answers)
// live in rig/contract.mjs, which tests/e2e/rust.test.mjs runs against the Rust driver and
// tests/e2e/engines.test.mjs in Firefox and WebKit too; they reach this suite's Chromium
// through the page interface of engines/index.mjs. The tests here that only this suite runs use
// the Playwright page itself, with the observers of engines/playwright.mjs.

import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { decodeJwt } from './rig/rig.mjs';
import {
  assertJwt,
  badTokenRequests,
  burstScenario,
  byCode,
  expiredSession as expiredSessionAt,
  freshRig as reset,
  HOSTILE_ANSWERS,
  hostileScenario,
  nowS,
  refreshEvents,
  revokedScenario,
  revokedToLoginUrlScenario,
  sleep,
  stormScenario,
  tabsScenario,
} from './rig/contract.mjs';
import { engineOf } from './engines/index.mjs';
import { openObservedPage } from './engines/playwright.mjs';
import { useRig } from './rig/suite.mjs';

const HARNESS = 'tests/e2e/pages/harness.html';

/** What the scenarios shared with the Rust driver's and the other engines' tests
 * (rig/contract.mjs) run on. */
const env = {};
const openPage = (options) => openObservedPage(env, options);
const expiredSession = () => expiredSessionAt(rig);
const freshRig = () => reset(rig);

let rig;
useRig((started) => {
  ({ rig } = started);
  Object.assign(env, { ...started, engine: engineOf(started.browser), harness: HARNESS });
});

describe('cognito-session in Chromium against moto behind the fault proxy', { concurrency: false }, () => {
  test('loads, refuses bad config with BAD_CONFIG, signs in with USER_PASSWORD_AUTH and calls the API with a good token', { timeout: 30000 }, async () => {
    freshRig();
    const { page, obs, close } = await openPage();
    try {
      const bad = await page.evaluate(() => [
        window.H.tryMake({ clientId: window.H.cfg.clientId }),
        window.H.tryMake({ userPoolId: window.H.cfg.poolId, clientId: window.H.cfg.clientId, clientSecret: 's3cret' }),
        window.H.tryMake({ userPoolId: window.H.cfg.poolId, clientId: window.H.cfg.clientId, storage: 'disk' }),
        window.H.tryMake({ userPoolId: window.H.cfg.poolId, clientId: window.H.cfg.clientId, alowedOrigins: [] }),
      ]);
      assert.deepEqual(bad.map((r) => r.code), ['BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG'], JSON.stringify(bad));

      await page.evaluate(() => window.H.make());
      const before = await page.evaluate(() => window.H.tokens(1, 500));
      assert.equal(before[0].code, 'NOT_SIGNED_IN', JSON.stringify(before));

      const wrong = await page.evaluate(() => window.H.signIn(window.H.cfg.username, 'wrong-password'));
      assert.equal(wrong.ok, false);
      assert.equal(wrong.code, 'NOT_SIGNED_IN', JSON.stringify(wrong));

      const signIn = await page.evaluate(() => window.H.signIn());
      assert.equal(signIn.ok, true, JSON.stringify(signIn));
      assert.equal(signIn.value.status, 'signedIn');
      const [token] = await page.evaluate(() => window.H.tokens(1));
      assertJwt(token.value, 'access token');
      const idToken = await page.evaluate(() => window.H.session.getIdToken());
      assert.equal(decodeJwt(idToken)?.claims.token_use, 'id');
      const claims = await page.evaluate(() => window.H.claims());
      assert.equal(claims['cognito:username'] ?? claims.username, rig.username);
      const call = await page.evaluate(() => window.H.apiCall());
      assert.equal(call.ok, true, JSON.stringify(call));
      assert.equal(call.value.status, 200);
      assert.equal(call.value.body.username, rig.username);

      const c = rig.counts();
      assert.equal(c.proxy.byOperation['InitiateAuth/USER_PASSWORD_AUTH']?.total, 2, 'one wrong and one right password');
      assert.equal(c.proxy.refresh.total, 0, 'no refresh with a fresh token');
      assert.equal(c.api.ok, 1);
      assert.equal(badTokenRequests(c), 0);
      assert.equal(c.proxy.byOperation.GetUser, undefined, 'claims come from the token, not from GetUser');
      const events = await page.evaluate(() => window.H.events.map((e) => e.type));
      assert.ok(events.includes('signedIn'), JSON.stringify(events));

      await page.evaluate(() => window.H.session.signOut());
      assert.equal(await page.evaluate(() => window.H.record()), null, 'sign-out clears storage');
      const [afterSignOut] = await page.evaluate(() => window.H.tokens(1, 500));
      assert.equal(afterSignOut.code, 'NOT_SIGNED_IN', JSON.stringify(afterSignOut));
      const refused = await page.evaluate(() => window.H.apiCall());
      assert.equal(refused.code, 'NOT_SIGNED_IN', JSON.stringify(refused));
      assert.equal(rig.counts().api.total, 1, 'session.fetch sent nothing without a token');
      assert.ok((await page.evaluate(() => window.H.events.map((e) => e.type))).includes('signedOut'));
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('tampered or unreadable storage is discarded with an event, never a crash, and never revives an expired token', { timeout: 30000 }, async () => {
    freshRig();
    const { page, obs, close } = await openPage({ hidden: true });
    try {
      const key = `cognito-session:${rig.poolId}:${rig.clientId}`;
      const expired = rig.control.mintToken({ tokenUse: 'access', iat: nowS() - 3600, expiresInS: 3000 });
      const cases = [
        ['not JSON', '{"v":1,"access":"abc'],
        ['wrong types', JSON.stringify({ v: 1, access: 12, refresh: [], expiresAt: 'soon', lifetime: -1, notBefore: 0, failures: 0 })],
        ['unknown version', JSON.stringify({ v: 0, access: 'x' })],
        ['a malformed token', JSON.stringify({ v: 1, access: 'not.a.jwt', expiresAt: Date.now() + 3600000, lifetime: 3600000, notBefore: 0, failures: 0 })],
        ['random bytes', '\u0000\u00ff\ud800garbage\u2028'],
      ];
      for (const [label, text] of cases) {
        const out = await page.evaluate(
          ([k, v]) => {
            sessionStorage.setItem(k, v);
            window.H.events = [];
            window.H.make();
            return { snapshot: window.H.snapshot(), stored: sessionStorage.getItem(k) };
          },
          [key, text],
        );
        await sleep(50);
        const events = await page.evaluate(() => window.H.events.map((e) => e.type));
        assert.equal(out.snapshot.signedIn, false, `${label}: ${JSON.stringify(out)}`);
        assert.ok(events.includes('storageDiscarded'), `${label}: events ${JSON.stringify(events)}`);
        const [token] = await page.evaluate(() => window.H.tokens(1, 300));
        assert.equal(token.code, 'NOT_SIGNED_IN', `${label}: ${JSON.stringify(token)}`);
      }
      // An edited expiry cannot make an expired access token usable: the session refreshes instead.
      const ar = await rig.control.signIn();
      const forged = JSON.stringify({ v: 1, access: expired, refresh: ar.RefreshToken, expiresAt: Date.now() + 3600000, lifetime: 3600000, notBefore: 0, failures: 0 });
      await page.evaluate(([k, v]) => {
        sessionStorage.setItem(k, v);
        window.H.make();
      }, [key, forged]);
      const call = await page.evaluate(() => window.H.apiCall());
      assert.equal(call.ok && call.value.status, 200, JSON.stringify(call));
      const c = rig.counts();
      assert.equal(c.proxy.refresh.total, 1, 'the forged expiry was not believed: one refresh');
      assert.equal(badTokenRequests(c), 0, `the expired token reached the API: ${JSON.stringify(c.api.byKind)}`);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('never attaches the token to an origin that is not the page’s own or allowed', { timeout: 30000 }, async () => {
    freshRig();
    const { page, obs, close } = await openPage();
    try {
      await page.evaluate(() => window.H.make({ allowedOrigins: [] }));
      assert.equal((await page.evaluate(() => window.H.signIn())).ok, true);
      const call = await page.evaluate(() => window.H.apiCall());
      assert.equal(call.ok, true, JSON.stringify(call));
      assert.equal(call.value.status, 401);
      const c = rig.counts();
      assert.deepEqual(c.api.byKind, { missing: 1 }, 'the API saw one request, with no Authorization header at all');
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('burst: an expired access token and 50 concurrent session.fetch calls → exactly 1 refresh, 50 API successes, 0 bad tokens', { timeout: 30000 }, async (t) => {
    await burstScenario(env, t);
  });

  test('burst across tabs: three tabs sharing localStorage, 20 concurrent calls in each → exactly 1 refresh in all, 60 successes', { timeout: 30000 }, async (t) => {
    await tabsScenario(env, t, { tabs: 3, n: 20 });
  });

  for (const storage of ['session', 'local']) {
    test(`two Sessions on one ${storage}Storage key in one page (a hot reload that kept the old one): 20 calls on each → 1 refresh; one signs out, the other follows`, { timeout: 30000 }, async (t) => {
      freshRig();
      const tab = await openPage({ hidden: true });
      try {
        const { handedIn } = await expiredSession();
        await tab.page.evaluate((storage) => window.H.make({ storage }), storage);
        assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        await tab.page.evaluate(() => window.H.makeSibling());
        assert.equal(await tab.page.evaluate(() => window.H.sibling.getSnapshot().signedIn), true, 'the second session resumed the record');

        const results = await tab.page.evaluate(() => window.H.siblingTokens(20));
        assert.deepEqual(byCode(results), { ok: 40 });
        for (const r of results) assertJwt(r.value, 'token');
        assert.equal(new Set(results.map((r) => r.value)).size, 1, 'both sessions hand out the one refreshed token');
        assert.equal(rig.counts().proxy.refresh.total, 1, `refresh requests: ${tab.refreshAttempts().length}`);

        await tab.page.evaluate(() => window.H.sibling.signOut());
        await sleep(50);
        assert.equal(await tab.page.evaluate(() => window.H.session.getSnapshot().signedIn), false, 'the first session followed the sign-out');
        assert.deepEqual(byCode(await tab.page.evaluate(() => window.H.tokens(1, 200))), { NOT_SIGNED_IN: 1 });
        assert.equal(await tab.page.evaluate(() => window.H.record()), null, 'the record is gone');
        assert.equal(rig.counts().proxy.refresh.total, 1);
        assert.deepEqual(tab.obs.pageErrors, []);
        t.diagnostic(`${storage}Storage: 2 sessions × 20 calls → ${rig.counts().proxy.refresh.total} refresh; sign-out followed`);
      } finally {
        await tab.close();
      }
    });
  }

  test('burst: moto’s own 40 s tokens age past the 30 s margin in a hidden tab; 50 concurrent calls → 1 refresh, 50 successes', { timeout: 45000 }, async (t) => {
    freshRig();
    rig.control.setTokenLifetime(40);
    const { page, obs, close } = await openPage({ hidden: true });
    try {
      await page.evaluate(() => window.H.make());
      assert.equal((await page.evaluate(() => window.H.signIn())).ok, true);
      const snap = await page.evaluate(() => window.H.snapshot());
      assert.equal(snap.signedIn, true);
      const usableUntil = snap.expiresAt - 30000;
      assert.ok(usableUntil - Date.now() < 12000 && usableUntil - Date.now() > 5000, `token usable for ${usableUntil - Date.now()} ms`);
      await sleep(Math.max(0, usableUntil - Date.now()) + 300);
      assert.equal(rig.counts().proxy.refresh.total, 0, 'the hidden tab did not refresh on its own');

      const results = await page.evaluate(() => window.H.burst(50));
      assert.deepEqual(results.map((r) => (r.ok ? r.value.status : r.code)), Array(50).fill(200), JSON.stringify(byCode(results)));
      const c = rig.counts();
      assert.equal(c.proxy.refresh.total, 1);
      assert.equal(c.proxy.refresh.forwarded, 1);
      assert.equal(c.api.ok, 50);
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.deepEqual(obs.pageErrors, []);
      t.diagnostic(`aged burst: ${c.proxy.refresh.total} refresh for 50 calls`);
    } finally {
      rig.control.setTokenLifetime(null);
      await close();
    }
  });

  test('a visible tab refreshes 60 s tokens ahead of expiry, once per token, so API callers never wait', { timeout: 70000 }, async (t) => {
    freshRig();
    rig.control.setTokenLifetime(60);
    const { page, obs, close } = await openPage();
    try {
      await page.evaluate(() => window.H.make());
      assert.equal((await page.evaluate(() => window.H.signIn())).ok, true);
      const signedInAt = Date.now();
      const calls = [];
      while (Date.now() - signedInAt < 45000) {
        calls.push(await page.evaluate(() => window.H.apiCall()));
        await sleep(500);
      }
      const c = rig.counts();
      const refreshes = refreshEvents(c).map((e) => e.t);
      const gaps = refreshes.map((at, i) => at - (i === 0 ? signedInAt : refreshes[i - 1]));
      const slowest = Math.max(...calls.map((r) => r.at - r.startedAt));
      assert.deepEqual(byCode(calls), { 'HTTP 200': calls.length });
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.ok(refreshes.length >= 1 && refreshes.length <= 4, `${refreshes.length} refreshes in 45 s: ${JSON.stringify(gaps)}`);
      // Each 60 s token is refreshed at a random moment 10–30 s after it arrived (30 s margin,
      // a 20 s jitter window): never right after the previous refresh.
      assert.ok(gaps.every((g) => g >= 9500), `refresh gaps (ms): ${JSON.stringify(gaps)}`);
      assert.ok(slowest < 1000, `a caller waited ${slowest} ms`);
      assert.deepEqual(obs.pageErrors, []);
      t.diagnostic(`proactive: ${calls.length} API calls (slowest ${slowest} ms), ${refreshes.length} refreshes, gaps ${gaps.map((g) => `${(g / 1000).toFixed(1)} s`).join(', ')}`);
    } finally {
      rig.control.setTokenLifetime(null);
      await close();
    }
  });

  test('throttle storm: TooManyRequestsException for 5 s → ≤ 8 attempts, THROTTLED with retryAt by the deadline, recovery without sign-out, 0 bad tokens', { timeout: 120000 }, async (t) => {
    await stormScenario(env, t, { fault: { mode: 'throttle' }, shortCode: 'THROTTLED', label: 'throttle storm' });
  });

  describe('5xx and dropped connections during refresh: the same guarantees', { concurrency: false }, () => {
    for (const [label, fault, maxProxyAttempts] of [
      ['500 InternalErrorException', { mode: 'internal' }, 8],
      ['502 HTML page', { mode: 'bad-gateway' }, 8],
      ['503 HTML page', { mode: 'unavailable' }, 8],
      // Chrome silently resends a request whose connection closed before any answer (up to 3
      // times): the proxy may count up to 3 per attempt the page made.
      ['dropped connections', { mode: 'drop' }, 24],
    ]) {
      test(`${label} for 5 s → ≤ 8 attempts, UNAVAILABLE with retryAt by the deadline, recovery, 0 bad tokens`, { timeout: 120000 }, async (t) => {
        await stormScenario(env, t, { fault, shortCode: 'UNAVAILABLE', maxProxyAttempts, label });
      });
    }
  });

  test('revoked refresh token (AdminUserGlobalSignOut): waiters get SESSION_EXPIRED, 1 refresh attempt, onLoginRequired exactly once, 0 bad tokens', { timeout: 30000 }, async (t) => {
    await revokedScenario(env, t);
  });

  test('revoked refresh token (GlobalSignOut) with a loginUrl: exactly one redirect to the login page, waiters SESSION_EXPIRED, 0 bad tokens', { timeout: 30000 }, async (t) => {
    await revokedToLoginUrlScenario(env, t);
  });

  test('a token endpoint that redirects elsewhere: the refresh token is never re-sent there; callers get UNAVAILABLE, the refresh token is kept, recovery', { timeout: 60000 }, async (t) => {
    freshRig();
    // Another origin that would take the refresh token: it accepts any CORS preflight and
    // records every request, so a client that follows the 307 shows up here.
    const received = [];
    const elsewhere = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(req.method === 'OPTIONS' ? 204 : 400, {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Headers': '*',
          'Access-Control-Allow-Methods': 'POST',
          'Content-Type': 'application/json',
        });
        res.end(req.method === 'OPTIONS' ? '' : '{}');
      });
    });
    await new Promise((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const { page, obs, close } = await openPage({ hidden: true });
    try {
      const { handedIn } = await expiredSession();
      await page.evaluate(() => window.H.make());
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      rig.control.setFault({ mode: 'redirect', location: `http://127.0.0.1:${elsewhere.address().port}/oauth2/token` });
      const results = await page.evaluate(() => window.H.tokens(3, 1500));
      assert.ok(rig.counts().proxy.refresh.faulted >= 1, 'the redirect was served');
      assert.deepEqual(received, [], 'nothing reached the other origin');
      for (const r of results) {
        assert.equal(r.ok, false, JSON.stringify(r));
        assert.equal(r.code, 'UNAVAILABLE', JSON.stringify(r));
      }
      assert.equal((await page.evaluate(() => window.H.record()))?.refresh, handedIn.refreshToken, 'the stored refresh token is kept');
      rig.control.clearFault();
      const [token] = await page.evaluate(() => window.H.tokens(1, 40000));
      assert.equal(token.ok, true, `no recovery: ${JSON.stringify(token)}`);
      assert.deepEqual(received, []);
      assert.deepEqual(obs.pageErrors, []);
      t.diagnostic(`redirect: callers got ${JSON.stringify(byCode(results))} (${results[0].message}); the other origin received ${received.length} requests`);
    } finally {
      rig.control.clearFault();
      await close();
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  describe('hostile refresh answers → typed errors, the stored refresh token kept, the module alive', { concurrency: false }, () => {
    for (const [mode, code] of HOSTILE_ANSWERS) {
      test(`${mode} → ${code}; the refresh token stays; a later refresh succeeds`, { timeout: 60000 }, async (t) => {
        await hostileScenario(env, t, mode, code);
      });
    }
  });
});
