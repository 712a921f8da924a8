// cognito-session/axios: puts the session's access token on an axios 1.x instance's requests,
// under the same rules as `session.fetch`. It does not import axios: it works on the instance
// it is given (anything with `interceptors.{request,response}.{use,eject}`, `request`, `getUri`,
// and `create` to resolve adapter names).
//
// - A request gets `Authorization: Bearer <token>` only when `session.attachesTokenTo(url)` says
//   so for the URL axios really requests (axios's own `getUri`, then relative to the document):
//   the page's own origin or one of the Session config's `allowedOrigins`, compared as exact
//   origins. The session owns the rule and the list; every other request goes out untouched.
// - Where: in the request's adapter, which axios calls after every request interceptor. axios
//   runs request interceptors last-registered first, so one the app registered before
//   attachAxios runs after this adapter's own interceptor (which only wraps the adapter) and may
//   still change baseURL, url or headers: the URL is checked and the header set after it, on a
//   copy of the config that only the underlying adapter sees.
// - The token comes from `session.getAccessToken()`. When the session cannot give one, the
//   request is not sent: it rejects with the session's typed error (`error.code`). Never
//   `Bearer undefined`.
// - On a 401 to a request this adapter authorized, it asks `session.tokenForReplay(sentToken)`
//   and replays the request once with the newer token it gets (the session refreshes first,
//   once for all callers, when the refused token was old enough to be stale); with `null` the
//   401 is surfaced. A replay is never replayed; it passes through the interceptors and this
//   adapter again, like any request.
// - Opt out per request (or per instance, in its defaults) with `cognitoSession: false`;
//   requests with axios's `auth` (HTTP Basic) are left alone too.
// - A request whose `signal` aborts while it waits for a token (or for the replay's token) stops
//   waiting and rejects as axios rejects a cancelled request (`axios.isCancel(error)` is true),
//   so it is not sent later either.
//
// `./bundler/abort.js` is the session's own abort helper (the package's bundler entry imports the
// same file), so an app bundles it once.

import { untilAborted } from './bundler/abort.js';

/** The request config key that opts a request out: `{ cognitoSession: false }`. */
const OPT_OUT = 'cognitoSession';

/**
 * The request config key marking a replay (internal). A string key with a primitive value,
 * because axios copies the config (string keys only) when the replay is sent.
 */
const REPLAYED = '_cognitoSessionReplay';

/** The config key marking the request the adapter hands its resolver instance (internal). */
const INNER = '_cognitoSessionInner';

/** An `Error` with a stable `code`, like the session's own. */
function badConfig(message) {
  return Object.assign(new Error(`attachAxios: ${message}`), { code: 'BAD_CONFIG' });
}

/** What axios rejects a cancelled request with, in the shape `axios.isCancel` recognises. */
function canceled(config) {
  return Object.assign(new Error('canceled'), { name: 'CanceledError', code: 'ERR_CANCELED', __CANCEL__: true, config });
}

/** The URL relative URLs resolve against: the document's base URL, else the location. */
function baseHref() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

/**
 * A copy of `headers` (axios 1.x `AxiosHeaders`, copied with its `concat()`, or a plain object)
 * where `name` is `value`, whatever the case of an existing entry.
 */
function withHeader(headers, name, value) {
  if (typeof headers?.concat === 'function' && typeof headers.set === 'function') {
    const copy = headers.concat();
    copy.set(name, value, true);
    return copy;
  }
  const copy = {};
  for (const key of Object.keys(headers && typeof headers === 'object' ? headers : {})) {
    if (key.toLowerCase() !== name.toLowerCase()) copy[key] = headers[key];
  }
  copy[name] = value;
  return copy;
}

/** Puts `config` back as the config of a response or error (and of the error's response). */
function withConfig(result, config) {
  if (result && typeof result === 'object') {
    if ('config' in result) result.config = config;
    if (result.response && typeof result.response === 'object' && 'config' in result.response) result.response.config = config;
  }
  return result;
}

/**
 * Makes `instance` (an axios 1.x instance) send the session's access token where
 * `session.attachesTokenTo(url)` allows the URL axios really requests, and replay a request once
 * after a 401 when the session has a newer token. Returns `detach()`, which ejects both
 * interceptors; a config that went through them and is sent again later (its adapter wrapped)
 * then goes out without the token. The instance's own defaults are never changed. Throws
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
  if (
    typeof interceptors?.request?.use !== 'function' ||
    typeof interceptors?.response?.use !== 'function' ||
    typeof instance.request !== 'function' ||
    typeof instance.getUri !== 'function'
  ) {
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
  let attached = true;

  /**
   * The token each request this adapter authorized went out with, keyed by the config axios
   * handed the adapter, which is the `error.config` of its 401.
   */
  const sent = new WeakMap();
  /** The adapters this attachment wrapped (a config carrying one keeps it). */
  const wrappers = new WeakSet();
  /** An instance of the app's axios without interceptors or defaults, which resolves adapter names. */
  let resolver;

  /**
   * Whether the request gets the token: not opted out, not HTTP Basic, and the session accepts
   * the absolute URL axios requests (its own `getUri`: baseURL and url joined as this axios
   * version joins them, then the params), resolved against the document as the browser resolves
   * it.
   */
  const mayAttach = (config) => {
    if (!attached || config[OPT_OUT] === false || config.auth) return false;
    let url;
    try {
      url = new URL(instance.getUri(config), baseHref()).href;
    } catch {
      return false;
    }
    return session.attachesTokenTo(url) === true;
  };

  /**
   * Sends `request` with `adapter`, as axios would have: a function is called; names (or a list)
   * go through a fresh instance of the app's own axios, which resolves them (`getAdapter`) and
   * dispatches with no interceptors, no defaults to merge again and no transforms (this
   * request's ran already; its response's run after this adapter).
   */
  const send = (request, adapter) => {
    if (typeof adapter === 'function') return adapter(request);
    if (typeof instance.create !== 'function') throw badConfig('the instance has no create() to resolve the adapter names with');
    if (!resolver) {
      resolver = instance.create();
      for (const key of Object.keys(resolver.defaults ?? {})) delete resolver.defaults[key];
    }
    return resolver.request({ ...request, adapter, transformRequest: [], transformResponse: [], [INNER]: true });
  };

  /**
   * The adapter axios calls once every interceptor has run, so the URL it checks is the one
   * requested. The token goes on a copy of the config that only `adapter` sees; the response or
   * error carries the config axios handed in, so no config the app sees holds the token.
   */
  const wrap = (adapter) => {
    const wrapper = async (config) => {
      // A wrapper reached from its own resolver: the names led back here.
      if (config?.[INNER]) throw badConfig('the adapter names resolve to the cognito-session adapter itself');
      const request = { ...config };
      if (mayAttach(request)) {
        // Rejects with the session's typed error: the request is then never sent.
        const token = await untilAborted(() => session.getAccessToken(tokenOptions), request.signal, () => canceled(config));
        if (typeof token !== 'string' || token === '') throw badConfig('the session resolved without a token');
        request.headers = withHeader(request.headers, 'Authorization', `Bearer ${token}`);
        sent.set(config, token);
      }
      try {
        return withConfig(await send(request, adapter), config);
      } catch (error) {
        throw withConfig(error, config);
      }
    };
    wrappers.add(wrapper);
    return wrapper;
  };

  // Wraps whatever adapter the request would use (the instance's default, or its own); an
  // interceptor that runs later and replaces it sends the request without the token.
  const onRequest = (config) => {
    if (config && typeof config === 'object' && !wrappers.has(config.adapter)) config.adapter = wrap(config.adapter);
    return config;
  };

  const onResponseError = async (error) => {
    const config = error?.config;
    const token = config && typeof config === 'object' ? sent.get(config) : undefined;
    if (error?.response?.status !== 401 || token === undefined || config[REPLAYED]) throw error;
    config[REPLAYED] = true;
    const newer = await untilAborted(() => session.tokenForReplay(token, tokenOptions), config.signal, () => canceled(config));
    if (typeof newer !== 'string' || newer === '' || newer === token) throw error;
    // The replay is a request like any other: the app's interceptors, then the adapter, which
    // checks its URL again and attaches the session's token (the newer one, unless yet another
    // replaced it meanwhile).
    return instance.request(config);
  };

  const requestId = interceptors.request.use(onRequest);
  const responseId = interceptors.response.use(undefined, onResponseError);
  return function detach() {
    if (!attached) return;
    attached = false;
    interceptors.request.eject(requestId);
    interceptors.response.eject(responseId);
  };
}
