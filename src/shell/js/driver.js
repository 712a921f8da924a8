// The loop that drives one session's `.wasm` engine: it turns browser happenings (the timer,
// fetch answers, lock grants, tab messages, `storage`, `visibilitychange`, `online`/`offline`,
// `pageshow` and `focus` events) into wire calls and carries out the actions the engine asks
// for. It holds no policy: whether and when to refresh, retry, reject or go to login is the
// engine's call (src/engine/machine.rs).
//
// Every entry goes through `drive`: feed the engine one call with `now`, drain its actions
// performing each in order, re-arm the one timer from its next deadline, refresh the caches
// the hot paths read, and only then, no longer busy, call into app code (listeners, promise
// settlers, `onLoginRequired`, `location.assign`). App code therefore never runs while the
// engine is mid-drive. This file (and http.js, for an HTTP-date Retry-After) reads `Date.now()`.

import { Core } from './cognito_session_core.js';
import { error } from './errors.js';
import { send } from './http.js';
import { Store } from './store.js';
import * as wire from './wire.js';

/** Longest delay `setTimeout` honours (about 24.8 days); later deadlines wake early. */
export const MAX_TIMER = 0x7fffffff;
/**
 * How long a tab keeps the refresh lock after the engine lets it go. Browsers hand a
 * localStorage write to other tabs' processes as a message, applied when their event loop
 * turns, and nothing orders it before the next Web Lock grant: released at once, the lock can
 * reach a tab that still reads the record from before the refresh, which then refreshes again
 * with the same refresh token (seen in the three-tab end-to-end test; a provider with reuse
 * detection would revoke the grant). Other tabs' callers are not held up: they get the new
 * tokens from the broadcast and the storage event, not from the lock.
 */
const LOCK_SETTLE_MS = 50;

/**
 * Without Web Locks (Safari before 15.4), tabs on localStorage take each lock (the refresh
 * lock, the key-set lock) as a lease written in that storage: a tab writes its claim, waits LEASE_SETTLE_MS for other tabs' writes
 * to reach it, and holds the lease if the claim read back is still its own; otherwise it tries
 * again until the holder removes the lease or it runs out. Tabs that claim together all read
 * back the last claim, so one refreshes and the others then read the record it stored. A lease
 * outlasts a refresh request (15 s), so a tab closed while holding one delays the others by
 * at most that, less than the engine's 30 s lock timeout.
 */
const LEASE_MS = 20000;
const LEASE_SETTLE_MS = 100;

/**
 * This page's sessions on web storage, by area and key. Two sessions on one key in one page (a
 * hot reload that did not free the old one, two micro-frontends) follow each other as tabs do,
 * but the browser tells a page neither of its own storage writes nor, for sessionStorage, of its
 * broadcasts: so a session hands what it writes and broadcasts to its siblings itself, and they
 * take turns refreshing under a Web Lock named for the page. On `globalThis`, so that two copies
 * of the package in one page share it.
 */
const PAGE = (globalThis[Symbol.for('cognito-session.page')] ??= { id: Math.random(), sessions: new Map() });

/** The bytes of base64url `text` (unpadded). */
export const base64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/** Calls app code; one that throws must not stop the others. */
export function call(f, arg) {
  try {
    f(arg);
  } catch {
    // the app's own error
  }
}

/** One session's engine and the browser resources it uses. */
export class Driver {
  core;
  store;
  config;
  #channel = null;
  listeners = new Map();
  /** waiter id → [resolve, reject] */
  waiters = new Map();
  /** refresh id → the function that releases its Web Lock */
  #locks = new Map();
  /** refresh id → its AbortController */
  #aborts = new Map();
  #timer;
  #busy = false;
  freed = false;
  /** Events raised while the session is being constructed, delivered on the next microtask. */
  held = [];
  /** Shell-made events (storage failures) raised mid-drive, dispatched at its end. */
  #notices = [];
  /** The fast path's cache: the access and ID tokens and until when the engine would hand
   * them out. */
  token = null;
  idToken = null;
  until = 0;
  /** The clock at the last drive: a `Date.now()` earlier than it means the clock went back, and
   * the cache must not answer until the engine has seen that. */
  lastNow = 0;
  /** The snapshot reply's text (equal texts, equal snapshots). */
  snapshot = null;
  /** Removes the DOM listeners. */
  #unlisten = [];
  /** The sessions of this page on the same storage area and key, this one included. */
  #siblings = new Set();
  /** While cognito-session/adopt takes over another library's session: `(wait) => promise` of
   * the ms of `wait` left once it is done, which callers of `request` wait for first. */
  adopting = null;

  /** Builds the engine for the validated config `c`, resumes what storage holds (throws the
   * engine's BAD_CONFIG error for options it refuses) and starts listening to the page and the
   * other tabs. */
  constructor(c) {
    this.config = c;
    const now = Date.now();
    const fail = (detail) => this.#notices.push({ type: 'storageUnavailable', detail });
    this.store = new Store(c.storage, c.key, fail);
    // The key set's store fails as the record's does: said once, by the record's.
    this.keyStore = new Store(c.storage, `${c.key}:keys`, () => {});
    if (this.store.area) {
      const place = `${c.storage} ${c.key}`;
      const siblings = PAGE.sessions.get(place);
      if (siblings) this.#siblings = siblings;
      else PAGE.sessions.set(place, this.#siblings);
    }
    this.#siblings.add(this);
    const seed = new Uint32Array(2);
    try {
      crypto.getRandomValues(seed);
    } catch {
      // Jitter only spreads load between tabs; it guards no secret.
      seed[0] = Math.random() * 2 ** 32;
      seed[1] = (Math.random() * 2 ** 32) ^ now;
    }
    this.core = new Core(c.clientId, c.pool, c.endpoint, c.tokenEndpoint, c.issuer, c.rotation, c.verifyTokens, c.jwksUri, seed[0], seed[1], now);
    const doc = globalThis.document;
    // What storage holds at start is the session to resume (or a record to discard). Options
    // the engine refuses (a malformed user pool id) make this first call throw its BAD_CONFIG.
    try {
      this.drive((n) => {
        wire.visibility(this.core, n, !doc?.hidden);
        if (globalThis.navigator?.onLine === false) wire.network(this.core, n, false);
        const record = this.store.read();
        if (record !== undefined) wire.storage(this.core, n, record);
      });
    } catch (e) {
      this.core.free();
      throw e;
    }
    const shared = this.store.shared;
    if (shared && typeof BroadcastChannel === 'function') {
      try {
        const channel = new BroadcastChannel(c.key);
        channel.onmessage = (e) => {
          if (typeof e.data === 'string') this.drive((n) => wire.tabMessage(this.core, n, e.data));
        };
        this.#channel = channel;
      } catch {
        // No channel: tabs still follow each other through storage events.
      }
    }
    if (doc) this.#listen(doc, 'visibilitychange', () => this.drive((n) => wire.visibility(this.core, n, !doc.hidden)));
    if (globalThis.window) {
      for (const online of [true, false]) this.#listen(window, online ? 'online' : 'offline', () => this.drive((n) => wire.network(this.core, n, online)));
      // Back from the back-forward cache, or focused after a sleep: the page may have missed
      // storage events, messages and timers for hours. Storage first, then the engine looks
      // again at what is due, before anything is handed out.
      const wake = (e) =>
        this.drive((n) => {
          const record = e.persisted ? this.store.read() : undefined;
          if (record !== undefined) wire.storage(this.core, n, record);
          wire.timeout(this.core, n);
        });
      this.#listen(window, 'pageshow', wake);
      this.#listen(window, 'focus', wake);
    }
    if (shared) {
      this.#listen(window, 'storage', (e) => {
        if (this.store.area && e.storageArea === this.store.area && (e.key === null || e.key === c.key)) {
          this.drive((n) => wire.storage(this.core, n, e.newValue));
        }
      });
    }
  }

  /**
   * Runs `step(now)` against the engine, then performs what it asked for (see the file
   * comment). Returns false, without running `step`, when the session is busy (a re-entrant
   * call) or freed.
   */
  drive(step) {
    if (this.#busy || this.freed) return false;
    this.#busy = true;
    const later = [];
    try {
      const now = Date.now();
      this.lastNow = now;
      step(now);
      const before = this.snapshot;
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

  /** Drains the engine's actions. Returns whether any event was emitted. */
  #perform(now, later) {
    let emitted = false;
    for (let a = wire.pollAction(this.core); a !== undefined; a = wire.pollAction(this.core)) {
      const id = a.id;
      switch (a.type) {
        case 'acquireLock':
          this.#acquire(now, id, '', (n) => wire.refreshLock(this.core, n, id, this.store.read()));
          break;
        case 'acquireKeysLock':
          this.#acquire(now, id, ' keys', (n) => wire.keysLock(this.core, n, id, this.keyStore.read()));
          break;
        case 'fetchKeys': {
          const controller = new AbortController();
          this.#aborts.set(id, controller);
          send({ url: a.url, headers: [] }, controller)
            // No answer: one the page may not read (no CORS) if the URL answers a no-cors fetch.
            .then((r) => (r.status || controller.signal.aborted ? r : fetch(a.url, { mode: 'no-cors', credentials: 'omit' }).then(() => ({ status: 0, body: 'cors' }), () => r)))
            .then((r) =>
              this.drive((n) => {
                this.#aborts.delete(id);
                wire.keysAnswer(this.core, n, id, r);
              }),
            );
          break;
        }
        case 'persistKeys':
          this.keyStore.write(a.record);
          break;
        case 'verify': {
          const alg = a.alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
          const subtle = globalThis.crypto?.subtle;
          // The engine chose the key and the algorithm; WebCrypto parses the key and checks.
          Promise.resolve()
            .then(() => subtle.importKey('jwk', JSON.parse(a.key), alg, false, ['verify']))
            .then((key) => subtle.verify(alg, key, base64url(a.signature), new TextEncoder().encode(a.input)))
            .then(
              (ok) => ok === true,
              () => false,
            )
            .then((ok) => this.drive((n) => wire.verified(this.core, n, id, ok)));
          break;
        }
        case 'sendRefresh': {
          const controller = new AbortController();
          this.#aborts.set(id, controller);
          send(a, controller).then((r) =>
            this.drive((n) => {
              this.#aborts.delete(id);
              wire.refreshAnswer(this.core, n, id, r);
            }),
          );
          break;
        }
        case 'abortRefresh':
          this.#aborts.get(id)?.abort();
          this.#aborts.delete(id);
          break;
        case 'releaseLock': {
          const release = this.#locks.get(id);
          this.#locks.delete(id);
          if (release) setTimeout(release, LOCK_SETTLE_MS);
          break;
        }
        case 'resolveWaiters':
          for (const w of this.#take(a.waiters)) later.push([w[0], a.token]);
          break;
        case 'rejectWaiters':
          for (const w of this.#take(a.waiters)) later.push([w[1], a.error]);
          break;
        case 'persist':
          this.store.write(a.record);
          this.#tellSiblings((s, n) => wire.storage(s.core, n, a.record));
          break;
        case 'broadcast':
          if (!this.store.shared) this.#tellSiblings((s, n) => wire.tabMessage(s.core, n, a.message));
          else if (this.#channel) {
            try {
              // Other tabs, and this page's other sessions on the key (each has its channel).
              this.#channel.postMessage(a.message);
            } catch {
              // A closed channel drops the message; storage events still carry the record.
            }
          }
          break;
        case 'goToLogin': {
          const c = this.config;
          if (c.onLoginRequired) later.push([c.onLoginRequired, a.reason]);
          else if (c.loginUrl) later.push([() => globalThis.location?.assign(c.loginUrl)]);
          break;
        }
        case 'emit':
          emitted = true;
          this.#dispatch(a.event, later);
          break;
      }
    }
    return emitted;
  }

  /** Feeds `step` to this page's other sessions on the same key, each after this drive, as
   * the browser would deliver a storage event or a tab message. */
  #tellSiblings(step) {
    for (const s of this.#siblings) if (s !== this) queueMicrotask(() => s.drive((n) => step(s, n)));
  }

  /** The settlers of the waiters `ids`, removed. */
  #take(ids) {
    const out = [];
    for (const id of ids) {
      const w = this.waiters.get(id);
      if (w) {
        this.waiters.delete(id);
        out.push(w);
      }
    }
    return out;
  }

  /** Hands `event` to every listener (or holds it while the session is being constructed). */
  #dispatch(event, later) {
    if (this.held) this.held.push(event);
    else for (const l of this.listeners.values()) later.push([l, event]);
  }

  /**
   * Takes the refresh lock (`suffix` ''; the key-set lock: ' keys'): a Web Lock on web storage
   * (for `localStorage` one shared with the other tabs, for `sessionStorage` one of this page's,
   * for its sessions on the key), at once in memory, then tells the engine with `granted(now)`.
   * The lock is held by keeping the promise the lock callback returns pending until the engine
   * says release.
   */
  #acquire(now, id, suffix, granted) {
    const locks = this.store.area ? globalThis.navigator?.locks : undefined;
    if (typeof locks?.request === 'function') {
      try {
        locks
          .request(
            // sessionStorage is the tab's own: its lock is this page's.
            (this.store.shared ? this.config.key : `${this.config.key} ${PAGE.id}`) + suffix,
            () =>
              new Promise((release) => {
                const ran = this.drive((n) => {
                  this.#locks.set(id, release);
                  granted(n);
                });
                if (!ran) release();
              }),
          )
          // Refused (the lock manager failed, or the page is going away): fail over at once,
          // as when Web Locks is missing, instead of waiting out the engine's lock timeout.
          .catch(() => this.drive(granted));
        return;
      } catch {
        // Web Locks refused outright: grant at once; the engine's record checks limit the
        // damage to a duplicate refresh at worst.
      }
    }
    if (this.store.shared) return this.#lease(id, suffix, granted);
    // Granted at once, inside the drive that asked: the engine takes it as the next input.
    granted(now);
  }

  /** A lock (`suffix` and `granted` as `#acquire`'s) as a lease in localStorage (see LEASE_MS),
   * when Web Locks is missing. */
  #lease(id, suffix, granted) {
    const area = this.store.area;
    const key = `lock:${this.config.key}${suffix}`;
    const me = `${PAGE.id} ${id}`;
    const holder = () => {
      try {
        const [who, until] = JSON.parse(area.getItem(key));
        return until > Date.now() ? who : null;
      } catch {
        return null;
      }
    };
    const mine = () => {
      try {
        if (holder() === me) area.removeItem(key);
      } catch {
        // Left to run out.
      }
    };
    const grant = () => this.drive((n) => {
      this.#locks.set(id, mine);
      granted(n);
    }) || mine();
    const claim = () => {
      if (this.freed) return;
      const who = holder();
      if (who !== null && who !== me) return setTimeout(claim, LEASE_SETTLE_MS);
      try {
        area.setItem(key, JSON.stringify([me, Date.now() + LEASE_MS]));
      } catch {
        // Storage refused the claim: grant, as without any lock.
        return grant();
      }
      setTimeout(() => (holder() === me ? grant() : claim()), LEASE_SETTLE_MS);
    };
    claim();
  }

  /**
   * Keeps exactly one timer, for the engine's next deadline: set anew at every drive, since a
   * clock that moved since the last one makes the old delay wrong even for the same deadline.
   */
  #rearm(now) {
    const at = wire.pollTimeout(this.core);
    clearTimeout(this.#timer);
    if (at !== undefined) {
      this.#timer = setTimeout(() => this.drive((n) => wire.timeout(this.core, n)), Math.min(Math.max(at - now, 0), MAX_TIMER));
    }
  }

  /** The cached access token while the engine would hand it out and the clock has not gone
   * back since it last looked, else null. */
  cached() {
    const now = Date.now();
    return now >= this.lastNow && now < this.until ? this.token : null;
  }

  /**
   * Re-reads what the hot paths cache (the token, the snapshot) and tells listeners
   * `{type: "change"}` when the snapshot moved without an event.
   */
  #refreshCaches(before, emitted, later) {
    const cached = wire.token(this.core);
    // Tokens that became usable (or stopped being) with the snapshot as it was: tokens whose
    // signature check just passed. Apps that read claims() on `change` need to hear of it.
    const flipped = (cached ? cached.token : null) === null !== (this.token === null);
    this.token = cached ? cached.token : null;
    this.idToken = cached ? cached.idToken : null;
    this.until = cached ? cached.until : 0;
    const snapshot = wire.snapshotText(this.core);
    if (snapshot !== before || flipped) {
      this.snapshot = snapshot;
      if (!emitted && before !== null) this.#dispatch({ type: 'change' }, later);
    }
  }

  /** Tells the listeners `event` now (a shell-made notice from outside a drive). */
  notify(event) {
    const later = [];
    this.#dispatch(event, later);
    for (const [f, arg] of later) call(f, arg);
  }

  /** Asks the engine for a token within `wait` ms: a promise of it, or of its typed error. */
  request(wait) {
    // Not NOT_SIGNED_IN just because the adopted session is not installed yet.
    if (this.adopting) return this.adopting(wait).then((left) => this.request(left));
    let out;
    const ran = this.drive((now) => {
      const answer = wire.requestToken(this.core, now, wait);
      out =
        answer.type === 'token'
          ? Promise.resolve(answer.token)
          : answer.type === 'waiting'
            ? new Promise((resolve, reject) => this.waiters.set(answer.waiter, [resolve, reject]))
            : Promise.reject(answer.error);
    });
    return ran ? out : Promise.reject(this.refusal());
  }

  /** Why a call was not run: the session was freed, or called from inside its own callback. */
  refusal() {
    return error('BAD_CONFIG', this.freed ? 'this session was freed' : 'called from inside one of the session\'s own callbacks');
  }

  /** Stops listening, aborts the refresh, releases the lock, rejects waiters, frees the engine. */
  free() {
    if (this.freed) return;
    this.freed = true;
    this.#siblings.delete(this);
    this.token = this.idToken = null;
    for (const off of this.#unlisten) off();
    if (this.#channel) {
      this.#channel.onmessage = null;
      this.#channel.close();
    }
    clearTimeout(this.#timer);
    for (const c of this.#aborts.values()) c.abort();
    for (const release of this.#locks.values()) release();
    if (this.waiters.size) {
      const e = error('NOT_SIGNED_IN', 'the session was freed while this caller waited');
      for (const [, reject] of this.waiters.values()) call(reject, e);
    }
    this.waiters.clear();
    this.core.free();
  }

  /** `target.addEventListener`, undone by `free()`. */
  #listen(target, type, handler) {
    target.addEventListener(type, handler);
    this.#unlisten.push(() => target.removeEventListener(type, handler));
  }
}

