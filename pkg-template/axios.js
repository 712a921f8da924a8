// cognito-session/axios: puts the session's access token on an axios 1.x instance's requests,
// under the same rules as `session.fetch`. It does not import axios: it works on the instance
// it is given (anything with `interceptors.{request,response}.{use,eject}` and `request`).
//
// - A request gets `Authorization: Bearer <token>` only when `session.attachesTokenTo(url)` says
//   so for its resolved URL (baseURL + url the way axios joins them, then relative to the
//   document): the page's own origin or one of the Session config's `allowedOrigins`, compared
//   as exact origins. The session owns the rule and the list; every other request goes out
//   untouched.
// - The token comes from `session.getAccessToken()`. When the session cannot give one, the
//   request is not sent: it rejects with the session's typed error (`error.code`). Never
//   `Bearer undefined`.
// - On a 401 to a request this adapter authorized, it asks `session.tokenForReplay(sentToken)`
//   and replays the request once with the newer token it gets (the session refreshes first,
//   once for all callers, when the refused token was old enough to be stale); with `null` the
//   401 is surfaced. A replay is never replayed.
// - Opt out per request (or per instance, in its defaults) with `cognitoSession: false`;
//   requests with axios's `auth` (HTTP Basic) are left alone too.
// - A request whose `signal` aborts while it waits for a token (or for the replay's token) stops
//   waiting and rejects as axios rejects a cancelled request (`axios.isCancel(error)` is true),
//   so it is not sent later either.

/** The request config key that opts a request out: `{ cognitoSession: false }`. */
const OPT_OUT = 'cognitoSession';

/**
 * The request config key marking a replay (internal). A string key with a primitive value,
 * because axios copies the config (string keys only) when the replay is sent.
 */
const REPLAYED = '_cognitoSessionReplay';

/** An `Error` with a stable `code`, like the session's own. */
function badConfig(message) {
  return Object.assign(new Error(`attachAxios: ${message}`), { code: 'BAD_CONFIG' });
}

/** What axios rejects a cancelled request with, in the shape `axios.isCancel` recognises. */
function canceled(config) {
  return Object.assign(new Error('canceled'), { name: 'CanceledError', code: 'ERR_CANCELED', __CANCEL__: true, config });
}

/**
 * `wait()`, or the cancellation as soon as `config.signal` aborts; an already aborted request
 * asks the session for nothing. The session's own wait goes on and settles unheard.
 */
function unlessCanceled(wait, config) {
  const signal = config.signal;
  if (typeof signal?.addEventListener !== 'function') return wait();
  if (signal.aborted) return Promise.reject(canceled(config));
  const promise = wait();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(canceled(config));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The URL relative URLs resolve against: the document's base URL, else the location. */
function baseHref() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

/** axios's test for an absolute URL (a scheme, or a protocol-relative `//host`). */
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * The absolute URL the request will go to, built the way axios builds it (`buildFullPath`:
 * baseURL joined with a relative url, or with any url when `allowAbsoluteUrls` is false), then
 * resolved against the document. null when it cannot be resolved.
 */
function targetUrl(config) {
  const url = config.url == null ? '' : String(config.url);
  const base = config.baseURL == null ? '' : String(config.baseURL);
  const joined = base && (!ABSOLUTE.test(url) || config.allowAbsoluteUrls === false)
    ? (url ? `${base.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}` : base)
    : url;
  try {
    return new URL(joined, baseHref()).href;
  } catch {
    return null;
  }
}

/** Sets `name` on axios 1.x `AxiosHeaders` (`.set`) or on a plain headers object. */
function setHeader(config, name, value) {
  const headers = config.headers;
  if (headers && typeof headers.set === 'function') {
    headers.set(name, value, true);
    return;
  }
  const plain = headers && typeof headers === 'object' ? headers : {};
  for (const key of Object.keys(plain)) {
    if (key.toLowerCase() === name.toLowerCase()) delete plain[key];
  }
  plain[name] = value;
  config.headers = plain;
}

/**
 * Makes `instance` (an axios 1.x instance) send the session's access token where
 * `session.attachesTokenTo(url)` allows it, and replay a request once after a 401 when the
 * session has a newer token. Returns `detach()`, which ejects both interceptors. Throws
 * `BAD_CONFIG` for an instance or session of the wrong shape, and for an `allowedOrigins`
 * option: that list lives in the Session config.
 *
 * @param {import('./axios').AxiosLikeInstance} instance
 * @param {import('./axios').SessionLike} session
 * @param {import('./axios').AttachAxiosOptions} [options]
 * @returns {() => void}
 */
export function attachAxios(instance, session, options = {}) {
  const interceptors = instance?.interceptors;
  if (typeof interceptors?.request?.use !== 'function' || typeof interceptors?.response?.use !== 'function' || typeof instance.request !== 'function') {
    throw badConfig('the first argument must be an axios instance (axios.create())');
  }
  if (typeof session?.getAccessToken !== 'function' || typeof session?.tokenForReplay !== 'function' || typeof session?.attachesTokenTo !== 'function') {
    throw badConfig('the second argument must be a cognito-session Session');
  }
  const { allowedOrigins, deadlineMs } = options ?? {};
  if (allowedOrigins !== undefined) {
    // An app upgrading from the option must not silently lose its list.
    throw badConfig('allowedOrigins is no longer an adapter option: the list lives in the Session config, new Session({ ..., allowedOrigins }), which the adapter follows');
  }
  const tokenOptions = deadlineMs === undefined ? undefined : { deadlineMs };

  /**
   * The token each request this adapter authorized went out with, keyed by the config object
   * axios then carries to the response (`error.config`). An interceptor that runs after this one
   * and returns a copy of the config loses the entry: its 401s are then surfaced, not replayed.
   */
  const sent = new WeakMap();

  const mayAttach = (config) => {
    if (config[OPT_OUT] === false || config.auth) return false;
    const url = targetUrl(config);
    return url !== null && session.attachesTokenTo(url) === true;
  };

  const onRequest = async (config) => {
    if (!config || !mayAttach(config)) return config;
    // Rejects with the session's typed error: the request is then never sent.
    const token = await unlessCanceled(() => session.getAccessToken(tokenOptions), config);
    if (typeof token !== 'string' || token === '') throw badConfig('the session resolved without a token');
    setHeader(config, 'Authorization', `Bearer ${token}`);
    sent.set(config, token);
    return config;
  };

  const onResponseError = async (error) => {
    const config = error?.config;
    const token = config && typeof config === 'object' ? sent.get(config) : undefined;
    if (error?.response?.status !== 401 || token === undefined || config[REPLAYED]) throw error;
    config[REPLAYED] = true;
    const newer = await unlessCanceled(() => session.tokenForReplay(token, tokenOptions), config);
    if (typeof newer !== 'string' || newer === '' || newer === token) throw error;
    // The replay passes through the request interceptors again, which set the header from the
    // session (the same token, unless yet another one replaced it meanwhile).
    setHeader(config, 'Authorization', `Bearer ${newer}`);
    return instance.request(config);
  };

  const requestId = interceptors.request.use(onRequest);
  const responseId = interceptors.response.use(undefined, onResponseError);
  let attached = true;
  return function detach() {
    if (!attached) return;
    attached = false;
    interceptors.request.eject(requestId);
    interceptors.response.eject(responseId);
  };
}
