// The public `Session` class: the browser side of cognito-session. It turns browser happenings
// (API calls, the timer, fetch answers, lock grants, tab messages, `storage` and
// `visibilitychange` events) into calls on the `.wasm` core and carries out the actions the core
// asks for. It holds no policy: whether and when to refresh, retry, reject or go to login is the
// core's call (src/engine/machine.rs).
//
// Every entry point goes through `#drive`: feed the core one call with `now`, drain
// `POLL_ACTION` performing each action in order, re-arm the one timer from `POLL_TIMEOUT`, refresh
// the caches the hot paths read, and only then, no longer busy, call into app code (listeners,
// promise settlers, `onLoginRequired`, `location.assign`). App code therefore never runs while
// the core is mid-drive. The wire format of actions and answers is documented in
// src/shell/exports.rs.

import { Core } from './cognito_session_core.js';
import { readConfig } from './config.js';
import { badConfig, busy, cause, coreError, error } from './errors.js';
import { send } from './http.js';
import { mayAttach } from './origin.js';
import { Store } from './store.js';
import { untilAborted } from './abort.js';

// The core's operations: `Core.call(op, now, n, m, a, b, c, d)`, each documented with its
// arguments in `op` in src/shell/exports.rs, whose numbers these must equal (the shell tests
// check that they do).
const REQUEST_TOKEN = 0;
const TIMEOUT = 1;
const VISIBILITY = 2;
const REFRESH_LOCK = 3;
const REFRESH_ANSWER = 4;
const TAB_MESSAGE = 5;
const STORAGE = 6;
const SET_TOKENS = 7;
const TOKEN_REFUSED = 8;
const SIGN_OUT = 9;
const POLL_ACTION = 10;
const POLL_TIMEOUT = 11;
const SNAPSHOT = 12;
const TOKEN = 13;
const ID_TOKEN = 14;
const CLAIMS = 15;
const SIGN_IN_REQUEST = 16;
const SIGN_IN_ANSWER = 17;
const AUTHORIZE = 18;
const REDIRECT = 19;

/** How long a caller waits for a token when it names no deadline. */
const DEFAULT_DEADLINE = 10000;
/** Longest delay `setTimeout` honours (about 24.8 days); later deadlines wake early. */
const MAX_TIMER = 0x7fffffff;
/**
 * How long a tab keeps the refresh lock after the core lets it go. Browsers hand a localStorage
 * write to other tabs' processes as a message, applied when their event loop turns, and nothing
 * orders it before the next Web Lock grant: released at once, the lock can reach a tab that still
 * reads the record from before the refresh, which then refreshes again with the same refresh
 * token (seen in the three-tab end-to-end test; a provider with reuse detection would revoke the
 * grant). Other tabs' callers are not held up: they get the new tokens from the broadcast and
 * the storage event, not from the lock.
 */
const LOCK_SETTLE_MS = 50;
const SEP = '\0';

/** The field each event type carries besides `type`. */
const EVENT_FIELD = {
  signedIn: 'expiresAt',
  refreshed: 'expiresAt',
  throttled: 'retryAt',
  retryScheduled: 'retryAt',
  expired: 'reason',
  storageDiscarded: 'detail',
};

/** `deadlineMs` from `{deadlineMs}`: how long the caller may wait, in ms. */
function deadline(options) {
  if (options == null) return DEFAULT_DEADLINE;
  let ms;
  try {
    ms = Reflect.get(options, 'deadlineMs');
  } catch {
    throw badConfig('deadlineMs');
  }
  if (ms === undefined) return DEFAULT_DEADLINE;
  if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) throw badConfig('deadlineMs must be a number of milliseconds >= 0');
  return ms;
}

/** The query parameters a provider's redirect back carries (RFC 6749 §4.1.2, RFC 9207, OIDC
 * session management): removed from the address bar once read, so a reload or a shared link
 * does not carry the code. */
const CALLBACK_PARAMS = ['code', 'state', 'error', 'error_description', 'error_uri', 'iss', 'session_state'];

/** 32 random bytes from WebCrypto as base64url (43 characters): a PKCE verifier, state or nonce. */
function randomSecret() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Runs `use(sessionStorage)`: the tab's storage, where a redirect sign-in's record waits for
 * the browser to come back (whatever `storage` the tokens use: only this tab's return may
 * complete it). Throws BAD_CONFIG when it is missing or throws. */
function withTabStorage(use) {
  try {
    return use(globalThis.sessionStorage);
  } catch (e) {
    throw badConfig(cause('sign-in through the login page needs sessionStorage', e));
  }
}

/** The BAD_CONFIG error of `signIn` / `handleRedirect` on a session without a login page. */
const noLoginPage = (method) => badConfig(`${method} needs authorizationEndpoint (with tokenEndpoint)`);

/** Sends a copy of `request` (the original stays unread for a replay) with the bearer token. */
function sendWith(request, token) {
  const copy = request.clone();
  copy.headers.set('Authorization', `Bearer ${token}`);
  return fetch(copy);
}

/** One signed-in (or signed-out) user session. See cognito_session.d.ts for the API. */
export class Session {
  #core;
  #config;
  #store;
  #channel = null;
  #listeners = new Map();
  #nextListener = 0;
  /** waiter id → [resolve, reject] */
  #waiters = new Map();
  /** refresh id → the function that releases its Web Lock */
  #locks = new Map();
  /** refresh id → its AbortController */
  #aborts = new Map();
  #timer;
  #timerAt;
  #busy = false;
  #freed = false;
  /** Events raised while the constructor runs, delivered on the next microtask. */
  #held = [];
  /** Shell-made events (storage failures) raised mid-drive, dispatched at its end. */
  #notices = [];
  /** The fast path's cache: the access token and until when the core would hand it out. */
  #token = null;
  #until = 0;
  #snapshot = null;
  #snapshotObject = null;
  #claimsText;
  #claims = null;
  /** Removes the DOM listeners. */
  #unlisten = [];

  /**
   * Validates `config`, resumes the session kept in storage (if any) and starts listening to
   * the page. Throws a `BAD_CONFIG` error for any bad value.
   */
  constructor(config) {
    const c = readConfig(config);
    // React's `useSyncExternalStore(session.subscribe, session.getSnapshot)` calls them unbound.
    this.subscribe = this.subscribe.bind(this);
    this.getSnapshot = this.getSnapshot.bind(this);
    this.#config = c;
    const now = Date.now();
    this.#store = new Store(c.storage, c.key, (detail) => this.#notices.push({ type: 'storageUnavailable', detail }));
    const seed = new Uint32Array(2);
    try {
      crypto.getRandomValues(seed);
    } catch {
      // Jitter only spreads load between tabs; it guards no secret.
      seed[0] = Math.random() * 2 ** 32;
      seed[1] = (Math.random() * 2 ** 32) ^ now;
    }
    this.#core = new Core(c.clientId, c.pool, c.endpoint, c.tokenEndpoint, c.issuer, c.rotation, seed[0], seed[1], now);
    const shared = this.#store.shared;
    if (shared && typeof BroadcastChannel === 'function') {
      try {
        const channel = new BroadcastChannel(c.key);
        channel.onmessage = (e) => {
          if (typeof e.data === 'string') this.#drive((n) => this.#core.call(TAB_MESSAGE, n, 0, 0, e.data));
        };
        this.#channel = channel;
      } catch {
        // No channel: tabs still follow each other through storage events.
      }
    }
    const doc = globalThis.document;
    if (doc) {
      this.#listen(doc, 'visibilitychange', () => this.#drive((n) => this.#core.call(VISIBILITY, n, doc.hidden ? 0 : 1)));
    }
    if (shared) {
      this.#listen(window, 'storage', (e) => {
        if (this.#store.area && e.storageArea === this.#store.area && (e.key === null || e.key === c.key)) {
          this.#drive((n) => this.#core.call(STORAGE, n, 0, 0, e.newValue));
        }
      });
    }
    // What storage holds at start is the session to resume (or a record to discard).
    this.#drive((n) => {
      this.#core.call(VISIBILITY, n, doc?.hidden ? 0 : 1);
      const record = this.#store.read();
      if (record !== undefined) this.#core.call(STORAGE, n, 0, 0, record);
    });
    // Events raised while constructing go out on the next microtask, so a listener subscribed
    // right after `new Session()` hears them; later events are delivered as they happen.
    const held = this.#held;
    this.#held = null;
    if (held.length) {
      queueMicrotask(() => {
        const listeners = [...this.#listeners.values()];
        for (const event of held) for (const l of listeners) call(l, event);
      });
    }
  }

  /**
   * A valid access token, or a typed error by `deadlineMs` (default 10 s). While the token is
   * fresh this returns an already-resolved promise of a cached string, without calling the core.
   */
  getAccessToken(options) {
    if (this.#token !== null && Date.now() < this.#until) return Promise.resolve(this.#token);
    try {
      return this.#request(deadline(options));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The ID token, under the same rules as `getAccessToken`. */
  getIdToken(options) {
    let wait;
    try {
      wait = deadline(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#request(wait).then(() => {
      const id = this.#core.call(ID_TOKEN, Date.now());
      if (id === undefined) throw badConfig('this session has no ID token');
      return id;
    });
  }

  /** The (unverified) claims of the ID token, else the access token, frozen; null if none. */
  claims() {
    const text = this.#core.call(CLAIMS, 0);
    if (text === undefined) return null;
    if (text !== this.#claimsText) {
      this.#claimsText = text;
      let value = null;
      try {
        value = JSON.parse(text);
      } catch {
        // not JSON: no claims
      }
      this.#claims = value !== null && typeof value === 'object' ? Object.freeze(value) : null;
    }
    return this.#claims;
  }

  /** Signs in with Cognito `USER_PASSWORD_AUTH`. */
  signInWithPassword(username, password) {
    if (typeof username !== 'string' || typeof password !== 'string') {
      return Promise.reject(badConfig('username and password must be strings'));
    }
    return this.#signInWith(this.#core.call(SIGN_IN_REQUEST, 0, 0, 0, username, password));
  }

  /**
   * Sends the browser to the provider's login page: the OAuth2 authorization-code flow with
   * PKCE (S256), a `state` and an OIDC `nonce`, all drawn with WebCrypto. The provider sends the
   * browser back to `redirectUri`, where `handleRedirect()` completes the sign-in. `params` adds
   * parameters to this one request (`{identity_provider: "Google"}`, `{login_hint}`).
   */
  async signIn(options) {
    const c = this.#config;
    if (!c.authorizationEndpoint) throw noLoginPage('signIn');
    let endpoint = c.authorizationEndpoint;
    // A getter that throws, a non-object or a non-string value: a bad option, not a crash.
    try {
      const params = options?.params;
      if (params != null) {
        if (typeof params !== 'object') throw params;
        const url = new URL(endpoint);
        for (const [name, value] of Object.entries(params)) {
          if (typeof value !== 'string') throw value;
          url.searchParams.append(name, value);
        }
        endpoint = url.href;
      }
    } catch {
      throw badConfig('signIn params must be an object of strings');
    }
    if (!globalThis.crypto?.subtle) throw badConfig('signIn needs WebCrypto: an https or localhost page');
    const verifier = randomSecret();
    const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
    const secrets = [randomSecret(), verifier, challenge, randomSecret()].join(SEP);
    const redirectUri = c.redirectUri || `${location.origin}${location.pathname}`;
    const out = this.#core.call(AUTHORIZE, 0, 0, 0, endpoint, redirectUri, c.scope, secrets);
    const f = out.slice(1).split(SEP);
    if (out[0] === 'E') throw coreError(f);
    withTabStorage((area) => area.setItem(c.pendingKey, f[1]));
    location.assign(f[0]);
  }

  /**
   * On the page the provider sent the browser back to: completes the sign-in `signIn()` started
   * in this tab. Resolves `{status: "signedIn"}`, or `null` when this page load is no such
   * return (the URL has no `state` with a `code` or an `error`). A return's parameters are
   * removed from the address bar and the tab's sign-in record is used up, whatever the outcome.
   */
  async handleRedirect() {
    const c = this.#config;
    if (!c.authorizationEndpoint) throw noLoginPage('handleRedirect');
    const url = new URL(location.href);
    const q = url.searchParams;
    const code = q.get('code');
    const failure = q.get('error');
    const state = q.get('state');
    if (state === null || (code === null && failure === null)) return null;
    const errorField = failure === null ? undefined : `${failure}${SEP}${q.get('error_description') ?? ''}`;
    let pending;
    try {
      pending = withTabStorage((area) => {
        const record = area.getItem(c.pendingKey);
        area.removeItem(c.pendingKey);
        return record ?? undefined;
      });
    } catch {
      // No record to read: the core refuses the return as one this tab did not start.
    }
    for (const name of CALLBACK_PARAMS) q.delete(name);
    try {
      history.replaceState(history.state, '', url.href);
    } catch {
      // The address bar keeps a code that is used up: its record is gone, so it cannot replay.
    }
    return this.#signInWith(this.#core.call(REDIRECT, 0, 0, 0, code ?? undefined, state, errorField, pending));
  }

  /** Sends the sign-in request the core encoded (`R timeout request` or `E error`) and hands
   * the answer to the core: `{status: "signedIn"}`, a Cognito challenge, or a typed error. */
  #signInWith(encoded) {
    const f = encoded.slice(1).split(SEP);
    if (encoded[0] === 'E') return Promise.reject(coreError(f));
    // The same time limit as a refresh: a hung sign-in fails as UNAVAILABLE.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.min(+f[0], MAX_TIMER));
    return send(f, 1, controller).then((a) => {
      clearTimeout(timer);
      let out;
      const ran = this.#drive((now) => {
        out = this.#core.call(SIGN_IN_ANSWER, now, 0, a.status, a.body, a.errorType, a.retryAfter, a.amzRetryAfter);
      });
      if (!ran) throw busy();
      const g = out.slice(1).split(SEP);
      if (out[0] === 'E') throw coreError(g);
      if (out[0] === 'S') return { status: 'signedIn' };
      const result = { status: 'challenge', challengeName: g[0] };
      if (g.length > 1) result.session = g[1];
      return result;
    });
  }

  /** Adopts tokens obtained elsewhere. Throws `BAD_CONFIG` when they are unusable. */
  setTokens(tokens) {
    if (typeof tokens !== 'object' || tokens === null) throw badConfig('setTokens needs {accessToken, idToken?, refreshToken?}');
    const get = (name) => {
      try {
        return tokens[name] ?? undefined;
      } catch {
        throw badConfig(name);
      }
    };
    const string = (name) => {
      const v = get(name);
      if (v !== undefined && typeof v !== 'string') throw badConfig(`${name} must be a string`);
      return v;
    };
    const access = string('accessToken');
    if (access === undefined) throw badConfig('accessToken is required');
    const id = string('idToken');
    const refresh = string('refreshToken');
    const expiresIn = get('expiresIn');
    if (expiresIn !== undefined && !(typeof expiresIn === 'number' && expiresIn > 0 && expiresIn !== Infinity)) {
      throw badConfig('expiresIn must be a number of seconds > 0');
    }
    let failed;
    if (!this.#drive((now) => (failed = this.#core.call(SET_TOKENS, now, expiresIn ?? 0, 0, access, id, refresh)))) throw busy();
    if (failed !== undefined) throw coreError(failed.split(SEP));
  }

  /** Forgets the tokens here and, for `localStorage` sessions, in every tab. */
  signOut() {
    return this.#drive((now) => this.#core.call(SIGN_OUT, now)) ? Promise.resolve() : Promise.reject(busy());
  }

  /** Calls `listener(event)` for every session event; returns the function that unsubscribes. */
  subscribe(listener) {
    if (typeof listener !== 'function') throw badConfig('subscribe needs a function');
    const id = ++this.#nextListener;
    this.#listeners.set(id, listener);
    return () => {
      this.#listeners.delete(id);
    };
  }

  /** A frozen summary: the same object until something changes. */
  getSnapshot() {
    if (this.#snapshotObject === null) {
      const [signedIn, expiresAt, refreshing, retryAt, expired] = this.#snapshot.split(SEP);
      this.#snapshotObject = Object.freeze({
        signedIn: signedIn === '1',
        expiresAt: expiresAt ? +expiresAt : null,
        refreshing: refreshing === '1',
        retryAt: retryAt ? +retryAt : null,
        expired: expired === '1',
      });
    }
    return this.#snapshotObject;
  }

  /**
   * `fetch` that adds `Authorization: Bearer <access token>` for the page's own origin and
   * `allowedOrigins`, only with a valid token, and replays once on a 401 when `tokenForReplay`
   * finds a newer token. Other origins get the request untouched.
   */
  async fetch(input, init) {
    if (!globalThis.window) throw badConfig('fetch needs a window');
    let request;
    if (input instanceof Request) {
      request = new Request(input, init ?? undefined);
    } else {
      // A string, or an object with a URL-giving toString (URL, Location).
      if (input === null || (typeof input !== 'string' && typeof input !== 'object' && typeof input !== 'function')) {
        throw badConfig('fetch needs a URL string, a URL or a Request');
      }
      request = new Request(String(input), init ?? undefined);
    }
    if (!this.attachesTokenTo(request.url)) return fetch(request);
    // Like fetch, give up as soon as the caller's signal aborts, also while waiting for a token.
    const signal = request.signal;
    const aborted = () => signal.reason;
    const token = await untilAborted(() => this.#tokenWithin(DEFAULT_DEADLINE), signal, aborted);
    const response = await sendWith(request, token);
    if (response.status !== 401) return response;
    const newer = await untilAborted(() => this.#replay(token, DEFAULT_DEADLINE), signal, aborted);
    return newer === null ? response : sendWith(request, newer);
  }

  /**
   * Whether `fetch` (and the axios adapter, which asks this) puts the token on a request to
   * `url` (a string or a URL): its origin is the page's own or one of `allowedOrigins`, compared
   * exactly. A relative URL resolves against the document's base URL (else the location);
   * anything else that is not an absolute http(s) URL gets false.
   */
  attachesTokenTo(url) {
    if (typeof url !== 'string' && !(url instanceof URL)) return false;
    let absolute;
    try {
      absolute = new URL(url, globalThis.document?.baseURI ?? globalThis.location?.href).href;
    } catch {
      return false;
    }
    return mayAttach(absolute, this.#config.allowedOrigins);
  }

  /**
   * After the API answered 401 to a request sent with `refusedToken`: a newer valid token to
   * replay with (refreshing first when the core retired the refused one), or null when a replay
   * cannot help (the token was just issued, or no newer token came).
   */
  tokenForReplay(refusedToken, options) {
    if (typeof refusedToken !== 'string') return Promise.reject(badConfig('tokenForReplay needs the refused token as a string'));
    try {
      return this.#replay(refusedToken, deadline(options));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Stops listening to the page, aborts the refresh, releases the lock, rejects waiters and
   * frees the core. The session cannot be used afterwards. */
  free() {
    if (this.#freed) return;
    this.#freed = true;
    for (const off of this.#unlisten) off();
    if (this.#channel) {
      this.#channel.onmessage = null;
      this.#channel.close();
    }
    clearTimeout(this.#timer);
    for (const c of this.#aborts.values()) c.abort();
    for (const release of this.#locks.values()) release();
    if (this.#waiters.size) {
      const e = error('NOT_SIGNED_IN', 'the session was freed while this caller waited');
      for (const [, reject] of this.#waiters.values()) call(reject, e);
    }
    this.#waiters.clear();
    this.#core.free();
  }

  // ----- the loop -----

  /** The cached token while the core would hand it out, else the core's answer. */
  #tokenWithin(wait) {
    return this.#token !== null && Date.now() < this.#until ? Promise.resolve(this.#token) : this.#request(wait);
  }

  /** The slow path of `getAccessToken`: ask the core; park the caller if it must wait. */
  #request(wait) {
    let out;
    const ran = this.#drive((now) => {
      const answer = this.#core.call(REQUEST_TOKEN, now, wait);
      const rest = answer.slice(1);
      out =
        answer[0] === 'T'
          ? Promise.resolve(rest)
          : answer[0] === 'W'
            ? new Promise((resolve, reject) => this.#waiters.set(rest, [resolve, reject]))
            : Promise.reject(coreError(rest.split(SEP)));
    });
    return ran ? out : Promise.reject(busy());
  }

  /** The rule behind `tokenForReplay` and `fetch`'s replay: the core judges the refusal. */
  #replay(refused, wait) {
    let replay = false;
    this.#drive((now) => (replay = this.#core.call(TOKEN_REFUSED, now, 0, 0, refused) === '1'));
    if (!replay) return Promise.resolve(null);
    return this.#tokenWithin(wait).then((token) => (token === refused ? null : token));
  }

  /**
   * Runs `step(now)` against the core, then performs what it asked for (see the file comment).
   * Returns false, without running `step`, when the session is busy (a re-entrant call).
   */
  #drive(step) {
    if (this.#busy || this.#freed) return false;
    this.#busy = true;
    const later = [];
    try {
      const now = Date.now();
      step(now);
      const before = this.#snapshot;
      let emitted = this.#perform(now, later);
      for (const notice of this.#notices.splice(0)) {
        emitted = true;
        this.#dispatch(notice, later);
      }
      this.#rearm(now);
      this.#refreshCaches(before, emitted, later);
    } finally {
      this.#busy = false;
    }
    for (const [f, arg] of later) call(f, arg);
    return true;
  }

  /** Drains the core's actions. Returns whether any event was emitted. */
  #perform(now, later) {
    let emitted = false;
    for (let a = this.#core.call(POLL_ACTION, 0); a !== undefined; a = this.#core.call(POLL_ACTION, 0)) {
      const f = a.split(SEP);
      const id = f[1];
      switch (f[0]) {
        case 'L':
          this.#acquire(now, id);
          break;
        case 'S': {
          const controller = new AbortController();
          this.#aborts.set(id, controller);
          send(f, 2, controller).then((r) =>
            this.#drive((n) => {
              this.#aborts.delete(id);
              this.#core.call(REFRESH_ANSWER, n, +id, r.status, r.body, r.errorType, r.retryAfter, r.amzRetryAfter);
            }),
          );
          break;
        }
        case 'A':
          this.#aborts.get(id)?.abort();
          this.#aborts.delete(id);
          break;
        case 'U': {
          const release = this.#locks.get(id);
          this.#locks.delete(id);
          if (release) setTimeout(release, LOCK_SETTLE_MS);
          break;
        }
        case 'T':
          for (const w of this.#take(f[2])) later.push([w[0], f[1]]);
          break;
        case 'X': {
          const e = coreError(f.slice(2));
          for (const w of this.#take(id)) later.push([w[1], e]);
          break;
        }
        case 'P':
          this.#store.write(f.length > 1 ? id : null);
          break;
        case 'B':
          if (this.#store.shared && this.#channel) {
            try {
              this.#channel.postMessage(id);
            } catch {
              // A closed channel drops the message; storage events still carry the record.
            }
          }
          break;
        case 'G':
          if (this.#config.onLoginRequired) later.push([this.#config.onLoginRequired, id]);
          else if (this.#config.loginUrl) later.push([() => globalThis.location?.assign(this.#config.loginUrl)]);
          break;
        case 'E': {
          emitted = true;
          const event = { type: id };
          const key = EVENT_FIELD[id];
          if (key) event[key] = key.endsWith('At') ? +f[2] : f[2];
          this.#dispatch(event, later);
          break;
        }
      }
    }
    return emitted;
  }

  /** The settlers of the waiters `ids` (comma-separated), removed. */
  #take(ids) {
    const out = [];
    for (const id of ids.split(',')) {
      const w = this.#waiters.get(id);
      if (w) {
        this.#waiters.delete(id);
        out.push(w);
      }
    }
    return out;
  }

  /** Hands `event` to every listener (or holds it while the constructor runs). */
  #dispatch(event, later) {
    if (this.#held) this.#held.push(event);
    else for (const l of this.#listeners.values()) later.push([l, event]);
  }

  /**
   * Takes the refresh lock: Web Locks for a `localStorage` session shared with other tabs, at
   * once otherwise (each tab is its own session). The lock is held by keeping the promise the
   * lock callback returns pending until the core says release.
   */
  #acquire(now, id) {
    const locks = this.#store.shared ? globalThis.navigator?.locks : undefined;
    if (typeof locks?.request === 'function') {
      try {
        locks
          .request(
            this.#config.key,
            () =>
              new Promise((release) => {
                const ran = this.#drive((n) => {
                  this.#locks.set(id, release);
                  this.#core.call(REFRESH_LOCK, n, +id, 0, this.#store.read() ?? null);
                });
                if (!ran) release();
              }),
          )
          // A refused request is left to the core's lock timeout.
          .catch(() => {});
        return;
      } catch {
        // Web Locks refused outright: grant at once; the core's record checks limit the damage
        // to a duplicate refresh at worst.
      }
    }
    this.#core.call(REFRESH_LOCK, now, +id, 0, this.#store.read() ?? null);
  }

  /** Keeps exactly one timer, for the core's next deadline. */
  #rearm(now) {
    const due = this.#core.call(POLL_TIMEOUT, 0);
    const at = due === undefined ? undefined : +due;
    if (at === this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    if (at !== undefined) {
      this.#timer = setTimeout(
        () =>
          this.#drive((n) => {
            this.#timerAt = undefined;
            this.#core.call(TIMEOUT, n);
          }),
        Math.min(Math.max(at - now, 0), MAX_TIMER),
      );
    }
  }

  /**
   * Re-reads what the hot paths cache (the token, the snapshot) and tells listeners
   * `{type: "change"}` when the snapshot moved without an event.
   */
  #refreshCaches(before, emitted, later) {
    const token = this.#core.call(TOKEN, 0);
    if (token === undefined) {
      this.#token = null;
    } else {
      const i = token.indexOf(SEP);
      this.#until = +token.slice(0, i);
      this.#token = token.slice(i + 1);
    }
    const snapshot = this.#core.call(SNAPSHOT, 0);
    if (snapshot !== before) {
      this.#snapshot = snapshot;
      this.#snapshotObject = null;
      if (!emitted && before !== null) this.#dispatch({ type: 'change' }, later);
    }
  }

  /** `target.addEventListener`, undone by `free()`. */
  #listen(target, type, handler) {
    target.addEventListener(type, handler);
    this.#unlisten.push(() => target.removeEventListener(type, handler));
  }
}

if (Symbol.dispose) Session.prototype[Symbol.dispose] = Session.prototype.free;

/** Calls app code; one that throws must not stop the others. */
function call(f, arg) {
  try {
    f(arg);
  } catch {
    // the app's own error
  }
}
