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
// The scenarios are rig/contract.mjs's, the code session.test.mjs (Chromium) and rust.test.mjs
// (the Rust driver) run too, here on the JavaScript harness in each engine; this file adds the
// two that only it runs (rotating refresh tokens without Web Locks, PKCE redirect sign-in).
// Counts come from the rig's side (the proxy's refresh requests, the API's good and bad tokens,
// the static server's loads of the login page, the provider's grants), which is the same in
// every engine; WebDriver has no network observer, so what the page itself sent is checked in
// Chromium only (Playwright's observer). Page errors are collected in the page.
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
import { REPO_ROOT, startRig } from './rig/rig.mjs';
import {
  burstScenario,
  byCode,
  finishRedirectSignIn,
  HOSTILE_ANSWERS,
  hostileScenario,
  likeOldSafari,
  openPage as openPageOf,
  openTab as openTabOf,
  revokedToLoginUrlScenario,
  sleep,
  stormScenario,
  tabsScenario,
} from './rig/contract.mjs';
import { startOidcProvider } from './rig/oidc.mjs';
import { startStaticServer } from './rig/serve.mjs';
import { ENGINES, available, launchEngine, watchErrors } from './engines/index.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const HARNESS = 'tests/e2e/pages/harness.html';

const SMOKE = process.env.ENGINES_SMOKE === '1';
/** Options of a test that a smoke run leaves out. */
const full = (options) => ({ ...options, skip: SMOKE ? 'left out of the smoke run (ENGINES_SMOKE=1)' : false });

const wanted = (process.env.ENGINES || ENGINES.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

let rig;
let site;
let op;
let oidcSite;
let oidcConfig = {};

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh (or scripts/e2e.sh, which builds)`);
  rig = await startRig();
  site = await startStaticServer({ dir: REPO_ROOT, config: () => rig.control.config() });
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

    /** What rig/contract.mjs's scenarios run on: this engine, the JavaScript harness. */
    const env = { harness: HARNESS };
    before(() => Object.assign(env, { rig, site, engine, label: engine.version }));
    /** Tabs of the harness, hidden unless told otherwise. */
    const openPage = (options) => openPageOf(env, { hidden: true, ...options });
    const openTab = (context, options) => openTabOf(env, context, { hidden: true, ...options });

    test('burst: an expired access token and 50 concurrent session.fetch calls → exactly 1 refresh, 50 API successes, 0 bad tokens', { timeout: 60000 }, async (t) => {
      await burstScenario(env, t);
    });

    test('two tabs sharing localStorage, 20 calls started in each → exactly 1 refresh in all, 40 successes, 0 bad tokens', { timeout: 60000 }, async (t) => {
      await tabsScenario(env, t, { tabs: 2, n: 20 });
    });

    test('without Web Locks and BroadcastChannel (as in Safari before 15.4): 50 calls in a tab → 1 refresh; 20 in each of two tabs → 1 refresh in all (the storage lease), 0 bad tokens', { timeout: 90000 }, async (t) => {
      const gone = { locks: 'undefined', broadcastChannel: 'undefined' };
      await burstScenario(env, t, { prepare: likeOldSafari, prepared: gone, storage: 'local' });
      await tabsScenario(env, t, { tabs: 2, n: 20, prepare: likeOldSafari, prepared: gone });
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
          assert.deepEqual(await tab.evaluate(likeOldSafari), { locks: 'undefined', broadcastChannel: 'undefined' });
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
        for (const tab of tabs) assert.deepEqual(await tab.pageErrors(), []);
        t.diagnostic(`${engine.version} without Web Locks, rotating refresh tokens: 2 tabs × 20 calls → ${counts.refresh} refresh, 0 reuse`);
      } finally {
        await first.close();
      }
    });

    test('throttle storm: TooManyRequestsException for 5 s → ≤ 8 attempts, THROTTLED with retryAt by the deadline, recovery without sign-out, 0 bad tokens', { timeout: 120000 }, async (t) => {
      await stormScenario(env, t, { fault: { mode: 'throttle' }, shortCode: 'THROTTLED', label: 'throttle storm' });
    });

    test('revoked refresh token with a loginUrl: 1 refresh attempt, exactly one navigation to the login page, waiters SESSION_EXPIRED, 0 API requests', { timeout: 60000 }, async (t) => {
      await revokedToLoginUrlScenario(env, t);
    });

    // Three of the hostile answers: a 200 that is not JSON, JSON of the wrong types, a 502 page.
    for (const [mode, code] of HOSTILE_ANSWERS.filter(([m]) => ['html200', 'wrong-types', 'bad-gateway'].includes(m))) {
      test(`hostile refresh answer ${mode} → ${code}; the refresh token stays; a later refresh succeeds`, mode === 'html200' ? { timeout: 60000 } : full({ timeout: 60000 }), async (t) => {
        await hostileScenario(env, t, mode, code);
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
        await finishRedirectSignIn(page, withLoginPage, { login, codeExchanges: () => op.counts().codeExchanges });
        t.diagnostic(`${engine.version}: redirect sign-in with PKCE, 1 code exchange, userinfo 200 for ${login}`);
      } finally {
        await close();
      }
    });
  });
}
