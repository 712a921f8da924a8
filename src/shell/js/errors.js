// The errors the app sees: `Error` objects with a stable `code` to switch on (THROTTLED,
// UNAVAILABLE, SESSION_EXPIRED, NOT_SIGNED_IN, BAD_CONFIG, BAD_RESPONSE from the engine;
// LOAD_FAILED from load.js), `retryAt` (ms since the epoch) when trying again can help, and
// `providerCode` on sign-in failures.

/** Marks the session's errors, also across two copies of the package in one page. */
const BRAND = Symbol.for('cognito-session.error');

/** The class of every error the session throws or rejects with. */
export class CognitoSessionError extends Error {}
CognitoSessionError.prototype.name = 'CognitoSessionError';
CognitoSessionError.prototype[BRAND] = true;

/** Whether `e` is one of the session's errors (axios's and fetch's errors are not, whatever
 * their `code`). */
export const isSessionError = (e) => e?.[BRAND] === true;

/** A session error with `code` and, when given, `retryAt`. */
export function error(code, message, retryAt) {
  const e = new CognitoSessionError(message);
  e.code = code;
  if (retryAt !== undefined) e.retryAt = retryAt;
  return e;
}

/** A `BAD_CONFIG` error: the app passed something that cannot work. */
export const badConfig = (message) => error('BAD_CONFIG', message);


/** The error the engine sent as `[code, message, retryAt, providerCode]` (see src/wire.rs). */
export function coreError([code, message, retryAt, providerCode]) {
  const e = error(code, message, retryAt ?? undefined);
  if (providerCode != null) e.providerCode = providerCode;
  return e;
}

/** `message`, then `: ` and the thrown value's own message when it has one. */
export function cause(message, thrown) {
  const detail = typeof thrown?.message === 'string' ? thrown.message : typeof thrown === 'string' ? thrown : '';
  return detail ? `${message}: ${detail}` : message;
}
