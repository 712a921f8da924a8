// cognito-session/react: React hooks over a Session, for React 18 and 19. The only module of the
// package that imports React; it imports nothing else of the package, so it neither loads nor
// bundles the .wasm: the session it is given does.
//
// - `useSession(session)`: the session's frozen snapshot (`useSyncExternalStore` over the
//   session's own `subscribe` / `getSnapshot`) and the ID token's claims. On the server and while
//   hydrating it is signed out: the tokens live in the browser, so that is what the server
//   rendered, and React renders again with the browser's snapshot right after.
// - `useAccessToken(session)`: `{status: "loading" | "ready" | "error", token?, error?}` for what
//   rendering needs a token for (a URL, a socket). One store per session holds the token
//   `getAccessToken()` gave, asks again whenever the snapshot changes, and drops the token the
//   moment the session would stop handing it out, so no render sees an expired one.
// - `SessionProvider` / `useSessionContext`: the session for a tree, so the hooks can be called
//   without it.

import { createContext, createElement, useContext, useMemo, useSyncExternalStore } from 'react';

/** What the server renders, and what hydration renders first: nobody signed in. */
const SIGNED_OUT = Object.freeze({ signedIn: false, expiresAt: null, refreshing: false, retryAt: null, expired: false });
const LOADING = Object.freeze({ status: 'loading' });
const signedOut = () => SIGNED_OUT;
const loading = () => LOADING;

/**
 * How long before `expiresAt` the session stops handing a token out (it hands out only tokens
 * that stay valid this long more: `min_validity` in src/engine/tokens.rs).
 */
const MIN_VALIDITY_MS = 30000;

/** The error for a hook without a session, with a `code` like the session's own. */
function badConfig(message) {
  return Object.assign(new Error(`cognito-session/react: ${message}`), { code: 'BAD_CONFIG' });
}

const SessionContext = createContext(null);

/** Makes `session` the one the hooks below it use when they are given none. */
export function SessionProvider({ session, children }) {
  return createElement(SessionContext.Provider, { value: session }, children);
}

/** The session of the nearest `SessionProvider`; throws `BAD_CONFIG` when there is none. */
export function useSessionContext() {
  return chosen(undefined, useContext(SessionContext));
}

/** `session`, else the provider's; a `BAD_CONFIG` error when neither is a session. */
function chosen(session, provided) {
  const s = session ?? provided;
  if (typeof s?.subscribe !== 'function' || typeof s.getSnapshot !== 'function') {
    throw badConfig('pass a Session, or render inside <SessionProvider session={session}>');
  }
  return s;
}

/**
 * The session's snapshot (`signedIn`, `expiresAt`, `refreshing`, `retryAt`, `expired`) and
 * `claims` (the ID token's, `null` when signed out), frozen; re-renders when the snapshot
 * changes: sign-in, refresh, sign-out, backoff.
 */
export function useSession(session) {
  const s = chosen(session, useContext(SessionContext));
  const snapshot = useSyncExternalStore(s.subscribe, s.getSnapshot, signedOut);
  // The session decodes the claims once per token, and a new token is a new snapshot.
  const claims = snapshot.signedIn ? s.claims() : null;
  return useMemo(() => Object.freeze({ ...snapshot, claims }), [snapshot, claims]);
}

/** One token store per session, shared by every `useAccessToken` of it. */
const stores = new WeakMap();

/**
 * The access token for `session` as an external store: `{status: "loading"}`, `{status: "ready",
 * token}` or `{status: "error", error}`, asked of `getAccessToken()` while anyone subscribes.
 *
 * - It asks again whenever the session's snapshot changes (a refresh, a sign-in, a backoff), at
 *   an error's `retryAt`, and when the token it holds stops being handed out (`MIN_VALIDITY_MS`
 *   before it expires; in a hidden tab, where the session refreshes only when something needs a
 *   token, that asking is what refreshes). An answer to an older question is ignored.
 * - While it asks after a refresh, the token it holds is still valid and stays; after a sign-out,
 *   a sign-in (perhaps someone else's) or when the token stops being handed out, it drops it at
 *   once, inside the session's event, before React renders again.
 * - With nobody subscribed (a microtask after the last one left) it holds nothing and stops
 *   listening: no timer would drop the token, and nothing asks for a refresh.
 */
function tokenStore(session) {
  let store = stores.get(session);
  if (store) return store;
  const listeners = new Set();
  let state = LOADING;
  let seen = null;
  let asked = 0;
  let timer;
  let unsubscribe;

  const set = (next) => {
    if (next === state) return;
    state = next;
    for (const listener of listeners) listener();
  };
  // A moment already past (a clock set back, say) is a second away, so it cannot make a loop.
  const at = (moment, then) => {
    const wait = moment - Date.now();
    timer = setTimeout(then, wait > 0 ? wait : 1000);
  };
  const forget = () => {
    clearTimeout(timer);
    set(LOADING);
  };
  // The timer that drops the token held stays armed while a question is open: the answer may
  // take a refresh's time, and the token must go at its moment all the same.
  const ask = () => {
    const question = ++asked;
    seen = session.getSnapshot();
    session.getAccessToken().then(
      (token) => {
        if (question !== asked) return;
        if (state.token !== token) set(Object.freeze({ status: 'ready', token }));
        const { expiresAt } = session.getSnapshot();
        clearTimeout(timer);
        if (typeof expiresAt === 'number') at(expiresAt - MIN_VALIDITY_MS, drop);
      },
      (error) => {
        if (question !== asked) return;
        clearTimeout(timer);
        set(Object.freeze({ status: 'error', error }));
        if (typeof error?.retryAt === 'number') at(error.retryAt, ask);
      },
    );
  };
  const drop = () => {
    forget();
    ask();
  };
  const onEvent = (event) => {
    const snapshot = session.getSnapshot();
    if (snapshot === seen) return;
    if (!snapshot.signedIn || event?.type === 'signedIn') forget();
    ask();
  };

  store = {
    subscribe(listener) {
      listeners.add(listener);
      if (!unsubscribe) {
        unsubscribe = session.subscribe(onEvent);
        ask();
      }
      return () => {
        listeners.delete(listener);
        // Later, so that a component mounting as another unmounts (a route change, StrictMode's
        // second mount) keeps the token instead of asking again.
        queueMicrotask(() => {
          if (listeners.size > 0 || !unsubscribe) return;
          unsubscribe();
          unsubscribe = null;
          clearTimeout(timer);
          asked += 1;
          state = LOADING;
          seen = null;
        });
      };
    },
    get: () => state,
  };
  stores.set(session, store);
  return store;
}

/**
 * A valid access token for rendering, as `{status: "loading"}`, `{status: "ready", token}` or
 * `{status: "error", error}` (the session's typed error: `error.code`), frozen. Never a token
 * the session would no longer hand out; `loading` on the server and while hydrating.
 */
export function useAccessToken(session) {
  const store = tokenStore(chosen(session, useContext(SessionContext)));
  return useSyncExternalStore(store.subscribe, store.get, loading);
}
