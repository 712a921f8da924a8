// End-to-end tests of the session in OAuth2 mode (`tokenEndpoint`): the built module (pkg/web/)
// in headless Chromium against a real OpenID Connect provider (oidc-provider, tests/e2e/rig/
// oidc.mjs) whose refresh tokens rotate and whose reuse detection revokes the whole grant.
// Counts are the provider's own (refresh grants it served and refused); the protected API is
// its userinfo endpoint, which answers 401 to any access token it did not issue or that expired.
//
// Rotation is where per-tab refreshing breaks sessions: two tabs that refresh with the same
// refresh token make the provider see a reuse, and it signs the user out everywhere. So the
// cross-tab test asserts the provider saw each refresh token at most once.
//
//   node --test tests/e2e/oidc.test.mjs    (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, decodeJwt } from './rig/rig.mjs';
import { launchChromium } from './rig/browser.mjs';
import { finishRedirectSignIn } from './rig/contract.mjs';
import { startOidcProvider } from './rig/oidc.mjs';
import { startStaticServer } from './rig/serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const HARNESS = 'tests/e2e/pages/harness.html';
const LOGIN_PAGE = '/tests/e2e/pages/login.html';
/** Lifetime of the tokens a test starts with: a few seconds more than the 30 s a token must
 * still be valid for to be handed out, so a session needs its first refresh within seconds. */
const SHORT_LIFETIME_S = 34;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let op;
let site;
let browser;
let siteConfig = {};

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh (or scripts/e2e.sh, which builds)`);
  site = await startStaticServer({ dir: REPO_ROOT, config: () => siteConfig });
  op = await startOidcProvider({ siteOrigin: new URL(site.url).origin });
  // The harness reads its URLs from /rig-config.json; its API is the provider's userinfo.
  siteConfig = { apiUrl: `${op.issuer}/`, tokenEndpoint: op.tokenEndpoint, authorizationEndpoint: `${op.issuer}/auth`, issuer: op.issuer, clientId: op.clientId };
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (op) await op.stop();
  if (site) await site.close();
});

/** A tab of the harness in `context`, observing token-endpoint and userinfo requests, page
 * errors and navigations to the login page. */
async function openTab(context) {
  const page = await context.newPage();
  const obs = { tokenRequests: [], codeExchanges: [], apiRequests: 0, pageErrors: [], loginNavigations: [] };
  page.on('pageerror', (e) => obs.pageErrors.push(String(e?.stack || e)));
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url() === op.tokenEndpoint) {
      const form = new URLSearchParams(r.postData() || '');
      if (form.get('grant_type') === 'authorization_code') obs.codeExchanges.push(Object.fromEntries(form));
      else obs.tokenRequests.push(form.get('refresh_token'));
    }
    if (r.method() === 'GET' && r.url() === `${op.issuer}/me`) obs.apiRequests += 1;
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && new URL(frame.url()).pathname === LOGIN_PAGE) obs.loginNavigations.push(frame.url());
  });
  await page.goto(`${site.url}${HARNESS}`);
  await page.evaluate(() => window.H.ready);
  await page.evaluate(() => window.H.setHidden(true));
  return { page, obs };
}

/** Runs `body` in a new browser context (its own storage) with the provider's counts reset. */
async function inFreshContext(body) {
  op.reset();
  const context = await browser.newContext();
  try {
    await body(context);
  } finally {
    await context.close();
  }
}

/** Config overrides that put the harness's session in OAuth2 mode against the provider. */
function oauth2(extra = {}) {
  return { userPoolId: undefined, endpoint: undefined, tokenEndpoint: siteConfig.tokenEndpoint, issuer: siteConfig.issuer, clientId: siteConfig.clientId, ...extra };
}

/** OAuth2 mode with sign-in through the provider's login page (the redirect URI defaults to
 * the harness page, which is what the provider has registered). */
function withLoginPage(extra = {}) {
  return oauth2({ authorizationEndpoint: siteConfig.authorizationEndpoint, scope: 'openid offline_access', ...extra });
}

/** Starts `session.signIn()` in the tab and waits for the provider's login page. oidc-provider
 * grants `offline_access` (a refresh token) only with `prompt=consent`, passed as a parameter
 * of this request. */
async function goToLoginPage(tab) {
  await tab.page.evaluate((cfg) => {
    window.H.make(cfg);
    window.H.session.signIn({ params: { prompt: 'consent' } }).catch((e) => {
      window.H.signInError = String(e?.message || e);
    });
  }, withLoginPage());
  await tab.page.waitForURL((u) => u.origin === op.issuer && u.pathname.startsWith('/interaction/'), { timeout: 10000 });
}

/** On the provider's pages: signs in as `login` and consents, as a user would. */
async function loginAndConsent(page, login) {
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.waitForURL((u) => u.origin === op.issuer && u.pathname.startsWith('/interaction/'), { timeout: 10000 });
  await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 10000 });
  await page.click('button[type="submit"]');
}

/** Waits for the harness to load again after the provider sent the browser back. */
async function backOnHarness(page) {
  await page.waitForURL((u) => u.origin === new URL(site.url).origin && u.pathname === `/${HARNESS}`, { timeout: 10000 });
  await page.evaluate(() => window.H.ready);
}

/** Signs a user in at the provider with tokens that need a refresh within seconds; tokens the
 * provider issues afterwards live an hour unless `keepShort`. Answers what `setTokens` takes. */
async function shortLivedSignIn({ keepShort = false } = {}) {
  op.setTokenLifetime(SHORT_LIFETIME_S);
  const answer = await op.signIn();
  if (!keepShort) op.setTokenLifetime(3600);
  assert.ok(!answer.access_token.includes('.'), 'oidc-provider issues opaque access tokens');
  assert.equal(decodeJwt(answer.id_token).claims.aud, op.clientId);
  return { accessToken: answer.access_token, idToken: answer.id_token, refreshToken: answer.refresh_token, expiresIn: answer.expires_in };
}

/** Waits until a token handed in now with SHORT_LIFETIME_S is no longer handed out. */
const untilRefreshIsDue = () => sleep((SHORT_LIFETIME_S - 30) * 1000 + 1500);

function byStatus(results) {
  const out = {};
  for (const r of results) {
    const k = r.ok ? `HTTP ${r.value.status}` : r.code ?? `untyped ${r.name}: ${r.message}`;
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

/** The refresh token in the session's storage record (its `refresh` member). */
function storedRefreshToken(record) {
  return record && typeof record === 'object' && typeof record.refresh === 'string' ? record.refresh : null;
}

describe('cognito-session in OAuth2 mode against oidc-provider (rotating refresh tokens)', { concurrency: false }, () => {
  test('50 concurrent API calls in a tab whose opaque token is due → 1 refresh at the provider, 50 × 200, the rotated refresh token stored', { timeout: 45000 }, async (t) => {
    await inFreshContext(async (context) => {
      const tab = await openTab(context);
      const handedIn = await shortLivedSignIn();
      await tab.page.evaluate((cfg) => window.H.make(cfg), oauth2());
      assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      await untilRefreshIsDue();
      assert.equal(op.counts().refresh, 0, 'a hidden tab does not refresh until a caller needs a token');

      const results = await tab.page.evaluate(() => window.H.burst(50, 'me'));
      assert.deepEqual(byStatus(results), { 'HTTP 200': 50 }, 'every call reached userinfo with a token the provider accepts');
      const counts = op.counts();
      assert.equal(counts.refresh, 1, `refresh grants served: ${counts.refresh}`);
      assert.deepEqual(counts.refreshRefused, []);
      assert.deepEqual(tab.obs.tokenRequests, [handedIn.refreshToken], 'one token-endpoint request, with the handed-in refresh token');
      assert.equal(tab.obs.apiRequests, 50);
      assert.ok(results.every((r) => r.value.body?.sub), 'userinfo named the user for every call');

      const token = await tab.page.evaluate(() => window.H.session.getAccessToken());
      assert.notEqual(token, handedIn.accessToken);
      assert.ok(await op.isActive(token), 'the token handed out is one the provider holds as active');
      const record = await tab.page.evaluate(() => window.H.record());
      const stored = storedRefreshToken(record);
      assert.ok(stored && stored !== handedIn.refreshToken, `the rotated refresh token is stored: ${JSON.stringify(record)?.slice(0, 200)}`);
      assert.deepEqual(tab.obs.pageErrors, []);
      t.diagnostic(`oauth2 burst: 50 calls, ${counts.refresh} refresh grant at the provider, 50 × 200 from userinfo, refresh token rotated`);
    });
  });

  test('two tabs sharing localStorage, both due at once, 20 calls each → one refresh in all, no reuse seen, and the grant still refreshes afterwards', { timeout: 60000 }, async (t) => {
    await inFreshContext(async (context) => {
      const first = await openTab(context);
      // Every token lives SHORT_LIFETIME_S here, so the rotated ones come due again too.
      const handedIn = await shortLivedSignIn({ keepShort: true });
      await first.page.evaluate((cfg) => window.H.make(cfg), oauth2({ storage: 'local' }));
      assert.deepEqual(await first.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      const second = await openTab(context);
      await second.page.evaluate((cfg) => window.H.make(cfg), oauth2({ storage: 'local' }));
      assert.equal(await second.page.evaluate(() => window.H.snapshot().signedIn), true, 'the second tab resumed the session from localStorage');
      await untilRefreshIsDue();

      const tabs = [first, second];
      const results = (await Promise.all(tabs.map((tab) => tab.page.evaluate(() => window.H.burst(20, 'me'))))).flat();
      assert.deepEqual(byStatus(results), { 'HTTP 200': 40 });
      let counts = op.counts();
      const perTab = tabs.map((tab) => tab.obs.tokenRequests.length);
      assert.equal(counts.refresh, 1, `token-endpoint requests per tab: ${JSON.stringify(perTab)}`);
      assert.deepEqual(counts.refreshRefused, [], 'the provider saw no reused refresh token');
      assert.deepEqual(perTab.reduce((a, b) => a + b, 0), 1);

      // Both tabs hold the rotated tokens. When they come due, the tab that did not refresh
      // presents the rotated refresh token, which the provider still honours.
      const tokens = await Promise.all(tabs.map((tab) => tab.page.evaluate(() => window.H.session.getAccessToken())));
      assert.equal(tokens[0], tokens[1], 'both tabs hand out the same access token');
      await untilRefreshIsDue();
      const later = await second.page.evaluate(() => window.H.burst(5, 'me'));
      assert.deepEqual(byStatus(later), { 'HTTP 200': 5 });
      const renewed = await second.page.evaluate(() => window.H.session.getAccessToken());
      assert.notEqual(renewed, tokens[1]);
      assert.ok(await op.isActive(renewed), 'the renewed token is active at the provider');
      counts = op.counts();
      assert.equal(counts.refresh, 2, 'the second rotation was served too: the grant was never revoked');
      assert.deepEqual(counts.refreshRefused, []);
      const seen = counts.refreshTokensSeen;
      assert.equal(new Set(seen).size, seen.length, `each refresh token presented once: ${seen.length} presented`);
      for (const tab of tabs) assert.deepEqual(tab.obs.pageErrors, []);
      t.diagnostic(`oauth2 tabs: 2 tabs × 20 calls, token-endpoint requests per tab ${JSON.stringify(perTab)}, 0 reuse, a later rotation succeeded`);
    });
  });

  test('the tab holding the refresh lock closes while its token request hangs: the other tab refreshes, each rotating refresh token reaches the provider once, the grant lives on', { timeout: 60000 }, async (t) => {
    // Both tabs reach the token endpoint through a proxy that holds the first request open
    // and never forwards it (a network that swallowed it), and forwards the rest as they are.
    let hangNext = true;
    const held = [];
    const target = new URL(op.tokenEndpoint);
    const proxy = http.createServer((req, res) => {
      if (req.method === 'POST' && hangNext) {
        hangNext = false;
        held.push(req);
        req.socket.setTimeout(60000, () => req.socket.destroy());
        return;
      }
      const out = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const tokenEndpoint = `http://127.0.0.1:${proxy.address().port}${target.pathname}`;
    try {
      await inFreshContext(async (context) => {
        const holder = await openTab(context);
        const handedIn = await shortLivedSignIn();
        await holder.page.evaluate((cfg) => window.H.make(cfg), oauth2({ storage: 'local', tokenEndpoint }));
        assert.deepEqual(await holder.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
        const waiter = await openTab(context);
        await waiter.page.evaluate((cfg) => window.H.make(cfg), oauth2({ storage: 'local', tokenEndpoint }));
        await untilRefreshIsDue();
        await holder.page.evaluate(() => window.H.start([{ kind: 'token', deadlineMs: 60000 }]));
        for (let i = 0; i < 100 && !held.length; i += 1) await sleep(50);
        assert.equal(held.length, 1, 'the holder’s refresh is held at the proxy');
        await waiter.page.evaluate(() => window.H.start([{ kind: 'token', deadlineMs: 20000 }]));
        await sleep(500);
        assert.equal(op.counts().refresh, 0, 'the other tab waits for the lock');
        const closed = Date.now();
        await holder.page.close();
        const [{ result }] = await waiter.page.evaluate(() => window.H.collect(20000));
        const took = Date.now() - closed;
        assert.equal(result.ok, true, JSON.stringify(result));
        const calls = await waiter.page.evaluate(() => window.H.burst(3, 'me'));
        assert.deepEqual(byStatus(calls), { 'HTTP 200': 3 });
        const counts = op.counts();
        assert.equal(counts.refresh, 1);
        assert.deepEqual(counts.refreshRefused, [], 'no reuse: the grant was not revoked');
        assert.deepEqual(counts.refreshTokensSeen, [handedIn.refreshToken], 'the refresh token reached the provider once');
        assert.deepEqual(waiter.obs.loginNavigations, []);
        assert.deepEqual(waiter.obs.pageErrors, []);
        assert.ok(took < 10000, `the other tab had its token ${took} ms after the holder closed`);
        t.diagnostic(`oauth2: holder closed mid-refresh, the other tab had a token ${took} ms later; 1 refresh at the provider, 0 reuse`);
      });
    } finally {
      for (const req of held) req.socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test('a refresh token used elsewhere first: the provider revokes the grant, 15 waiters SESSION_EXPIRED, one refresh attempt, exactly one redirect to login', { timeout: 45000 }, async (t) => {
    await inFreshContext(async (context) => {
      const tab = await openTab(context);
      const handedIn = await shortLivedSignIn();
      await tab.page.evaluate((cfg) => window.H.make(cfg), oauth2({ loginUrl: LOGIN_PAGE, onLoginRequired: undefined }));
      assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      // Someone else (a stolen copy, another device) rotates the refresh token first.
      const elsewhere = await op.refreshFromNode(handedIn.refreshToken);
      assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
      await untilRefreshIsDue();

      const specs = [...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 10000 })), ...Array.from({ length: 5 }, () => ({ kind: 'fetch', path: 'me' }))];
      await tab.page.evaluate((s) => window.H.start(s), specs);
      await tab.page.waitForURL((u) => u.pathname === LOGIN_PAGE, { timeout: 15000 });
      await sleep(1500);
      assert.equal(tab.obs.loginNavigations.length, 1, JSON.stringify(tab.obs.loginNavigations));
      const log = await tab.page.evaluate(() => JSON.parse(sessionStorage.getItem('e2e-log') || '[]'));
      const outcomes = log.filter((e) => e.kind === 'result').map((e) => (e.result.ok ? 'ok' : e.result.code));
      assert.deepEqual(outcomes, Array(specs.length).fill('SESSION_EXPIRED'), JSON.stringify(log).slice(0, 500));

      const counts = op.counts();
      assert.equal(counts.refresh, 1, 'only the refresh made elsewhere was served');
      assert.deepEqual(counts.refreshRefused.map((r) => r.error), ['invalid_grant'], 'the session presented the consumed token once, and stopped');
      assert.deepEqual(tab.obs.tokenRequests, [handedIn.refreshToken]);
      assert.equal(tab.obs.apiRequests, 0, 'no API request went out without a valid token');
      const rotated = await op.refreshFromNode(elsewhere.body.refresh_token);
      assert.equal(rotated.status, 400, 'reuse detection revoked the whole grant');
      // The provider's public key set may stay (`:keys`); no tokens may.
      const leftovers = await tab.page.evaluate(() => Object.keys({ ...sessionStorage, ...localStorage }).filter((k) => k.startsWith('cognito-session:') && !k.endsWith(':keys')));
      assert.deepEqual(leftovers, [], 'no tokens left in storage');
      assert.deepEqual(tab.obs.pageErrors, []);
      t.diagnostic(`oauth2 reuse: 1 refresh attempt refused invalid_grant, ${outcomes.length} waiters SESSION_EXPIRED, 1 redirect, 0 API requests`);
    });
  });
  test('signIn() → the provider’s login and consent pages → back, handleRedirect() signs in with PKCE; the code leaves the URL; a reload is no second exchange', { timeout: 45000 }, async (t) => {
    await inFreshContext(async (context) => {
      const tab = await openTab(context);
      await goToLoginPage(tab);
      const login = `redirect-user-${Date.now()}`;
      await loginAndConsent(tab.page, login);
      await backOnHarness(tab.page);
      const returned = new URL(tab.page.url());
      assert.ok(returned.searchParams.get('code') && returned.searchParams.get('state'), `back with a code and our state: ${returned.search}`);

      await finishRedirectSignIn(tab.page, withLoginPage(), { login, codeExchanges: () => op.counts().codeExchanges });
      assert.equal(tab.obs.codeExchanges.length, 1, 'one exchange, none after the reload');
      const exchange = tab.obs.codeExchanges[0];
      assert.equal(exchange.client_id, op.clientId);
      assert.equal(exchange.redirect_uri, `${site.url}${HARNESS}`);
      assert.match(exchange.code_verifier, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit PKCE verifier');
      assert.deepEqual(tab.obs.pageErrors, []);
      t.diagnostic(`redirect sign-in: 1 code exchange with a ${exchange.code_verifier.length}-character verifier, userinfo 200 for ${login}`);
    });
  });

  test('a return this tab did not start, or with another state, is refused with BAD_RESPONSE and nothing is sent', { timeout: 45000 }, async () => {
    await inFreshContext(async (context) => {
      const tab = await openTab(context);
      const attempt = async (query) => {
        await tab.page.goto(`${site.url}${HARNESS}?${query}`);
        await tab.page.evaluate(() => window.H.ready);
        return tab.page.evaluate(async (cfg) => {
          window.H.make(cfg);
          try {
            return { ok: true, value: await window.H.session.handleRedirect() };
          } catch (e) {
            return { ok: false, code: e.code, providerCode: e.providerCode, search: location.search };
          }
        }, withLoginPage());
      };
      // A link planted by someone else: this tab started no sign-in.
      const planted = await attempt('code=planted-code&state=whatever-state-value-0123');
      assert.deepEqual(planted, { ok: false, code: 'BAD_RESPONSE', providerCode: 'NoPendingSignIn', search: '' });

      // A sign-in was started here, but the return carries another state.
      await goToLoginPage(tab);
      const forged = await attempt('code=planted-code&state=not-the-state-we-sent-0123');
      assert.deepEqual(forged, { ok: false, code: 'BAD_RESPONSE', providerCode: 'StateMismatch', search: '' });
      // The record is not used up by that attempt: a forged link cannot cancel the real sign-in
      // under way (its return, with the right state, would still complete it).
      const later = await attempt('code=planted-code&state=not-the-state-we-sent-0123');
      assert.equal(later.providerCode, 'StateMismatch');

      // A page whose own query merely has a `state` is no return at all.
      const unrelated = await attempt('state=app-state&tab=2');
      assert.deepEqual(unrelated, { ok: true, value: null });
      assert.equal(new URL(tab.page.url()).search, '?state=app-state&tab=2', 'an unrelated query is left alone');

      assert.deepEqual(tab.obs.codeExchanges, [], 'no code was sent to the token endpoint');
      assert.equal(op.counts().codeExchanges, 0);
      assert.deepEqual(tab.obs.pageErrors, []);
    });
  });

  test('the user cancels on the login page → NOT_SIGNED_IN with providerCode access_denied, nothing exchanged', { timeout: 45000 }, async () => {
    await inFreshContext(async (context) => {
      const tab = await openTab(context);
      await goToLoginPage(tab);
      await tab.page.click('text=[ Cancel ]');
      await backOnHarness(tab.page);
      const out = await tab.page.evaluate(async (cfg) => {
        window.H.make(cfg);
        try {
          return { ok: true, value: await window.H.session.handleRedirect() };
        } catch (e) {
          return { ok: false, code: e.code, providerCode: e.providerCode, message: e.message, signedIn: window.H.snapshot().signedIn };
        }
      }, withLoginPage());
      assert.equal(out.ok, false, JSON.stringify(out));
      assert.deepEqual([out.code, out.providerCode, out.signedIn], ['NOT_SIGNED_IN', 'access_denied', false]);
      assert.match(out.message, /aborted/, 'the provider’s error_description is the message');
      assert.deepEqual(tab.obs.codeExchanges, []);
      assert.deepEqual(tab.obs.pageErrors, []);
    });
  });

  test('signOut({revoke, redirect}): RFC 7009 revokes the refresh token, then the end-session page with id_token_hint ends the provider’s session and comes back', { timeout: 45000 }, async (t) => {
    await inFreshContext(async (context) => {
      const tab = await openTab(context);
      await goToLoginPage(tab);
      await loginAndConsent(tab.page, `signout-user-${Date.now()}`);
      await backOnHarness(tab.page);
      const signedOut = withLoginPage({ revocationEndpoint: op.revocationEndpoint, endSessionEndpoint: op.endSessionEndpoint, postLogoutRedirectUri: op.postLogoutRedirectUri });
      const before = await tab.page.evaluate(async (cfg) => {
        window.H.make(cfg);
        await window.H.session.handleRedirect();
        return { record: window.H.record(), idToken: await window.H.session.getIdToken() };
      }, signedOut);
      const refreshToken = storedRefreshToken(before.record);
      assert.ok(refreshToken, 'signed in with a refresh token');
      const revocations = [];
      tab.page.on('request', (r) => {
        if (r.url() === op.revocationEndpoint) revocations.push(Object.fromEntries(new URLSearchParams(r.postData() || '')));
      });

      // The page goes to the provider once the revocation is answered: signOut's promise is left
      // behind with it.
      await tab.page.evaluate(() => {
        window.H.session.signOut({ revoke: true, redirect: true });
      });
      await tab.page.waitForURL((u) => u.origin === op.issuer && u.pathname === '/session/end', { timeout: 10000 });
      assert.deepEqual(revocations, [{ token_type_hint: 'refresh_token', token: refreshToken, client_id: op.clientId }]);
      const refused = await op.refreshFromNode(refreshToken);
      assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_grant'], 'the revoked refresh token no longer refreshes');

      const endSession = new URL(tab.page.url());
      assert.deepEqual(Object.fromEntries(endSession.searchParams), {
        id_token_hint: before.idToken,
        post_logout_redirect_uri: op.postLogoutRedirectUri,
        client_id: op.clientId,
      });
      // The provider asks; the user confirms; it ends its own session and sends the browser back.
      await tab.page.click('button[name="logout"]');
      await tab.page.waitForURL((u) => u.href === op.postLogoutRedirectUri, { timeout: 10000 });
      const kept = await tab.page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('cognito-session:') && !k.endsWith(':signIn') && !k.endsWith(':keys')));
      assert.deepEqual(kept, [], 'the session was signed out here: its record is gone');
      assert.deepEqual(tab.obs.pageErrors, []);
      t.diagnostic('revoked at the provider, then its end-session page and back');
    });
  });

  test('signOut options the provider cannot honour are BAD_CONFIG and leave the session signed in', { timeout: 45000 }, async () => {
    await inFreshContext(async (context) => {
      const tab = await openTab(context);
      const handedIn = await shortLivedSignIn();
      await tab.page.evaluate((cfg) => window.H.make(cfg), oauth2());
      assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      const refusals = await tab.page.evaluate(async () => {
        const out = [];
        for (const options of [{ global: true }, { revoke: true }, { redirect: true }, { revoked: true }, { revoke: 'yes' }]) {
          try {
            await window.H.session.signOut(options);
            out.push('resolved');
          } catch (e) {
            out.push(`${e.code}: ${e.message}`);
          }
        }
        return { out, signedIn: window.H.snapshot().signedIn };
      });
      assert.equal(refusals.signedIn, true);
      assert.deepEqual(refusals.out.map((r) => r.split(':')[0]), ['BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG']);
      assert.match(refusals.out[0], /userPoolId/);
      assert.match(refusals.out[1], /revocationEndpoint/);
      assert.match(refusals.out[2], /logout endpoint/);
      assert.deepEqual(tab.obs.pageErrors, []);
    });
  });
});
