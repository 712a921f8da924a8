// The page side of the end-to-end tests (tests/e2e/session.test.mjs drives it through
// `window.H`). It loads the built module from /pkg/web/, reads the rig's URLs and seeded ids from
// /rig-config.json, and offers small helpers that return plain, serialisable results: every
// outcome of a session call becomes `{ok, value | code, retryAt, message, at}` so the test can
// assert on the typed error, not on a thrown exception crossing the page boundary.
//
// Served by the rig's static server from the repository root:
//   /tests/e2e/pages/harness.html  → this module
//   /pkg/web/cognito_session.js     → the wasm-bindgen `--target web` glue

import init, { Session } from '/pkg/web/cognito_session.js';
import { LOG_KEY, collectBackground, failure, persist, setHidden, settle, startInBackground, success } from './outcome.js';

const H = {
  /** The rig's config (cognitoUrl, apiUrl, proxyControlUrl, poolId, clientId, username, ...). */
  cfg: null,
  session: null,
  /** Every session event, with the time it arrived. */
  events: [],
  /** Every onLoginRequired call. */
  loginRequired: [],
  /** Background calls started with `start`, settled or not. */
  pending: [],

  /** Makes the tab look hidden (or visible again): see outcome.js. */
  setHidden,

  /** The API's origin, which the session must be allowed to send tokens to. */
  apiOrigin() {
    return new URL(H.cfg.apiUrl).origin;
  },

  /**
   * A new Session against the rig. `overrides` replaces any config field; a field set to
   * `undefined` is left out. By default `onLoginRequired` records into `H.loginRequired`.
   */
  make(overrides = {}) {
    const config = {
      userPoolId: H.cfg.poolId,
      clientId: H.cfg.clientId,
      endpoint: H.cfg.cognitoUrl,
      allowedOrigins: [H.apiOrigin()],
      storage: 'session',
      onLoginRequired: (reason) => {
        const entry = { kind: 'loginRequired', reason: String(reason), at: Date.now() };
        H.loginRequired.push(entry);
        persist(entry);
      },
      ...overrides,
    };
    for (const k of Object.keys(config)) if (config[k] === undefined) delete config[k];
    H.config = config;
    H.session = new Session(config);
    H.session.subscribe((event) => {
      const entry = { ...event, at: Date.now() };
      H.events.push(entry);
      persist({ kind: 'event', ...entry });
    });
    return true;
  },

  /** A second Session in this page on the config of the last `make` (as after a hot reload
   * that did not free the first): `H.sibling`. */
  makeSibling() {
    H.sibling = new Session(H.config);
    return true;
  },

  /** `n` concurrent getAccessToken calls on each of `H.session` and `H.sibling`. */
  siblingTokens(n) {
    const started = Date.now();
    return Promise.all([H.session, H.sibling].flatMap((s) => Array.from({ length: n }, () => settle(started, s.getAccessToken()))));
  },

  /** `new Session(config)` outcome only (for config validation checks). */
  tryMake(config) {
    try {
      new Session(config);
      return { ok: true };
    } catch (error) {
      return failure(error, Date.now());
    }
  },

  signIn(username = H.cfg.username, password = H.cfg.password) {
    return settle(Date.now(), H.session.signInWithPassword(username, password));
  },

  /** `session.handleRedirect()` on the page the provider sent the browser back to. */
  handleRedirect() {
    return settle(Date.now(), H.session.handleRedirect());
  },

  setTokens(tokens) {
    try {
      H.session.setTokens(tokens);
      return { ok: true };
    } catch (error) {
      return failure(error, Date.now());
    }
  },

  /** `n` concurrent getAccessToken calls with `deadlineMs` (undefined: the default). */
  tokens(n, deadlineMs) {
    const opts = deadlineMs === undefined ? undefined : { deadlineMs };
    const started = Date.now();
    return Promise.all(Array.from({ length: n }, () => settle(started, H.session.getAccessToken(opts))));
  },

  /** One session.fetch of the API, answered as {ok, value: {status, body, jti}} or a failure. */
  async apiCall(path = 'api/data', init = undefined) {
    const started = Date.now();
    try {
      const res = await H.session.fetch(H.cfg.apiUrl + path, init);
      const body = await res.json().catch(() => null);
      return success({ status: res.status, body }, started);
    } catch (error) {
      return failure(error, started);
    }
  },

  /** `n` concurrent session.fetch calls. */
  burst(n, path = 'api/data') {
    return Promise.all(Array.from({ length: n }, () => H.apiCall(path)));
  },

  /**
   * Starts calls in the background (`kind` "token" with `deadlineMs`, or "fetch") and returns at
   * once; each outcome lands in `H.pending[i]` and in the sessionStorage log.
   */
  start(specs) {
    return startInBackground(H.pending, specs, (spec) =>
      spec.kind === 'fetch'
        ? H.apiCall(spec.path)
        : settle(Date.now(), H.session.getAccessToken(spec.deadlineMs === undefined ? undefined : { deadlineMs: spec.deadlineMs })),
    );
  },

  /** Waits (up to `timeoutMs`) until every background call settled; returns them all. */
  collect(timeoutMs) {
    return collectBackground(H.pending, timeoutMs);
  },

  /** Every key the session keeps in sessionStorage / localStorage, parsed when JSON. */
  stored() {
    const out = {};
    for (const area of [sessionStorage, localStorage]) {
      for (let i = 0; i < area.length; i += 1) {
        const key = area.key(i);
        // The key set the session checks signatures with is not the session (keysRecord()).
        if (!key || !key.startsWith('cognito-session:') || key.endsWith(':keys')) continue;
        const raw = area.getItem(key);
        let value = raw;
        try {
          value = JSON.parse(raw);
        } catch {
          // kept as text
        }
        out[key] = value;
      }
    }
    return out;
  },

  /** The stored record of this session (null when there is none). */
  /** The stored key-set record (parsed), or null. */
  keysRecord() {
    for (const area of [sessionStorage, localStorage]) {
      for (let i = 0; i < area.length; i += 1) {
        const key = area.key(i);
        if (key?.startsWith('cognito-session:') && key.endsWith(':keys')) return JSON.parse(area.getItem(key));
      }
    }
    return null;
  },

  record() {
    const values = Object.values(H.stored());
    return values.length ? values[0] : null;
  },

  snapshot() {
    const s = H.session.getSnapshot();
    return s === null ? null : { ...s };
  },

  claims() {
    const c = H.session.claims();
    return c === null ? null : { ...c };
  },

  log() {
    try {
      return JSON.parse(sessionStorage.getItem(LOG_KEY) || '[]');
    } catch {
      return [];
    }
  },

  // --- micro-benchmarks (tests/e2e/bench.mjs) ------------------------------------------------

  /** ns per `await session.getAccessToken()` with a fresh token, and per bare `await` of a
   * resolved promise holding a string (the floor any promise-returning API pays). */
  async benchGetAccessToken(n = 200000) {
    const s = H.session;
    const first = await s.getAccessToken();
    if (typeof first !== 'string' || first.split('.').length !== 3) throw new Error('no fresh token to benchmark with');
    for (let i = 0; i < 2000; i += 1) await s.getAccessToken(); // warm-up
    let t0 = performance.now();
    let last;
    for (let i = 0; i < n; i += 1) last = await s.getAccessToken();
    const api = ((performance.now() - t0) * 1e6) / n;
    if (last !== first) throw new Error('token changed during the benchmark');
    const ready = Promise.resolve(first);
    const floorFn = () => ready;
    t0 = performance.now();
    for (let i = 0; i < n; i += 1) last = await floorFn();
    const floor = ((performance.now() - t0) * 1e6) / n;
    // The synchronous part alone: calls without awaiting each one.
    t0 = performance.now();
    for (let i = 0; i < n; i += 1) s.getAccessToken();
    const sync = ((performance.now() - t0) * 1e6) / n;
    return { n, nsPerAwaitedCall: api, nsPerAwaitOfResolvedPromise: floor, nsPerCallNotAwaited: sync };
  },

  /** `session.fetch` vs plain `fetch` (with the same Authorization header) against `url` (the
   * API by default): `rounds` interleaved blocks of `block` sequential requests each; medians of
   * the per-block means. */
  async benchFetch(rounds = 10, block = 50, url = H.cfg.apiUrl + 'api/data') {
    const token = await H.session.getAccessToken();
    const plain = async () => {
      const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`plain fetch: ${r.status}`);
    };
    const viaSession = async () => {
      const r = await H.session.fetch(url);
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`session.fetch: ${r.status}`);
    };
    for (let i = 0; i < 20; i += 1) {
      await plain();
      await viaSession();
    }
    const a = [];
    const b = [];
    for (let r = 0; r < rounds; r += 1) {
      for (const [fn, out] of r % 2 ? [[plain, a], [viaSession, b]] : [[viaSession, b], [plain, a]]) {
        const t0 = performance.now();
        for (let i = 0; i < block; i += 1) await fn();
        out.push(((performance.now() - t0) * 1000) / block);
      }
    }
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const plainUs = median(a);
    const sessionUs = median(b);
    return { requests: rounds * block * 2, plainUsPerRequest: plainUs, sessionUsPerRequest: sessionUs, ratio: sessionUs / plainUs };
  },
};

window.H = H;
H.ready = (async () => {
  const [cfg] = await Promise.all([fetch('/rig-config.json', { cache: 'no-store' }).then((r) => r.json()), init()]);
  H.cfg = cfg;
  return true;
})().catch((error) => {
  H.loadError = String(error?.stack || error);
  throw error;
});
