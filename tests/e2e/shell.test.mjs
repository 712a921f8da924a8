// The browser shell (src/shell/js over the .wasm core) in headless Chromium with no network
// peer: the token provider and the app's API are a stub installed as `window.fetch`
// (tests/e2e/pages/shell.js), which records every request and answers from a script of canned
// responses shaped as Cognito shapes them. Each test runs in the page of a fresh browser
// context (its own storage), as one function evaluated there; `T` holds the page's helpers and
// its `eq` / `ok` / `rejects` / `throws` fail the test with a message.
//
//   node --test tests/e2e/shell.test.mjs     (after scripts/build.sh; scripts/e2e.sh runs it)

import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from './rig/rig.mjs';
import { launchChromium } from './rig/browser.mjs';
import { startStaticServer } from './rig/serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');

let site;
let browser;

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh`);
  site = await startStaticServer({ dir: REPO_ROOT });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (site) await site.close();
});

/** Runs `body` (an async function of no arguments, using `window.T`) in a fresh page. */
async function inPage(body) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e?.stack || e)));
    await page.goto(`${site.url}tests/e2e/pages/shell.html`);
    await page.evaluate(() => window.T.ready);
    const out = await page.evaluate(body);
    if (errors.length) throw new Error(`uncaught page errors: ${errors.join('; ')}`);
    return out;
  } finally {
    await context.close();
  }
}

describe('the browser shell with a stubbed fetch', { concurrency: false }, () => {
  // ----- configuration -----

  test('every bad config value throws a BAD_CONFIG Error naming the problem', () =>
    inPage(async () => {
      const { Session, config, POOL, throws, eq, ok } = window.T;
      const cases = [
        [undefined, 'object'],
        ['us-east-1_x', 'object'],
        [{ userPoolId: POOL }, 'clientId'],
        [{ clientId: 'c' }, 'userPoolId'],
        [config('c', { clientSecret: 'shh' }), 'never ship a client secret'],
        [{ userPoolId: 'https://evil.example/_x', clientId: 'c' }, 'userPoolId'],
        [config('c', { storage: 'cookies' }), 'storage'],
        [config('c', { storage: 1 }), 'storage'],
        [config('c', { endpoint: 'ftp://x' }), 'endpoint'],
        [config('c', { endpoint: 'not a url' }), 'endpoint'],
        [config('c', { rotation: 'yes' }), 'rotation'],
        [config('c', { region: 'eu-west-1' }), 'region'],
        [config('c', { loginUrl: 'javascript:alert(1)' }), 'loginUrl'],
        [config('c', { loginUrl: ' JavaScript:alert(1)' }), 'loginUrl'],
        [config('c', { onLoginRequired: '/login' }), 'onLoginRequired'],
        [config('c', { adopt: 'amplify' }), 'adopt must be a function'],
        [config('c', { allowedOrigins: 'https://api.example.com' }), 'allowedOrigins'],
        [config('c', { allowedOrigins: ['https://api.example.com/v1'] }), 'allowedOrigins'],
        [config('c', { allowedOrigins: ['https://*.example.com'] }), 'allowedOrigins'],
        [config('c', { allowedOrigins: [3] }), 'allowedOrigins'],
        [config('c', { alowedOrigins: [] }), 'alowedOrigins'],
        [config('bad client!'), 'clientId'],
        [config('c', { tokenEndpoint: 'https://auth.example.com/token', rotation: true }), 'tokenEndpoint'],
        [config('c', { authorizationEndpoint: 'https://auth.example.com/authorize' }), 'authorizationEndpoint needs tokenEndpoint'],
        [config('c', { issuer: 'https://auth.example.com' }), 'issuer goes with tokenEndpoint'],
        [{ clientId: 'c', tokenEndpoint: 'https://a.example/token', authorizationEndpoint: 'javascript:alert(1)' }, 'authorizationEndpoint'],
        [{ clientId: 'c', tokenEndpoint: 'https://a.example/token', redirectUri: 'https://app.example/' }, 'redirectUri and scope go with authorizationEndpoint'],
        [{ clientId: 'c', tokenEndpoint: 'https://a.example/token', scope: 'openid' }, 'redirectUri and scope go with authorizationEndpoint'],
        [{ clientId: 'c', tokenEndpoint: 'https://a.example/token', authorizationEndpoint: 'https://a.example/authorize', redirectUri: '/relative' }, 'redirectUri'],
        [{ clientId: 'c', tokenEndpoint: 'https://a.example/token', authorizationEndpoint: 'https://a.example/authorize', scope: 'openid  "email"' }, 'scope'],
        [
          Object.defineProperty(config('c'), 'storage', {
            enumerable: true,
            get() {
              throw new Error('getter');
            },
          }),
          'storage',
        ],
      ];
      for (const [cfg, needle] of cases) {
        const e = throws(() => new Session(cfg), needle);
        ok(e instanceof Error, `${needle}: an Error`);
        eq(e.code, 'BAD_CONFIG', needle);
        ok(e.message.includes(needle), `${needle}: ${e.message}`);
      }
    }));

  test('good configs for Cognito, an emulator and OAuth2 are accepted', () =>
    inPage(async () => {
      const { Session, config } = window.T;
      for (const cfg of [
        config('c1'),
        config('c1', { endpoint: 'http://127.0.0.1:9229/', rotation: true }),
        config('c1', { region: 'us-east-1', storage: 'memory' }),
        config('c1', {
          allowedOrigins: ['https://api.example.com', 'http://localhost:8080/'],
          loginUrl: '/login?next=%2F',
          onLoginRequired: () => {},
          storage: 'local',
        }),
        { clientId: 'spa', tokenEndpoint: 'https://auth.example.com/oauth2/token' },
        {
          clientId: 'spa',
          tokenEndpoint: 'https://auth.example.com/oauth2/token',
          authorizationEndpoint: 'https://auth.example.com/oauth2/authorize?identity_provider=Google',
          redirectUri: 'https://app.example.com/callback',
          scope: 'openid email aws.cognito.signin.user.admin',
        },
      ]) {
        new Session(cfg);
      }
    }));

  // ----- tokens in, tokens out -----

  test('a signed-out session rejects token requests with NOT_SIGNED_IN', () =>
    inPage(async () => {
      const { Session, config, rejects, eq } = window.T;
      const session = new Session(config('signedout', { storage: 'memory' }));
      eq((await rejects(session.getAccessToken())).code, 'NOT_SIGNED_IN');
      eq(session.claims(), null);
    }));

  test('setTokens then getAccessToken returns that token from a ready promise, fast', () =>
    inPage(async () => {
      const { Session, config, access, tokens, eq, ok } = window.T;
      const client = 'fastpath';
      const session = new Session(config(client, { storage: 'memory' }));
      const token = access(client, 3600, 1);
      session.setTokens(tokens(token, null, 'rt'));
      eq(await session.getAccessToken(), token);
      eq(await session.getAccessToken({ deadlineMs: 50 }), token);
      const n = 200000;
      const t0 = performance.now();
      let p;
      for (let i = 0; i < n; i += 1) p = session.getAccessToken();
      const ns = ((performance.now() - t0) * 1e6) / n;
      ok(ns < 20000, `fast path too slow: ${ns} ns`);
      eq(await p, token);
    }));

  test('a URL object and a Request object are accepted by fetch; a number is refused', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, rejects, eq, ok } = window.T;
      const client = 'fetchinputs';
      const seen = stubFetch([response(200, null, 'ok')]);
      const session = new Session(config(client, { storage: 'memory' }));
      const token = access(client, 3600, 1);
      session.setTokens(tokens(token, null, 'rt'));
      await session.fetch(new URL('/from-url', location.href));
      await session.fetch(new Request('/from-request'));
      eq(seen.length, 2);
      for (const r of seen) eq(r.auth, `Bearer ${token}`);
      ok((await rejects(session.fetch(5))) instanceof Error, 'a number');
    }));

  test('failing web storage falls back to memory with a storageUnavailable event', () =>
    inPage(async () => {
      const { Session, config, access, tokens, recorder, storageKey, eq } = window.T;
      const client = 'quota';
      const real = Storage.prototype.setItem;
      Storage.prototype.setItem = () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
      const session = new Session(config(client));
      const [seen, listener] = recorder();
      session.subscribe(listener);
      const token = access(client, 3600, 1);
      try {
        session.setTokens(tokens(token, null, 'rt'));
      } finally {
        Storage.prototype.setItem = real;
      }
      eq(seen, ['signedIn', 'storageUnavailable']);
      eq(await session.getAccessToken(), token);
      eq(sessionStorage.getItem(storageKey(client)), null);
    }));

  test('unusable tokens are refused with BAD_CONFIG and change nothing', () =>
    inPage(async () => {
      const { Session, config, access, tokens, throws, eq } = window.T;
      const client = 'refuse';
      const session = new Session(config(client, { storage: 'memory' }));
      for (const bad of [
        tokens('null'),
        { accessToken: '' },
        tokens(access('someone-else', 3600, 1)),
        tokens(access(client, 3600, 1), access(client, 3600, 2)),
        { accessToken: 5 },
        {},
        null,
        { accessToken: access(client, 3600, 1), expiresIn: 'soon' },
      ]) {
        const e = throws(() => session.setTokens(bad), JSON.stringify(bad));
        eq(e.code, 'BAD_CONFIG', e.message);
      }
      eq(session.getSnapshot().signedIn, false);
    }));

  test('an expired token without a refresh token ends the session and asks for login once', () =>
    inPage(async () => {
      const { Session, config, access, tokens, rejects, eq } = window.T;
      const client = 'norefresh';
      const logins = [];
      const session = new Session(config(client, { storage: 'memory', onLoginRequired: (r) => logins.push(r) }));
      session.setTokens(tokens(access(client, 10, 1)));
      for (let i = 0; i < 3; i += 1) eq((await rejects(session.getAccessToken())).code, 'SESSION_EXPIRED');
      eq(logins, ['noRefreshToken']);
    }));

  test('claims come from the ID token (else the access token), decoded once, frozen', () =>
    inPage(async () => {
      const { Session, config, access, idToken, tokens, rejects, eq, ok } = window.T;
      const client = 'claims';
      const session = new Session(config(client, { storage: 'memory' }));
      const id = idToken(client, 3600);
      session.setTokens(tokens(access(client, 3600, 1), id));
      const claims = session.claims();
      eq(claims.email, 'alice@example.com');
      eq(claims['cognito:username'], 'alice');
      ok(Object.is(claims, session.claims()), 'claims decoded again');
      ok(Object.isFrozen(claims), 'frozen');
      eq(await session.getIdToken(), id);

      const bare = new Session(config('claims2', { storage: 'memory' }));
      bare.setTokens(tokens(access('claims2', 3600, 1)));
      eq((await rejects(bare.getIdToken())).code, 'BAD_CONFIG');
      eq(bare.claims().username, 'alice');
    }));

  // ----- events and snapshots -----

  test('the snapshot keeps its identity until something changes, and listeners hear why', () =>
    inPage(async () => {
      const { Session, config, access, tokens, recorder, throws, eq, ok } = window.T;
      const client = 'snapshot';
      const session = new Session(config(client, { storage: 'memory' }));
      const [seen, listener] = recorder();
      const unsubscribe = session.subscribe(listener);
      const first = session.getSnapshot();
      ok(Object.is(first, session.getSnapshot()), 'same object');
      ok(Object.isFrozen(first), 'frozen');
      eq(first, { signedIn: false, expiresAt: null, refreshing: false, retryAt: null, expired: false, verifyTokens: false });

      session.setTokens(tokens(access(client, 3600, 1), null, 'rt'));
      const second = session.getSnapshot();
      ok(!Object.is(first, second), 'a new object after a change');
      ok(Object.is(second, session.getSnapshot()), 'then stable');
      eq(second.signedIn, true);
      ok(second.expiresAt > Date.now(), 'expiresAt');

      await session.signOut();
      eq(session.getSnapshot().signedIn, false);
      eq(seen, ['signedIn', 'signedOut']);

      unsubscribe();
      session.setTokens(tokens(access(client, 3600, 2), null, 'rt'));
      eq(seen.length, 2, 'an unsubscribed listener was called');
      eq(throws(() => session.subscribe('nope')).code, 'BAD_CONFIG');
    }));

  test('a listener that calls back into the session does not break it, and events arrive at once', () =>
    inPage(async () => {
      const { Session, config, access, tokens, eq } = window.T;
      const client = 'reentrant';
      const session = new Session(config(client, { storage: 'memory' }));
      const snapshots = [];
      session.subscribe(() => {
        snapshots.push(session.getSnapshot());
        session.getAccessToken();
        session.claims();
      });
      session.subscribe(() => {
        throw new Error('a listener that throws does not stop the others');
      });
      let after = 0;
      session.subscribe(() => (after += 1));
      session.setTokens(tokens(access(client, 3600, 1), null, 'rt'));
      eq(snapshots.length, 1, 'events after construction are delivered at once');
      eq(snapshots[0].signedIn, true);
      eq(after, 1);
    }));

  // ----- storage -----

  test('tokens survive a reload in sessionStorage under a namespaced key', () =>
    inPage(async () => {
      const { Session, config, access, tokens, storageKey, rejects, eq, ok } = window.T;
      const client = 'roundtrip';
      const key = storageKey(client);
      const token = access(client, 3600, 1);
      new Session(config(client)).setTokens(tokens(token, null, 'rt'));
      const record = sessionStorage.getItem(key);
      ok(record && record.includes(token), 'record written');
      const reloaded = new Session(config(client));
      eq(await reloaded.getAccessToken(), token);
      // Another client of the same pool does not see it.
      eq((await rejects(new Session(config('roundtrip2')).getAccessToken())).code, 'NOT_SIGNED_IN');
      await reloaded.signOut();
      eq(sessionStorage.getItem(key), null);
    }));

  test('memory storage writes nothing to web storage', () =>
    inPage(async () => {
      const { Session, config, access, tokens, storageKey, eq } = window.T;
      const client = 'memonly';
      new Session(config(client, { storage: 'memory' })).setTokens(tokens(access(client, 3600, 1), null, 'rt'));
      eq(sessionStorage.getItem(storageKey(client)), null);
      eq(localStorage.getItem(storageKey(client)), null);
    }));

  test('unreadable or tampered storage is discarded with an event, never a crash', () =>
    inPage(async () => {
      const { Session, config, access, tokens, storageKey, recorder, rejects, sleep, eq } = window.T;
      const client = 'tampered';
      const key = storageKey(client);
      new Session(config(client)).setTokens(tokens(access(client, 3600, 1), null, 'rt'));
      const good = sessionStorage.getItem(key);
      const start = good.indexOf('"access":"') + 10;
      const end = good.indexOf('"', start);
      const swapped = good.slice(0, start) + access('attacker-client', 3600, 9) + good.slice(end);
      const junk = ['{not json', 'null', '{"v":0}', '{"v":1,"access":5}', swapped, '\u0000\uffff'];
      // Every 97th prefix of a valid record.
      for (let cut = 1; cut < good.length; cut += 97) junk.push(good.slice(0, cut));
      for (const record of junk) {
        sessionStorage.setItem(key, record);
        const session = new Session(config(client));
        const [seen, listener] = recorder();
        session.subscribe(listener);
        await sleep(0);
        eq(seen, ['storageDiscarded'], `record ${JSON.stringify(record)}`);
        eq(sessionStorage.getItem(key), null, `record ${JSON.stringify(record)} kept`);
        eq((await rejects(session.getAccessToken())).code, 'NOT_SIGNED_IN');
      }
    }));

  // ----- fetch -----

  test('fetch attaches the token only to the page origin and allowed origins', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, eq } = window.T;
      const client = 'origins';
      const seen = stubFetch([response(200, null, 'ok')]);
      const session = new Session(config(client, { storage: 'memory', allowedOrigins: ['https://api.example.com'] }));
      const token = access(client, 3600, 1);
      session.setTokens(tokens(token, null, 'rt'));
      const bearer = `Bearer ${token}`;
      for (const [url, attached] of [
        ['/api/data', true],
        [`${location.origin}/x?y=1`, true],
        ['https://api.example.com/v1/items', true],
        ['https://api.example.com:443/v1', true],
        ['https://api.example.com.evil.net/', false],
        ['http://api.example.com/', false],
        ['https://api.example.com:8443/', false],
        ['https://evil.example/', false],
        ['data:text/plain,hello', false],
      ]) {
        const before = seen.length;
        await session.fetch(url);
        eq(seen.length, before + 1, url);
        eq(seen[before].auth, attached ? bearer : null, url);
      }
      // An init with a method and a body passes through intact.
      await session.fetch('/api/post', { method: 'POST', body: 'payload' });
      const last = seen[seen.length - 1];
      eq([last.body, last.auth], ['payload', bearer]);
    }));

  test('fetch gives up when its signal aborts, also while it waits for a token, and sends nothing', () =>
    inPage(async () => {
      const { Session, config, access, tokens, rejects, setHidden, eq, ok } = window.T;
      const client = 'abort';
      // Hidden: the session refreshes only when a caller needs a token.
      setHidden(true);
      // A provider that never answers: only the deadline or the caller's signal ends the wait.
      const seen = [];
      globalThis.fetch = (input, init) => {
        const req = new Request(input, init);
        seen.push(req.url);
        return new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason)));
      };
      const session = new Session(config(client, { storage: 'memory' }));
      session.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      const api = `${location.origin}/api/data`;

      // Already aborted: rejects at once and asks for nothing, not even the refresh it would need.
      eq((await rejects(session.fetch(api, { signal: AbortSignal.abort() }), 'pre-aborted')).name, 'AbortError');
      eq(seen.length, 0, 'no refresh started for an aborted call');

      const controller = new AbortController();
      const started = Date.now();
      const waiting = session.fetch(api, { signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const e = await rejects(waiting, 'aborted while waiting');
      eq(e.name, 'AbortError', String(e));
      ok(Date.now() - started < 2000, `rejected ${Date.now() - started} ms after the start, not at the 10 s deadline`);
      eq(seen.length, 1, 'only the refresh went out');
      ok(seen[0] !== api, 'the API request was never sent');

      // The reason given to abort() is the rejection, as with fetch; a Request's own signal counts.
      const why = new Error('the user left the page');
      const mine = new AbortController();
      const pending = session.fetch(new Request(api, { signal: mine.signal }));
      mine.abort(why);
      ok((await rejects(pending, 'custom reason')) === why, 'rejects with the abort reason itself');

      eq(seen.filter((u) => u === api).length, 0, 'no API request at all');
      eq(session.getSnapshot().signedIn, true, 'aborting a caller does not touch the session');
      session.free();
    }));

  test('fetch to an allowed origin without a token sends nothing and rejects typed', () =>
    inPage(async () => {
      const { Session, config, stubFetch, response, rejects, eq } = window.T;
      const seen = stubFetch([response(200, null, 'ok')]);
      const session = new Session(config('nofetch', { storage: 'memory' }));
      eq((await rejects(session.fetch('/api/data'))).code, 'NOT_SIGNED_IN');
      eq(seen.length, 0, 'a request went out without a token');
      // Other origins are not the session's business: they go out untouched.
      await session.fetch('https://elsewhere.example/');
      eq(seen.length, 1);
    }));

  test('the origin rule compares exact origins', () =>
    inPage(async () => {
      const { eq, ok } = window.T;
      const { parseOrigin, originOf, mayAttach } = await import('/src/shell/js/origin.js');
      eq(parseOrigin('https://API.example.com'), 'https://api.example.com');
      eq(parseOrigin('https://api.example.com/'), 'https://api.example.com');
      eq(parseOrigin('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
      for (const bad of ['https://api.example.com/v1', 'https://api.example.com?x', 'https://user:pw@api.example.com', 'https://*.example.com', 'api.example.com', 'data:text/plain,x', '', 'null']) {
        eq(parseOrigin(bad), null, bad);
      }
      eq(originOf('data:text/plain,x'), null);
      eq(originOf('blob:null/1234'), null);
      const allowed = ['https://api.example.com'];
      ok(mayAttach(`${location.origin}/x`, allowed), 'the page origin');
      ok(mayAttach('https://api.example.com/v1', allowed), 'an allowed origin');
      ok(!mayAttach('https://api.example.com.evil/', allowed), 'a lookalike');
      ok(!mayAttach('about:blank', allowed), 'an opaque origin');
    }));

  test('attachesTokenTo answers for the page origin and allowedOrigins only, exactly', () =>
    inPage(async () => {
      const { Session, config, eq } = window.T;
      const session = new Session(config('attaches', { storage: 'memory', allowedOrigins: ['https://api.example.com', 'http://127.0.0.1:8080'] }));
      const port = location.port || (location.protocol === 'https:' ? '443' : '80');
      const otherPort = String(Number(port) === 65535 ? 1 : Number(port) + 1);
      const otherScheme = `${location.protocol === 'https:' ? 'http:' : 'https:'}//${location.host}/x`;
      for (const [url, expected] of [
        [`${location.origin}/api/data?x=1`, true],
        [new URL('/api/data', location.href), true],
        ['/api/data', true],
        ['api/relative', true],
        ['./x#frag', true],
        ['', true],
        ['https://api.example.com/v1/items', true],
        ['https://API.example.com:443/v1', true],
        [new URL('https://api.example.com/'), true],
        ['http://127.0.0.1:8080/x', true],
        ['https://api.example.com.evil.net/', false],
        ['https://evil-api.example.com/', false],
        ['https://sub.api.example.com/', false],
        ['https://api.example.com@evil.net/', false],
        ['https://api.example.com:8443/', false],
        ['http://api.example.com/', false],
        ['wss://api.example.com/', false],
        ['http://127.0.0.1:8081/x', false],
        [`${location.protocol}//${location.hostname}:${otherPort}/x`, false],
        [otherScheme, false],
        ['//evil.example/x', false],
        ['data:text/plain,hello', false],
        ['javascript:alert(1)', false],
        ['blob:null/1234', false],
        ['about:blank', false],
        ['file:///etc/passwd', false],
        ['http://[::1', false],
        ['https://', false],
        [undefined, false],
        [null, false],
        [42, false],
        [{ href: `${location.origin}/x` }, false],
      ]) {
        eq(session.attachesTokenTo(url), expected, String(url));
      }
    }));

  test('attachesTokenTo resolves relative URLs against the document base URL, as fetch does', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, eq } = window.T;
      const client = 'basehref';
      const seen = stubFetch([response(200, null, 'ok')]);
      const session = new Session(config(client, { storage: 'memory', allowedOrigins: ['https://api.example.com'] }));
      session.setTokens(tokens(access(client, 3600, 1), null, 'rt'));
      const base = document.createElement('base');
      base.href = 'https://api.example.com/v1/';
      document.head.append(base);
      eq(session.attachesTokenTo('items'), true, 'resolved against the allowed base');
      base.href = 'https://elsewhere.example/';
      eq(session.attachesTokenTo('items'), false, 'resolved against a foreign base');
      eq(session.attachesTokenTo(`${location.origin}/x`), true, 'an absolute page URL ignores the base');
      // fetch follows the same answer for the same relative URL.
      await session.fetch('items');
      eq([seen[0].url, seen[0].auth], ['https://elsewhere.example/items', null]);
      base.href = 'https://api.example.com/v1/';
      await session.fetch('items');
      eq([seen[1].url, seen[1].auth !== null], ['https://api.example.com/v1/items', true]);
    }));

  // ----- refresh through the stubbed provider -----

  test('concurrent callers with an expiring token share one refresh', () =>
    inPage(async () => {
      const { Session, config, access, idToken, tokens, stubFetch, response, cognitoOk, recorder, eq, ok } = window.T;
      const client = 'burst';
      const fresh = access(client, 3600, 2);
      const seen = stubFetch([response(200, null, cognitoOk(fresh, idToken(client, 3600)))]);
      const session = new Session(config(client, { storage: 'memory' }));
      const [events, listener] = recorder();
      session.subscribe(listener);
      session.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      const got = await Promise.all(Array.from({ length: 20 }, () => session.getAccessToken()));
      for (const t of got) eq(t, fresh);
      eq(seen.length, 1);
      eq(seen[0].target, 'AWSCognitoIdentityProviderService.InitiateAuth');
      ok(seen[0].body.includes('"REFRESH_TOKEN":"rt-1"'), 'the refresh token sent');
      eq(seen[0].auth, null);
      ok(events.includes('refreshed'), 'refreshed event');
      eq(session.getSnapshot().refreshing, false);
      await session.signOut();
    }));

  test('a Retry-After HTTP date in any of RFC 9110 three formats holds refreshes back until then', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, rejects, THROTTLE, eq, ok } = window.T;
      const inForty = new Date(Math.ceil(Date.now() / 1000) * 1000 + 40000);
      const day = inForty.toUTCString().slice(0, 3);
      const [, dd, mon, yyyy, time] = inForty.toUTCString().split(' ');
      const fullDay = { Mon: 'Monday', Tue: 'Tuesday', Wed: 'Wednesday', Thu: 'Thursday', Fri: 'Friday', Sat: 'Saturday', Sun: 'Sunday' }[day];
      const forms = [
        inForty.toUTCString(), // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        `${fullDay}, ${dd}-${mon}-${yyyy.slice(2)} ${time} GMT`, // RFC 850
        `${day} ${mon} ${String(+dd).padStart(2, ' ')} ${time} ${yyyy}`, // asctime (UTC)
      ];
      for (const [i, form] of forms.entries()) {
        const client = `dated-${i}`;
        const throttle = response(400, 'TooManyRequestsException', THROTTLE);
        throttle.headers['retry-after'] = form;
        stubFetch([throttle]);
        const session = new Session(config(client, { storage: 'memory' }));
        session.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
        const e = await rejects(session.getAccessToken({ deadlineMs: 3000 }), form);
        eq(e.code, 'THROTTLED', form);
        const off = e.retryAt - inForty.getTime();
        ok(off >= -1500 && off <= 1500, `${form}: retryAt ${off} ms from the date`);
        session.free();
      }
    }));

  test('throttling rejects late waiters with THROTTLED and retryAt, and keeps the session', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, recorder, rejects, THROTTLE, eq, ok } = window.T;
      const client = 'throttled';
      const throttle = response(400, 'TooManyRequestsException:', THROTTLE);
      throttle.headers['x-amz-retry-after'] = '60000';
      const seen = stubFetch([throttle]);
      const session = new Session(config(client, { storage: 'memory' }));
      const [events, listener] = recorder();
      session.subscribe(listener);
      session.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      const before = Date.now();
      const e = await rejects(session.getAccessToken({ deadlineMs: 5000 }));
      eq(e.code, 'THROTTLED', e.message);
      ok(e.retryAt >= before + 59000, `Retry-After ignored: ${e.retryAt - before}`);
      ok(Date.now() - before < 4000, 'waited past the point of hope');
      eq(seen.length, 1);
      ok(events.includes('throttled'), 'throttled event');
      const snapshot = session.getSnapshot();
      eq([snapshot.signedIn, snapshot.retryAt], [true, e.retryAt]);
      // Asking again during the backoff sends nothing.
      eq((await rejects(session.getAccessToken({ deadlineMs: 10 }))).code, 'THROTTLED');
      eq(seen.length, 1);
      await session.signOut();
    }));

  test('a revoked refresh token rejects every waiter and goes to login exactly once', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, recorder, rejects, storageKey, REVOKED, eq, ok } = window.T;
      const client = 'revoked';
      const seen = stubFetch([response(400, 'NotAuthorizedException', REVOKED)]);
      const logins = [];
      const session = new Session(config(client, { onLoginRequired: (r) => logins.push(r) }));
      const [events, listener] = recorder();
      session.subscribe(listener);
      session.setTokens(tokens(access(client, 10, 1), null, 'rt-dead'));
      const waiting = Array.from({ length: 5 }, () => session.getAccessToken());
      for (const p of waiting) eq((await rejects(p)).code, 'SESSION_EXPIRED');
      eq((await rejects(session.getAccessToken())).code, 'SESSION_EXPIRED');
      eq(seen.length, 1);
      eq(logins, ['refreshTokenDead']);
      ok(events.includes('expired'), 'expired event');
      eq(sessionStorage.getItem(storageKey(client)), null);
      eq(session.getSnapshot().expired, true);
    }));

  test('hostile refresh answers become typed errors and keep the refresh token', () =>
    inPage(async () => {
      const { Session, config, access, idToken, tokens, stubFetch, response, cognitoOk, rejects, eq, ok } = window.T;
      const client = 'hostile';
      const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
      const cases = [
        [response(200, null, html), 'BAD_RESPONSE'],
        [response(200, null, '{"AuthenticationResult":{"AccessToken":'), 'BAD_RESPONSE'],
        [response(200, null, '{"AuthenticationResult":{"AccessToken":5}}'), 'BAD_RESPONSE'],
        [response(200, null, 'x'.repeat(1 << 20)), 'BAD_RESPONSE'],
        [{ status: 200, headers: { 'content-length': String(1 << 20) }, body: 'x'.repeat(1 << 20) }, 'BAD_RESPONSE'],
        [response(200, null, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'BAD_RESPONSE'],
        [response(200, null, cognitoOk(access(client, -7200, 3), idToken(client, 3600))), 'BAD_RESPONSE'],
        [response(502, null, html), 'UNAVAILABLE'],
        [{ network: true }, 'UNAVAILABLE'],
      ];
      for (const [answer, expected] of cases) {
        const seen = stubFetch([answer]);
        const session = new Session(config(client, { storage: 'memory' }));
        session.setTokens(tokens(access(client, 10, 1), null, 'rt-keep'));
        const e = await rejects(session.getAccessToken({ deadlineMs: 300 }), expected);
        eq(e.code, expected, e.message);
        ok(seen.length >= 1, 'a refresh was sent');
        eq([session.getSnapshot().signedIn, session.getSnapshot().expired], [true, false], expected);
        await session.signOut();
      }
    }));

  test('signInWithPassword sends USER_PASSWORD_AUTH and types its failures', () =>
    inPage(async () => {
      const { Session, config, access, idToken, stubFetch, response, rejects, THROTTLE, eq, ok } = window.T;
      const client = 'signin';
      const fresh = access(client, 3600, 7);
      const seen = stubFetch([
        response(400, 'NotAuthorizedException', '{"__type":"NotAuthorizedException","message":"Incorrect username or password."}'),
        response(400, 'TooManyRequestsException', THROTTLE),
        response(200, null, '{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"sess-1","ChallengeParameters":{}}'),
        response(200, null, JSON.stringify({ AuthenticationResult: { AccessToken: fresh, IdToken: idToken(client, 3600), RefreshToken: 'rt-new', ExpiresIn: 3600, TokenType: 'Bearer' } })),
      ]);
      const session = new Session(config(client, { storage: 'memory' }));
      const wrong = await rejects(session.signInWithPassword('alice', 'nope'));
      eq([wrong.code, wrong.providerCode], ['NOT_SIGNED_IN', 'NotAuthorizedException']);
      eq((await rejects(session.signInWithPassword('alice', 'pw'))).code, 'THROTTLED');
      const challenge = await session.signInWithPassword('alice', 'pw');
      eq(challenge, { status: 'challenge', challengeName: 'NEW_PASSWORD_REQUIRED', session: 'sess-1', username: 'alice', parameters: {} });
      ok(Object.isFrozen(challenge.parameters), 'the parameters are frozen');
      // What cannot be an answer is refused before anything is sent.
      const cyclic = {};
      cyclic.self = cyclic;
      for (const [c, a] of [[challenge, cyclic], [challenge, { newPassword: 1n }], [null, { newPassword: 'x' }], [undefined, undefined], [challenge, { code: '1' }]]) {
        eq((await rejects(session.respondToChallenge(c, a))).code, 'BAD_CONFIG');
      }
      eq(seen.length, 3, 'nothing sent for a misfit answer');
      eq(await session.signInWithPassword('alice', 'pw'), { status: 'signedIn' });
      eq(await session.getAccessToken(), fresh);
      eq(seen.length, 4);
      ok(seen[0].body.includes('"AuthFlow":"USER_PASSWORD_AUTH"') && seen[0].body.includes('"USERNAME":"alice"'), seen[0].body);
      eq((await rejects(session.signInWithPassword(1, 'pw'))).code, 'BAD_CONFIG');
      const oauth = new Session({ clientId: 'spa', tokenEndpoint: 'https://auth.example.com/oauth2/token', storage: 'memory' });
      eq((await rejects(oauth.signInWithPassword('a', 'b'))).code, 'BAD_CONFIG');
      // Without an authorization endpoint there is no login page to go to or come back from.
      for (const s of [session, oauth]) {
        ok((await rejects(s.signIn())).message.includes('authorizationEndpoint'), 'signIn names what is missing');
        ok((await rejects(s.handleRedirect())).message.includes('authorizationEndpoint'), 'handleRedirect names what is missing');
      }
      // Extra parameters are strings: anything else is refused, and the page stays where it is.
      const redirecting = new Session({
        clientId: 'spa',
        tokenEndpoint: 'https://auth.example.com/oauth2/token',
        authorizationEndpoint: 'https://auth.example.com/oauth2/authorize',
        storage: 'memory',
      });
      for (const params of [{ login_hint: 7 }, 'prompt=login', { get bad() { throw new Error('getter'); } }]) {
        const e = await rejects(redirecting.signIn({ params }), typeof params);
        eq(e.code, 'BAD_CONFIG', e.message);
      }
      eq(sessionStorage.length, 0, 'no sign-in record was left behind');
      ok(location.pathname.endsWith('/shell.html'), 'no navigation happened');
      // No answer at all: UNAVAILABLE, with the provider code naming the network.
      stubFetch([{ network: true }]);
      const offline = await rejects(session.signInWithPassword('alice', 'pw'));
      eq([offline.code, offline.providerCode], ['UNAVAILABLE', 'NetworkError']);
    }));

  test('signOut options: anything but {revoke, global, redirect} of booleans is BAD_CONFIG and changes nothing; revoke sends RevokeToken; a failed provider call is typed and the sign-out here stands', () =>
    inPage(async () => {
      const { Session, config, access, stubFetch, response, rejects, eq, ok } = window.T;
      const client = 'signout';
      const session = new Session(config(client, { storage: 'memory' }));
      session.setTokens({ accessToken: access(client, 3600, 1), refreshToken: 'rt-held' });
      const seen = stubFetch([response(200, null, '')]);
      const cyclic = {};
      cyclic.self = cyclic;
      for (const options of [{ revoked: true }, { revoke: 'yes' }, { revoke: 1n }, cyclic, [true], 'revoke', { redirect: true }]) {
        const e = await rejects(session.signOut(options), JSON.stringify(String(options)));
        eq(e.code, 'BAD_CONFIG', e.message);
      }
      eq([seen.length, session.getSnapshot().signedIn], [0, true], 'nothing sent, still signed in');
      await session.signOut({ revoke: true });
      eq(seen.length, 1);
      eq([seen[0].target, JSON.parse(seen[0].body)], ['AWSCognitoIdentityProviderService.RevokeToken', { ClientId: client, Token: 'rt-held' }]);
      eq(session.getSnapshot().signedIn, false);
      // An answer that is no success (here a redirect, which the shell never follows) fails
      // the provider's part only: the sign-out here stands.
      session.setTokens({ accessToken: access(client, 3600, 2), refreshToken: 'rt-2' });
      stubFetch([{ status: 307, headers: { location: 'https://elsewhere.example/' }, body: '' }]);
      const e = await rejects(session.signOut({ global: true }));
      ok(e.message.startsWith('signed out here, not at the provider: '), e.message);
      eq(session.getSnapshot().signedIn, false);
    }));

  test('a sign-in failure carries retryAt only when retrying can help (THROTTLED, UNAVAILABLE)', () =>
    inPage(async () => {
      const { Session, config, stubFetch, response, rejects, THROTTLE, eq, ok } = window.T;
      const later = (r) => Object.assign(r, { headers: { ...r.headers, 'retry-after': '30' } });
      stubFetch([
        later(response(400, 'TooManyRequestsException', THROTTLE)),
        later(response(503, null, '<html>503</html>')),
        later(response(400, 'NotAuthorizedException', '{"__type":"NotAuthorizedException","message":"Incorrect username or password."}')),
        later(response(400, 'InvalidParameterException', '{"__type":"InvalidParameterException","message":"bad"}')),
        later(response(200, null, '<html>not json</html>')),
      ]);
      const session = new Session(config('signin-retry', { storage: 'memory' }));
      const before = Date.now();
      for (const code of ['THROTTLED', 'UNAVAILABLE']) {
        const e = await rejects(session.signInWithPassword('alice', 'pw'), code);
        eq(e.code, code);
        ok(e.retryAt >= before + 29000 && e.retryAt <= Date.now() + 31000, `${code} retryAt ${e.retryAt - before}`);
      }
      for (const code of ['NOT_SIGNED_IN', 'BAD_CONFIG', 'BAD_RESPONSE']) {
        const e = await rejects(session.signInWithPassword('alice', 'pw'), code);
        eq([e.code, 'retryAt' in e], [code, false], e.message);
      }
    }));

  // ----- tabs -----

  test('two localStorage sessions share sign-in, refresh and sign-out like two tabs', () =>
    inPage(async () => {
      const { Session, config, access, idToken, tokens, stubFetch, response, cognitoOk, recorder, rejects, sleep, storageKey, eq, ok } = window.T;
      const client = 'tabs';
      const fresh = access(client, 3600, 2);
      const seen = stubFetch([response(200, null, cognitoOk(fresh, idToken(client, 3600)))]);
      const a = new Session(config(client, { storage: 'local' }));
      const b = new Session(config(client, { storage: 'local' }));
      const [bEvents, listener] = recorder();
      b.subscribe(listener);
      // A signs in; B hears it over the channel.
      a.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      await sleep(50);
      ok(bEvents.includes('signedIn'), JSON.stringify(bEvents));
      // Both need a token at once: one refresh under the lock, and both get its token.
      eq(await Promise.all([a.getAccessToken(), b.getAccessToken()]), [fresh, fresh]);
      eq(seen.length, 1, 'both tabs refreshed');
      // A signs out; B follows.
      await a.signOut();
      await sleep(50);
      eq((await rejects(b.getAccessToken())).code, 'NOT_SIGNED_IN');
      eq(localStorage.getItem(storageKey(client)), null);
    }));

  test('a tab that refreshed keeps the Web Lock for a moment after writing the record, so the next holder reads it', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, cognitoOk, sleep, storageKey, eq, ok } = window.T;
      const client = 'settle';
      const fresh = access(client, 3600, 2);
      stubFetch([response(200, null, cognitoOk(fresh))]);
      const session = new Session(config(client, { storage: 'local' }));
      session.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      const held = async () => (await navigator.locks.query()).held.filter((l) => l.name === storageKey(client)).length;
      eq(await session.getAccessToken(), fresh);
      const refreshed = performance.now();
      ok(localStorage.getItem(storageKey(client)).includes(fresh), 'the new record is written');
      while ((await held()) > 0 && performance.now() - refreshed < 1000) await sleep(5);
      const heldFor = performance.now() - refreshed;
      ok(heldFor >= 45, `the lock was kept ${heldFor.toFixed(1)} ms after the record was written`);
      ok(heldFor < 1000, 'and let go soon after');
    }));

  test('bad deadlines are refused with BAD_CONFIG', () =>
    inPage(async () => {
      const { Session, config, rejects, eq } = window.T;
      const session = new Session(config('deadlines', { storage: 'memory' }));
      for (const bad of [{ deadlineMs: '10' }, { deadlineMs: -1 }, { deadlineMs: NaN }, { deadlineMs: Infinity }, { deadlineMs: null }, 5]) {
        const e = await rejects(session.getAccessToken(bad), JSON.stringify(bad));
        eq(e.code, 'BAD_CONFIG', e.message);
        eq((await rejects(session.getIdToken(bad))).code, 'BAD_CONFIG');
        eq((await rejects(session.tokenForReplay('t', bad))).code, 'BAD_CONFIG');
      }
    }));

  test('a 401 with no newer token is returned after exactly one request', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, eq } = window.T;
      const client = 'unauthorized';
      const seen = stubFetch([response(401, null, 'denied')]);
      const session = new Session(config(client, { storage: 'memory' }));
      session.setTokens(tokens(access(client, 3600, 1), null, 'rt'));
      eq((await session.fetch('/api/private')).status, 401);
      eq(seen.length, 1, 'replayed with the same rejected token');
    }));

  test("another tab's storage writes and removals are followed", () =>
    inPage(async () => {
      const { Session, config, access, tokens, storageKey, recorder, rejects, eq } = window.T;
      const client = 'storageevent';
      const key = storageKey(client);
      // A record as another tab would write it (made here through a sessionStorage session).
      const token = access(client, 3600, 1);
      const writer = new Session(config(client));
      writer.setTokens(tokens(token, null, 'rt'));
      const record = sessionStorage.getItem(key);
      await writer.signOut();

      const tab = new Session(config(client, { storage: 'local' }));
      const [seen, listener] = recorder();
      tab.subscribe(listener);
      const fire = (k, newValue, storageArea = localStorage) => window.dispatchEvent(new StorageEvent('storage', { key: k, newValue, storageArea }));
      localStorage.setItem(key, record);
      fire(key, record);
      eq(await tab.getAccessToken(), token);
      // Another key, or another storage area, is none of its business.
      localStorage.removeItem(key);
      fire('unrelated', null);
      fire(key, null, sessionStorage);
      eq(await tab.getAccessToken(), token);
      fire(key, null);
      eq((await rejects(tab.getAccessToken())).code, 'NOT_SIGNED_IN');
      eq(seen, ['signedIn', 'signedOut']);
    }));

  test('a backoff one tab hears about holds the other tab back too', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, rejects, sleep, THROTTLE, eq, ok } = window.T;
      const client = 'sharedbackoff';
      const throttle = response(400, 'TooManyRequestsException', THROTTLE);
      throttle.headers['x-amz-retry-after'] = '60000';
      const seen = stubFetch([throttle]);
      const a = new Session(config(client, { storage: 'local' }));
      const b = new Session(config(client, { storage: 'local' }));
      a.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      await sleep(20);
      eq((await rejects(a.getAccessToken({ deadlineMs: 300 }))).code, 'THROTTLED');
      await sleep(20);
      const e = await rejects(b.getAccessToken({ deadlineMs: 20 }));
      eq(e.code, 'THROTTLED', e.message);
      ok(typeof b.getSnapshot().retryAt === 'number', 'retryAt in the snapshot');
      eq(seen.length, 1, 'the second tab ignored the shared backoff');
      await a.signOut();
    }));

  test('an OAuth2 session refreshes opaque tokens with the refresh_token grant', () =>
    inPage(async () => {
      const { Session, stubFetch, response, throws, eq } = window.T;
      const seen = stubFetch([response(200, null, '{"access_token":"opaque-2","expires_in":3600,"token_type":"Bearer"}')]);
      const session = new Session({ clientId: 'spa', tokenEndpoint: 'https://auth.example.com/oauth2/token', storage: 'memory' });
      const opaque = (accessToken, expiresIn) => ({ accessToken, refreshToken: 'rt o/1', expiresIn });
      eq(throws(() => session.setTokens({ accessToken: 'opaque-0' })).code, 'BAD_CONFIG', 'an opaque token without expiresIn has no known expiry');
      eq(throws(() => session.setTokens(opaque('opaque-0', -5))).code, 'BAD_CONFIG');
      session.setTokens(opaque('opaque-1', 10));
      eq(await session.getAccessToken(), 'opaque-2');
      eq(seen.length, 1);
      eq(seen[0].url, 'https://auth.example.com/oauth2/token');
      eq(seen[0].body, 'grant_type=refresh_token&client_id=spa&refresh_token=rt+o%2F1');
      // An ID token is held to the client (its aud); a JWT access token may name its API instead.
      const { mint, idToken } = window.T;
      const e = throws(() => session.setTokens({ ...opaque('opaque-3', 3600), idToken: idToken('someone-else', 3600) }));
      eq([e.code, e.message.includes('another app client')], ['BAD_CONFIG', true], e.message);
      const iat = Math.floor(Date.now() / 1000);
      const forApi = mint({ sub: 'u1', aud: 'https://api.example.com', iat, exp: iat + 3600 });
      session.setTokens({ accessToken: forApi, idToken: idToken('spa', 3600), refreshToken: 'rt' });
      eq(await session.getAccessToken(), forApi);
      // With an issuer configured, JWTs must name it.
      const strict = new Session({ clientId: 'spa', tokenEndpoint: 'https://auth.example.com/oauth2/token', issuer: 'https://auth.example.com', storage: 'memory', verifyTokens: false });
      const id = (iss) => mint({ sub: 'u1', aud: 'spa', iat, exp: iat + 3600, ...(iss ? { iss } : {}) });
      for (const iss of ['https://evil.example', 'https://auth.example.com/', null]) {
        const refused = throws(() => strict.setTokens({ ...opaque('opaque-4', 3600), idToken: id(iss) }), String(iss));
        eq([refused.code, refused.message.includes('another issuer')], ['BAD_CONFIG', true], refused.message);
      }
      strict.setTokens({ ...opaque('opaque-5', 3600), idToken: id('https://auth.example.com') });
      eq(await strict.getAccessToken(), 'opaque-5');
    }));

  test('a visible tab refreshes before expiry and a hidden one waits for a caller', { timeout: 30000 }, () =>
    inPage(async () => {
      const { Session, config, access, aging, idToken, tokens, stubFetch, response, cognitoOk, recorder, setHidden, sleep, eq, ok } = window.T;
      const client = 'visibility';
      const fresh = access(client, 3600, 5);
      const seen = stubFetch([response(200, null, cognitoOk(fresh, idToken(client, 3600)))]);
      // Hidden: the token nears its refresh window, and nothing is sent on its own.
      setHidden(true);
      const hidden = new Session(config(client, { storage: 'memory' }));
      hidden.setTokens(tokens(aging(client, 32, 1), null, 'rt-h'));
      await sleep(2500);
      eq(seen.length, 0, 'a hidden tab refreshed with nobody asking');
      // Once a caller needs a token, it refreshes.
      eq(await hidden.getAccessToken(), fresh);
      eq(seen.length, 1);
      await hidden.signOut();
      // Visible: the proactive refresh happens by itself, before the token expires.
      setHidden(false);
      const visible = new Session(config(client, { storage: 'memory' }));
      const [events, listener] = recorder();
      visible.subscribe(listener);
      visible.setTokens(tokens(aging(client, 32, 2), null, 'rt-v'));
      await sleep(2500);
      eq(seen.length, 2, 'no proactive refresh');
      ok(events.includes('refreshed'), 'refreshed event');
      eq(await visible.getAccessToken(), fresh);
      await visible.signOut();
    }));

  test('a 401 for a token superseded meanwhile is replayed once with the new one', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, eq } = window.T;
      const client = 'replay';
      const denied = response(401, null, 'denied');
      denied.hook = true;
      const seen = stubFetch([denied, response(200, null, 'ok')]);
      const session = new Session(config(client, { storage: 'memory' }));
      const old = access(client, 3600, 1);
      const next = access(client, 3600, 2);
      session.setTokens(tokens(old, null, 'rt'));
      // While the first request is out, the session moves on to a new token.
      window.T.hook = () => session.setTokens(tokens(next, null, 'rt'));
      eq((await session.fetch('/api/private')).status, 200);
      eq(
        seen.map((r) => r.auth),
        [`Bearer ${old}`, `Bearer ${next}`],
      );
    }));

  // ----- tokenForReplay (the rule session.fetch uses, for other HTTP clients) -----

  test('tokenForReplay: null for a token just issued, the current token for a superseded one', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, rejects, eq } = window.T;
      const client = 'replayrule';
      const seen = stubFetch([]);
      const session = new Session(config(client, { storage: 'memory' }));
      const old = access(client, 3600, 1);
      const current = access(client, 3600, 2);
      session.setTokens(tokens(old, null, 'rt'));
      // Just issued: the 401 is about something else (audience, permission); no refresh.
      eq(await session.tokenForReplay(old), null);
      session.setTokens(tokens(current, null, 'rt'));
      eq(await session.tokenForReplay(old), current);
      eq(await session.tokenForReplay(current), null);
      eq(seen.length, 0, 'nothing was refreshed');
      eq((await rejects(session.tokenForReplay(5))).code, 'BAD_CONFIG');
      // Signed out: nothing to replay with.
      await session.signOut();
      eq(await session.tokenForReplay(current), null);
    }));

  test('tokenForReplay: a token held long enough is retired and refreshed, once for all callers', () =>
    inPage(async () => {
      const { Session, config, access, idToken, tokens, stubFetch, response, cognitoOk, rejects, eq } = window.T;
      const client = 'replayold';
      const fresh = access(client, 3600, 9);
      const seen = stubFetch([response(200, null, cognitoOk(fresh, idToken(client, 3600)))]);
      const session = new Session(config(client, { storage: 'memory' }));
      const held = access(client, 3600, 1);
      session.setTokens(tokens(held, null, 'rt'));
      // 31 s later on the page's clock: old enough to have expired early at the API.
      const realNow = Date.now;
      Date.now = () => realNow() + 31000;
      try {
        const replays = await Promise.all([session.tokenForReplay(held), session.tokenForReplay(held, { deadlineMs: 5000 })]);
        eq(replays, [fresh, fresh]);
        eq(seen.length, 1, 'one refresh for both callers');
        eq(await session.getAccessToken(), fresh);
        // Without a refresh token a replay cannot help.
        const bare = new Session(config('replaybare', { storage: 'memory' }));
        const lone = access('replaybare', 3600, 1);
        bare.setTokens(tokens(lone));
        Date.now = () => realNow() + 62000;
        eq(await bare.tokenForReplay(lone), null);
        // A refresh that fails rejects with the typed error. (After one forced refresh the next
        // needs a token up to twice as old, 30 to 60 s: `fresh` is 62 s old by then.)
        stubFetch([{ network: true }]);
        eq(await session.tokenForReplay(held), fresh, 'superseded: the current one');
        Date.now = () => realNow() + 93000;
        const e = await rejects(session.tokenForReplay(fresh, { deadlineMs: 100 }));
        eq(e.code, 'UNAVAILABLE', e.message);
      } finally {
        Date.now = realNow;
      }
    }));

  test('after free() every call rejects with a BAD_CONFIG that says the session was freed, the cached token included', () =>
    inPage(async () => {
      const { Session, config, access, tokens, rejects, throws, eq, ok } = window.T;
      const client = 'freed-cache';
      const session = new Session(config(client, { storage: 'memory' }));
      session.setTokens(tokens(access(client, 3600, 1), null, 'rt'));
      ok(typeof (await session.getAccessToken()) === 'string', 'a fresh token is cached');
      session.free();
      for (const [name, call] of [
        ['getAccessToken', () => session.getAccessToken()],
        ['getIdToken', () => session.getIdToken()],
        ['signOut', () => session.signOut()],
        ['signInWithPassword', () => session.signInWithPassword('a', 'b')],
        ['tokenForReplay', () => session.tokenForReplay('t')],
      ]) {
        const e = await rejects(call(), name);
        eq(e.code, 'BAD_CONFIG', name);
        ok(e.message.includes('freed'), `${name}: ${e.message}`);
      }
      const e = throws(() => session.setTokens(tokens(access(client, 3600, 2))), 'setTokens');
      ok(e.code === 'BAD_CONFIG' && e.message.includes('freed'), e.message);
      eq(session.claims(), null);
    }));

  test('a Request made in another frame is sent to its own URL with the token, not as "[object Request]"', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, eq } = window.T;
      const client = 'frames';
      const seen = stubFetch([response(200, null, 'ok')]);
      const session = new Session(config(client, { storage: 'memory' }));
      const token = access(client, 3600, 1);
      session.setTokens(tokens(token, null, 'rt'));
      const frame = document.createElement('iframe');
      document.body.append(frame);
      const url = new URL('/api/from-a-frame?x=1', location.href).href;
      const foreign = new frame.contentWindow.Request(url, { method: 'POST', body: 'payload' });
      eq(foreign instanceof Request, false, 'the test needs a Request of another realm');
      eq((await session.fetch(foreign)).status, 200);
      eq(seen.map((r) => [r.url, r.auth, r.body]), [[url, `Bearer ${token}`, 'payload']]);
      frame.remove();
    }));

  test('a Web Locks request that rejects fails over at once instead of waiting out the lock timeout', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, cognitoOk, eq, ok } = window.T;
      const client = 'locks-refused';
      const fresh = access(client, 3600, 2);
      const seen = stubFetch([response(200, null, cognitoOk(fresh))]);
      let asked = 0;
      Object.defineProperty(navigator, 'locks', {
        configurable: true,
        value: { request: () => (asked++, Promise.reject(new DOMException('lock manager gone', 'AbortError'))) },
      });
      const session = new Session(config(client, { storage: 'local' }));
      session.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      const started = performance.now();
      eq(await session.getAccessToken({ deadlineMs: 5000 }), fresh);
      const took = performance.now() - started;
      ok(asked >= 1, 'the lock was asked for');
      ok(took < 2000, `the token came after ${took.toFixed(0)} ms`);
      eq(seen.length, 1, 'one refresh');
    }));

  test('without Web Locks, tabs on localStorage take turns through a lease there: another tab\'s live lease holds the refresh back, a lease run out does not', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, cognitoOk, sleep, storageKey, eq, ok } = window.T;
      Object.defineProperty(navigator, 'locks', { configurable: true, value: undefined });
      const client = 'lease';
      const lease = `lock:${storageKey(client)}`;
      const fresh = access(client, 3600, 2);
      const seen = stubFetch([response(200, null, cognitoOk(fresh)), response(200, null, cognitoOk(fresh))]);
      const session = new Session(config(client, { storage: 'local' }));
      session.setTokens(tokens(access(client, 10, 1), null, 'rt-1'));
      // Another tab holds the lease for 20 s more: no refresh until it lets go.
      localStorage.setItem(lease, JSON.stringify(['other tab', Date.now() + 20000]));
      const token = session.getAccessToken({ deadlineMs: 5000 });
      await sleep(400);
      eq(seen.length, 0, 'refreshed while another tab held the lease');
      localStorage.removeItem(lease);
      eq(await token, fresh);
      eq(seen.length, 1, 'one refresh once the lease was let go');
      await sleep(200);
      eq(localStorage.getItem(lease), null, 'the lease is removed after the refresh');
      // A lease whose time ran out (its tab closed mid-refresh) is taken over at once.
      session.setTokens(tokens(access(client, 10, 3), null, 'rt-1'));
      localStorage.setItem(lease, JSON.stringify(['closed tab', Date.now() - 1]));
      const started = performance.now();
      eq(await session.getAccessToken({ deadlineMs: 5000 }), fresh);
      const took = performance.now() - started;
      ok(took < 1000, `the token came after ${took.toFixed(0)} ms`);
      eq(seen.length, 2);
    }));

  test('a return from the login page with another state is refused and leaves the real sign-in record; the real return completes it', () =>
    inPage(async () => {
      const { Session, stubFetch, response, mint, rejects, eq, ok } = window.T;
      const tokenEndpoint = 'https://auth.example.com/oauth2/token';
      const recordKey = `cognito-session:${tokenEndpoint}:spa:signIn`;
      const record = ['pkce2', 'S1', 'v'.repeat(43), 'N1', location.href.split('?')[0], 'openid'].join('\n');
      const idToken = mint({ sub: 'u1', aud: 'spa', iss: 'https://auth.example.com', nonce: 'N1', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 });
      const seen = stubFetch([response(200, null, JSON.stringify({ access_token: 'opaque-1', id_token: idToken, refresh_token: 'r1', token_type: 'Bearer', expires_in: 3600 }))]);
      const session = new Session({
        clientId: 'spa',
        tokenEndpoint,
        authorizationEndpoint: 'https://auth.example.com/oauth2/authorize',
        issuer: 'https://auth.example.com',
        storage: 'memory',
        verifyTokens: false,
      });
      const back = location.pathname;
      sessionStorage.setItem(recordKey, record);
      history.replaceState(null, '', `${back}?code=c0de&state=FORGED`);
      const forged = await rejects(session.handleRedirect(), 'forged');
      eq([forged.code, forged.providerCode], ['BAD_RESPONSE', 'StateMismatch']);
      eq(sessionStorage.getItem(recordKey), record, 'the real sign-in record is kept');
      eq(seen.length, 0, 'nothing was sent');
      eq(location.search, '', 'the forged parameters left the address bar');
      // Another issuer than the configured one (RFC 9207): refused, the record used up.
      history.replaceState(null, '', `${back}?code=c0de&state=S1&iss=${encodeURIComponent('https://evil.example')}`);
      const mixedUp = await rejects(session.handleRedirect(), 'mix-up');
      eq([mixedUp.code, mixedUp.providerCode], ['BAD_RESPONSE', 'IssuerMismatch']);
      eq(sessionStorage.getItem(recordKey), null);
      eq(seen.length, 0, 'nothing was sent');
      // The real return completes the sign-in and uses the record up.
      sessionStorage.setItem(recordKey, record);
      history.replaceState(null, '', `${back}?code=c0de&state=S1&iss=${encodeURIComponent('https://auth.example.com')}`);
      eq(await session.handleRedirect(), { status: 'signedIn' });
      eq(sessionStorage.getItem(recordKey), null, 'the record is used up');
      eq(seen.length, 1);
      ok(seen[0].body.includes('grant_type=authorization_code') && seen[0].body.includes('code=c0de'), seen[0].body);
      eq(await session.getAccessToken(), 'opaque-1');
    }));

  test('an authorizationEndpoint with a #fragment makes signIn() a BAD_CONFIG, and the page stays', () =>
    inPage(async () => {
      const { Session, rejects, eq, ok } = window.T;
      const session = new Session({ clientId: 'spa', tokenEndpoint: 'https://auth.example.com/token', authorizationEndpoint: 'https://auth.example.com/authorize#x', storage: 'memory' });
      const e = await rejects(session.signIn());
      eq([e.code, e.message], ['BAD_CONFIG', 'authorizationEndpoint must not have a #fragment']);
      eq(sessionStorage.length, 0, 'no sign-in record was left behind');
      ok(location.pathname.endsWith('/shell.html'), 'no navigation happened');
    }));

  test('isSessionError tells the session errors from fetch errors and axios-shaped ones, which carry a code too', () =>
    inPage(async () => {
      const { Session, config, rejects, throws, eq } = window.T;
      const { isSessionError, CognitoSessionError } = await import('/pkg/web/cognito_session.js');
      const session = new Session(config('guard', { storage: 'memory' }));
      const notSignedIn = await rejects(session.getAccessToken());
      const badConfig = throws(() => new Session({}));
      eq([isSessionError(notSignedIn), notSignedIn.code, notSignedIn instanceof CognitoSessionError, notSignedIn instanceof Error], [true, 'NOT_SIGNED_IN', true, true]);
      eq([isSessionError(badConfig), badConfig.code], [true, 'BAD_CONFIG']);
      const axiosLike = Object.assign(new Error('Network Error'), { code: 'ERR_NETWORK', isAxiosError: true });
      const coded = Object.assign(new Error('x'), { code: 'UNAVAILABLE' });
      for (const other of [axiosLike, coded, new TypeError('Failed to fetch'), null, undefined, 'UNAVAILABLE', { code: 'BAD_CONFIG' }]) {
        eq(isSessionError(other), false, String(other?.code ?? other));
      }
    }));

  test('a request to an origin that is not allowed leaves without the token, and the app is told once per origin', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, recorder, eq, ok } = window.T;
      const client = 'withheld';
      const seen = stubFetch([response(401, null, 'who are you')]);
      const warned = [];
      const warn = console.warn;
      console.warn = (...args) => warned.push(args.join(' '));
      try {
        const session = new Session(config(client, { storage: 'memory', allowedOrigins: ['https://api.example.com'] }));
        session.setTokens(tokens(access(client, 3600, 1), null, 'rt'));
        const [events, listener] = recorder();
        const origins = [];
        session.subscribe((e) => e.type === 'tokenWithheld' && origins.push(e.origin));
        session.subscribe(listener);
        for (let i = 0; i < 3; i += 1) eq((await session.fetch('https://other.example/v1/data')).status, 401);
        await session.fetch('https://third.example:8443/x');
        ok(await session.fetch('https://api.example.com/ok'), 'an allowed origin is not a warning');
        eq(seen.map((r) => r.auth), [null, null, null, null, seen[4].auth]);
        ok(seen[4].auth.startsWith('Bearer '), 'the allowed origin gets the token');
        eq(origins, ['https://other.example', 'https://third.example:8443']);
        eq(warned.length, 2, warned.join('; '));
        ok(warned[0].includes('https://other.example') && warned[0].includes('allowedOrigins'), warned[0]);
        eq(session.attachesTokenTo('data:text/plain,x'), false);
        eq(origins.length, 2, 'non-http URLs are no origin to warn about');
        void events;
      } finally {
        console.warn = warn;
      }
    }));

  test('after the clock goes back, the cached token is not handed out until the engine has seen the new time', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, response, cognitoOk, eq } = window.T;
      const client = 'clock-back';
      const first = access(client, 3600, 1);
      const fresh = access(client, 3600, 2);
      const seen = stubFetch([response(200, null, cognitoOk(fresh))]);
      const session = new Session(config(client, { storage: 'memory' }));
      session.setTokens(tokens(first, null, 'rt-1'));
      eq(await session.getAccessToken(), first, 'the fast path');
      const realNow = Date.now;
      Date.now = () => realNow() - 6 * 3600 * 1000;
      try {
        // The engine, told of the jump, does not trust how long the token has left: it refreshes.
        eq(await session.getAccessToken(), fresh);
        eq(seen.length, 1, 'one refresh');
        eq(await session.getAccessToken(), fresh, 'and the fast path serves the new token');
        eq(seen.length, 1);
      } finally {
        Date.now = realNow;
      }
    }));

  test('free() rejects waiting callers, stops listening and is idempotent', () =>
    inPage(async () => {
      const { Session, config, access, tokens, stubFetch, rejects, eq } = window.T;
      const client = 'freed';
      stubFetch([{ network: true }]);
      const session = new Session(config(client, { storage: 'memory' }));
      session.setTokens(tokens(access(client, 10, 1), null, 'rt'));
      const waiting = session.getAccessToken({ deadlineMs: 60000 });
      session.free();
      session.free();
      const e = await rejects(waiting);
      eq([e.code, e.message], ['NOT_SIGNED_IN', 'the session was freed while this caller waited']);
      document.dispatchEvent(new Event('visibilitychange'));
    }));
});
