// The consumer app: real axios 1.x and cognito-session installed from the packed tarball,
// imported the way an app imports them, plus axios 1.7.9 (the npm alias axios-old), which
// predates `allowAbsoluteUrls`. tests/consumers/axios.test.mjs drives it through
// `window.A`, whose helpers return plain data (`{ok, status, body}` or `{ok: false, code, status,
// message}`) so the test asserts on typed errors and HTTP statuses, not on exceptions crossing
// the page boundary. The rig's URLs and ids come from /rig-config.json.

import axios from 'axios';
import axiosOld from 'axios-old';
import { Session } from 'cognito-session';
import { attachAxios } from 'cognito-session/axios';

/** A settled axios call or session call as plain data. */
async function settle(promise) {
  try {
    const res = await promise;
    return { ok: true, status: res?.status ?? null, body: res?.data ?? null };
  } catch (error) {
    return {
      ok: false,
      name: error?.name ?? typeof error,
      code: error?.code ?? null,
      status: error?.response?.status ?? null,
      message: String(error?.message ?? error),
      canceled: axios.isCancel(error),
    };
  }
}

/** How many handlers an axios interceptor manager holds (AxiosInterceptorManager.forEach). */
function handlerCount(manager) {
  let n = 0;
  manager.forEach(() => {
    n += 1;
  });
  return n;
}

let hidden = false;

const A = {
  /** For tests that build their own instances in the page: both axios versions, the adapter and settle. */
  axios,
  axiosOld,
  attachAxios,
  settle,
  cfg: null,
  session: null,
  /** The axios instance the adapter is attached to (baseURL: the rig's API). */
  api: null,
  detach: null,
  /** Every onLoginRequired call. */
  loginRequired: [],
  events: [],

  /** Pretends the tab is hidden, so the session refreshes only when a caller needs a token. */
  setHidden(value) {
    hidden = Boolean(value);
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  },

  /** A Session against the rig (memory storage) recording onLoginRequired calls; `overrides`
   * carries its `allowedOrigins`, which the adapter follows. */
  make(overrides = {}) {
    A.session = new Session({
      userPoolId: A.cfg.poolId,
      clientId: A.cfg.clientId,
      endpoint: A.cfg.cognitoUrl,
      storage: 'memory',
      onLoginRequired: (reason) => A.loginRequired.push({ reason: String(reason), at: Date.now() }),
      ...overrides,
    });
    A.session.subscribe((event) => A.events.push(event.type));
  },

  setTokens(tokens) {
    A.session.setTokens(tokens);
  },

  /** An axios instance on the rig's API with the adapter attached to the session. */
  attach() {
    A.api = axios.create({ baseURL: A.cfg.apiUrl });
    A.detach = attachAxios(A.api, A.session);
    return A.counts();
  },

  /** Handlers on the instance's request and response interceptors. */
  counts() {
    return { request: handlerCount(A.api.interceptors.request), response: handlerCount(A.api.interceptors.response) };
  },

  /** One GET through the instance (`url` relative to the API, or absolute). */
  get(url, config) {
    return settle(A.api.get(url, config));
  },

  /** One GET through the instance whose AbortSignal aborts after `ms`. */
  getAbortingAfter(url, ms) {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), ms);
    return A.get(url, { signal: controller.signal });
  },

  /** `n` concurrent GETs of `${path}/${i}`. */
  burst(n, path = 'api/burst') {
    return Promise.all(Array.from({ length: n }, (_, i) => A.get(`${path}/${i}`)));
  },

  token() {
    return settle(A.session.getAccessToken().then((t) => ({ status: 'token', data: t })));
  },
};

window.A = A;
A.ready = fetch('/rig-config.json')
  .then((r) => r.json())
  .then((cfg) => {
    A.cfg = cfg;
    document.getElementById('status').textContent = 'ready';
    return true;
  });
