// The behaviour contract's end-to-end scenarios, written once and run by every driver and every
// engine: the JavaScript shell in Chromium (tests/e2e/session.test.mjs, on pages/harness.html),
// the Rust driver in Chromium (tests/e2e/rust.test.mjs, on pages/rust-harness.html) and the
// JavaScript shell in Chromium, Firefox ESR and WebKitGTK (tests/e2e/engines.test.mjs). Both
// pages offer the same `window.H`, and the scenarios reach the browser only through the page
// interface of tests/e2e/engines/index.mjs, so one scenario holds every driver and engine to the
// same counts.
//
// The counts come from the rig's side, which is the same everywhere: refresh requests at the
// fault proxy, good and bad bearer tokens at the API, the login page's loads at the static
// server, waiters' typed errors in the page. Where the page has Playwright's observer
// (`page.observer`: Chromium, in each of the three suites), a scenario also checks what the page itself sent
// (its refresh requests and the refresh token each carried, its navigations, its errors across
// documents); those assertions are marked "Playwright only".
//
// `env` is `{rig, site, engine, harness, label}`: the rig (moto behind the fault proxy, the
// API), the static server of the repository (`site.requests(path)`), an engine of
// engines/index.mjs, the harness page's path, and a label for the diagnostics (the engine).

import assert from 'node:assert/strict';
import { decodeJwt } from './rig.mjs';

export const LOGIN_PAGE = '/tests/e2e/pages/login.html';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const nowS = () => Math.floor(Date.now() / 1000);

/**
 * Waits until the harness page is ready: `window.H` is there (WebKitWebDriver has been seen to
 * answer a navigation before the page's module ran, under load) and `H.ready` resolved. At most
 * 10 s for `window.H`.
 */
export async function harnessReady(page) {
  await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const giveUpAt = Date.now() + 10000;
        const look = () => {
          if (window.H) resolve(window.H.ready.then(() => true));
          else if (Date.now() > giveUpAt) reject(new Error('window.H did not appear within 10 s'));
          else setTimeout(look, 20);
        };
        look();
      }),
  );
}

/** Another harness tab in `context` (the tabs of a context share localStorage): the page
 * interface's page. `siteUrl` and `harness` override the env's. */
export async function openTab(env, context, { hidden = false, harness = env.harness, siteUrl = env.site.url } = {}) {
  const page = await context.newPage();
  await page.goto(`${siteUrl}${harness}`);
  await harnessReady(page);
  if (hidden) await page.evaluate(() => window.H.setHidden(true));
  return page;
}

/** A new context (its own storage) with one harness tab: `{page, context, close}`. */
export async function openPage(env, options = {}) {
  const context = await env.engine.newContext();
  try {
    const page = await openTab(env, context, options);
    return { page, context, close: () => context.close() };
  } catch (e) {
    await context.close();
    throw e;
  }
}

/** moto's refresh token (signed in straight at moto: not counted) with an access token whose
 * `exp` is ten minutes past, signed with moto's key. The API answers such a token with 401
 * "expired", so had a session ever sent it, the API's bad-token count would show it. */
export async function expiredSession(rig) {
  const ar = await rig.control.signIn();
  const accessToken = rig.control.mintToken({ tokenUse: 'access', iat: nowS() - 3600, expiresInS: 3000 });
  assert.ok(decodeJwt(accessToken).claims.exp < nowS() - 500);
  return { handedIn: { accessToken, refreshToken: ar.RefreshToken }, moto: ar };
}

export function freshRig(rig) {
  rig.control.reset();
  rig.control.setTokenLifetime(null);
}

/** API requests with a missing, null, empty, malformed, forged or expired token. */
export function badTokenRequests(counts) {
  return counts.api.total - counts.api.ok;
}

export function refreshEvents(counts) {
  return counts.proxy.events.filter((e) => ['InitiateAuth/REFRESH_TOKEN_AUTH', 'InitiateAuth/REFRESH_TOKEN', 'GetTokensFromRefreshToken'].includes(e.op));
}

export function assertJwt(value, what) {
  assert.equal(typeof value, 'string', `${what}: not a string: ${JSON.stringify(value)}`);
  assert.ok(decodeJwt(value), `${what}: not a JWT: ${value.slice(0, 40)}`);
}

/** Results counted by outcome: `HTTP <status>` for an API answer, `ok` for another value, the
 * error's code for a failure. */
export function byCode(results) {
  const out = {};
  for (const r of results) {
    const k = r.ok ? (typeof r.value?.status === 'number' ? `HTTP ${r.value.status}` : 'ok') : r.code ?? `untyped ${r.name}: ${r.message}`;
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

/** Takes web APIs away the way Safari before 15.4 lacks them: Web Locks and BroadcastChannel.
 * Runs in the page; answers what the page's own scripts now see. On `window`, not
 * `globalThis`: geckodriver runs a script in a sandbox whose global is not the page's (setting
 * `globalThis.BroadcastChannel` there left the page's in place, measured in Firefox ESR 153). */
export function likeOldSafari() {
  Object.defineProperty(window.navigator, 'locks', { configurable: true, value: undefined });
  window.BroadcastChannel = undefined;
  return { locks: typeof window.navigator.locks, broadcastChannel: typeof window.BroadcastChannel };
}

const prefix = (env) => (env.label ? `${env.label}: ` : '');

/**
 * The start most scenarios share: a fresh rig, a harness tab (hidden unless told), `prepare`
 * run in it (it must answer `prepared`), the session made by `make(makeArg)` in the page, then
 * handed moto's refresh token with an expired access token. `{page, context, close, handedIn,
 * moto}`.
 */
async function expiredTab(env, { hidden = true, prepare = null, prepared = undefined, make = () => window.H.make(), makeArg = null } = {}) {
  freshRig(env.rig);
  const tab = await openPage(env, { hidden });
  try {
    if (prepare) assert.deepEqual(await tab.page.evaluate(prepare), prepared);
    const session = await expiredSession(env.rig);
    await tab.page.evaluate(make, makeArg);
    assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), session.handedIn), { ok: true });
    return { ...tab, ...session };
  } catch (e) {
    await tab.close();
    throw e;
  }
}

/** The hostile refresh answers (the proxy's fault modes) and the error code each must give. */
export const HOSTILE_ANSWERS = [
  ['html200', 'BAD_RESPONSE'],
  ['truncated-json', 'BAD_RESPONSE'],
  ['wrong-types', 'BAD_RESPONSE'],
  ['huge', 'BAD_RESPONSE'],
  ['expired-token', 'BAD_RESPONSE'],
  ['bad-gateway', 'UNAVAILABLE'],
];

/** Burst: an expired access token in a hidden tab and 50 concurrent `fetch` calls → exactly 1
 * refresh, 50 API successes, 0 bad tokens. `prepare` runs in the page before the session is
 * made (and must answer `prepared`); `storage` is the session's. */
export async function burstScenario(env, t, { prepare = null, prepared = undefined, storage = undefined } = {}) {
  const { rig } = env;
  const { page, close } = await expiredTab(env, { prepare, prepared, make: (s) => window.H.make(s === null ? {} : { storage: s }), makeArg: storage ?? null });
  try {
    await sleep(500);
    assert.equal(rig.counts().proxy.refresh.total, 0, 'a hidden tab does not refresh until a caller needs a token');

    const t0 = Date.now();
    const results = await page.evaluate(() => window.H.burst(50));
    const ms = Date.now() - t0;
    assert.deepEqual(byCode(results), { 'HTTP 200': 50 });

    const c = rig.counts();
    assert.equal(c.proxy.refresh.total, 1, 'exactly one refresh request reached the proxy');
    // Playwright only: what the page itself sent.
    if (page.observer) assert.equal(page.observer.refreshAttempts().length, 1, 'the page sent exactly one refresh request');
    assert.equal(c.api.ok, 50);
    assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
    assert.equal(c.api.total, 50, 'no replays');
    assert.equal(new Set(results.map((r) => r.value.body.exp)).size, 1, 'every call carried the same refreshed token');
    assert.deepEqual(await page.pageErrors(), []);
    const apis = await page.evaluate(() => ({ webLocks: typeof navigator.locks?.request === 'function', broadcastChannel: typeof BroadcastChannel === 'function' }));
    t.diagnostic(`${prefix(env)}burst: 50 calls, ${c.proxy.refresh.total} refresh, ${c.api.ok} API 200s, 0 bad tokens, ${ms} ms; ${JSON.stringify(apis)}`);
  } finally {
    await close();
  }
}

/** Tabs of one context on localStorage (`tabs` of them), an expired token in the record, `n`
 * `fetch` calls started in each at once → exactly 1 refresh in all, every call 200, 0 bad
 * tokens. `prepare` runs in each tab before its session is made (and must answer `prepared`). The calls are started in each
 * tab (a script that returns at once) and collected afterwards, so they overlap in every driver
 * (classic WebDriver runs one script at a time). */
export async function tabsScenario(env, t, { tabs: count = 2, n = 20, prepare = null, prepared = undefined } = {}) {
  const { rig } = env;
  const first = await expiredTab(env, { prepare, prepared, make: () => window.H.make({ storage: 'local' }) });
  try {
    const tabs = [first.page];
    while (tabs.length < count) {
      const tab = await openTab(env, first.context, { hidden: true });
      if (prepare) assert.deepEqual(await tab.evaluate(prepare), prepared);
      await tab.evaluate(() => window.H.make({ storage: 'local' }));
      tabs.push(tab);
    }
    const resumed = [];
    for (const tab of tabs) resumed.push(await tab.evaluate(() => window.H.snapshot().signedIn));
    assert.deepEqual(resumed, Array(count).fill(true), 'the other tabs resumed the session from localStorage');
    await sleep(300);
    assert.equal(rig.counts().proxy.refresh.total, 0);

    await Promise.all(tabs.map((tab) => tab.evaluate((k) => window.H.start(Array.from({ length: k }, () => ({ kind: 'fetch' }))), n)));
    const results = [];
    for (const tab of tabs) results.push(...(await tab.evaluate(() => window.H.collect(30000))).map((s) => s.result));
    assert.deepEqual(byCode(results), { 'HTTP 200': count * n });
    const c = rig.counts();
    // Playwright only: the refresh requests each tab sent.
    const perTab = tabs[0].observer ? tabs.map((tab) => tab.observer.refreshAttempts().length) : null;
    assert.equal(c.proxy.refresh.total, 1, `one refresh for all tabs (per tab: ${JSON.stringify(perTab)})`);
    if (perTab) assert.equal(perTab.reduce((a, b) => a + b, 0), 1, `refresh requests per tab: ${JSON.stringify(perTab)}`);
    assert.equal(c.api.ok, count * n);
    assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
    for (const tab of tabs) assert.deepEqual(await tab.pageErrors(), []);
    t.diagnostic(`${prefix(env)}${count} tabs × ${n} calls, ${c.proxy.refresh.total} refresh${perTab ? ` (per tab ${JSON.stringify(perTab)})` : ''}, API ${c.api.ok} ok, 0 bad`);
  } finally {
    await first.close();
  }
}

/**
 * A refresh storm: `fault` on every refresh for `stormMs` while callers wait. Short-deadline
 * callers must get `shortCode` with a retryAt by their deadline, long-deadline callers a token,
 * the session must come back without signing out, and no bad token may reach the API. At most
 * `maxProxyAttempts` refresh requests reach the proxy during the storm (more than the page's 8
 * only where the browser itself resends, see session.test.mjs's dropped connections).
 */
export async function stormScenario(env, t, { fault, shortCode, maxProxyAttempts = 8, stormMs = 5000, label }) {
  const { rig } = env;
  freshRig(rig);
  const { page, close } = await openPage(env);
  try {
    const { handedIn } = await expiredSession(rig);
    await page.evaluate(() => window.H.make());
    const stormEnd = rig.control.setFault({ ...fault, forMs: stormMs }).until;
    const specs = [
      ...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 1000 })),
      ...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 2500 })),
      // Long enough for the worst backoff draw after a 5 s storm (see the core's BackoffPolicy).
      ...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 70000 })),
      ...Array.from({ length: 5 }, () => ({ kind: 'fetch' })),
    ];
    await page.evaluate(([tk, s]) => {
      const r = window.H.setTokens(tk);
      if (!r.ok) throw new Error(JSON.stringify(r));
      return window.H.start(s);
    }, [handedIn, specs]);
    const settled = await page.evaluate(() => window.H.collect(80000));
    const after = rig.counts();
    const refreshes = refreshEvents(after);
    const duringStorm = refreshes.filter((e) => e.t < stormEnd);
    const recovered = refreshes.find((e) => e.t >= stormEnd && e.outcome === 'forwarded' && e.status === 200);
    const events = await page.evaluate(() => window.H.events);
    const refreshedEvent = events.find((e) => e.type === 'refreshed');

    for (const { spec, result } of settled) {
      assert.ok(result, `a caller never settled: ${JSON.stringify(spec)}`);
      if (spec.kind === 'token' && spec.deadlineMs <= 2500) {
        assert.equal(result.ok, false, `short-deadline caller got a token during the storm: ${JSON.stringify(result)}`);
        assert.equal(result.code, shortCode, JSON.stringify(result));
        assert.equal(typeof result.retryAt, 'number', `no retryAt: ${JSON.stringify(result)}`);
        assert.ok(result.retryAt > result.startedAt, 'retryAt lies ahead');
        assert.ok(result.at - result.startedAt <= spec.deadlineMs + 300, `rejected ${result.at - result.startedAt} ms after a ${spec.deadlineMs} ms deadline`);
      } else if (spec.kind === 'token') {
        assert.equal(result.ok, true, `long-deadline caller failed: ${JSON.stringify(result)}`);
        assertJwt(result.value, 'token after the storm');
      } else {
        // session.fetch waits its default 10 s: it either succeeded or got the typed error.
        assert.ok(result.ok ? result.value.status === 200 : result.code === shortCode && typeof result.retryAt === 'number', JSON.stringify(result));
      }
    }
    assert.ok(duringStorm.length >= 1 && duringStorm.length <= maxProxyAttempts, `${duringStorm.length} refresh requests at the proxy during the storm`);
    // Playwright only: the attempts the page made (the browser's own resends not counted), and
    // the refresh token each carried.
    const pageDuringStorm = page.observer ? page.observer.refreshAttempts().filter((e) => e.t < stormEnd) : null;
    if (page.observer) {
      assert.ok(pageDuringStorm.length >= 1 && pageDuringStorm.length <= 8, `${pageDuringStorm.length} refresh attempts from the page during the storm`);
      assert.equal(new Set(page.observer.refreshAttempts().map((a) => a.refreshToken)).size, 1, 'every attempt used the one refresh token');
    }
    assert.ok(recovered, 'a refresh succeeded after the storm');
    assert.ok(refreshedEvent, `a refreshed event was emitted: ${JSON.stringify(events.map((e) => e.type))}`);
    assert.deepEqual(events.filter((e) => e.type === 'expired' || e.type === 'signedOut'), [], 'no sign-out');
    const snap = await page.evaluate(() => window.H.snapshot());
    assert.equal(snap.signedIn, true);
    assert.equal(snap.expired, false);
    assert.deepEqual(await page.evaluate(() => window.H.loginRequired), []);
    assert.equal((await page.evaluate(() => window.H.record()))?.refresh, handedIn.refreshToken, 'the stored refresh token is kept');
    const again = await page.evaluate(() => window.H.apiCall());
    assert.equal(again.ok && again.value.status, 200, JSON.stringify(again));
    const c = rig.counts();
    assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
    assert.deepEqual(await page.pageErrors(), []);
    const shortResults = settled.filter((s) => s.spec.kind === 'token' && s.spec.deadlineMs <= 2500).map((s) => s.result);
    const fetches = settled.filter((s) => s.spec.kind === 'fetch').map((s) => s.result);
    t.diagnostic(
      `${prefix(env)}${label}: ${duringStorm.length} refresh requests at the proxy during the ${stormMs / 1000} s storm` +
        `${pageDuringStorm ? ` (${pageDuringStorm.length} attempts from the page)` : ''}, time to recovery ${recovered.t - stormEnd} ms after the storm ` +
        `(refreshed event +${refreshedEvent.at - stormEnd} ms); short waiters ${JSON.stringify(byCode(shortResults))}, ` +
        `fetches ${JSON.stringify(byCode(fetches))}; API ${c.api.ok} ok, ${badTokenRequests(c)} bad; ` +
        `events ${events.map((e) => e.type).join(',')}`,
    );
  } finally {
    rig.control.clearFault();
    await close();
  }
}

/** A refresh token revoked at the provider (AdminUserGlobalSignOut): 20 waiters get
 * SESSION_EXPIRED, 1 refresh attempt, the login callback exactly once, 0 API requests. */
export async function revokedScenario(env, t) {
  const { rig } = env;
  const { page, close } = await expiredTab(env);
  try {
    const revoked = await rig.control.revoke({});
    assert.equal(revoked.status, 200, JSON.stringify(revoked));
    const specs = [...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 10000 })), ...Array.from({ length: 10 }, () => ({ kind: 'fetch' }))];
    await page.evaluate((s) => window.H.start(s), specs);
    const settled = await page.evaluate(() => window.H.collect(20000));
    assert.deepEqual(byCode(settled.map((s) => s.result)), { SESSION_EXPIRED: 20 });

    // Later callers fail at once, without another attempt or another login request.
    const later = await page.evaluate(() => window.H.tokens(5, 5000));
    assert.deepEqual(byCode(later), { SESSION_EXPIRED: 5 });
    assert.ok(later.every((r) => r.at - r.startedAt < 1000));
    await sleep(1000);

    const c = rig.counts();
    assert.equal(c.proxy.refresh.total, 1, 'one refresh attempt reached the proxy');
    // Playwright only: the page's own attempts, none presenting a refresh token twice.
    if (page.observer) {
      const attempts = page.observer.refreshAttempts();
      assert.equal(attempts.length, 1);
      const perToken = {};
      for (const a of attempts) perToken[a.refreshToken] = (perToken[a.refreshToken] || 0) + 1;
      assert.ok(Object.values(perToken).every((k) => k <= 1), JSON.stringify(perToken));
    }
    assert.equal(c.proxy.byOperation['InitiateAuth/REFRESH_TOKEN_AUTH']?.forwarded, 1, 'moto answered it (NotAuthorizedException)');
    assert.equal(c.api.total, 0, 'no API request went out at all');
    assert.equal(badTokenRequests(c), 0);
    const login = await page.evaluate(() => window.H.loginRequired);
    assert.equal(login.length, 1, JSON.stringify(login));
    const events = await page.evaluate(() => window.H.events.map((e) => e.type));
    assert.equal(events.filter((e) => e === 'expired').length, 1, JSON.stringify(events));
    assert.equal(await page.evaluate(() => window.H.record()), null, 'the dead tokens are cleared from storage');
    const snap = await page.evaluate(() => window.H.snapshot());
    assert.equal(snap.signedIn, false);
    assert.equal(snap.expired, true);
    assert.deepEqual(await page.pageErrors(), []);
    t.diagnostic(`${prefix(env)}revoked: ${c.proxy.refresh.total} refresh attempt, ${login.length} login request (reason ${login[0]?.reason}), 20 waiters SESSION_EXPIRED, API requests 0`);
  } finally {
    await close();
  }
}

/** A refresh token revoked (GlobalSignOut) with a login URL: 1 refresh attempt, exactly one
 * navigation to the login page (one load of it at the static server), every waiter
 * SESSION_EXPIRED, 0 API requests, no tokens left in storage. */
export async function revokedToLoginUrlScenario(env, t) {
  const { rig, site } = env;
  const loginLoads = site.requests(LOGIN_PAGE);
  const { page, close, moto } = await expiredTab(env, { make: (loginUrl) => window.H.make({ loginUrl, onLoginRequired: undefined }), makeArg: LOGIN_PAGE });
  try {
    const revoked = await rig.control.revoke({ accessToken: moto.AccessToken });
    assert.equal(revoked.operation, 'GlobalSignOut');
    assert.equal(revoked.status, 200, JSON.stringify(revoked));
    const specs = [...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 10000 })), ...Array.from({ length: 5 }, () => ({ kind: 'fetch' }))];
    await page.evaluate((s) => window.H.start(s), specs);
    await page.waitForURL((u) => u.pathname === LOGIN_PAGE, { timeout: 15000 });
    await sleep(1500);
    assert.equal(new URL(await page.url()).pathname, LOGIN_PAGE);
    const loads = site.requests(LOGIN_PAGE) - loginLoads;
    assert.equal(loads, 1, 'the login page was loaded once');
    // Playwright only: the page's navigations.
    if (page.observer) assert.equal(page.observer.navigationsTo(LOGIN_PAGE).length, 1, JSON.stringify(page.observer.obs.navigations));
    const log = await page.evaluate(() => JSON.parse(sessionStorage.getItem('e2e-log') || '[]'));
    const results = log.filter((e) => e.kind === 'result').map((e) => e.result);
    assert.deepEqual(byCode(results), { SESSION_EXPIRED: specs.length }, JSON.stringify(log).slice(0, 500));
    const c = rig.counts();
    assert.equal(c.proxy.refresh.total, 1);
    // Playwright only: the page's own refresh requests.
    if (page.observer) assert.equal(page.observer.refreshAttempts().length, 1);
    assert.equal(c.api.total, 0, 'no API request went out');
    assert.equal(badTokenRequests(c), 0);
    const leftovers = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('cognito-session:')));
    assert.deepEqual(leftovers, [], 'no tokens left in storage');
    // Playwright only: errors in both documents (the login page has no in-page record).
    if (page.observer) assert.deepEqual(page.observer.obs.pageErrors, []);
    t.diagnostic(`${prefix(env)}revoked with loginUrl: ${c.proxy.refresh.total} refresh attempt, ${loads} load of ${LOGIN_PAGE}, ${results.length} waiters SESSION_EXPIRED, 0 API requests`);
  } finally {
    await close();
  }
}

/** A hostile refresh answer (`mode`, one of the proxy's faults) → `code` for the callers by
 * their deadline, the stored refresh token kept, the session alive, a later refresh succeeds. */
export async function hostileScenario(env, t, mode, code) {
  const { rig } = env;
  const { page, close, handedIn } = await expiredTab(env);
  try {
    rig.control.setFault({ mode });
    const results = await page.evaluate(() => window.H.tokens(3, 1500));
    assert.deepEqual(byCode(results), { [code]: 3 }, JSON.stringify(results[0]));
    for (const r of results) assert.ok(r.at - r.startedAt <= 1800, `settled after ${r.at - r.startedAt} ms`);
    const during = rig.counts();
    assert.ok(during.proxy.refresh.faulted >= 1, 'the fault was served');
    assert.equal((await page.evaluate(() => window.H.record()))?.refresh, handedIn.refreshToken, 'the stored refresh token is kept');
    const snap = await page.evaluate(() => window.H.snapshot());
    assert.equal(snap.signedIn, true);
    assert.equal(snap.expired, false);
    assert.deepEqual(await page.evaluate(() => window.H.loginRequired), []);

    rig.control.clearFault();
    const [token] = await page.evaluate(() => window.H.tokens(1, 40000));
    assert.equal(token.ok, true, `no recovery: ${JSON.stringify(token)}`);
    assertJwt(token.value, 'token after the fault');
    const call = await page.evaluate(() => window.H.apiCall());
    assert.equal(call.ok && call.value.status, 200, JSON.stringify(call));
    const c = rig.counts();
    assert.equal(c.proxy.refresh.forwarded, 1, 'one good refresh after the fault');
    assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
    assert.deepEqual(await page.pageErrors(), []);
    t.diagnostic(`${prefix(env)}${mode}: callers got ${JSON.stringify(byCode(results))} (${results[0].message}); ${during.proxy.refresh.faulted} faulted attempts; recovered in ${token.at - token.startedAt} ms`);
  } finally {
    rig.control.clearFault();
    await close();
  }
}

/**
 * The end of a redirect sign-in, on the harness page the provider sent the browser back to with a
 * code: `H.handleRedirect()` in a session made from `config` signs in, the code and state leave
 * the address bar, the ID token is `login`'s and the API (`me`) answers for them; after a reload
 * there is no return to handle and the session resumes from storage. `codeExchanges()` is how
 * many code exchanges the provider accepted: 1 all along. `page` is a Playwright page or a page
 * of engines/index.mjs.
 */
export async function finishRedirectSignIn(page, config, { login, codeExchanges }) {
  const done = await page.evaluate(async (cfg) => {
    window.H.make(cfg);
    const result = await window.H.handleRedirect();
    return { result, search: location.search, snapshot: window.H.snapshot(), claims: window.H.claims() };
  }, config);
  assert.deepEqual(done.result.value, { status: 'signedIn' }, JSON.stringify(done.result));
  assert.equal(done.search, '', 'code and state are gone from the address bar');
  assert.equal(done.snapshot.signedIn, true);
  assert.equal(done.claims.sub, login, 'the ID token is the signed-in user’s');
  assert.equal(codeExchanges(), 1, 'the provider accepted the PKCE verifier');
  const api = await page.evaluate(() => window.H.apiCall('me'));
  assert.deepEqual([api.value?.status, api.value?.body?.sub], [200, login], JSON.stringify(api));

  await page.reload();
  await harnessReady(page);
  const again = await page.evaluate(async (cfg) => {
    window.H.make(cfg);
    return { result: (await window.H.handleRedirect()).value, signedIn: window.H.snapshot().signedIn };
  }, config);
  assert.deepEqual(again, { result: null, signedIn: true });
  assert.equal(codeExchanges(), 1, 'no second exchange');
}
