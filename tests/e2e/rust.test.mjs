// End-to-end tests of the Rust driver (`cognito_session::web::Session`, cargo feature `web`),
// inside the Rust consumer app's .wasm (tests/consumers/rust-app, built by scripts/rust-app.sh
// into www/rust/pkg/), in headless Chromium against moto behind the rig's fault proxy, calling
// the rig's protected API. The counts are session.test.mjs's for the JavaScript shell: the same
// engine behind another driver must show the same ones, and the scenarios are the same code
// (rig/contract.mjs, also run by engines.test.mjs in Firefox and WebKit) run on the Rust harness
// page through the page interface of engines/index.mjs. Also: a Rust tab and a JavaScript tab on one
// localStorage key share one refresh, the app itself signs in and calls the API, and a PKCE
// sign-in at a real OpenID Connect provider.
//
//   bash scripts/e2e.sh                    (builds the app when stale, then runs every e2e test)
//   node --test tests/e2e/rust.test.mjs    (after setup.sh, scripts/build.sh, scripts/rust-app.sh)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, decodeJwt } from './rig/rig.mjs';
import {
  assertJwt,
  badTokenRequests,
  burstScenario,
  byCode,
  expiredSession,
  finishRedirectSignIn,
  freshRig,
  HOSTILE_ANSWERS,
  hostileScenario,
  revokedScenario,
  revokedToLoginUrlScenario,
  sleep,
  stormScenario,
} from './rig/contract.mjs';
import { engineOf } from './engines/index.mjs';
import { openObservedPage, openObservedTab } from './engines/playwright.mjs';
import { startOidcProvider } from './rig/oidc.mjs';
import { startStaticServer } from './rig/serve.mjs';
import { useRig } from './rig/suite.mjs';

const APP = path.join(REPO_ROOT, 'www', 'rust', 'pkg', 'rust_app_bg.wasm');
const RUST_HARNESS = 'tests/e2e/pages/rust-harness.html';
const JS_HARNESS = 'tests/e2e/pages/harness.html';

/** What the scenarios shared with the JavaScript shell's tests (rig/contract.mjs) run on: the
 * Rust harness page. */
const env = {};
const openPage = (options) => openObservedPage(env, options);
const openTab = (context, options) => openObservedTab(env, context, options);

let rig;
let site;
let browser;

before(() => {
  if (!fs.existsSync(APP)) throw new Error(`${APP} is missing: run scripts/rust-app.sh (or scripts/e2e.sh, which builds it)`);
});
useRig((started) => {
  ({ rig, site, browser } = started);
  Object.assign(env, { ...started, engine: engineOf(browser), harness: RUST_HARNESS, label: 'rust' });
});

describe('the Rust driver (cognito_session::web) in Chromium against moto behind the fault proxy', { concurrency: false }, () => {
  test('refuses a bad config with BAD_CONFIG, signs in with USER_PASSWORD_AUTH, reads typed claims, calls the API, signs out', { timeout: 30000 }, async () => {
    freshRig(rig);
    const { page, obs, close } = await openPage();
    try {
      const bad = await page.evaluate(() => {
        try {
          window.H.make({ allowedOrigins: ['https://api.example.com/path'] });
          return null;
        } catch (e) {
          return e.code;
        }
      });
      assert.equal(bad, 'BAD_CONFIG');
      await page.evaluate(() => window.H.make());
      assert.equal((await page.evaluate(() => window.H.tokens(1, 500)))[0].code, 'NOT_SIGNED_IN');
      const wrong = await page.evaluate(() => window.H.signIn(window.H.cfg.username, 'wrong-password'));
      assert.equal(wrong.code, 'NOT_SIGNED_IN', JSON.stringify(wrong));
      const signIn = await page.evaluate(() => window.H.signIn());
      assert.deepEqual(signIn.value, { status: 'signedIn' }, JSON.stringify(signIn));
      const [token] = await page.evaluate(() => window.H.tokens(1));
      assertJwt(token.value, 'access token');
      const idToken = await page.evaluate(() => window.H.session.idToken());
      assert.equal(decodeJwt(idToken)?.claims.token_use, 'id');
      const claims = await page.evaluate(() => window.H.claims());
      assert.equal(claims["cognito:username"], rig.username, JSON.stringify(claims));
      assert.equal(claims.token_use, 'id');
      const call = await page.evaluate(() => window.H.apiCall());
      assert.equal(call.value?.status, 200, JSON.stringify(call));
      assert.equal(call.value.body.username, rig.username);
      const c = rig.counts();
      assert.equal(c.proxy.byOperation['InitiateAuth/USER_PASSWORD_AUTH']?.total, 2);
      assert.equal(c.proxy.refresh.total, 0);
      assert.equal(badTokenRequests(c), 0);
      assert.equal((await page.evaluate(() => window.H.record())).refresh.length > 0, true, 'the record holds the refresh token');
      assert.ok((await page.evaluate(() => window.H.events.map((e) => e.type))).includes('signedIn'));

      assert.equal((await page.evaluate(() => window.H.signOut())).ok, true);
      assert.equal(await page.evaluate(() => window.H.record()), null, 'sign-out clears storage');
      const refused = await page.evaluate(() => window.H.apiCall());
      assert.equal(refused.code, 'NOT_SIGNED_IN', JSON.stringify(refused));
      assert.equal(rig.counts().api.total, 1, 'session.fetch sent nothing without a token');
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('never attaches the token to an origin that is not allowed', { timeout: 30000 }, async () => {
    freshRig(rig);
    const { page, close } = await openPage();
    try {
      await page.evaluate(() => window.H.make({ allowedOrigins: [] }));
      assert.equal((await page.evaluate(() => window.H.signIn())).ok, true);
      const call = await page.evaluate(() => window.H.apiCall());
      assert.equal(call.value?.status, 401, JSON.stringify(call));
      assert.deepEqual(rig.counts().api.byKind, { missing: 1 });
      const withheld = await page.evaluate(() => window.H.events.filter((e) => e.type === 'tokenWithheld'));
      assert.equal(withheld.length, 1, JSON.stringify(withheld));
    } finally {
      await close();
    }
  });

  test('burst: an expired access token and 50 concurrent fetch calls → exactly 1 refresh, 50 × 200, 0 bad tokens', { timeout: 30000 }, async (t) => {
    await burstScenario(env, t);
  });

  test('throttle storm: TooManyRequestsException for 5 s → ≤ 8 attempts, THROTTLED with retryAt by the deadline, recovery without sign-out, 0 bad tokens', { timeout: 120000 }, async (t) => {
    await stormScenario(env, t, { fault: { mode: 'throttle' }, shortCode: 'THROTTLED', label: 'throttle storm' });
  });

  test('revoked refresh token: 1 attempt, every waiter SESSION_EXPIRED, the login callback exactly once, 0 API requests', { timeout: 30000 }, async (t) => {
    await revokedScenario(env, t);
  });

  test('revoked refresh token with a login URL: exactly one navigation to the login page, waiters SESSION_EXPIRED', { timeout: 30000 }, async (t) => {
    await revokedToLoginUrlScenario(env, t);
  });

  describe('hostile refresh answers → typed errors, the stored refresh token kept', { concurrency: false }, () => {
    for (const [mode, code] of HOSTILE_ANSWERS) {
      test(`${mode} → ${code}; the refresh token stays; a later refresh succeeds`, { timeout: 60000 }, async (t) => {
        await hostileScenario(env, t, mode, code);
      });
    }
  });

  test('a Rust tab and a JavaScript tab on one localStorage key: 20 calls in each → 1 refresh for both; a sign-out in one reaches the other', { timeout: 30000 }, async (t) => {
    freshRig(rig);
    const context = await browser.newContext();
    try {
      const js = await openTab(context, { hidden: true, harness: JS_HARNESS });
      const { handedIn } = await expiredSession(rig);
      await js.page.evaluate(() => window.H.make({ storage: 'local' }));
      assert.deepEqual(await js.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      const rust = await openTab(context, { hidden: true });
      await rust.page.evaluate(() => window.H.make({ storage: 'local' }));
      assert.equal((await rust.page.evaluate(() => window.H.snapshot())).signedIn, true, 'the Rust tab resumed the JavaScript tab’s record');
      await sleep(300);
      assert.equal(rig.counts().proxy.refresh.total, 0);

      const results = (await Promise.all([rust, js].map((tab) => tab.page.evaluate(() => window.H.tokens(20, 10000))))).flat();
      assert.deepEqual(byCode(results), { ok: 40 });
      assert.equal(new Set(results.map((r) => r.value)).size, 1, 'both tabs hand out the one refreshed token');
      const perTab = { rust: rust.refreshAttempts().length, js: js.refreshAttempts().length };
      assert.equal(rig.counts().proxy.refresh.total, 1, `refresh requests per tab: ${JSON.stringify(perTab)}`);

      const call = await rust.page.evaluate(() => window.H.apiCall());
      assert.equal(call.value?.status, 200, JSON.stringify(call));
      await js.page.evaluate(() => window.H.session.signOut());
      await sleep(300);
      assert.equal((await rust.page.evaluate(() => window.H.snapshot())).signedIn, false, 'the Rust tab followed the JavaScript tab’s sign-out');
      assert.deepEqual(byCode(await rust.page.evaluate(() => window.H.tokens(1, 200))), { NOT_SIGNED_IN: 1 });
      assert.equal(rig.counts().proxy.refresh.total, 1);
      assert.equal(badTokenRequests(rig.counts()), 0);
      assert.deepEqual([...rust.obs.pageErrors, ...js.obs.pageErrors], []);
      t.diagnostic(`Rust + JS tabs: 2 × 20 calls → ${rig.counts().proxy.refresh.total} refresh (per tab ${JSON.stringify(perTab)}); the sign-out followed`);
    } finally {
      await context.close();
    }
  });

  test('offline: no refresh goes out and nothing backs off; callers get UNAVAILABLE by their deadline; back online, one refresh restores the session', { timeout: 60000 }, async (t) => {
    freshRig(rig);
    const { page, context, obs, close } = await openPage({ hidden: true });
    try {
      const { handedIn } = await expiredSession(rig);
      await page.evaluate(() => window.H.make());
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      await context.setOffline(true);
      assert.equal(await page.evaluate(() => navigator.onLine), false);
      const offline = await page.evaluate(() => window.H.tokens(5, 1500));
      assert.deepEqual(byCode(offline), { UNAVAILABLE: 5 });
      const snap = await page.evaluate(() => window.H.snapshot());
      assert.deepEqual([snap.signedIn, snap.expired, snap.retryAt], [true, false, null], 'signed in, nothing backed off');
      assert.equal(rig.counts().proxy.refresh.total, 0, 'no refresh while offline');

      await context.setOffline(false);
      const back = await page.evaluate(() => window.H.burst(10));
      assert.deepEqual(byCode(back), { 'HTTP 200': 10 });
      const c = rig.counts();
      assert.equal(c.proxy.refresh.total, 1);
      assert.equal(badTokenRequests(c), 0);
      assert.deepEqual(obs.pageErrors, []);
      t.diagnostic('rust offline: 5 callers UNAVAILABLE, 0 refreshes; online: 1 refresh, 10 API calls ok, 0 bad tokens');
    } finally {
      await close();
    }
  });

  test('without Web Locks, a Rust tab on localStorage takes the refresh lock as a lease in storage: another tab’s live lease holds the refresh back until it is removed; its own lease is removed after the refresh', { timeout: 60000 }, async (t) => {
    freshRig(rig);
    const context = await browser.newContext();
    try {
      // A browser without Web Locks (Safari before 15.4).
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true }));
      const tab = await openTab(context, { hidden: true });
      assert.equal(await tab.page.evaluate(() => navigator.locks), undefined);
      const { handedIn } = await expiredSession(rig);
      await tab.page.evaluate(() => window.H.make({ storage: 'local' }));
      assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      const lease = `lock:cognito-session:${rig.poolId}:${rig.clientId}`;
      // Another tab's lease, as driver.js writes one: [holder, until].
      await tab.page.evaluate((key) => localStorage.setItem(key, JSON.stringify(['another-tab 1', Date.now() + 5000])), lease);
      await tab.page.evaluate(() => window.H.start([{ kind: 'token', deadlineMs: 15000 }]));
      await sleep(800);
      assert.equal(rig.counts().proxy.refresh.total, 0, 'the live lease holds the refresh back');
      await tab.page.evaluate((key) => localStorage.removeItem(key), lease);
      const [settled] = await tab.page.evaluate(() => window.H.collect(15000));
      assert.equal(settled.result?.ok, true, JSON.stringify(settled));
      assert.equal(rig.counts().proxy.refresh.total, 1);
      await sleep(300);
      assert.equal(await tab.page.evaluate((key) => localStorage.getItem(key), lease), null, 'its own lease is removed after the refresh');
      assert.deepEqual(tab.obs.pageErrors, []);
      t.diagnostic(`no Web Locks: held back by a live lease, then ${rig.counts().proxy.refresh.total} refresh; the lease removed`);
    } finally {
      await context.close();
    }
  });

  for (const storage of ['session', 'local']) {
    test(`two Rust sessions on one ${storage}Storage key in one page: 20 calls on each → 1 refresh; one signs out, the other follows`, { timeout: 30000 }, async (t) => {
      freshRig(rig);
      const tab = await openPage({ hidden: true });
      try {
        const { handedIn } = await expiredSession(rig);
        await tab.page.evaluate((storage) => window.H.make({ storage }), storage);
        assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        await tab.page.evaluate(() => window.H.makeSibling());
        assert.equal(await tab.page.evaluate(() => window.H.sibling.snapshot().signedIn), true, 'the second session resumed the record');
        const results = await tab.page.evaluate(() => window.H.siblingTokens(20));
        assert.deepEqual(byCode(results), { ok: 40 });
        assert.equal(new Set(results.map((r) => r.value)).size, 1, 'both sessions hand out the one refreshed token');
        assert.equal(rig.counts().proxy.refresh.total, 1, `refresh requests: ${tab.refreshAttempts().length}`);

        await tab.page.evaluate(() => window.H.sibling.signOut());
        await sleep(100);
        assert.equal(await tab.page.evaluate(() => window.H.snapshot().signedIn), false, 'the first session followed the sign-out');
        assert.deepEqual(byCode(await tab.page.evaluate(() => window.H.tokens(1, 200))), { NOT_SIGNED_IN: 1 });
        assert.equal(await tab.page.evaluate(() => window.H.record()), null, 'the record is gone');
        assert.equal(rig.counts().proxy.refresh.total, 1);
        assert.deepEqual(tab.obs.pageErrors, []);
        t.diagnostic(`${storage}Storage: 2 Rust sessions × 20 calls → ${rig.counts().proxy.refresh.total} refresh; sign-out followed`);
      } finally {
        await tab.close();
      }
    });
  }

  test('the Rust consumer app at /www/rust/: signs in through its form, calls the protected API, shows the user from typed claims, resumes on reload', { timeout: 30000 }, async (t) => {
    freshRig(rig);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const pageErrors = [];
      page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
      await page.goto(`${site.url}www/rust/index.html`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 10000 });
      assert.equal(await page.textContent('#status'), 'signed out');
      await page.click('#signin');
      await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('signed in as'), null, { timeout: 10000 });
      assert.equal(await page.textContent('#status'), `signed in as ${rig.username}`);
      await page.click('#call');
      await page.waitForFunction(() => document.querySelector('#result').textContent.startsWith('HTTP'), null, { timeout: 10000 });
      const result = await page.textContent('#result');
      assert.match(result, /^HTTP 200 /);
      assert.equal(JSON.parse(result.slice('HTTP 200 '.length)).username, rig.username);
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { timeout: 10000 });
      assert.equal(await page.textContent('#status'), `signed in as ${rig.username}`, 'the session resumed from localStorage');
      await page.click('#signout');
      await page.waitForFunction(() => document.querySelector('#status').textContent === 'signed out', null, { timeout: 10000 });
      const c = rig.counts();
      assert.equal(c.proxy.byOperation['InitiateAuth/USER_PASSWORD_AUTH']?.total, 1);
      assert.equal(c.api.ok, 1);
      assert.equal(badTokenRequests(c), 0);
      assert.deepEqual(pageErrors, []);
      t.diagnostic(`rust app: ${fs.statSync(APP).size} B .wasm; signed in, API 200, resumed, signed out`);
    } finally {
      await context.close();
    }
  });
});

describe('the Rust driver signs in through an OpenID Connect provider’s login page (PKCE)', { concurrency: false }, () => {
  let op;
  let oidcSite;
  let siteConfig = {};

  before(async () => {
    oidcSite = await startStaticServer({ dir: REPO_ROOT, config: () => siteConfig });
    op = await startOidcProvider({ siteOrigin: new URL(oidcSite.url).origin, redirectPaths: [`/${RUST_HARNESS}`] });
    siteConfig = { apiUrl: `${op.issuer}/`, tokenEndpoint: op.tokenEndpoint, authorizationEndpoint: `${op.issuer}/auth`, issuer: op.issuer, clientId: op.clientId };
  });

  after(async () => {
    if (op) await op.stop();
    if (oidcSite) await oidcSite.close();
  });

  test('sign_in → the provider’s login and consent pages → back, handle_redirect signs in with PKCE; the code leaves the URL; a reload is no second exchange', { timeout: 45000 }, async (t) => {
    op.reset();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const pageErrors = [];
      const codeExchanges = [];
      page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
      page.on('request', (r) => {
        if (r.method() !== 'POST' || r.url() !== op.tokenEndpoint) return;
        const form = new URLSearchParams(r.postData() || '');
        if (form.get('grant_type') === 'authorization_code') codeExchanges.push(Object.fromEntries(form));
      });
      const config = {
        clientId: op.clientId,
        tokenEndpoint: op.tokenEndpoint,
        issuer: op.issuer,
        authorizationEndpoint: `${op.issuer}/auth`,
        scope: 'openid offline_access',
        allowedOrigins: [op.issuer],
      };
      await page.goto(`${oidcSite.url}${RUST_HARNESS}`);
      await page.evaluate(() => window.H.ready);
      await page.evaluate((cfg) => {
        window.H.make(cfg);
        // oidc-provider grants offline_access (a refresh token) only with prompt=consent.
        window.H.signInRedirect({ prompt: 'consent' });
      }, config);
      await page.waitForURL((u) => u.origin === op.issuer && u.pathname.startsWith('/interaction/'), { timeout: 10000 });
      const login = `rust-redirect-user-${Date.now()}`;
      await page.fill('input[name="login"]', login);
      await page.fill('input[name="password"]', 'any password');
      await page.click('button[type="submit"]');
      await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 10000 });
      await page.click('button[type="submit"]');
      await page.waitForURL((u) => u.origin === new URL(oidcSite.url).origin && u.pathname === `/${RUST_HARNESS}`, { timeout: 10000 });
      await page.evaluate(() => window.H.ready);
      const returned = new URL(page.url());
      assert.ok(returned.searchParams.get('code') && returned.searchParams.get('state'), `back with a code and our state: ${returned.search}`);

      await finishRedirectSignIn(page, config, { login, codeExchanges: () => op.counts().codeExchanges });
      assert.equal(codeExchanges.length, 1, 'one exchange, none after the reload');
      assert.equal(codeExchanges[0].redirect_uri, `${oidcSite.url}${RUST_HARNESS}`);
      assert.match(codeExchanges[0].code_verifier, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit PKCE verifier, base64url without padding');
      assert.deepEqual(pageErrors, []);
      t.diagnostic(`rust redirect sign-in: 1 code exchange, ${codeExchanges[0].code_verifier.length}-character verifier, userinfo 200 for ${login}`);
    } finally {
      await context.close();
    }
  });
});
