// The page side of the Rust driver's end-to-end tests (tests/e2e/rust.test.mjs): the same
// `window.H` as harness.js, so the tests read alike, but every session call goes to
// `cognito_session::web::Session` inside the Rust app's .wasm (tests/consumers/rust-app, its
// `Harness` export), built by scripts/rust-app.sh into /www/rust/pkg/. Outcomes are plain data:
// `{ok, value | code, retryAt, message, startedAt, at}`.

import init, { Harness } from '/www/rust/pkg/rust_app.js';
import { collectBackground, failure, setHidden, settle, startInBackground } from './outcome.js';

const H = {
  cfg: null,
  session: null,
  pending: [],

  /** Every session event (`{type, ..., at}`), from the Rust subscriber. */
  get events() {
    return H.session ? H.session.events() : [];
  },

  /** Every login request the Rust session's callback heard. */
  get loginRequired() {
    return H.session ? H.session.loginRequired() : [];
  },

  setHidden,

  apiOrigin() {
    return new URL(H.cfg.apiUrl).origin;
  },

  /** A new Rust session against the rig; `overrides` as harness.js's `make` (`storage`,
   * `loginUrl`). */
  make(overrides = {}) {
    const config = {
      poolId: H.cfg.poolId,
      clientId: H.cfg.clientId,
      endpoint: H.cfg.cognitoUrl,
      allowedOrigins: [H.apiOrigin()],
      storage: 'session',
      ...overrides,
    };
    for (const k of Object.keys(config)) if (config[k] === undefined) delete config[k];
    H.config = config;
    H.session = new Harness(config);
    return true;
  },

  /** A second Rust session in this page on the config of the last `make`: `H.sibling`. */
  makeSibling() {
    H.sibling = new Harness(H.config);
    return true;
  },

  /** `n` concurrent token calls on each of `H.session` and `H.sibling`. */
  siblingTokens(n) {
    const started = Date.now();
    return Promise.all([H.session, H.sibling].flatMap((s) => Array.from({ length: n }, () => settle(started, s.token(10000)))));
  },

  signIn(username = H.cfg.username, password = H.cfg.password) {
    return settle(Date.now(), H.session.signIn(username, password));
  },

  /** `session.sign_in(params)`: to the provider's login page (PKCE). */
  signInRedirect(params = {}) {
    return settle(Date.now(), H.session.signInRedirect(Object.entries(params)));
  },

  /** `session.handle_redirect()` on the page the provider sent the browser back to. */
  handleRedirect() {
    return settle(Date.now(), H.session.handleRedirect());
  },

  signOut() {
    return settle(Date.now(), H.session.signOut());
  },

  setTokens({ accessToken, refreshToken }) {
    try {
      H.session.setTokens(accessToken, refreshToken);
      return { ok: true };
    } catch (error) {
      return failure(error, Date.now());
    }
  },

  tokens(n, deadlineMs = 10000) {
    const started = Date.now();
    return Promise.all(Array.from({ length: n }, () => settle(started, H.session.token(deadlineMs))));
  },

  apiCall(path = 'api/data') {
    return settle(Date.now(), H.session.apiCall(H.cfg.apiUrl + path));
  },

  burst(n, path = 'api/data') {
    return Promise.all(Array.from({ length: n }, () => H.apiCall(path)));
  },

  /** Background calls (`kind` "token" with `deadlineMs`, or "fetch"), as harness.js's. */
  start(specs) {
    return startInBackground(H.pending, specs, (spec) =>
      spec.kind === 'fetch' ? H.apiCall(spec.path) : settle(Date.now(), H.session.token(spec.deadlineMs ?? 10000)),
    );
  },

  collect(timeoutMs) {
    return collectBackground(H.pending, timeoutMs);
  },

  /** The stored record of this session (null when there is none), parsed. */
  record() {
    for (const area of [sessionStorage, localStorage]) {
      for (let i = 0; i < area.length; i += 1) {
        const key = area.key(i);
        if (key && key.startsWith('cognito-session:') && !key.endsWith(':signIn')) return JSON.parse(area.getItem(key));
      }
    }
    return null;
  },

  snapshot() {
    return H.session.snapshot();
  },

  claims() {
    return H.session.claims();
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
