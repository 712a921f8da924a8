// The end-to-end behaviour contract in every engine: Chromium (playwright-core), Firefox ESR
// (geckodriver) and WebKitGTK (WebKitWebDriver), through the one small page interface of
// tests/e2e/engines/index.mjs, against the same rig as session.test.mjs (moto behind the fault
// proxy, the protected API) and the same oidc-provider as oidc.test.mjs, on the same harness
// page. session.test.mjs and oidc.test.mjs hold the full Chromium suite; this file runs the
// contract subset written once and run in each engine:
//
//   burst (50 callers → 1 refresh, 0 bad tokens), two tabs on localStorage (1 refresh), a
//   throttle storm (≤ 8 attempts, THROTTLED by the deadline, recovery), a revoked refresh token
//   (1 attempt, one navigation to the login page, 0 API requests), hostile answers (typed
//   errors, the refresh token kept, recovery), the same without Web Locks and BroadcastChannel
//   (Safari before 15.4), and PKCE redirect sign-in at oidc-provider.
//
// Counts come from the rig's side (the proxy's refresh requests, the API's good and bad tokens,
// the static server's answers for the login page, the provider's grants), which is the same in
// every engine; WebDriver has no network observer. Page errors are collected in the page.
//
//   ENGINES=firefox,webkit node --test tests/e2e/engines.test.mjs   (default: all three)
// ENGINES_SMOKE=1 runs one test per item of the contract (about two thirds of the time): it
// leaves out the rotating-token case without Web Locks and two of the three hostile answers.
// An engine whose browser or driver is missing is skipped with the reason (scripts/bootstrap.sh
// installs them), except in CI (CI=true) or with E2E_REQUIRE_ENGINES=1, where it fails.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, decodeJwt, startRig } from './rig/rig.mjs';
import { startOidcProvider } from './rig/oidc.mjs';
import { startStaticServer } from './rig/serve.mjs';
import { ENGINES, available, launchEngine } from './engines/index.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const HARNESS = 'tests/e2e/pages/harness.html';
const LOGIN_PAGE = '/tests/e2e/pages/login.html';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowS = () => Math.floor(Date.now() / 1000);

const SMOKE = process.env.ENGINES_SMOKE === '1';
/** Options of a test that a smoke run leaves out. */
const full = (options) => ({ ...options, skip: SMOKE ? 'left out of the smoke run (ENGINES_SMOKE=1)' : false });

const wanted = (process.env.ENGINES || ENGINES.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

let rig;
let site;
let loginPageServed = 0;
let op;
let oidcSite;
let oidcConfig = {};

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh (or scripts/e2e.sh, which builds)`);
  rig = await startRig();
  site = await startStaticServer({
    dir: REPO_ROOT,
    config: () => rig.control.config(),
    headers: (url) => {
      if (url.split('?')[0] === LOGIN_PAGE) loginPageServed += 1;
      return {};
    },
  });
  oidcSite = await startStaticServer({ dir: REPO_ROOT, config: () => oidcConfig });
  op = await startOidcProvider({ siteOrigin: new URL(oidcSite.url).origin });
  oidcConfig = { apiUrl: `${op.issuer}/`, tokenEndpoint: op.tokenEndpoint, authorizationEndpoint: `${op.issuer}/auth`, issuer: op.issuer, clientId: op.clientId };
});

after(async () => {
  if (op) await op.stop();
  if (oidcSite) await oidcSite.close();
  if (site) await site.close();
  if (rig) await rig.stop();
});

function freshRig() {
  rig.control.reset();
  rig.control.setTokenLifetime(null);
  loginPageServed = 0;
}

/** moto's refresh token with an access token ten minutes expired, signed with moto's key. */
async function expiredSession() {
  const ar = await rig.control.signIn();
  const accessToken = rig.control.mintToken({ tokenUse: 'access', iat: nowS() - 3600, expiresInS: 3000 });
  assert.ok(decodeJwt(accessToken).claims.exp < nowS() - 500);
  return { handedIn: { accessToken, refreshToken: ar.RefreshToken }, moto: ar };
}

function badTokenRequests(counts) {
  return counts.api.total - counts.api.ok;
}

function refreshEvents(counts) {
  return counts.proxy.events.filter((e) => ['InitiateAuth/REFRESH_TOKEN_AUTH', 'InitiateAuth/REFRESH_TOKEN', 'GetTokensFromRefreshToken'].includes(e.op));
}

function byCode(results) {
  const out = {};
  for (const r of results) {
    const k = r.ok ? (r.value && typeof r.value === 'object' && 'status' in r.value ? `HTTP ${r.value.status}` : 'ok') : r.code ?? `untyped ${r.name}: ${r.message}`;
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

/** Records uncaught errors and unhandled rejections in the page: `window.__pageErrors`. */
function watchErrors() {
  window.__pageErrors = [];
  window.addEventListener('error', (e) => window.__pageErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => window.__pageErrors.push(String(e.reason?.stack || e.reason)));
  return true;
}

/** Takes web APIs away the way Safari before 15.4 lacks them: Web Locks and BroadcastChannel. */
function likeOldSafari() {
  Object.defineProperty(navigator, 'locks', { configurable: true, value: undefined });
  globalThis.BroadcastChannel = undefined;
  return { locks: typeof navigator.locks, broadcastChannel: typeof BroadcastChannel };
}

for (const name of wanted) {
  const can = available(name);
  const required = process.env.CI === 'true' || process.env.E2E_REQUIRE_ENGINES === '1';
  const skip = can.ok || required ? false : can.why;

  describe(`the contract in ${name}`, { concurrency: false, skip }, () => {
    let engine;

    before(async () => {
      engine = await launchEngine(name);
      console.log(`# ${name}: ${engine.version}`);
    });
    after(() => engine?.close());

    /** A new context (its own storage) with one harness tab: `{page, context, close}`. */
    async function openPage({ hidden = true, siteUrl = site.url } = {}) {
      const context = await engine.newContext();
      try {
        const page = await openTab(context, { hidden, siteUrl });
        return { page, context, close: () => context.close() };
      } catch (e) {
        await context.close();
        throw e;
      }
    }

    /** Another harness tab in `context` (the tabs of a context share localStorage). */
    async function openTab(context, { hidden = true, siteUrl = site.url } = {}) {
      const page = await context.newPage();
      await page.goto(`${siteUrl}${HARNESS}`);
      await page.evaluate(watchErrors);
      await page.evaluate(() => window.H.ready);
      if (hidden) await page.evaluate(() => window.H.setHidden(true));
      return page;
    }

    const pageErrors = (page) => page.evaluate(() => window.__pageErrors);

    test('burst: an expired access token and 50 concurrent session.fetch calls → exactly 1 refresh, 50 API successes, 0 bad tokens', { timeout: 60000 }, async (t) => {
      freshRig();
      const { page, close } = await openPage();
      try {
        const { handedIn } = await expiredSession();
        await page.evaluate(() => window.H.make());
        assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        await sleep(300);
        assert.equal(rig.counts().proxy.refresh.total, 0, 'a hidden tab does not refresh until a caller needs a token');
        const results = await page.evaluate(() => window.H.burst(50));
        assert.deepEqual(byCode(results), { 'HTTP 200': 50 });
        const c = rig.counts();
        assert.equal(c.proxy.refresh.total, 1, 'exactly one refresh request reached the proxy');
        assert.equal(c.api.ok, 50);
        assert.equal(c.api.total, 50, 'no replays');
        assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
        assert.equal(new Set(results.map((r) => r.value.body.exp)).size, 1, 'every call carried the one refreshed token');
        assert.deepEqual(await pageErrors(page), []);
        const apis = await page.evaluate(() => ({ webLocks: typeof navigator.locks?.request === 'function', broadcastChannel: typeof BroadcastChannel === 'function' }));
        t.diagnostic(`${engine.version}: 50 calls, ${c.proxy.refresh.total} refresh, ${c.api.ok} API 200s, 0 bad tokens; ${JSON.stringify(apis)}`);
      } finally {
        await close();
      }
    });

    /** Two tabs of one context on localStorage, an expired token in the record, `n` calls in
     * each started together: the results and the rig's counts. `prepare` runs in each tab
     * before its session is made. */
    async function twoTabBurst({ n = 20, prepare = null } = {}) {
      const first = await openPage();
      try {
        const { handedIn } = await expiredSession();
        if (prepare) await first.page.evaluate(prepare);
        await first.page.evaluate(() => window.H.make({ storage: 'local' }));
        assert.deepEqual(await first.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        const second = await openTab(first.context);
        if (prepare) await second.evaluate(prepare);
        await second.evaluate(() => window.H.make({ storage: 'local' }));
        assert.equal(await second.evaluate(() => window.H.snapshot().signedIn), true, 'the second tab resumed the session from localStorage');
        await sleep(300);
        assert.equal(rig.counts().proxy.refresh.total, 0);
        const tabs = [first.page, second];
        // Started in each tab before either is collected: the two bursts overlap in time.
        for (const tab of tabs) await tab.evaluate((k) => window.H.start(Array.from({ length: k }, () => ({ kind: 'fetch' }))), n);
        const settled = [];
        for (const tab of tabs) settled.push(...(await tab.evaluate(() => window.H.collect(30000))));
        const errors = [];
        for (const tab of tabs) errors.push(...(await pageErrors(tab)));
        return { results: settled.map((s) => s.result), counts: rig.counts(), errors };
      } finally {
        await first.close();
      }
    }

    test('two tabs sharing localStorage, 20 calls started in each → exactly 1 refresh in all, 40 successes, 0 bad tokens', { timeout: 60000 }, async (t) => {
      freshRig();
      const { results, counts: c, errors } = await twoTabBurst();
      assert.deepEqual(byCode(results), { 'HTTP 200': 40 });
      assert.equal(c.proxy.refresh.total, 1, 'one refresh for both tabs');
      assert.equal(c.api.ok, 40);
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.deepEqual(errors, []);
      t.diagnostic(`${engine.version}: 2 tabs × 20 calls, ${c.proxy.refresh.total} refresh, API ${c.api.ok} ok, 0 bad`);
    });

    test('without Web Locks and BroadcastChannel (as in Safari before 15.4): 50 calls in a tab → 1 refresh; 20 in each of two tabs → 1 refresh in all (the storage lease), 0 bad tokens', { timeout: 90000 }, async (t) => {
      freshRig();
      const { page, close } = await openPage();
      try {
        assert.deepEqual(await page.evaluate(likeOldSafari), { locks: 'undefined', broadcastChannel: 'undefined' });
        const { handedIn } = await expiredSession();
        await page.evaluate(() => window.H.make({ storage: 'local' }));
        assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        const results = await page.evaluate(() => window.H.burst(50));
        assert.deepEqual(byCode(results), { 'HTTP 200': 50 });
        const c = rig.counts();
        assert.equal(c.proxy.refresh.total, 1, 'one refresh in the tab: no herd without Web Locks');
        assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
        assert.deepEqual(await pageErrors(page), []);
      } finally {
        await close();
      }
      freshRig();
      const { results, counts: c, errors } = await twoTabBurst({ prepare: likeOldSafari });
      assert.deepEqual(byCode(results), { 'HTTP 200': 40 });
      assert.equal(c.proxy.refresh.total, 1, 'one refresh for both tabs');
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.deepEqual(errors, []);
      t.diagnostic(`${engine.version} without Web Locks/BroadcastChannel: 1 refresh for 50 calls in a tab; ${c.proxy.refresh.total} for 2 tabs × 20 calls, 0 bad`);
    });

    test('without Web Locks and BroadcastChannel, refresh tokens that rotate (oidc-provider, reuse revokes the grant): two tabs due at once, 20 calls in each → 1 refresh, no reuse, 40 × 200', full({ timeout: 60000 }), async (t) => {
      op.reset();
      const first = await openPage({ siteUrl: oidcSite.url });
      try {
        const oauth2 = { userPoolId: undefined, endpoint: undefined, tokenEndpoint: oidcConfig.tokenEndpoint, issuer: oidcConfig.issuer, clientId: oidcConfig.clientId, storage: 'local' };
        // Tokens that must be refreshed within seconds; the ones the refresh brings live an hour.
        op.setTokenLifetime(34);
        const answer = await op.signIn();
        op.setTokenLifetime(3600);
        const handedIn = { accessToken: answer.access_token, idToken: answer.id_token, refreshToken: answer.refresh_token, expiresIn: answer.expires_in };
        const second = await openTab(first.context, { siteUrl: oidcSite.url });
        const tabs = [first.page, second];
        for (const tab of tabs) {
          await tab.evaluate(likeOldSafari);
          await tab.evaluate((cfg) => window.H.make(cfg), oauth2);
        }
        assert.deepEqual(await first.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        await sleep((34 - 30) * 1000 + 1500);
        assert.equal(op.counts().refresh, 0, 'hidden tabs wait for a caller');
        for (const tab of tabs) await tab.evaluate(() => window.H.start(Array.from({ length: 20 }, () => ({ kind: 'fetch', path: 'me' }))));
        const results = [];
        for (const tab of tabs) results.push(...(await tab.evaluate(() => window.H.collect(30000))).map((x) => x.result));
        assert.deepEqual(byCode(results), { 'HTTP 200': 40 });
        const counts = op.counts();
        assert.equal(counts.refresh, 1, 'one refresh grant for both tabs');
        assert.deepEqual(counts.refreshRefused, [], 'no refresh token presented twice');
        for (const tab of tabs) assert.deepEqual(await pageErrors(tab), []);
        t.diagnostic(`${engine.version} without Web Locks, rotating refresh tokens: 2 tabs × 20 calls → ${counts.refresh} refresh, 0 reuse`);
      } finally {
        await first.close();
      }
    });

    test('throttle storm: TooManyRequestsException for 5 s → ≤ 8 attempts, THROTTLED with retryAt by the deadline, recovery without sign-out, 0 bad tokens', { timeout: 120000 }, async (t) => {
      freshRig();
      const { page, close } = await openPage({ hidden: false });
      try {
        const { handedIn } = await expiredSession();
        await page.evaluate(() => window.H.make());
        const stormEnd = rig.control.setFault({ mode: 'throttle', forMs: 5000 }).until;
        const specs = [
          ...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 1000 })),
          ...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 2500 })),
          ...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 70000 })),
          ...Array.from({ length: 5 }, () => ({ kind: 'fetch' })),
        ];
        await page.evaluate(([tk, s]) => {
          const r = window.H.setTokens(tk);
          if (!r.ok) throw new Error(JSON.stringify(r));
          return window.H.start(s);
        }, [handedIn, specs]);
        const settled = await page.evaluate(() => window.H.collect(80000));
        const refreshes = refreshEvents(rig.counts());
        const duringStorm = refreshes.filter((e) => e.t < stormEnd);
        const recovered = refreshes.find((e) => e.t >= stormEnd && e.outcome === 'forwarded' && e.status === 200);
        for (const { spec, result } of settled) {
          assert.ok(result, `a caller never settled: ${JSON.stringify(spec)}`);
          if (spec.kind === 'token' && spec.deadlineMs <= 2500) {
            assert.equal(result.code, 'THROTTLED', JSON.stringify(result));
            assert.equal(typeof result.retryAt, 'number', JSON.stringify(result));
            assert.ok(result.at - result.startedAt <= spec.deadlineMs + 300, `rejected ${result.at - result.startedAt} ms after a ${spec.deadlineMs} ms deadline`);
          } else if (spec.kind === 'token') {
            assert.equal(result.ok, true, `long-deadline caller failed: ${JSON.stringify(result)}`);
          } else {
            assert.ok(result.ok ? result.value.status === 200 : result.code === 'THROTTLED' && typeof result.retryAt === 'number', JSON.stringify(result));
          }
        }
        assert.ok(duringStorm.length >= 1 && duringStorm.length <= 8, `${duringStorm.length} refresh attempts during the storm`);
        assert.ok(recovered, 'a refresh succeeded after the storm');
        const events = await page.evaluate(() => window.H.events.map((e) => e.type));
        assert.ok(events.includes('refreshed'), JSON.stringify(events));
        assert.ok(!events.includes('expired') && !events.includes('signedOut'), JSON.stringify(events));
        assert.equal((await page.evaluate(() => window.H.record()))?.refresh, handedIn.refreshToken, 'the stored refresh token is kept');
        const again = await page.evaluate(() => window.H.apiCall());
        assert.equal(again.ok && again.value.status, 200, JSON.stringify(again));
        assert.equal(badTokenRequests(rig.counts()), 0);
        assert.deepEqual(await pageErrors(page), []);
        t.diagnostic(`${engine.version}: ${duringStorm.length} refresh attempts during the 5 s storm, recovery ${recovered.t - stormEnd} ms after it`);
      } finally {
        rig.control.clearFault();
        await close();
      }
    });

    test('revoked refresh token with a loginUrl: 1 refresh attempt, exactly one navigation to the login page, waiters SESSION_EXPIRED, 0 API requests', { timeout: 60000 }, async (t) => {
      freshRig();
      const { page, close } = await openPage();
      try {
        const { handedIn, moto } = await expiredSession();
        await page.evaluate((loginUrl) => window.H.make({ loginUrl, onLoginRequired: undefined }), LOGIN_PAGE);
        assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        const revoked = await rig.control.revoke({ accessToken: moto.AccessToken });
        assert.equal(revoked.status, 200, JSON.stringify(revoked));
        const specs = [...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 10000 })), ...Array.from({ length: 5 }, () => ({ kind: 'fetch' }))];
        await page.evaluate((s) => window.H.start(s), specs);
        await page.waitForURL((u) => u.pathname === LOGIN_PAGE, { timeout: 15000 });
        await sleep(1500);
        assert.equal(new URL(await page.url()).pathname, LOGIN_PAGE);
        assert.equal(loginPageServed, 1, 'the login page was loaded once');
        const log = await page.evaluate(() => JSON.parse(sessionStorage.getItem('e2e-log') || '[]'));
        const results = log.filter((e) => e.kind === 'result').map((e) => e.result);
        assert.deepEqual(byCode(results), { SESSION_EXPIRED: specs.length }, JSON.stringify(log).slice(0, 500));
        const c = rig.counts();
        assert.equal(c.proxy.refresh.total, 1);
        assert.equal(c.api.total, 0, 'no API request went out');
        const leftovers = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('cognito-session:')));
        assert.deepEqual(leftovers, [], 'no tokens left in storage');
        t.diagnostic(`${engine.version}: 1 refresh attempt, ${loginPageServed} login page load, ${results.length} waiters SESSION_EXPIRED, 0 API requests`);
      } finally {
        await close();
      }
    });

    for (const [mode, code] of [
      ['html200', 'BAD_RESPONSE'],
      ['wrong-types', 'BAD_RESPONSE'],
      ['bad-gateway', 'UNAVAILABLE'],
    ]) {
      test(`hostile refresh answer ${mode} → ${code}; the refresh token stays; a later refresh succeeds`, mode === 'html200' ? { timeout: 60000 } : full({ timeout: 60000 }), async (t) => {
        freshRig();
        const { page, close } = await openPage();
        try {
          const { handedIn } = await expiredSession();
          await page.evaluate(() => window.H.make());
          assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
          rig.control.setFault({ mode });
          const results = await page.evaluate(() => window.H.tokens(3, 1500));
          assert.deepEqual(byCode(results), { [code]: 3 }, JSON.stringify(results[0]));
          for (const r of results) assert.ok(r.at - r.startedAt <= 1800, `settled after ${r.at - r.startedAt} ms`);
          assert.ok(rig.counts().proxy.refresh.faulted >= 1, 'the fault was served');
          assert.equal((await page.evaluate(() => window.H.record()))?.refresh, handedIn.refreshToken, 'the stored refresh token is kept');
          const snap = await page.evaluate(() => window.H.snapshot());
          assert.deepEqual([snap.signedIn, snap.expired], [true, false]);
          rig.control.clearFault();
          const [token] = await page.evaluate(() => window.H.tokens(1, 40000));
          assert.equal(token.ok, true, `no recovery: ${JSON.stringify(token)}`);
          const call = await page.evaluate(() => window.H.apiCall());
          assert.equal(call.ok && call.value.status, 200, JSON.stringify(call));
          const c = rig.counts();
          assert.equal(c.proxy.refresh.forwarded, 1, 'one good refresh after the fault');
          assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
          assert.deepEqual(await pageErrors(page), []);
          t.diagnostic(`${engine.version}: ${mode} → ${code} (${results[0].message}); recovered in ${token.at - token.startedAt} ms`);
        } finally {
          rig.control.clearFault();
          await close();
        }
      });
    }

    test('PKCE redirect sign-in at oidc-provider: login and consent pages, back, handleRedirect() signs in; the code leaves the URL; a reload is no second exchange', { timeout: 60000 }, async (t) => {
      op.reset();
      const { page, close } = await openPage({ siteUrl: oidcSite.url });
      const withLoginPage = { userPoolId: undefined, endpoint: undefined, tokenEndpoint: oidcConfig.tokenEndpoint, issuer: oidcConfig.issuer, clientId: oidcConfig.clientId, authorizationEndpoint: oidcConfig.authorizationEndpoint, scope: 'openid offline_access' };
      const onProvider = (u) => u.origin === op.issuer && u.pathname.startsWith('/interaction/');
      /** Runs `fn` in the page until it answers true (the page may be between documents). */
      const until = async (fn, arg, what) => {
        const end = Date.now() + 10000;
        for (;;) {
          const ok = await page.evaluate(fn, arg).catch(() => false);
          if (ok) return;
          if (Date.now() > end) throw new Error(`timed out waiting for ${what} at ${await page.url()}`);
          await sleep(100);
        }
      };
      try {
        await page.evaluate((cfg) => {
          window.H.make(cfg);
          // oidc-provider grants offline_access (a refresh token) only with prompt=consent.
          window.H.session.signIn({ params: { prompt: 'consent' } }).catch((e) => {
            window.H.signInError = String(e?.message || e);
          });
          return true;
        }, withLoginPage);
        await page.waitForURL(onProvider, { timeout: 10000 });
        const login = `redirect-user-${name}-${Date.now()}`;
        // Fill and submit the way a user does; the submit happens after the script has answered.
        await until(() => Boolean(document.querySelector('input[name="login"]')), null, 'the login form');
        await page.evaluate((user) => {
          document.querySelector('input[name="login"]').value = user;
          document.querySelector('input[name="password"]').value = 'any password';
          const button = document.querySelector('button[type="submit"]');
          setTimeout(() => button.click(), 0);
          return true;
        }, login);
        await until(() => Boolean(document.querySelector('input[name="prompt"][value="consent"]')), null, 'the consent form');
        await page.evaluate(() => {
          const button = document.querySelector('button[type="submit"]');
          setTimeout(() => button.click(), 0);
          return true;
        });
        await page.waitForURL((u) => u.origin === new URL(oidcSite.url).origin && u.pathname === `/${HARNESS}`, { timeout: 10000 });
        await until(() => Boolean(window.H) && window.H.ready.then(() => true), null, 'the harness');
        const returned = new URL(await page.url());
        assert.ok(returned.searchParams.get('code') && returned.searchParams.get('state'), `back with a code and our state: ${returned.search}`);
        await page.evaluate(watchErrors);
        const done = await page.evaluate(async (cfg) => {
          window.H.make(cfg);
          const result = await window.H.session.handleRedirect();
          return { result, search: location.search, snapshot: window.H.snapshot(), claims: window.H.claims() };
        }, withLoginPage);
        assert.deepEqual(done.result, { status: 'signedIn' });
        assert.equal(done.search, '', 'code and state are gone from the address bar');
        assert.equal(done.snapshot.signedIn, true);
        assert.equal(done.claims.sub, login, 'the ID token is the signed-in user’s');
        assert.equal(op.counts().codeExchanges, 1, 'the provider accepted the PKCE verifier');
        const api = await page.evaluate(() => window.H.apiCall('me'));
        assert.deepEqual([api.value?.status, api.value?.body?.sub], [200, login], JSON.stringify(api));

        await page.reload();
        await page.evaluate(() => window.H.ready);
        const again = await page.evaluate(async (cfg) => {
          window.H.make(cfg);
          return { result: await window.H.session.handleRedirect(), signedIn: window.H.snapshot().signedIn };
        }, withLoginPage);
        assert.deepEqual(again, { result: null, signedIn: true });
        assert.equal(op.counts().codeExchanges, 1, 'no second exchange');
        t.diagnostic(`${engine.version}: redirect sign-in with PKCE, 1 code exchange, userinfo 200 for ${login}`);
      } finally {
        await close();
      }
    });
  });
}
