// The errors the app sees: `Error` objects with a stable `code` to switch on (THROTTLED,
// UNAVAILABLE, SESSION_EXPIRED, NOT_SIGNED_IN, BAD_CONFIG, BAD_RESPONSE), `retryAt` (ms since
// the epoch) when trying again can help, and `providerCode` on sign-in failures.

/** An `Error` with `code` and, when given, `retryAt`. */
export function error(code, message, retryAt) {
  const e = new Error(message);
  e.code = code;
  if (retryAt !== undefined) e.retryAt = retryAt;
  return e;
}

/** A `BAD_CONFIG` error: the app passed something that cannot work. */
export const badConfig = (message) => error('BAD_CONFIG', message);

/** A call made from inside one of the session's own callbacks while it was busy. */
export const busy = () => badConfig('the session was called re-entrantly from inside one of its own callbacks');

/** The error the core encoded as fields `code, retryAt, message[, providerCode]` of `f`. */
export function coreError(f) {
  const e = error(f[0], f[2], f[1] ? +f[1] : undefined);
  if (f.length > 3) e.providerCode = f[3];
  return e;
}

/** `message`, then `: ` and the thrown value's own message when it has one. */
export function cause(message, thrown) {
  const detail = typeof thrown?.message === 'string' ? thrown.message : typeof thrown === 'string' ? thrown : '';
  return detail ? `${message}: ${detail}` : message;
}
