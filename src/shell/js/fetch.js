// `session.fetch`: `fetch` with the session's bearer token on requests to the origins allowed to
// receive it, and one replay after a 401 when the session has a newer token.

import { untilAborted } from './abort.js';
import { badConfig } from './errors.js';

/** How long a request waits for a token. */
export const DEFAULT_DEADLINE = 10000;

/** Sends a copy of `request` (the original stays unread for a replay) with the bearer token. */
function sendWith(request, token) {
  const copy = request.clone();
  copy.headers.set('Authorization', `Bearer ${token}`);
  return fetch(copy);
}

/**
 * `session.fetch(input, init)`: `tokenWithin(ms)` gives a token, `replay(refused, ms)` the token
 * to replay a 401 with (or null).
 */
export async function fetchWithToken(session, input, init, tokenWithin, replay) {
  if (!globalThis.window) throw badConfig('fetch needs a window');
  let request;
  // A Request, also one made in another frame (which fails `instanceof Request`; read as a
  // string it would be "[object Request]", a path on this page's origin).
  if (Object.prototype.toString.call(input) === '[object Request]') {
    request = new Request(input, init ?? undefined);
  } else {
    // A string, or an object with a URL-giving toString (URL, Location).
    if (input === null || (typeof input !== 'string' && typeof input !== 'object' && typeof input !== 'function')) {
      throw badConfig('fetch needs a URL string, a URL or a Request');
    }
    request = new Request(String(input), init ?? undefined);
  }
  if (!session.attachesTokenTo(request.url)) return fetch(request);
  // Like fetch, give up as soon as the caller's signal aborts, also while waiting for a token.
  const signal = request.signal;
  const aborted = () => signal.reason;
  const token = await untilAborted(() => tokenWithin(DEFAULT_DEADLINE), signal, aborted);
  const response = await sendWith(request, token);
  if (response.status !== 401) return response;
  const newer = await untilAborted(() => replay(token, DEFAULT_DEADLINE), signal, aborted);
  return newer === null ? response : sendWith(request, newer);
}
