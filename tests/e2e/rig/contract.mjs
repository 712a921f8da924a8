// The behaviour contract's end-to-end scenarios, shared by the two drivers of the engine: the
// JavaScript shell (tests/e2e/session.test.mjs, on pages/harness.html) and the Rust driver
// (tests/e2e/rust.test.mjs, on pages/rust-harness.html). Both pages offer the same `window.H`,
// so one scenario holds both to the same counts: refresh requests at the rig's proxy and in
// the page, good and bad bearer tokens at the API, waiters' typed errors, login requests.
//
// `env` is `{rig, site, browser, harness}`: the rig (moto behind the fault proxy, the API), the
// static server of the repository, Chromium, and the harness page's path.

import assert from 'node:assert/strict';
import { decodeJwt } from './rig.mjs';

export const LOGIN_PAGE = '/tests/e2e/pages/login.html';
const REFRESH_FLOW = 'REFRESH_TOKEN_AUTH';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const nowS = () => Math.floor(Date.now() / 1000);

/**
 * A tab of the harness in `context` (tabs of one context share localStorage), with observers:
 * every Cognito call the page makes (with the refresh token it carries), uncaught page errors,
 * and navigations to the login page. `harness` overrides `env.harness`.
 */
export async function openTab(env, context, { hidden = false, harness = env.harness } = {}) {
  const { rig, site } = env;
  const page = await context.newPage();
  const obs = { cognito: [], pageErrors: [], loginNavigations: [] };
  page.on('pageerror', (e) => obs.pageErrors.push(String(e?.stack || e)));
  page.on('request', (r) => {
    if (r.method() !== 'POST' || !r.url().startsWith(rig.cognitoUrl) || r.url().includes('/__rig/')) return;
    let body = null;
    try {
      body = JSON.parse(r.postData() || 'null');
    } catch {
      // not JSON: recorded without a body
    }
    obs.cognito.push({
      t: Date.now(),
      target: r.headers()['x-amz-target'] ?? null,
      flow: body?.AuthFlow ?? null,
      refreshToken: body?.AuthParameters?.REFRESH_TOKEN ?? body?.RefreshToken ?? null,
    });
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && new URL(frame.url()).pathname === LOGIN_PAGE) obs.loginNavigations.push({ t: Date.now(), url: frame.url() });
  });
  await page.goto(`${site.url}${harness}`);
  await page.evaluate(() => window.H.ready);
  if (hidden) await page.evaluate(() => window.H.setHidden(true));
  const refreshAttempts = () => obs.cognito.filter((c) => c.flow === REFRESH_FLOW || (c.target || '').endsWith('GetTokensFromRefreshToken'));
  return { page, obs, refreshAttempts };
}

/** A fresh browser context (its own storage) on the harness page, with `openTab`'s observers. */
export async function openPage(env, options = {}) {
  const context = await env.browser.newContext();
  const tab = await openTab(env, context, options);
  return { ...tab, context, close: () => context.close() };
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

export function byCode(results) {
  const out = {};
  for (const r of results) {
    const k = r.ok ? 'ok' : r.code ?? `untyped ${r.name}: ${r.message}`;
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

/** Burst: an expired access token in a hidden tab and 50 concurrent `fetch` calls → exactly 1
 * refresh, 50 API successes, 0 bad tokens. */
export async function burstScenario(env, t) {
  const { rig } = env;

  freshRig(rig);
  const { page, obs, refreshAttempts, close } = await openPage(env, { hidden: true });
  try {
    const { handedIn } = await expiredSession(rig);
    await page.evaluate(() => window.H.make());
    assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
    await sleep(500);
    assert.equal(rig.counts().proxy.refresh.total, 0, 'a hidden tab does not refresh until a caller needs a token');

    const t0 = Date.now();
    const results = await page.evaluate(() => window.H.burst(50));
    const ms = Date.now() - t0;
    const statuses = results.map((r) => (r.ok ? r.value.status : r.code));
    assert.deepEqual(statuses, Array(50).fill(200), JSON.stringify(byCode(results)));

    const c = rig.counts();
    assert.equal(c.proxy.refresh.total, 1, 'exactly one refresh request reached the proxy');
    assert.equal(refreshAttempts().length, 1, 'the page sent exactly one refresh request');
    assert.equal(c.api.ok, 50);
    assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
    assert.equal(c.api.total, 50, 'no replays');
    assert.equal(new Set(results.map((r) => r.value.body.exp)).size, 1, 'every call carried the same refreshed token');
    assert.deepEqual(obs.pageErrors, []);
    t.diagnostic(`burst: 50 calls, ${c.proxy.refresh.total} refresh, ${c.api.ok} API 200s, 0 bad tokens, ${ms} ms`);
  } finally {
    await close();
  }
}

/**
 * A refresh storm: `fault` on every refresh for `stormMs` while callers wait. Short-deadline
 * callers must get `shortCode` with a retryAt by their deadline, long-deadline callers a token,
 * the session must come back without signing out, and no bad token may reach the API.
 */
export async function stormScenario(env, t, { fault, shortCode, maxProxyAttempts = 8, stormMs = 5000, label }) {
  const { rig } = env;
  freshRig(rig);
  const { page, obs, refreshAttempts, close } = await openPage(env);
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
    const pageDuringStorm = refreshAttempts().filter((e) => e.t < stormEnd);
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
    assert.ok(pageDuringStorm.length >= 1 && pageDuringStorm.length <= 8, `${pageDuringStorm.length} refresh attempts from the page during the storm`);
    assert.ok(duringStorm.length <= maxProxyAttempts, `${duringStorm.length} refresh requests at the proxy during the storm`);
    assert.ok(recovered, 'a refresh succeeded after the storm');
    assert.ok(refreshedEvent, 'a refreshed event was emitted');
    assert.equal(new Set(refreshAttempts().map((a) => a.refreshToken)).size, 1, 'every attempt used the one refresh token');
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
    assert.deepEqual(obs.pageErrors, []);
    const shortResults = settled.filter((s) => s.spec.kind === 'token' && s.spec.deadlineMs <= 2500).map((s) => s.result);
    const fetches = settled.filter((s) => s.spec.kind === 'fetch').map((s) => s.result);
    t.diagnostic(
      `${label}: ${pageDuringStorm.length} refresh attempts from the page during the ${stormMs / 1000} s storm ` +
        `(${duringStorm.length} at the proxy), time to recovery ${recovered.t - stormEnd} ms after the storm ` +
        `(refreshed event +${refreshedEvent.at - stormEnd} ms); short waiters ${JSON.stringify(byCode(shortResults))}, ` +
        `fetches ${JSON.stringify(byCode(fetches.map((r) => (r.ok ? { ok: true } : r))))}; API ${c.api.ok} ok, ${badTokenRequests(c)} bad; ` +
        `events ${events.map((e) => e.type).join(',')}`,
    );
  } finally {
    await close();
  }
}

/** A refresh token revoked at the provider (AdminUserGlobalSignOut): 20 waiters get
 * SESSION_EXPIRED, 1 refresh attempt, the login callback exactly once, 0 API requests. */
export async function revokedScenario(env, t) {
  const { rig } = env;
  freshRig(rig);
  const { page, obs, refreshAttempts, close } = await openPage(env, { hidden: true });
  try {
    const { handedIn } = await expiredSession(rig);
    await page.evaluate(() => window.H.make());
    assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
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
    const attempts = refreshAttempts();
    assert.equal(c.proxy.refresh.total, 1, 'one refresh attempt reached the proxy');
    assert.equal(attempts.length, 1);
    const perToken = {};
    for (const a of attempts) perToken[a.refreshToken] = (perToken[a.refreshToken] || 0) + 1;
    assert.ok(Object.values(perToken).every((n) => n <= 1), JSON.stringify(perToken));
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
    assert.deepEqual(obs.pageErrors, []);
    t.diagnostic(`revoked: ${attempts.length} refresh attempt, ${login.length} login request (reason ${login[0]?.reason}), 20 waiters SESSION_EXPIRED, API requests 0`);
  } finally {
    await close();
  }
}

/** A refresh token revoked (GlobalSignOut) with a login URL: exactly one navigation to the
 * login page, every waiter SESSION_EXPIRED, 0 API requests. */
export async function revokedToLoginUrlScenario(env, t) {
  const { rig } = env;
  freshRig(rig);
  const { page, obs, refreshAttempts, close } = await openPage(env, { hidden: true });
  try {
    const { handedIn, moto } = await expiredSession(rig);
    await page.evaluate((loginUrl) => window.H.make({ loginUrl, onLoginRequired: undefined }), LOGIN_PAGE);
    assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
    const revoked = await rig.control.revoke({ accessToken: moto.AccessToken });
    assert.equal(revoked.operation, 'GlobalSignOut');
    assert.equal(revoked.status, 200, JSON.stringify(revoked));
    const specs = [...Array.from({ length: 10 }, () => ({ kind: 'token', deadlineMs: 10000 })), ...Array.from({ length: 5 }, () => ({ kind: 'fetch' }))];
    await page.evaluate((s) => window.H.start(s), specs);
    await page.waitForURL((u) => u.pathname === LOGIN_PAGE, { timeout: 15000 });
    await sleep(1500);
    assert.equal(obs.loginNavigations.length, 1, JSON.stringify(obs.loginNavigations));
    assert.equal(new URL(page.url()).pathname, LOGIN_PAGE);
    const log = await page.evaluate(() => JSON.parse(sessionStorage.getItem('e2e-log') || '[]'));
    const results = log.filter((e) => e.kind === 'result').map((e) => e.result);
    assert.deepEqual(byCode(results), { SESSION_EXPIRED: specs.length }, JSON.stringify(log));
    const c = rig.counts();
    assert.equal(c.proxy.refresh.total, 1);
    assert.equal(refreshAttempts().length, 1);
    assert.equal(c.api.total, 0);
    assert.equal(badTokenRequests(c), 0);
    const leftovers = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('cognito-session:')));
    assert.deepEqual(leftovers, [], 'no tokens left in storage');
    assert.deepEqual(obs.pageErrors, []);
    t.diagnostic(`revoked with loginUrl: ${obs.loginNavigations.length} navigation to ${LOGIN_PAGE}, ${results.length} waiters SESSION_EXPIRED, 1 refresh attempt`);
  } finally {
    await close();
  }
}

/** A hostile refresh answer (`mode`, one of the proxy's faults) → `code` for the callers, the
 * stored refresh token kept, the session alive, a later refresh succeeds. */
export async function hostileScenario(env, t, mode, code) {
  const { rig } = env;
  freshRig(rig);
  const { page, obs, close } = await openPage(env, { hidden: true });
  try {
    const { handedIn } = await expiredSession(rig);
    await page.evaluate(() => window.H.make());
    assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
    rig.control.setFault({ mode });
    const results = await page.evaluate(() => window.H.tokens(3, 1500));
    for (const r of results) {
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.code, code, JSON.stringify(r));
      assert.ok(r.at - r.startedAt <= 1800, `settled after ${r.at - r.startedAt} ms`);
    }
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
    assert.deepEqual(obs.pageErrors, []);
    t.diagnostic(`${mode}: callers got ${JSON.stringify(byCode(results))} (${results[0].message}); ${during.proxy.refresh.faulted} faulted attempts; recovered in ${token.at - token.startedAt} ms`);
  } finally {
    rig.control.clearFault();
    await close();
  }
}
