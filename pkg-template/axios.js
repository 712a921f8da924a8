// cognito-session/axios: puts the session's access token on an axios 1.x instance's requests,
// under the same rules as `session.fetch`. It does not import axios: it works on the instance
// it is given (anything with `interceptors.{request,response}.{use,eject}` and `request`).
//
// - A request gets `Authorization: Bearer <token>` only when its resolved URL (baseURL + url,
//   relative to the document) has the page's own origin or one of `allowedOrigins`, compared as
//   exact origins. Every other request goes out untouched. (The session does not expose its own
//   `allowedOrigins`, so the adapter takes its list as an option: by default the page only.)
// - The token comes from `session.getAccessToken()`. When the session cannot give one, the
//   request is not sent: it rejects with the session's typed error (`error.code`). Never
//   `Bearer undefined`.
// - On a 401 to a request this adapter authorized, it asks `session.tokenForReplay(sentToken)`
//   and replays the request once with the newer token it gets (the session refreshes first,
//   once for all callers, when the refused token was old enough to be stale); with `null` the
//   401 is surfaced. A replay is never replayed.
// - Opt out per request (or per instance, in its defaults) with `cognitoSession: false`;
//   requests with axios's `auth` (HTTP Basic) are left alone too.

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

/**
 * The exact origin `text` names (`https://api.example.com`, an optional trailing `/`), or throws
 * `BAD_CONFIG`: paths, queries, credentials, wildcards and non-http(s) schemes are refused so an
 * entry cannot be mistaken for a rule about paths or hosts.
 */
function parseOrigin(text) {
  let url = null;
  try {
    url = typeof text === 'string' && !text.includes('*') ? new URL(text) : null;
  } catch {
    url = null;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.href !== `${url.origin}/`) {
    throw badConfig(`allowedOrigins entries must be exact origins like "https://api.example.com", not ${JSON.stringify(text)}`);
  }
  return url.origin;
}

/** The page's origin, or null outside a page (no token goes anywhere then). */
function pageOrigin() {
  const origin = globalThis.location?.origin;
  return typeof origin === 'string' && origin !== 'null' ? origin : null;
}

/** The URL relative URLs resolve against: the document's base URL, else the location. */
function baseHref() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

/** axios's test for an absolute URL (a scheme, or a protocol-relative `//host`). */
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * The origin the request will go to, resolved the way axios builds the URL (`buildFullPath`:
 * baseURL joined with a relative url, or with any url when `allowAbsoluteUrls` is false), then
 * against the document. null when it cannot be resolved or is not http(s).
 */
function targetOrigin(config) {
  const url = config.url == null ? '' : String(config.url);
  const base = config.baseURL == null ? '' : String(config.baseURL);
  const joined = base && (!ABSOLUTE.test(url) || config.allowAbsoluteUrls === false)
    ? (url ? `${base.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}` : base)
    : url;
  try {
    const resolved = new URL(joined, baseHref());
    return ['http:', 'https:'].includes(resolved.protocol) ? resolved.origin : null;
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
 * Makes `instance` (an axios 1.x instance) send the session's access token to the page's origin
 * and `options.allowedOrigins`, and replay a request once after a 401 when the session has a
 * newer token. Returns `detach()`, which ejects both interceptors. Throws `BAD_CONFIG` for an
 * instance or session of the wrong shape, or an `allowedOrigins` entry that is not an origin.
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
  if (typeof session?.getAccessToken !== 'function' || typeof session?.tokenForReplay !== 'function') {
    throw badConfig('the second argument must be a cognito-session Session');
  }
  const { allowedOrigins = [], deadlineMs } = options ?? {};
  if (!Array.isArray(allowedOrigins)) throw badConfig('allowedOrigins must be an array of origins');
  const allowed = new Set(allowedOrigins.map(parseOrigin));
  const tokenOptions = deadlineMs === undefined ? undefined : { deadlineMs };

  /**
   * The token each request this adapter authorized went out with, keyed by the config object
   * axios then carries to the response (`error.config`). An interceptor that runs after this one
   * and returns a copy of the config loses the entry: its 401s are then surfaced, not replayed.
   */
  const sent = new WeakMap();

  const mayAttach = (config) => {
    if (config[OPT_OUT] === false || config.auth) return false;
    const target = targetOrigin(config);
    return target !== null && (target === pageOrigin() || allowed.has(target));
  };

  const onRequest = async (config) => {
    if (!config || !mayAttach(config)) return config;
    // Rejects with the session's typed error: the request is then never sent.
    const token = await session.getAccessToken(tokenOptions);
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
    const newer = await session.tokenForReplay(token, tokenOptions);
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
