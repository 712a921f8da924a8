// The page side of tests/e2e/shell.test.mjs: the built module (/pkg/web/) and helpers for tests
// that run inside the page with no network peer. The token provider and the app's API are a stub
// installed as `window.fetch` (`stubFetch`), which records every request and answers from a
// script of canned responses shaped as Cognito shapes them. Two `storage: "local"` sessions in
// one page stand in for two tabs: they share localStorage, the Web Lock and the BroadcastChannel.

import init, { Session } from '/pkg/web/cognito_session.js';

const POOL = 'us-east-1_Shell1';
const b64 = (text) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const nowS = () => Math.floor(Date.now() / 1000);
/** The pool's issuer, which Cognito sessions hold tokens to. */
const ISS = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const mint = (claims) => `${b64('{"alg":"RS256","kid":"k1"}')}.${b64(JSON.stringify({ iss: ISS, ...claims }))}.c2lnbmF0dXJl`;
const realFetch = globalThis.fetch;

const T = {
  Session,
  POOL,
  THROTTLE: '{"__type":"TooManyRequestsException","message":"Rate exceeded"}',
  REVOKED: '{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}',

  /** A base config for client `client`, plus `extra` fields. The tokens minted here are not
   * signed: signatures are tests/e2e/verify.test.mjs's subject, so they are not checked. */
  config: (client, extra = {}) => ({ userPoolId: POOL, clientId: client, verifyTokens: false, ...extra }),
  storageKey: (client) => `cognito-session:${POOL}:${client}`,
  mint,
  /** An access token for `client` expiring `ttl` s from now; `nonce` makes it unique. */
  access: (client, ttl, nonce) => {
    const iat = nowS();
    return mint({ sub: 'u1', token_use: 'access', client_id: client, username: 'alice', iat, exp: Math.max(iat + ttl, 1), jti: String(nonce) });
  },
  idToken: (client, ttl) => {
    const iat = nowS();
    return mint({ sub: 'u1', token_use: 'id', aud: client, email: 'alice@example.com', 'cognito:username': 'alice', iat, exp: iat + ttl });
  },
  /** An access token issued an hour minus `left` s ago, valid `left` more seconds. */
  aging: (client, left, nonce) => {
    const exp = nowS() + left;
    return mint({ sub: 'u1', token_use: 'access', client_id: client, iat: exp - 3600, exp, jti: String(nonce) });
  },
  tokens: (accessToken, idToken, refreshToken) => {
    const t = { accessToken };
    if (idToken) t.idToken = idToken;
    if (refreshToken) t.refreshToken = refreshToken;
    return t;
  },
  cognitoOk: (access, id) => JSON.stringify({ AuthenticationResult: { AccessToken: access, IdToken: id, ExpiresIn: 3600, TokenType: 'Bearer' }, ChallengeParameters: {} }),
  response: (status, errorType, body) => ({ status, headers: errorType ? { 'x-amzn-ErrorType': errorType } : {}, body }),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  /** Settles `p` as `{ok, value}` or `{ok: false, error}`. */
  settle: (p) => p.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error })),
  /** A listener recording every event's type into the returned array. */
  recorder: () => {
    const seen = [];
    return [seen, (e) => seen.push(e.type)];
  },

  /**
   * Replaces `window.fetch` with a recorder answering from `responses` (each `{status, headers,
   * body}`, `{network: true}` or with `hook: true` to call `T.hook()` first; the last one
   * repeats). Returns the record: `{url, auth, target, body}` per request.
   */
  stubFetch(responses) {
    const seen = [];
    const queue = [...responses];
    globalThis.fetch = async (input, init) => {
      const req = new Request(input, init);
      const body = await req.text();
      seen.push({ url: req.url, auth: req.headers.get('authorization'), target: req.headers.get('x-amz-target'), body });
      const r = queue.length > 1 ? queue.shift() : queue[0] || { status: 200, body: 'ok' };
      if (r.network) throw new TypeError('Failed to fetch');
      if (r.hook) T.hook();
      return new Response(r.body, { status: r.status, headers: r.headers || {} });
    };
    return seen;
  },
  realFetch,

  /** Makes `document.hidden` read `hidden` and tells the page. */
  setHidden(hidden) {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    document.dispatchEvent(new Event('visibilitychange'));
  },

  eq(actual, expected, what = '') {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
  },
  ok(value, what = '') {
    if (!value) throw new Error(`${what}: not true`);
  },
  /** The error of a promise that must reject. */
  async rejects(p, what = '') {
    const r = await T.settle(p);
    if (r.ok) throw new Error(`${what}: resolved with ${JSON.stringify(r.value)}`);
    return r.error;
  },
  /** The error of a call that must throw. */
  throws(f, what = '') {
    try {
      f();
    } catch (e) {
      return e;
    }
    throw new Error(`${what}: did not throw`);
  },
};

window.T = T;
T.ready = init().then(() => true);
