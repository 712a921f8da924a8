// The axios adapter in a real app: tests/consumers/axios-app (Vite, axios 1.21.1 and, as
// axios-old, 1.7.9, both pinned, and cognito-session installed from the packed tarball) built with `vite build`, served on
// 127.0.0.1 and driven in headless Chromium against the e2e rig (moto's Cognito behind the fault
// proxy, the protected API that records every bad bearer token). Every test asserts what went
// over the wire: refresh requests at the proxy, good and bad tokens at the API, and what the
// test's own "gate" servers received.
//
//   node --test tests/consumers/axios.test.mjs
//   (after scripts/bootstrap.sh and tests/e2e/rig/setup.sh; packs and builds what is stale)
//
// The gate is a small server on another 127.0.0.1 port, in the session's allowedOrigins, that
// records each request's Authorization header and, by path, refuses it with 401 once
// (/refuse-once/...: later requests are forwarded to the rig's API, which checks the token),
// always (/refuse-always/...), or echoes (/echo). The "stranger" is the same server on a port
// the session does not allow: a third party.
//
// The session replays a refused token only when it has been held for 30 s (a younger one is
// refused for a reason a refresh cannot fix); the replay tests move the page's clock forward
// with Playwright's clock instead of waiting.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CONSUMERS_DIR,
  REPO_ROOT,
  badTokenRequests,
  decodeJwt,
  installApp,
  launchChromium,
  refreshCount,
  removeApp,
  run,
  sleep,
  startRig,
  startStaticServer,
  viteBuild,
  watchPage,
} from './lib.mjs';

const HOST = '127.0.0.1';
const TSC = path.join(REPO_ROOT, 'tests', 'e2e', 'node_modules', 'typescript', 'bin', 'tsc');
const nowS = () => Math.floor(Date.now() / 1000);

let appDir;
let rig;
let site;
let gate;
let stranger;
let browser;

/**
 * A gate server (see the top of the file). `seen` lists the requests (preflights excepted) as
 * {path, authorization, contentType, body}; `forPath(prefix)` filters them.
 */
async function startGate(apiUrl) {
  const seen = [];
  const refused = new Set();
  const server = http.createServer(async (req, res) => {
    const cors = { 'access-control-allow-origin': req.headers.origin || '*', vary: 'Origin' };
    const send = (status, value) => {
      const body = JSON.stringify(value);
      res.writeHead(status, { ...cors, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] || 'authorization',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const url = new URL(req.url, `http://${HOST}`);
    const authorization = req.headers.authorization ?? null;
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ t: Date.now(), path: url.pathname, authorization, contentType: req.headers['content-type'] ?? null, body });
    if (url.pathname.startsWith('/refuse-always/')) return send(401, { error: 'refused' });
    if (url.pathname.startsWith('/refuse-once/') && !refused.has(url.pathname)) {
      refused.add(url.pathname);
      return send(401, { error: 'refused once' });
    }
    if (url.pathname.startsWith('/refuse-once/')) {
      try {
        const r = await fetch(`${apiUrl}api${url.pathname}`, { headers: authorization === null ? {} : { authorization }, signal: AbortSignal.timeout(5000) });
        return send(r.status, await r.json());
      } catch (e) {
        return send(502, { error: String(e) });
      }
    }
    return send(200, { echo: true, authorization });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const origin = `http://${HOST}:${server.address().port}`;
  return {
    origin,
    seen,
    forPath: (prefix) => seen.filter((s) => s.path.startsWith(prefix)),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

before(
  async () => {
    appDir = await installApp(path.join(CONSUMERS_DIR, 'axios-app'));
    const dist = await viteBuild(appDir);
    rig = await startRig();
    site = await startStaticServer({ dir: dist, config: () => rig.control.config() });
    gate = await startGate(rig.apiUrl);
    stranger = await startGate(rig.apiUrl);
    browser = await launchChromium();
  },
  { timeout: 900000 },
);

after(async () => {
  if (browser) await browser.close();
  if (gate) await gate.close();
  if (stranger) await stranger.close();
  if (site) await site.close();
  if (rig) await rig.stop();
  removeApp(appDir);
});

/**
 * The app in a fresh browser context (tab hidden: the session refreshes only when a caller
 * needs a token), with a session allowing the rig's API and the gate (its `allowedOrigins`) and
 * the adapter attached.
 * `clock: true` installs Playwright's clock first (time flows; tests jump it forward).
 */
async function openApp({ clock = false, make = {} } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const obs = watchPage(page);
  if (clock) await page.clock.install();
  await page.goto(site.url);
  // The bundle's top-level await (the .wasm import) can finish after the load event.
  await page.waitForFunction(() => window.A?.cfg, null, { timeout: 10000 });
  const allowed = [new URL(rig.apiUrl).origin, gate.origin];
  await page.evaluate(([m, a]) => {
    window.A.setHidden(true);
    window.A.make({ allowedOrigins: a, ...m });
    return window.A.attach();
  }, [make, allowed]);
  return { page, obs, close: () => context.close() };
}

/** moto's refresh token with an access token whose `exp` is ten minutes past (moto's key). */
async function expiredTokens() {
  const ar = await rig.control.signIn();
  const accessToken = rig.control.mintToken({ tokenUse: 'access', iat: nowS() - 3600, expiresInS: 3000 });
  return { accessToken, refreshToken: ar.RefreshToken };
}

/** moto's own fresh tokens (signed in straight at moto: not counted at the proxy). */
async function freshTokens() {
  const ar = await rig.control.signIn();
  return { accessToken: ar.AccessToken, refreshToken: ar.RefreshToken };
}

function freshRig() {
  rig.control.reset();
  rig.control.clearFault();
  rig.control.setTokenLifetime(null);
}

/** After a revoked refresh token: one refresh attempt, and no API request at all. */
function assertDeadSessionSentNothing() {
  const c = rig.counts();
  assert.equal(refreshCount(c), 1, 'one refresh attempt');
  assert.equal(c.api.total, 0, 'no request was sent without a token');
  assert.equal(badTokenRequests(c), 0);
}

const bearer = (authorization) => (authorization ?? '').replace(/^Bearer /, '');

function byOutcome(results) {
  const out = {};
  for (const r of results) {
    const k = r.ok ? `ok ${r.status}` : r.code ?? `untyped ${r.name} ${r.status}: ${r.message}`;
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

describe('cognito-session/axios in a Vite app with axios 1.x, against moto behind the fault proxy', { concurrency: false }, () => {
  test('burst: an expired access token and 50 concurrent axios calls → exactly 1 refresh, 50 × 200, 0 bad tokens', { timeout: 60000 }, async (t) => {
    freshRig();
    const { page, obs, close } = await openApp();
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await expiredTokens());
      await sleep(300);
      assert.equal(refreshCount(rig.counts()), 0, 'a hidden tab does not refresh before a caller needs a token');
      const t0 = Date.now();
      const results = await page.evaluate(() => window.A.burst(50));
      const ms = Date.now() - t0;
      assert.deepEqual(byOutcome(results), { 'ok 200': 50 });
      const c = rig.counts();
      assert.equal(refreshCount(c), 1, 'exactly one refresh request reached the proxy');
      assert.equal(c.api.ok, 50);
      assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
      assert.equal(c.api.total, 50, 'no replays');
      assert.equal(new Set(results.map((r) => r.body.exp)).size, 1, 'every call carried the one refreshed token');
      assert.deepEqual(obs.pageErrors, []);
      t.diagnostic(`axios burst: 50 calls, ${refreshCount(c)} refresh, ${c.api.ok} × 200, 0 bad tokens, ${ms} ms`);
    } finally {
      await close();
    }
  });

  test('revoked refresh token: every axios call rejects with SESSION_EXPIRED, nothing reaches the API, 1 refresh attempt, onLoginRequired once', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp();
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await expiredTokens());
      const revoked = await rig.control.revoke({});
      assert.equal(revoked.status, 200, JSON.stringify(revoked));
      const results = await page.evaluate(() => window.A.burst(20));
      assert.deepEqual(byOutcome(results), { SESSION_EXPIRED: 20 });
      const later = await page.evaluate(() => window.A.burst(5, 'api/later'));
      assert.deepEqual(byOutcome(later), { SESSION_EXPIRED: 5 }, 'later calls fail at once, too');
      await sleep(500);
      assertDeadSessionSentNothing();
      const login = await page.evaluate(() => window.A.loginRequired);
      assert.equal(login.length, 1, JSON.stringify(login));
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('revoked refresh token with a loginUrl: 20 axios calls reject SESSION_EXPIRED, nothing reaches the API, exactly one redirect to the login page', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp({ make: { loginUrl: '/login?from=axios', onLoginRequired: undefined } });
    const logins = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame() && new URL(frame.url()).pathname === '/login') logins.push(frame.url());
    });
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await expiredTokens());
      const revoked = await rig.control.revoke({});
      assert.equal(revoked.status, 200, JSON.stringify(revoked));
      // The results are kept in sessionStorage: the redirect replaces the page they ran in.
      await page.evaluate(() => {
        window.A.burst(20).then((r) => sessionStorage.setItem('axios-results', JSON.stringify(r)));
      });
      await page.waitForURL((u) => u.pathname === '/login', { timeout: 15000 });
      await sleep(1000);
      assert.equal(logins.length, 1, JSON.stringify(logins));
      const results = JSON.parse((await page.evaluate(() => sessionStorage.getItem('axios-results'))) ?? 'null');
      assert.deepEqual(byOutcome(results ?? []), { SESSION_EXPIRED: 20 });
      assertDeadSessionSentNothing();
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('a request aborted while the refresh hangs rejects as axios cancels (axios.isCancel), by its signal, and is never sent', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp();
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await expiredTokens());
      rig.control.setFault({ mode: 'hang', ms: 20000 });
      const t0 = Date.now();
      const r = await page.evaluate(() => window.A.getAbortingAfter('api/cancelled', 300));
      const ms = Date.now() - t0;
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(r.canceled, true, `axios.isCancel: ${JSON.stringify(r)}`);
      assert.equal(r.code, 'ERR_CANCELED');
      assert.ok(ms < 5000, `rejected ${ms} ms after the call, by the signal, not by the 10 s token deadline`);
      await sleep(300);
      const c = rig.counts();
      assert.equal(refreshCount(c), 1, 'the refresh was under way');
      assert.equal(c.api.total, 0, 'the cancelled request never reached the API');
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      rig.control.clearFault();
      await close();
    }
  });

  test('401 replay: refused once → one replay with a newer token after one refresh; refused always → exactly one replay, then the 401; a just-issued token is not replayed', { timeout: 60000 }, async (t) => {
    freshRig();
    const { page, obs, close } = await openApp({ clock: true });
    try {
      const tokens = await freshTokens();
      await page.evaluate((tk) => window.A.setTokens(tk), tokens);
      // Held for more than 30 s: a refusal can now be about the token's age.
      await page.clock.fastForward(31000);

      const once = await page.evaluate((u) => window.A.get(`${u}/refuse-once/data`), gate.origin);
      assert.equal(once.ok, true, JSON.stringify(once));
      assert.equal(once.status, 200);
      const onceSeen = gate.forPath('/refuse-once/data');
      assert.equal(onceSeen.length, 2, 'the request and one replay');
      assert.equal(bearer(onceSeen[0].authorization), tokens.accessToken, 'first sent with the held token');
      const replayToken = bearer(onceSeen[1].authorization);
      assert.notEqual(replayToken, tokens.accessToken, 'replayed with a newer token');
      assert.ok(decodeJwt(replayToken), 'a JWT');
      let c = rig.counts();
      assert.equal(refreshCount(c), 1, 'the session refreshed once for the replay');
      assert.deepEqual([c.api.ok, badTokenRequests(c)], [1, 0], JSON.stringify(c.api.byKind));

      // The replayed token is young now; age it too, so the session refreshes once more. After
      // one forced refresh the next needs a token up to twice as old (30 to 60 s; issue 13).
      await page.clock.fastForward(61000);
      const always = await page.evaluate((u) => window.A.get(`${u}/refuse-always/data`), gate.origin);
      assert.equal(always.ok, false, JSON.stringify(always));
      assert.equal(always.status, 401, 'the 401 is surfaced');
      await sleep(500);
      const alwaysSeen = gate.forPath('/refuse-always/data');
      assert.equal(alwaysSeen.length, 2, 'exactly one replay, no loop');
      assert.equal(bearer(alwaysSeen[0].authorization), replayToken);
      assert.notEqual(bearer(alwaysSeen[1].authorization), replayToken);
      assert.equal(refreshCount(rig.counts()), 2, 'one more refresh for that replay');

      // The token was just issued: a refusal of it is not about age, so no refresh, no replay.
      const young = await page.evaluate((u) => window.A.get(`${u}/refuse-always/young`), gate.origin);
      assert.equal(young.status, 401, JSON.stringify(young));
      await sleep(300);
      assert.equal(gate.forPath('/refuse-always/young').length, 1, 'not replayed');
      c = rig.counts();
      assert.equal(refreshCount(c), 2, 'no refresh for a just-issued token');
      assert.equal(badTokenRequests(c), 0);
      assert.deepEqual(obs.pageErrors, []);
      t.diagnostic(`replay: refused once → 2 requests, refused always → 2 requests, young token → 1 request; ${refreshCount(c)} refreshes`);
    } finally {
      await close();
    }
  });

  test('50 concurrent calls refused once with an aged token → 1 refresh for all, 50 replays with the newer token, 50 × 200, 0 bad tokens', { timeout: 60000 }, async (t) => {
    freshRig();
    const { page, obs, close } = await openApp({ clock: true });
    try {
      const tokens = await freshTokens();
      await page.evaluate((tk) => window.A.setTokens(tk), tokens);
      await page.clock.fastForward(31000);
      const results = await page.evaluate((u) => window.A.burst(50, `${u}/refuse-once/burst`), gate.origin);
      assert.deepEqual(byOutcome(results), { 'ok 200': 50 });
      const seen = gate.forPath('/refuse-once/burst/');
      assert.equal(seen.length, 100, 'each call: the refused request and one replay');
      const sent = new Set(seen.map((s) => bearer(s.authorization)));
      assert.equal(sent.size, 2, 'the held token, then one newer token for every replay');
      assert.ok(sent.has(tokens.accessToken));
      const c = rig.counts();
      assert.equal(refreshCount(c), 1, 'one refresh however many replays needed it');
      assert.deepEqual([c.api.ok, badTokenRequests(c)], [50, 0], JSON.stringify(c.api.byKind));
      assert.deepEqual(obs.pageErrors, []);
      t.diagnostic(`replay burst: 50 calls refused once → ${refreshCount(c)} refresh, ${seen.length} requests at the gate, ${c.api.ok} × 200`);
    } finally {
      await close();
    }
  });

  test('the TypeScript declarations accept a real AxiosInstance and Session, and the documented augmentation types the opt-out flag', { timeout: 120000 }, async (t) => {
    // lib esnext: wasm-bindgen's declarations use Symbol.dispose.
    if (!fs.existsSync(TSC)) return t.skip(`no TypeScript at ${TSC} (tests/e2e/rig/setup.sh installs it)`);
    await run(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'esnext,dom', 'types-check.ts'], {
      cwd: appDir,
      timeoutMs: 110000,
    });
  });

  test('opt-out requests and third-party origins get no Authorization header; allowed ones do', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp();
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await freshTokens());
      const results = await page.evaluate(
        async ([g, s]) => ({
          allowed: await window.A.get(`${g}/echo/allowed`),
          optedOut: await window.A.get(`${g}/echo/opted-out`, { cognitoSession: false }),
          thirdParty: await window.A.get(`${s}/echo/third-party`),
          apiOptedOut: await window.A.get('api/opted-out', { cognitoSession: false }),
        }),
        [gate.origin, stranger.origin],
      );
      assert.equal(results.allowed.status, 200, JSON.stringify(results));
      assert.match(gate.forPath('/echo/allowed')[0]?.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, 'the positive control carried the token');
      assert.deepEqual(gate.forPath('/echo/opted-out').map((s) => s.authorization), [null]);
      assert.deepEqual(stranger.seen.map((s) => s.authorization), [null], 'the third party saw no token');
      assert.equal(results.thirdParty.status, 200);
      assert.equal(results.apiOptedOut.status, 401, 'the API wants a token the opted-out request did not carry');
      const c = rig.counts();
      assert.deepEqual(c.api.byKind, { missing: 1 }, 'one request without any Authorization, none with a bad one');
      assert.equal(refreshCount(c), 0);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('detach removes both interceptors: no token is attached and a 401 is not replayed', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp({ clock: true });
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await freshTokens());
      await page.clock.fastForward(31000);
      const counts = await page.evaluate(() => {
        const attached = window.A.counts();
        window.A.detach();
        return { attached, detached: window.A.counts() };
      });
      assert.deepEqual(counts, { attached: { request: 1, response: 1 }, detached: { request: 0, response: 0 } });
      const results = await page.evaluate(
        async (g) => ({ api: await window.A.get('api/after-detach'), refused: await window.A.get(`${g}/refuse-once/after-detach`) }),
        gate.origin,
      );
      assert.equal(results.api.status, 401, JSON.stringify(results));
      assert.equal(results.refused.status, 401, 'not replayed');
      assert.deepEqual(gate.forPath('/refuse-once/after-detach').map((s) => s.authorization), [null]);
      const c = rig.counts();
      assert.deepEqual(c.api.byKind, { missing: 1 });
      assert.equal(refreshCount(c), 0);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('an interceptor the app registered before attachAxios (axios runs it after the adapter’s) moves requests: an origin outside allowedOrigins never receives the token, an allowed origin it moves one to does', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp();
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await freshTokens());
      const results = await page.evaluate(
        async ([g, s]) => {
          const { axios, attachAxios, session, settle } = window.A;
          const api = axios.create({ baseURL: g });
          api.interceptors.request.use((config) => {
            if (config.url === 'echo/moved-away-by-base') config.baseURL = s;
            if (config.url === 'echo/moved-away-by-url') config.url = `${s}/echo/moved-away-by-url`;
            if (config.url === `${s}/echo/moved-here-by-url`) config.url = 'echo/moved-here-by-url';
            if (config.url === 'echo/moved-here-by-base') config.baseURL = g;
            return config;
          });
          attachAxios(api, session);
          return [
            await settle(api.get('echo/moved-away-by-base')),
            await settle(api.get('echo/moved-away-by-url')),
            await settle(api.get(`${s}/echo/moved-here-by-url`)),
            await settle(api.get('echo/moved-here-by-base', { baseURL: s })),
          ];
        },
        [gate.origin, stranger.origin],
      );
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200], JSON.stringify(results));
      const at = (server) => server.forPath('/echo/moved-').map((x) => [x.path, x.authorization && x.authorization.replace(/^(Bearer [\w-]+\.[\w-]+\.[\w-]+)$/, 'Bearer <jwt>')]);
      assert.deepEqual(at(stranger), [['/echo/moved-away-by-base', null], ['/echo/moved-away-by-url', null]], 'the stranger got both requests moved to it, without the token');
      assert.deepEqual(at(gate), [['/echo/moved-here-by-url', 'Bearer <jwt>'], ['/echo/moved-here-by-base', 'Bearer <jwt>']], 'the gate got both requests moved to it, with the token');
      assert.equal(refreshCount(rig.counts()), 0);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('axios 1.7.9 predates allowAbsoluteUrls: with allowAbsoluteUrls: false it still sends an absolute url to that url’s origin, and the token follows where it really sends (axios 1.21.1 joins it to the baseURL, and the token goes there)', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp();
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await freshTokens());
      const results = await page.evaluate(
        async ([g, s]) => {
          const { axios, axiosOld, attachAxios, session, settle } = window.A;
          const old = axiosOld.create({ baseURL: g, allowAbsoluteUrls: false });
          const current = axios.create({ baseURL: g, allowAbsoluteUrls: false });
          attachAxios(old, session);
          attachAxios(current, session);
          return {
            versions: [axiosOld.VERSION, axios.VERSION],
            calls: [
              await settle(old.get(`${s}/echo/old-absolute`)),
              await settle(old.get('echo/old-relative')),
              await settle(current.get(`${s}/echo/current-absolute`)),
            ],
          };
        },
        [gate.origin, stranger.origin],
      );
      assert.deepEqual(results.versions, ['1.7.9', '1.21.1']);
      assert.deepEqual(results.calls.map((r) => r.status), [200, 200, 200], JSON.stringify(results));
      const jwt = /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/;
      // 1.7.9 sent the absolute url to the stranger (not to the baseURL), and without the token.
      assert.deepEqual(stranger.forPath('/echo/old-absolute').map((x) => x.authorization), [null]);
      assert.equal(gate.seen.filter((x) => x.path.includes('old-absolute')).length, 0);
      assert.match(gate.forPath('/echo/old-relative')[0]?.authorization ?? '', jwt, 'its relative request to the gate carried the token');
      // 1.21.1 joined it to the baseURL: the gate got it, at /<the absolute url>, with the token.
      const joined = gate.seen.filter((x) => x.path.endsWith('/echo/current-absolute'));
      assert.deepEqual(joined.map((x) => x.path), [`/${stranger.origin}/echo/current-absolute`]);
      assert.match(joined[0].authorization ?? '', jwt);
      assert.equal(stranger.seen.filter((x) => x.path.includes('current-absolute')).length, 0);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('requests go out as axios sends them without the adapter: a JSON body serialised once, FormData as multipart, axios’s default adapter or a per-request fetch, the response parsed once', { timeout: 60000 }, async () => {
    freshRig();
    const { page, obs, close } = await openApp();
    try {
      await page.evaluate((tk) => window.A.setTokens(tk), await freshTokens());
      const results = await page.evaluate(async (g) => {
        const { axios, attachAxios, session, settle } = window.A;
        const api = axios.create({ baseURL: g });
        attachAxios(api, session);
        const form = new FormData();
        form.append('field', 'value');
        const calls = [
          await settle(api.post('echo/body-json', { a: 1 })),
          await settle(api.post('echo/body-form', form)),
          await settle(api.post('echo/body-fetch', { b: 2 }, { adapter: 'fetch' })),
        ];
        return calls.map((r) => ({ status: r.status, echo: r.body?.echo }));
      }, gate.origin);
      assert.deepEqual(results, Array(3).fill({ status: 200, echo: true }), 'each response parsed into an object');
      const jwt = /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/;
      const [json, form, viaFetch] = ['/echo/body-json', '/echo/body-form', '/echo/body-fetch'].map((p) => gate.seen.filter((x) => x.path === p));
      assert.deepEqual([json.length, form.length, viaFetch.length], [1, 1, 1]);
      assert.deepEqual([json[0].contentType, json[0].body], ['application/json', '{"a":1}']);
      assert.match(form[0].contentType ?? '', /^multipart\/form-data; boundary=/);
      assert.match(form[0].body, /name="field"\r\n\r\nvalue\r\n/);
      assert.deepEqual([viaFetch[0].contentType, viaFetch[0].body], ['application/json', '{"b":2}']);
      for (const x of [json[0], form[0], viaFetch[0]]) assert.match(x.authorization ?? '', jwt, x.path);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });
});
