// Unit tests of the axios adapter (pkg-template/axios.js) with a fake axios instance and a fake
// session: the rules for which requests get a token, what happens when there is none, the 401
// replay and detach, fast and without a browser.
//
//   node --test tests/consumers/axios-unit.test.mjs
//
// The fake instance follows axios 1.x where the adapter depends on it: request() copies the
// config (string keys only) over the instance defaults with fresh AxiosHeaders-like headers,
// request interceptors run last-registered first, a rejected request interceptor skips the
// dispatch and reaches the response interceptors' error handlers, the dispatch hands the config
// the interceptors gave to `config.adapter || <axios's default>` (a function, or names resolved
// to the fake's transports), a transport sends to baseURL joined with a relative url
// (buildFullPath; `legacy: true` is axios before 1.8, which ignores `allowAbsoluteUrls`)
// resolved against the document's base URL as the browser resolves it, `getUri` builds the URL
// the same way, `create()` makes an instance without interceptors, and a non-2xx answer rejects
// with {config, response}.
//
// The fake session decides where the token goes with the shipped rule (src/shell/js/origin.js,
// what `Session.attachesTokenTo` runs), against the page origin stubbed below, so the origin
// tests here test that rule as the adapter reaches it.
//
// axios.js imports `./bundler/abort.js`, the shell's abort helper as the package ships it next
// to it: the test lays the two files out that way in a temporary directory and imports from there.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mayAttach, parseOrigin } from '../../src/shell/js/origin.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYOUT = fs.mkdtempSync(path.join(os.tmpdir(), 'cognito-session-axios-unit-'));
fs.mkdirSync(path.join(LAYOUT, 'bundler'));
fs.copyFileSync(path.join(REPO, 'pkg-template', 'axios.js'), path.join(LAYOUT, 'axios.js'));
fs.copyFileSync(path.join(REPO, 'src', 'shell', 'js', 'abort.js'), path.join(LAYOUT, 'bundler', 'abort.js'));
const { attachAxios } = await import(pathToFileURL(path.join(LAYOUT, 'axios.js')).href);
after(() => fs.rmSync(LAYOUT, { recursive: true, force: true }));

const PAGE = 'https://app.example';
globalThis.location = new URL(`${PAGE}/app/page?x=1`);

// ------------------------------------------------------------------------------------ fakes --

/** Case-insensitive headers with axios 1.x `AxiosHeaders.set(name, value, rewrite)` and `concat()`. */
class FakeHeaders {
  constructor(init = {}) {
    this.map = new Map();
    for (const [k, v] of Object.entries(init)) this.map.set(k.toLowerCase(), v);
  }
  static from(thing) {
    return thing instanceof FakeHeaders ? thing : new FakeHeaders(plainHeaders(thing));
  }
  set(name, value, rewrite) {
    const key = name.toLowerCase();
    if (this.map.has(key) && rewrite === undefined && this.map.get(key) === false) return this;
    if (this.map.has(key) && rewrite === false) return this;
    this.map.set(key, value);
    return this;
  }
  get(name) {
    return this.map.get(name.toLowerCase());
  }
  delete(name) {
    return this.map.delete(name.toLowerCase());
  }
  concat() {
    return new FakeHeaders(this.toJSON());
  }
  toJSON() {
    return Object.fromEntries(this.map);
  }
}

const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/** axios's buildFullPath; `legacy` (axios < 1.8) joins only relative urls, whatever allowAbsoluteUrls says. */
function fullPath(config, legacy) {
  const url = config.url ?? '';
  const base = config.baseURL;
  const join = base && (!ABSOLUTE.test(url) || (!legacy && config.allowAbsoluteUrls === false));
  return join ? (url ? `${base.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}` : base) : url;
}

/** axios's buildURL, for plain params. */
function withParams(url, params) {
  const query = params ? new URLSearchParams(params).toString() : '';
  return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
}

/** What the browser resolves a request URL against: the document's base URL, else the location. */
function documentBase() {
  return globalThis.document?.baseURI ?? globalThis.location.href;
}

function plainHeaders(h) {
  if (!h) return {};
  return typeof h.toJSON === 'function' ? h.toJSON() : { ...h };
}

function authorizationOf(headers) {
  return Object.entries(plainHeaders(headers)).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
}

/** axios's mergeConfig, as far as the fake needs it. */
function mergeConfig(defaults, config) {
  const merged = {};
  for (const key of Object.keys({ ...defaults, ...config })) {
    if (key === 'headers') continue;
    merged[key] = config[key] !== undefined ? config[key] : defaults[key];
  }
  merged.headers = { ...plainHeaders(defaults.headers), ...plainHeaders(config.headers) };
  return merged;
}

/**
 * An axios-1.x-shaped instance. `respond(sent)` decides each request's status (or throws for a
 * network error); `sent` lists what went out: {url, origin, authorization, via, config,
 * response}, where `via` names the transport (the adapter axios resolved: 'xhr', 'fetch', or
 * what a test's own adapter function records with `transport`). `plain: true` keeps headers
 * plain objects (no AxiosHeaders); `legacy: true` is axios before 1.8.
 */
function fakeAxios({ defaults = {}, respond = () => 200, plain = false, legacy = false, sent = [] } = {}) {
  const manager = (list) => ({
    use(fulfilled, rejected) {
      list.push({ fulfilled, rejected });
      return list.length - 1;
    },
    eject(id) {
      list[id] = null;
    },
  });
  const requestHandlers = [];
  const responseHandlers = [];
  /** Sends `config` as axios's own adapters do: to the URL it builds, resolved like the browser. */
  const transport = (via) => async (config) => {
    const url = new URL(withParams(fullPath(config, legacy), config.params), documentBase());
    const record = { url: url.href, origin: url.origin, authorization: authorizationOf(config.headers), via, config };
    sent.push(record);
    const status = await respond(record);
    const response = (record.response = { status, data: { n: sent.length }, config });
    if (status >= 200 && status < 300) return response;
    throw Object.assign(new Error(`Request failed with status code ${status}`), { name: 'AxiosError', config, response, isAxiosError: true });
  };
  const known = { xhr: transport('xhr'), fetch: transport('fetch') };
  const getAdapter = (value) => {
    for (const a of [].concat(value)) {
      if (typeof a === 'function') return a;
      const found = known[String(a).toLowerCase()];
      if (!found) throw new Error(`Unknown adapter '${a}'`);
      return found;
    }
    throw new Error('There is no suitable adapter to dispatch the request');
  };
  /** dispatchRequest: AxiosHeaders, then the adapter, with the config the interceptors gave. */
  const dispatch = async (config) => {
    if (!plain) config.headers = FakeHeaders.from(config.headers);
    return getAdapter(config.adapter || ['xhr', 'fetch'])(config);
  };
  const instance = {
    defaults,
    sent,
    transport,
    interceptors: { request: manager(requestHandlers), response: manager(responseHandlers) },
    handlerCount: () => requestHandlers.filter(Boolean).length + responseHandlers.filter(Boolean).length,
    request(config) {
      const merged = mergeConfig(defaults, config);
      if (!plain) merged.headers = new FakeHeaders(merged.headers);
      let chain = Promise.resolve(merged);
      for (const h of [...requestHandlers].reverse()) if (h) chain = chain.then(h.fulfilled, h.rejected);
      chain = chain.then(dispatch);
      for (const h of responseHandlers) if (h) chain = chain.then(h.fulfilled, h.rejected);
      return chain;
    },
    get(url, config = {}) {
      return instance.request({ ...config, url, method: 'get' });
    },
    getUri(config) {
      const merged = mergeConfig(defaults, config);
      return withParams(fullPath(merged, legacy), merged.params);
    },
    /** A new instance on these defaults (copied) without interceptors, sending through the same transports' record. */
    create(more = {}) {
      return fakeAxios({ defaults: { ...mergeConfig(defaults, more) }, respond, plain, legacy, sent });
    },
  };
  return instance;
}

function sessionError(code) {
  return Object.assign(new Error(`session: ${code}`), { code });
}

/**
 * `Session.attachesTokenTo` for a session configured with `allowedOrigins`: the real rule, the
 * list normalised as the Session config normalises it.
 */
function realRule(allowedOrigins = []) {
  const allowed = allowedOrigins.map(parseOrigin);
  assert.ok(!allowed.includes(null), 'the test’s allowedOrigins are origins');
  return (url) => mayAttach(url, allowed);
}

/**
 * A session with the replay rule of the real one: a refused token older than the current one is
 * replayed with the current one; the current token, when "stale", is refreshed once however many
 * callers refuse it; a "fresh" one gives null. `failWith` makes getAccessToken reject. Where the
 * token goes is the real origin rule over `allowedOrigins` (the Session config's list).
 */
function fakeSession({ stale = true, allowedOrigins = [] } = {}) {
  let generation = 1;
  const rule = realRule(allowedOrigins);
  const s = {
    token: 'token-1',
    stale,
    failWith: null,
    refreshFailsWith: null,
    calls: { getAccessToken: 0, tokenForReplay: [], refreshes: 0, attachesTokenTo: [] },
    options: [],
    refreshing: null,
    attachesTokenTo(url) {
      s.calls.attachesTokenTo.push(url);
      return rule(url);
    },
    async getAccessToken(options) {
      s.calls.getAccessToken += 1;
      s.options.push(['getAccessToken', options]);
      if (s.failWith) throw sessionError(s.failWith);
      if (s.refreshing) return s.refreshing;
      return s.token;
    },
    async tokenForReplay(refused, options) {
      s.calls.tokenForReplay.push(refused);
      s.options.push(['tokenForReplay', options]);
      if (refused !== s.token) return s.token;
      if (!s.stale) return null;
      s.refreshing ??= (async () => {
        await new Promise((r) => setTimeout(r, 5));
        s.calls.refreshes += 1;
        if (s.refreshFailsWith) throw sessionError(s.refreshFailsWith);
        generation += 1;
        s.token = `token-${generation}`;
        s.stale = false;
        return s.token;
      })().finally(() => {
        s.refreshing = null;
      });
      return s.refreshing;
    },
  };
  return s;
}

async function outcome(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

// ------------------------------------------------------------------------------------ tests --

describe('which requests get the token', () => {
  let session;
  beforeEach(() => {
    session = fakeSession();
  });

  test('a relative URL on the page’s origin gets Authorization: Bearer <the session’s token>', async () => {
    const ax = fakeAxios();
    attachAxios(ax, session);
    await ax.get('/api/data');
    await ax.get('api/relative-to-the-page');
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [
      [`${PAGE}/api/data`, 'Bearer token-1'],
      [`${PAGE}/app/api/relative-to-the-page`, 'Bearer token-1'],
    ]);
  });

  test('baseURL + url is resolved the way axios builds it: a baseURL origin in the session’s allowedOrigins gets the token', async () => {
    const ax = fakeAxios({ defaults: { baseURL: 'https://api.example/v1/' } });
    session = fakeSession({ allowedOrigins: ['https://api.example'] });
    attachAxios(ax, session);
    await ax.get('/users');
    await ax.get('users');
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [
      ['https://api.example/v1/users', 'Bearer token-1'],
      ['https://api.example/v1/users', 'Bearer token-1'],
    ]);
  });

  test('an absolute url overrides an allowed baseURL: a third-party origin gets no token', async () => {
    const ax = fakeAxios({ defaults: { baseURL: PAGE } });
    attachAxios(ax, session);
    await ax.get('https://third-party.example/collect');
    await ax.get('//third-party.example/protocol-relative');
    assert.deepEqual(ax.sent.map((s) => [s.origin, s.authorization]), [
      ['https://third-party.example', undefined],
      ['https://third-party.example', undefined],
    ]);
    assert.equal(session.calls.getAccessToken, 0, 'the session was not even asked');
  });

  test('with allowAbsoluteUrls: false an absolute-looking url is joined to the baseURL, whose origin decides', async () => {
    const ax = fakeAxios({ defaults: { baseURL: PAGE, allowAbsoluteUrls: false } });
    attachAxios(ax, session);
    await ax.get('https://third-party.example/x');
    assert.equal(ax.sent[0].origin, PAGE);
    assert.equal(ax.sent[0].authorization, 'Bearer token-1');
  });

  test('origins are compared exactly: another scheme, port, subdomain or look-alike host gets nothing', async () => {
    const ax = fakeAxios();
    session = fakeSession({ allowedOrigins: ['https://api.example'] });
    attachAxios(ax, session);
    const urls = [
      'http://app.example/x',
      'https://app.example:444/x',
      'https://evil.app.example/x',
      'https://app.example.evil.test/x',
      'https://api.example.evil.test/x',
      'https://api.example:8443/x',
      'http://api.example/x',
      'https://app.example@evil.test/x',
    ];
    for (const url of urls) await ax.get(url);
    assert.deepEqual(ax.sent.filter((s) => s.authorization !== undefined).map((s) => s.url), []);
    assert.equal(session.calls.getAccessToken, 0);
  });

  test('non-http URLs (data:, blob:, javascript:, file:) never get a token', async () => {
    const ax = fakeAxios({ respond: () => 200 });
    attachAxios(ax, session);
    for (const url of ['data:text/plain,hi', 'javascript:alert(1)', 'file:///etc/passwd', 'about:blank']) {
      await outcome(ax.get(url));
    }
    assert.equal(session.calls.getAccessToken, 0);
    assert.ok(ax.sent.every((s) => s.authorization === undefined));
  });

  test('cognitoSession: false opts a request out, and in the instance defaults a whole instance', async () => {
    const ax = fakeAxios();
    attachAxios(ax, session);
    await ax.get('/api/public', { cognitoSession: false });
    await ax.get('/api/private');
    assert.deepEqual(ax.sent.map((s) => s.authorization), [undefined, 'Bearer token-1']);

    const anonymous = fakeAxios({ defaults: { cognitoSession: false } });
    attachAxios(anonymous, session);
    await anonymous.get('/api/x');
    assert.equal(anonymous.sent[0].authorization, undefined);
  });

  test('a request with axios’s auth (HTTP Basic) is left alone', async () => {
    const ax = fakeAxios();
    attachAxios(ax, session);
    await ax.get('/api/basic', { auth: { username: 'u', password: 'p' } });
    assert.equal(ax.sent[0].authorization, undefined);
    assert.equal(session.calls.getAccessToken, 0);
  });

  test('the adapter owns Authorization on allowed origins: an app-set header is replaced, on plain-object headers too', async () => {
    const ax = fakeAxios();
    attachAxios(ax, session);
    await ax.get('/api/x', { headers: { AUTHORIZATION: 'Bearer stale-app-token' } });
    assert.equal(ax.sent[0].authorization, 'Bearer token-1');

    const plain = fakeAxios({ plain: true });
    attachAxios(plain, session);
    await plain.get('/api/x', { headers: { authorization: 'Bearer stale-app-token', 'x-other': '1' } });
    const headers = plainHeaders(plain.sent[0].config.headers);
    assert.deepEqual(headers, { 'x-other': '1', Authorization: 'Bearer token-1' }, 'one Authorization header, the session’s');
  });

  test('deadlineMs is passed to the session', async () => {
    const ax = fakeAxios();
    attachAxios(ax, session, { deadlineMs: 1234 });
    await ax.get('/api/x');
    assert.deepEqual(session.options, [['getAccessToken', { deadlineMs: 1234 }]]);
  });

  test('random and hostile url/baseURL values never leak a token to an origin that is not allowed, and never throw an untyped error from the adapter', async () => {
    let seed = 7;
    const rand = (n) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = ['https:', 'http:', '//', '/', 'app.example', 'api.example', 'evil.test', ':443', ':8443', '@', '\\', '..', '?', '#', '%2F', ' ', '\u0000', '\ud800', 'javascript:', 'data:,', '.', 'x'];
    const ax = fakeAxios();
    session = fakeSession({ allowedOrigins: ['https://api.example'] });
    attachAxios(ax, session);
    const allowed = new Set([PAGE, 'https://api.example']);
    for (let i = 0; i < 500; i += 1) {
      const word = () => Array.from({ length: rand(6) }, () => pieces[rand(pieces.length)]).join('');
      const config = { url: word(), ...(rand(2) ? { baseURL: word() } : {}) };
      const r = await outcome(ax.request(config));
      if (!r.ok) assert.ok(r.error instanceof TypeError && /Invalid URL/.test(r.error.message), `the fake's own URL parse is the only failure: ${r.error}`);
    }
    const leaked = ax.sent.filter((s) => s.authorization !== undefined && !allowed.has(s.origin));
    assert.deepEqual(leaked.map((s) => s.url), []);
    assert.ok(ax.sent.some((s) => s.authorization !== undefined), 'some random URLs were allowed (the test exercised both paths)');
  });
});

describe('the session owns the origin rule', () => {
  test('the adapter asks session.attachesTokenTo with the absolute URL axios will request', async () => {
    const session = fakeSession({ allowedOrigins: ['https://api.example'] });
    const ax = fakeAxios({ defaults: { baseURL: 'https://api.example/v1/' } });
    attachAxios(ax, session);
    await ax.get('users?page=2');
    await ax.get('https://third-party.example/x');
    const rel = fakeAxios();
    attachAxios(rel, session);
    await rel.get('api/data');
    assert.deepEqual(session.calls.attachesTokenTo, [
      'https://api.example/v1/users?page=2',
      'https://third-party.example/x',
      `${PAGE}/app/api/data`,
    ]);
    assert.deepEqual([...ax.sent, ...rel.sent].map((s) => s.authorization), ['Bearer token-1', undefined, 'Bearer token-1']);
  });

  test('the session’s answer decides: an origin it allows gets the token, the page origin it refuses does not', async () => {
    const session = fakeSession();
    session.attachesTokenTo = (url) => new URL(url).origin === 'https://only.example';
    const ax = fakeAxios();
    attachAxios(ax, session);
    await ax.get('https://only.example/x');
    await ax.get('/api/x');
    assert.deepEqual(ax.sent.map((s) => s.authorization), ['Bearer token-1', undefined]);
  });

  test('only a true answer attaches the token: truthy non-booleans do not', async () => {
    for (const answer of [1, 'true', {}, undefined, null]) {
      const session = fakeSession();
      session.attachesTokenTo = () => answer;
      const ax = fakeAxios();
      attachAxios(ax, session);
      await ax.get('/api/x');
      assert.equal(ax.sent[0].authorization, undefined, JSON.stringify(answer));
      assert.equal(session.calls.getAccessToken, 0);
    }
  });

  test('opted-out, HTTP Basic and unresolvable requests do not even ask the session', async () => {
    const session = fakeSession();
    const ax = fakeAxios();
    attachAxios(ax, session);
    await ax.get('/api/x', { cognitoSession: false });
    await ax.get('/api/x', { auth: { username: 'u', password: 'p' } });
    await outcome(ax.get('http://[::1'));
    assert.deepEqual(session.calls.attachesTokenTo, []);
  });
});

describe('the URL axios really requests decides, after the app’s own interceptors', () => {
  // axios runs request interceptors last-registered first: one the app registered before
  // attachAxios runs after the adapter's, and may still change where the request goes.

  test('an interceptor registered before attachAxios that moves a request outside allowedOrigins (by baseURL, by url, or in a new config): that origin never receives the token', async () => {
    const session = fakeSession({ allowedOrigins: ['https://api.example'] });
    const ax = fakeAxios({ defaults: { baseURL: 'https://api.example/v1/' } });
    ax.interceptors.request.use((config) => {
      if (config.url === 'by-base') config.baseURL = 'https://evil.example/';
      if (config.url === 'by-url') config.url = 'https://evil.example/by-url';
      if (config.url === 'by-copy') return { ...config, baseURL: 'https://evil.example/' };
      return config;
    });
    attachAxios(ax, session);
    for (const url of ['by-base', 'by-url', 'by-copy', 'stays']) await ax.get(url);
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [
      ['https://evil.example/by-base', undefined],
      ['https://evil.example/by-url', undefined],
      ['https://evil.example/by-copy', undefined],
      ['https://api.example/v1/stays', 'Bearer token-1'],
    ]);
    assert.deepEqual(session.calls.attachesTokenTo, ax.sent.map((s) => s.url), 'the session was asked about the URLs axios requested');
    assert.equal(session.calls.getAccessToken, 1, 'a token was asked for the allowed request only');
  });

  test('such an interceptor moving a request toward an allowed origin: it gets the token', async () => {
    const session = fakeSession({ allowedOrigins: ['https://api.example'] });
    const ax = fakeAxios({ defaults: { baseURL: 'https://evil.example/' } });
    ax.interceptors.request.use((config) => Object.assign(config, { baseURL: 'https://api.example/v1/' }));
    attachAxios(ax, session);
    await ax.get('users');
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [['https://api.example/v1/users', 'Bearer token-1']]);
  });

  test('such an interceptor cannot strip or swap the session’s token where the session sends it, can opt the request out with cognitoSession: false, and its own Authorization to another origin goes out as it set it', async () => {
    const session = fakeSession();
    const ax = fakeAxios();
    ax.interceptors.request.use((config) => {
      if (config.url === '/api/stripped') config.headers.delete('Authorization');
      if (config.url === '/api/swapped') config.headers.set('Authorization', 'Bearer app-token', true);
      if (config.url === '/api/opted-out') config.cognitoSession = false;
      if (config.url.startsWith('https://partner.example/')) config.headers.set('Authorization', 'Bearer partner-key', true);
      return config;
    });
    attachAxios(ax, session);
    for (const url of ['/api/stripped', '/api/swapped', '/api/opted-out', 'https://partner.example/x']) await ax.get(url);
    assert.deepEqual(ax.sent.map((s) => s.authorization), ['Bearer token-1', 'Bearer token-1', undefined, 'Bearer partner-key']);
  });

  test('axios before 1.8 ignores allowAbsoluteUrls: false and sends an absolute url to its own origin: the token follows where axios really sends it', async () => {
    const session = fakeSession();
    const ax = fakeAxios({ legacy: true, defaults: { baseURL: PAGE, allowAbsoluteUrls: false } });
    attachAxios(ax, session);
    await ax.get('https://third-party.example/x');
    await ax.get('/api/y');
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [
      ['https://third-party.example/x', undefined],
      [`${PAGE}/api/y`, 'Bearer token-1'],
    ]);
  });

  test('relative URLs resolve against document.baseURI as the browser resolves them: a <base href> on another origin gets no token', async () => {
    const session = fakeSession();
    const ax = fakeAxios();
    attachAxios(ax, session);
    try {
      globalThis.document = { baseURI: 'https://cdn.example/assets/' };
      await ax.get('api/x');
      globalThis.document = { baseURI: `${PAGE}/base/` };
      await ax.get('api/y');
    } finally {
      delete globalThis.document;
    }
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [
      ['https://cdn.example/assets/api/x', undefined],
      [`${PAGE}/base/api/y`, 'Bearer token-1'],
    ]);
  });

  test('a request that brings its own adapter (a function, a name, a list), or an instance whose default adapter is replaced after attachAxios (a mock): the token where the session sends it, nowhere else', async () => {
    const session = fakeSession();
    const ax = fakeAxios({ defaults: { adapter: ['xhr', 'fetch'] } });
    attachAxios(ax, session);
    const own = ax.transport('own');
    await ax.get('/api/default');
    await ax.get('/api/fn', { adapter: own });
    await ax.get('/api/named', { adapter: 'fetch' });
    await ax.get('/api/list', { adapter: ['fetch', 'xhr'] });
    await ax.get('https://third-party.example/fn', { adapter: own });
    await ax.get('https://third-party.example/named', { adapter: 'fetch' });
    ax.defaults.adapter = ax.transport('mock');
    await ax.get('/api/mocked');
    await ax.get('https://third-party.example/mocked');
    assert.deepEqual(ax.sent.map((s) => [s.via, s.authorization]), [
      ['xhr', 'Bearer token-1'],
      ['own', 'Bearer token-1'],
      ['fetch', 'Bearer token-1'],
      ['fetch', 'Bearer token-1'],
      ['own', undefined],
      ['fetch', undefined],
      ['mock', 'Bearer token-1'],
      ['mock', undefined],
    ]);
  });

  test('adapter names are resolved without running the app’s interceptors or defaults twice: a default header an interceptor removed stays removed', async () => {
    const session = fakeSession();
    const ax = fakeAxios({ defaults: { headers: { 'X-Default': '1' } } });
    let runs = 0;
    ax.interceptors.request.use((config) => {
      runs += 1;
      config.headers.delete('X-Default');
      return config;
    });
    attachAxios(ax, session);
    await ax.get('/api/x');
    assert.equal(runs, 1);
    assert.deepEqual(plainHeaders(ax.sent[0].config.headers), { authorization: 'Bearer token-1' });
  });

  test('the replay goes through the adapter again: a replay an interceptor moves to another origin carries no token', async () => {
    const session = fakeSession({ stale: true });
    const ax = fakeAxios({ respond: (s) => (s.origin === PAGE ? 401 : 200) });
    let runs = 0;
    ax.interceptors.request.use((config) => {
      runs += 1;
      if (runs === 2) config.url = 'https://evil.example/replayed';
      return config;
    });
    attachAxios(ax, session);
    const r = await ax.get('/api/x');
    assert.equal(r.status, 200);
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [
      [`${PAGE}/api/x`, 'Bearer token-1'],
      ['https://evil.example/replayed', undefined],
    ]);
  });

  test('no config the app sees carries the session’s token: response.config, error.config and error.response.config have none, and re-sending a failed request elsewhere sends none', async () => {
    const session = fakeSession({ stale: false });
    const ax = fakeAxios({ respond: (s) => (s.url.endsWith('/refused') ? 401 : 200) });
    attachAxios(ax, session);
    const ok = await ax.get('/api/ok');
    const r = await outcome(ax.get('/api/refused'));
    assert.deepEqual(ax.sent.map((s) => s.authorization), ['Bearer token-1', 'Bearer token-1'], 'both went out with the token');
    assert.equal(authorizationOf(ok.config.headers), undefined);
    assert.equal(authorizationOf(r.error.config.headers), undefined);
    assert.equal(authorizationOf(r.error.response.config.headers), undefined);
    await ax.request({ ...r.error.config, url: 'https://evil.example/retry' });
    assert.equal(ax.sent[2].url, 'https://evil.example/retry');
    assert.equal(ax.sent[2].authorization, undefined);
  });
});

describe('a cancelled request', { timeout: 5000 }, () => {
  const never = new Promise(() => {});
  const isCancel = (e) => Boolean(e?.__CANCEL__) && e.code === 'ERR_CANCELED' && e.name === 'CanceledError';

  test('aborting while the session waits for a token rejects as axios cancels, at once, and sends nothing', async () => {
    const session = fakeSession();
    session.refreshing = never;
    const ax = fakeAxios();
    attachAxios(ax, session);
    const controller = new AbortController();
    const started = Date.now();
    const pending = outcome(ax.get('/api/x', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    const r = await pending;
    assert.equal(r.ok, false);
    assert.ok(isCancel(r.error), `a CanceledError: ${r.error?.name} ${r.error?.code}`);
    assert.equal(r.error.config.url, '/api/x', 'it carries the request config, as axios’s does');
    assert.ok(Date.now() - started < 1000, 'rejected when the signal aborted, not when a token came');
    assert.equal(ax.sent.length, 0);
  });

  test('an already aborted request asks the session for nothing', async () => {
    const session = fakeSession();
    const ax = fakeAxios();
    attachAxios(ax, session);
    const r = await outcome(ax.get('/api/x', { signal: AbortSignal.abort() }));
    assert.ok(isCancel(r.error));
    assert.equal(session.calls.getAccessToken, 0);
    assert.equal(ax.sent.length, 0);
  });

  test('a request cancelled after its 401 is not replayed', async () => {
    const session = fakeSession();
    const controller = new AbortController();
    const ax = fakeAxios({
      respond: () => {
        session.refreshing = never;
        controller.abort();
        return 401;
      },
    });
    attachAxios(ax, session);
    const r = await outcome(ax.get('/api/x', { signal: controller.signal }));
    assert.ok(isCancel(r.error));
    assert.equal(ax.sent.length, 1, 'no replay');
    assert.deepEqual(session.calls.tokenForReplay, [], 'nor a replay token asked for');
  });

  test('a signal that does not abort changes nothing', async () => {
    const session = fakeSession();
    const ax = fakeAxios();
    attachAxios(ax, session);
    const r = await outcome(ax.get('/api/x', { signal: new AbortController().signal }));
    assert.equal(r.ok, true);
    assert.equal(ax.sent[0].authorization, 'Bearer token-1');
  });
});

describe('when the session has no token', () => {
  for (const code of ['SESSION_EXPIRED', 'NOT_SIGNED_IN', 'THROTTLED', 'UNAVAILABLE']) {
    test(`a ${code} from getAccessToken rejects the request with that typed error and sends nothing`, async () => {
      const session = fakeSession();
      session.failWith = code;
      const ax = fakeAxios();
      attachAxios(ax, session);
      const r = await outcome(ax.get('/api/x'));
      assert.equal(r.ok, false);
      assert.equal(r.error.code, code);
      assert.equal(ax.sent.length, 0, 'the request was not sent');
      assert.deepEqual(session.calls.tokenForReplay, []);
    });
  }

  test('a session answering with no string is a typed error, never Bearer undefined', async () => {
    for (const bad of [undefined, null, '', 42]) {
      const ax = fakeAxios();
      attachAxios(ax, { getAccessToken: async () => bad, tokenForReplay: async () => null, attachesTokenTo: realRule() });
      const r = await outcome(ax.get('/api/x'));
      assert.equal(r.ok, false, `resolved with ${JSON.stringify(bad)}`);
      assert.equal(typeof r.error.code, 'string');
      assert.equal(ax.sent.length, 0);
    }
  });

  test('a third-party request goes out even when the session has no token', async () => {
    const session = fakeSession();
    session.failWith = 'NOT_SIGNED_IN';
    const ax = fakeAxios();
    attachAxios(ax, session);
    const r = await outcome(ax.get('https://cdn.example/lib.js'));
    assert.equal(r.ok, true);
    assert.equal(ax.sent[0].authorization, undefined);
  });
});

describe('the 401 replay', () => {
  test('refused once with a stale token → the session refreshes, one replay with the newer token, the caller sees the 200', async () => {
    const session = fakeSession({ stale: true });
    const ax = fakeAxios({ respond: (s) => (s.authorization === 'Bearer token-1' ? 401 : 200) });
    attachAxios(ax, session);
    const r = await ax.get('/api/x');
    assert.equal(r.status, 200);
    assert.deepEqual(ax.sent.map((s) => s.authorization), ['Bearer token-1', 'Bearer token-2']);
    assert.deepEqual(session.calls.tokenForReplay, ['token-1']);
    assert.equal(session.calls.refreshes, 1);
  });

  test('refused always → exactly one replay, then the replay’s 401 is surfaced (no loop)', async () => {
    const session = fakeSession({ stale: true });
    const ax = fakeAxios({ respond: () => 401 });
    attachAxios(ax, session);
    const r = await outcome(ax.get('/api/x'));
    assert.equal(r.ok, false);
    assert.equal(r.error.response.status, 401);
    assert.equal(ax.sent.length, 2, 'the original and one replay');
    assert.equal(r.error.response, ax.sent[1].response, 'the surfaced 401 is the replay’s');
    assert.deepEqual(session.calls.tokenForReplay, ['token-1'], 'the replay’s 401 did not ask again');
  });

  test('a token the session judges fresh (tokenForReplay → null) is not replayed: the original 401 error is surfaced', async () => {
    const session = fakeSession({ stale: false });
    const ax = fakeAxios({ respond: () => 401 });
    attachAxios(ax, session);
    const r = await outcome(ax.get('/api/x'));
    assert.equal(r.ok, false);
    assert.equal(r.error.response.status, 401);
    assert.equal(r.error.response, ax.sent[0].response, 'the very 401 the API gave');
    assert.equal(ax.sent.length, 1);
    assert.deepEqual(session.calls.tokenForReplay, ['token-1']);
  });

  test('a replay token equal to the refused one is treated as no replay', async () => {
    const ax = fakeAxios({ respond: () => 401 });
    attachAxios(ax, { getAccessToken: async () => 'same', tokenForReplay: async (t) => t, attachesTokenTo: realRule() });
    const r = await outcome(ax.get('/api/x'));
    assert.equal(r.error.response.status, 401);
    assert.equal(ax.sent.length, 1);
  });

  test('a refresh that fails while replaying rejects with the session’s typed error', async () => {
    const session = fakeSession({ stale: true });
    session.refreshFailsWith = 'SESSION_EXPIRED';
    const ax = fakeAxios({ respond: () => 401 });
    attachAxios(ax, session);
    const r = await outcome(ax.get('/api/x'));
    assert.equal(r.error.code, 'SESSION_EXPIRED');
    assert.equal(ax.sent.length, 1);
  });

  test('50 concurrent requests refused with the same stale token → one refresh, 50 replays with the newer token, 50 × 200', async () => {
    const session = fakeSession({ stale: true });
    const ax = fakeAxios({ respond: (s) => (s.authorization === 'Bearer token-1' ? 401 : 200) });
    attachAxios(ax, session);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ax.get(`/api/${i}`)));
    assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
    assert.equal(session.calls.refreshes, 1);
    assert.equal(session.calls.tokenForReplay.length, 50);
    assert.equal(ax.sent.filter((s) => s.authorization === 'Bearer token-2').length, 50);
    assert.equal(ax.sent.length, 100);
  });

  test('401s to requests the adapter did not authorize (third party, opted out) are not its business', async () => {
    const session = fakeSession({ stale: true });
    const ax = fakeAxios({ respond: () => 401 });
    attachAxios(ax, session);
    await outcome(ax.get('https://third-party.example/x'));
    await outcome(ax.get('/api/x', { cognitoSession: false }));
    await outcome(ax.get('/api/x', { headers: { Authorization: 'Bearer mine' }, cognitoSession: false }));
    assert.deepEqual(session.calls.tokenForReplay, []);
    assert.equal(ax.sent.length, 3);
  });

  test('other failures (403, 500, network errors) pass through untouched, without asking the session', async () => {
    const session = fakeSession({ stale: true });
    let n = 0;
    const ax = fakeAxios({
      respond: () => {
        n += 1;
        if (n === 3) throw Object.assign(new Error('Network Error'), { code: 'ERR_NETWORK' });
        return [403, 500][n - 1] ?? 200;
      },
    });
    attachAxios(ax, session);
    const a = await outcome(ax.get('/api/a'));
    const b = await outcome(ax.get('/api/b'));
    const c = await outcome(ax.get('/api/c'));
    assert.deepEqual([a.error.response.status, b.error.response.status, c.error.code], [403, 500, 'ERR_NETWORK']);
    assert.deepEqual(session.calls.tokenForReplay, []);
    assert.equal(ax.sent.length, 3);
  });

  test('the replay passes through the other interceptors again, like any request', async () => {
    const session = fakeSession({ stale: true });
    const ax = fakeAxios({ respond: (s) => (s.authorization === 'Bearer token-1' ? 401 : 200) });
    let seen = 0;
    ax.interceptors.request.use((config) => {
      seen += 1;
      return config;
    });
    attachAxios(ax, session);
    await ax.get('/api/x');
    assert.equal(seen, 2);
  });
});

describe('attach and detach', () => {
  test('detach ejects both interceptors: no token, no replay, the app’s own interceptors stay', async () => {
    const session = fakeSession({ stale: true });
    const ax = fakeAxios({ respond: () => 401 });
    ax.interceptors.request.use((c) => c);
    const before = ax.handlerCount();
    const detach = attachAxios(ax, session);
    assert.equal(ax.handlerCount(), before + 2);
    detach();
    detach();
    assert.equal(ax.handlerCount(), before, 'both removed, once');
    const r = await outcome(ax.get('/api/x'));
    assert.equal(r.error.response.status, 401);
    assert.equal(ax.sent[0].authorization, undefined);
    assert.equal(session.calls.getAccessToken, 0);
    assert.deepEqual(session.calls.tokenForReplay, []);
  });

  test('attachAxios leaves the instance’s adapter as it was, and after detach a request re-sent from an earlier config gets no token', async () => {
    const session = fakeSession();
    const adapter = ['xhr', 'fetch'];
    const ax = fakeAxios({ defaults: { adapter }, respond: () => 500 });
    const detach = attachAxios(ax, session);
    assert.equal(ax.defaults.adapter, adapter);
    const r = await outcome(ax.get('/api/x'));
    assert.equal(ax.sent[0].authorization, 'Bearer token-1');
    detach();
    assert.equal(ax.defaults.adapter, adapter);
    await outcome(ax.request(r.error.config));
    assert.equal(ax.sent.length, 2);
    assert.equal(ax.sent[1].authorization, undefined);
    assert.equal(session.calls.getAccessToken, 1);
  });

  test('arguments of the wrong shape throw BAD_CONFIG at attach time', () => {
    const session = fakeSession();
    const ax = fakeAxios();
    const cases = [
      () => attachAxios(undefined, session),
      () => attachAxios({}, session),
      () => attachAxios({ interceptors: { request: { use() {} }, response: { use() {} } } }, session),
      () => attachAxios(Object.assign(fakeAxios(), { getUri: undefined }), session),
      () => attachAxios(ax, undefined),
      () => attachAxios(ax, { getAccessToken() {} }),
      () => attachAxios(ax, { getAccessToken() {}, tokenForReplay() {} }),
      () => attachAxios(ax, { getAccessToken() {}, tokenForReplay() {}, attachesTokenTo: true }),
    ];
    for (const make of cases) assert.throws(make, (e) => e.code === 'BAD_CONFIG');
    assert.equal(ax.handlerCount(), 0, 'nothing was attached by a refused call');
  });

  test('an allowedOrigins option is refused with BAD_CONFIG saying the list lives in the Session config', () => {
    const session = fakeSession();
    const ax = fakeAxios();
    for (const value of [['https://api.example'], [], 'https://api.example', null]) {
      assert.throws(
        () => attachAxios(ax, session, { allowedOrigins: value, deadlineMs: 1000 }),
        (e) => e.code === 'BAD_CONFIG' && /allowedOrigins/.test(e.message) && /Session config/.test(e.message),
        JSON.stringify(value),
      );
    }
    assert.equal(ax.handlerCount(), 0, 'nothing was attached by a refused call');
    assert.equal(typeof attachAxios(ax, session, { deadlineMs: 1000 }), 'function', 'deadlineMs alone is fine');
  });

  test('an axios-like instance without create() sends through adapter functions; a request whose adapter is named rejects BAD_CONFIG, unsent', async () => {
    const session = fakeSession();
    const ax = Object.assign(fakeAxios(), { create: undefined });
    attachAxios(ax, session);
    await ax.get('/api/x', { adapter: ax.transport('own') });
    const r = await outcome(ax.get('/api/y', { adapter: 'xhr' }));
    assert.equal(r.error?.code, 'BAD_CONFIG');
    assert.deepEqual(ax.sent.map((s) => [s.url, s.authorization]), [[`${PAGE}/api/x`, 'Bearer token-1']]);
  });

  test('two instances attached to one session are independent', async () => {
    const session = fakeSession();
    const a = fakeAxios();
    const b = fakeAxios();
    const detachA = attachAxios(a, session);
    attachAxios(b, session);
    detachA();
    await a.get('/api/x');
    await b.get('/api/x');
    assert.deepEqual([a.sent[0].authorization, b.sent[0].authorization], [undefined, 'Bearer token-1']);
  });
});
