// The JavaScript half of the wire to the `.wasm` engine (the Rust half, and the documentation of
// every operation and reply, is src/wire.rs). Each operation is one function here, so its
// number and argument positions are written once; every reply goes through `decode`, so each
// tag's fields are named once. tests/e2e/wire.test.mjs replays the golden vectors that the
// native test tests/wire.rs writes from the Rust encoders: changing either half alone fails.

import { coreError } from './errors.js';

/** tag → [type, ...field names], as `wire::SHAPES` in src/wire.rs. */
const SHAPES = {
  L: ['acquireLock', 'id'],
  S: ['sendRefresh', 'id', 'url', 'body', 'headers'],
  A: ['abortRefresh', 'id'],
  U: ['releaseLock', 'id'],
  T: ['resolveWaiters', 'token', 'waiters'],
  X: ['rejectWaiters', 'waiters', 'error'],
  P: ['persist', 'record'],
  B: ['broadcast', 'message'],
  G: ['goToLogin', 'reason'],
  E: ['emit', 'event'],
  k: ['token', 'token'],
  w: ['waiting', 'waiter'],
  e: ['error', 'error'],
  n: ['moment', 'at'],
  y: ['yes', 'yes'],
  c: ['cached', 'until', 'token', 'idToken'],
  s: ['snapshot', 'snapshot'],
  q: ['request', 'timeout', 'url', 'body', 'headers'],
  i: ['signedIn', 'result'],
  h: ['challenge', 'name'],
  u: ['authorization', 'url', 'record'],
  f: ['foreign', 'error'],
  o: ['logout', 'url'],
  K: ['acquireKeysLock', 'id'],
  F: ['fetchKeys', 'id', 'url'],
  J: ['persistKeys', 'record'],
  V: ['verify', 'id', 'alg', 'key', 'input', 'signature'],
};

/**
 * A reply as an object `{type, ...fields}`; `undefined` stays `undefined` (nothing to say). An
 * `error` field (`[code, message, retryAt, providerCode]`) becomes the `Error` the app gets.
 */
export function decode(text) {
  if (text === undefined) return undefined;
  const [tag, ...fields] = JSON.parse(text);
  const shape = SHAPES[tag];
  if (!shape) throw coreError(['BAD_RESPONSE', `wire: unknown reply tag ${tag}`]);
  const out = { type: shape[0] };
  for (let i = 1; i < shape.length; i += 1) out[shape[i]] = fields[i - 1];
  if (out.error) out.error = coreError(out.error);
  return out;
}

/** A reply for an operation that says nothing unless the call itself was refused. */
function quiet(text) {
  const reply = decode(text);
  if (reply?.type === 'error') throw reply.error;
  return reply;
}

// The operations (numbers as `wire::Op`). `core` is the wasm-bindgen `Core`: `core.call(op, now,
// n, m, texts)`, the strings as one JSON array (`texts`, see `Dispatcher::call_with_texts`).
const call = (core, op, now, n = 0, m = 0, ...texts) => core.call(op, now, n, m, texts.length ? JSON.stringify(texts) : undefined);
export const requestToken = (core, now, waitMs) => decode(call(core, 0, now, waitMs));
export const timeout = (core, now) => quiet(call(core, 1, now));
export const visibility = (core, now, visible) => quiet(call(core, 2, now, visible ? 1 : 0));
export const refreshLock = (core, now, id, record) => quiet(call(core, 3, now, id, 0, record));
export const refreshAnswer = (core, now, id, a) =>
  quiet(call(core, 4, now, id, a.status, a.body, a.errorType, a.retryAfter, a.amzRetryAfter));
export const tabMessage = (core, now, message) => quiet(call(core, 5, now, 0, 0, message));
export const storage = (core, now, record) => quiet(call(core, 6, now, 0, 0, record));
export const setTokens = (core, now, access, id, refresh, expiresIn) =>
  decode(call(core, 7, now, expiresIn ?? 0, 0, access, id, refresh));
export const tokenRefused = (core, now, token) => quiet(call(core, 8, now, 0, 0, token)).yes;
/** Signs out: `asked` is `signOut`'s checked options (`{revoke, global, redirect}`, each
 * absent or a boolean); `cognitoLogout` says `logoutPage` is Cognito's `/logout`, not OpenID
 * Connect's `end_session_endpoint`. They travel as the bits of `wire::sign_out_bits`. */
export const signOut = (core, now, asked, cognitoLogout, revocation, logoutPage, back) =>
  decode(call(core, 9, now, ['revoke', 'global', 'redirect'].reduce((bits, o, i) => bits + (asked[o] ? 1 << i : 0), cognitoLogout ? 8 : 0), 0, revocation, logoutPage, back));
export const pollAction = (core) => quiet(call(core, 10, 0));
export const pollTimeout = (core) => quiet(call(core, 11, 0))?.at;
/** The snapshot reply's text: equal texts are equal snapshots; `decode(text).snapshot` reads it. */
export const snapshotText = (core) => call(core, 12, 0);
export const token = (core) => quiet(call(core, 13, 0));
/** A Cognito sign-in step's request: `kind` 0 password (`a` user name, `b` password), 1 SRP (`a`
 * user name, `b` SRP A), 2 a challenge's answer (`a` its name, `b` its session, `c` the
 * ChallengeResponses object as JSON). */
export const signInRequest = (core, kind, a, b, c) => decode(call(core, 14, 0, kind, 0, a, b, ...(c === undefined ? [] : [c])));
/** The answer to a sign-in (op 15) or sign-out (op 18) request, as `refreshAnswer` passes one. */
const answerTo = (op) => (core, now, a) => decode(call(core, op, now, 0, a.status, a.body, a.errorType, a.retryAfter, a.amzRetryAfter));
export const signInAnswer = answerTo(15);
export const authorize = (core, endpoint, redirectUri, scope, secrets) =>
  decode(call(core, 16, 0, 0, 0, endpoint, redirectUri, scope, secrets.join('\0')));
export const redirectReturn = (core, now, code, state, error, description, iss, record) =>
  decode(call(core, 17, now, 0, 0, code, state, [error, description, iss].map((p) => p ?? '').join('\0'), record));
export const signOutAnswer = answerTo(18);
export const network = (core, now, online) => quiet(call(core, 19, now, online ? 1 : 0));
export const keysLock = (core, now, id, record) => quiet(call(core, 20, now, id, 0, record));
/** A key-set answer: its Cache-Control max-age goes as `b`; status 0 with body `cors` when the
 * URL answers, but not to this origin. */
export const keysAnswer = (core, now, id, a) => quiet(call(core, 21, now, id, a.status, a.body, /max-age=(\d+)/.exec(a.cacheControl)?.[1]));
export const verified = (core, now, id, ok) => quiet(call(core, 22, now, id, ok ? 1 : 0));
