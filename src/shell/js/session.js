// The public `Session` class: what the app calls. Each method checks its arguments and hands
// the work to the driver (driver.js: the loop over the `.wasm` engine), to the redirect sign-in
// (redirect.js) or to the fetch wrapper (fetch.js). No policy lives here; see
// cognito_session.d.ts for the API.

import { readConfig } from './config.js';
import { Driver, MAX_TIMER, base64url, call } from './driver.js';
import { challengeResponses, readChallenge } from './challenge.js';
import { badConfig } from './errors.js';
import { DEFAULT_DEADLINE, fetchWithToken } from './fetch.js';
import { send } from './http.js';
import { mayAttach, originOf } from './origin.js';
import { readReturn, startSignIn } from './redirect.js';
import * as wire from './wire.js';

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

/** What `signOut` may ask for. */
const SIGN_OUT_OPTIONS = ['revoke', 'global', 'redirect'];

/** One signed-in (or signed-out) user session. See cognito_session.d.ts for the API. */
export class Session {
  #driver;
  #nextListener = 0;
  #snapshotText = null;
  #snapshotObject = null;
  /** The token whose claims `#claims` holds. */
  #claimsOf;
  #claims = null;
  /** The origins a request left without the token for, each said once. */
  #withheld = new Set();
  /** The latest `signOut` call's own object: an older one's steps stop when it is replaced. */
  #signingOut;

  /**
   * Validates `config`, resumes the session kept in storage (if any) and starts listening to
   * the page. Throws a `BAD_CONFIG` error for any bad value.
   */
  constructor(config) {
    // React's `useSyncExternalStore(session.subscribe, session.getSnapshot)` calls them unbound.
    this.subscribe = this.subscribe.bind(this);
    this.getSnapshot = this.getSnapshot.bind(this);
    const driver = new Driver(readConfig(config));
    this.#driver = driver;
    // Events raised while constructing go out on the next microtask, so a listener subscribed
    // right after `new Session()` hears them; later events are delivered as they happen.
    const held = driver.held;
    driver.held = null;
    if (held.length) {
      queueMicrotask(() => {
        const listeners = [...driver.listeners.values()];
        for (const event of held) for (const l of listeners) call(l, event);
      });
    }
    // Another library's session to take over (cognito-session/adopt; callers wait for it).
    driver.config.adopt?.(this, driver);
  }

  /**
   * A valid access token, or a typed error by `deadlineMs` (default 10 s). While the token is
   * fresh this returns an already-resolved promise of a cached string, without calling the
   * engine.
   */
  getAccessToken(options) {
    const d = this.#driver;
    const token = d.cached();
    if (token !== null) return Promise.resolve(token);
    try {
      return d.request(deadline(options));
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
    const d = this.#driver;
    return d.request(wait).then(() => {
      if (d.idToken === null) throw badConfig('this session has no ID token');
      return d.idToken;
    });
  }

  /** The (unverified) claims of the ID token, else the access token, frozen; null if none. */
  claims() {
    const d = this.#driver;
    const token = d.idToken ?? d.token;
    if (token !== this.#claimsOf) {
      this.#claimsOf = token;
      let value = null;
      try {
        // The payload: base64url JSON (UTF-8) between the first and the second dot.
        const bytes = base64url(token.split('.')[1]);
        value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch {
        // signed out, or not a JWT: no claims
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
    return this.#signInStep(username, 0, username, password);
  }

  /** Answers the challenge a sign-in step resolved with (Cognito `RespondToAuthChallenge`):
   * challenge.js reads both, the engine checks the result and builds the request. */
  respondToChallenge(challenge, answer) {
    let name, session, responses, username;
    try {
      [name, session, responses, username] = challengeResponses(challenge, answer);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#signInStep(username, 2, name, session, responses);
  }

  /**
   * Internal, for the SRP entry (a separate package entry, `cognito-session/srp`), not part of
   * the API: starts a Cognito `USER_SRP_AUTH` sign-in with the client's public value `srpA`
   * (lowercase hex, checked by the engine). Resolves as a sign-in step does (a
   * `PASSWORD_VERIFIER` challenge), with the `userPoolId` the SRP arithmetic needs.
   */
  [Symbol.for('cognito-session.srp')](username, srpA) {
    return this.#signInStep(username, 1, username, srpA).then((r) => ({ ...r, userPoolId: this.#driver.config.pool }));
  }

  /** Sign-in step `kind` for `username` (see wire.js `signInRequest`): built by the engine,
   * then sent. */
  #signInStep(username, kind, ...args) {
    const d = this.#driver;
    if (d.freed) return Promise.reject(d.refusal());
    return this.#signInWith(wire.signInRequest(d.core, kind, ...args), username);
  }

  /**
   * Sends the browser to the provider's login page: the OAuth2 authorization-code flow with
   * PKCE (S256), a `state` and an OIDC `nonce`, all drawn with WebCrypto. The provider sends the
   * browser back to `redirectUri`, where `handleRedirect()` completes the sign-in. `params` adds
   * parameters to this one request (`{identity_provider: "Google"}`, `{login_hint}`).
   */
  async signIn(options) {
    const d = this.#driver;
    if (d.freed) throw d.refusal();
    return startSignIn(d.core, d.config, options);
  }

  /**
   * On the page the provider sent the browser back to: completes the sign-in `signIn()` started
   * in this tab. Resolves `{status: "signedIn"}`, or `null` when this page load is no such
   * return (the URL has no `state` with a `code` or an `error`). A return's parameters are
   * removed from the address bar, and the tab's sign-in record is used up unless the return is
   * not this tab's sign-in (no record, or another `state`).
   */
  async handleRedirect() {
    const d = this.#driver;
    const reply = readReturn(d.config, (exchange) => {
      let out;
      if (!d.drive((now) => (out = exchange(d.core, now)))) throw d.refusal();
      return out;
    });
    return reply === null ? null : this.#signInWith(reply);
  }

  /** Sends the sign-in request the engine built (or rejects with its error) and hands the
   * answer back: `{status: "signedIn"}` (once the tokens can be handed out, or could not be), a
   * Cognito challenge for `username` (challenge.js reads it from the answer), or a typed error. */
  #signInWith(reply, username) {
    if (reply.error) return Promise.reject(reply.error);
    let body;
    return this.#exchange(reply, (core, now, a) => wire.signInAnswer(core, now, (body = a.body, a))).then((out) => {
      if (out.type === 'challenge') return readChallenge(out.name, body, username);
      // Signed in: once the tokens passed their signature check (their claims are then there).
      const done = () => out.result;
      return this.#driver.request(DEFAULT_DEADLINE).then(done, done);
    });
  }

  /** Sends `request` (built by the engine) and hands the answer to the engine with `answer`:
   * its reply, or its error as a rejection. The same time limit as a refresh: a hung request
   * fails as UNAVAILABLE. */
  #exchange(request, answer) {
    const d = this.#driver;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.min(request.timeout, MAX_TIMER));
    return send(request, controller).then((a) => {
      clearTimeout(timer);
      let out;
      if (!d.drive((now) => (out = answer(d.core, now, a)))) throw d.refusal();
      if (out?.type === 'error') throw out.error;
      return out;
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
    const d = this.#driver;
    let reply;
    if (!d.drive((now) => (reply = wire.setTokens(d.core, now, access, id, refresh, expiresIn)))) throw d.refusal();
    if (reply !== undefined) throw reply.error;
  }

  /**
   * Forgets the tokens here and, for `localStorage` sessions, in every tab; with `{revoke,
   * global, redirect}`, then signs out at the provider with the tokens held until now (the
   * engine decides what to send: src/engine/sign_out.rs).
   */
  async signOut(options) {
    const d = this.#driver;
    const c = d.config;
    const asked = {};
    try {
      if (options != null && (typeof options !== 'object' || Array.isArray(options))) throw options;
      for (const [name, value] of Object.entries(options ?? {})) {
        if (!SIGN_OUT_OPTIONS.includes(name) || typeof value !== 'boolean') throw name;
        asked[name] = value;
      }
    } catch {
      throw badConfig('signOut options: {revoke, global, redirect}, each true or false');
    }
    const chain = (this.#signingOut = {});
    let reply;
    if (!d.drive((now) => (reply = wire.signOut(d.core, now, asked, !!c.logoutEndpoint, c.revocationEndpoint, c.endSessionEndpoint || c.logoutEndpoint, c.postLogoutRedirectUri)))) {
      throw d.refusal();
    }
    if (reply?.error) throw reply.error;
    // The engine's requests, one at a time (two at most: a refresh, then GlobalSignOut). Only the
    // latest sign-out's answers reach the engine: an older one ends when it is replaced.
    while (reply?.type === 'request') {
      reply = await this.#exchange(reply, (core, now, a) => (chain === this.#signingOut ? wire.signOutAnswer(core, now, a) : undefined));
    }
    if (reply) globalThis.location?.assign(reply.url);
  }

  /** Calls `listener(event)` for every session event; returns the function that unsubscribes. */
  subscribe(listener) {
    if (typeof listener !== 'function') throw badConfig('subscribe needs a function');
    const id = ++this.#nextListener;
    const listeners = this.#driver.listeners;
    listeners.set(id, listener);
    return () => {
      listeners.delete(id);
    };
  }

  /** A frozen summary: the same object until something changes. */
  getSnapshot() {
    const d = this.#driver;
    // A new object also when tokens became usable (their signature check passed) with the
    // same snapshot: what claims() answers changed, and React re-renders on a new object.
    const key = `${d.token !== null}${d.snapshot}`;
    if (key !== this.#snapshotText) {
      this.#snapshotText = key;
      this.#snapshotObject = Object.freeze(wire.decode(d.snapshot).snapshot);
    }
    return this.#snapshotObject;
  }

  /**
   * `fetch` that adds `Authorization: Bearer <access token>` for the page's own origin and
   * `allowedOrigins`, only with a valid token, and replays once on a 401 when `tokenForReplay`
   * finds a newer token. Other origins get the request untouched.
   */
  fetch(input, init) {
    return fetchWithToken(this, input, init, (wait) => this.#tokenWithin(wait), (refused, wait) => this.#replay(refused, wait));
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
    const d = this.#driver;
    if (mayAttach(absolute, d.config.allowedOrigins)) return true;
    // Said once per origin: an API the app forgot in allowedOrigins otherwise just answers 401.
    const origin = originOf(absolute);
    if (origin !== null && !this.#withheld.has(origin)) {
      this.#withheld.add(origin);
      console.warn(`cognito-session: no token for ${origin}, which is not in allowedOrigins`);
      d.notify({ type: 'tokenWithheld', origin });
    }
    return false;
  }

  /**
   * After the API answered 401 to a request sent with `refusedToken`: a newer valid token to
   * replay with (refreshing first when the engine retired the refused one), or null when a
   * replay cannot help (the token was just issued, or no newer token came).
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
   * frees the engine. Every later call rejects with a BAD_CONFIG error that says so. */
  free() {
    this.#driver.free();
  }

  /** The cached token while the engine would hand it out, else the engine's answer. */
  #tokenWithin(wait) {
    const d = this.#driver;
    const token = d.cached();
    return token !== null ? Promise.resolve(token) : d.request(wait);
  }

  /** The rule behind `tokenForReplay` and `fetch`'s replay: the engine judges the refusal. */
  #replay(refused, wait) {
    const d = this.#driver;
    let replay = false;
    if (!d.drive((now) => (replay = wire.tokenRefused(d.core, now, refused)))) return Promise.reject(d.refusal());
    if (!replay) return Promise.resolve(null);
    return this.#tokenWithin(wait).then((token) => (token === refused ? null : token));
  }
}

if (Symbol.dispose) Session.prototype[Symbol.dispose] = Session.prototype.free;
