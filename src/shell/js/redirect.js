// Sign-in through the provider's login page, the browser's half: drawing the PKCE verifier,
// `state` and `nonce` with WebCrypto, keeping the tab's sign-in record in `sessionStorage`
// across the redirect, and reading the return from the address bar. What the URL and the code
// exchange are, and whether a return is this tab's, is the engine's call (src/engine/sign_in.rs).

import { badConfig, cause } from './errors.js';
import * as wire from './wire.js';

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

/** Sends the browser to the login page (see `Session.signIn`). */
export async function startSignIn(core, c, options) {
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
  const redirectUri = c.redirectUri || `${location.origin}${location.pathname}`;
  const reply = wire.authorize(core, endpoint, redirectUri, c.scope, [randomSecret(), verifier, challenge, randomSecret()]);
  if (reply.type === 'error') throw reply.error;
  withTabStorage((area) => area.setItem(c.pendingKey, reply.record));
  location.assign(reply.url);
}

/**
 * Reads this page load as a return from the provider: `null` when it is none, otherwise the
 * engine's answer to it (`call(exchange)` runs `exchange(core, now)` in a drive): the code
 * exchange to send, or why not. The return's parameters leave the address bar; the tab's
 * sign-in record is used up unless the engine found the return not to be this tab's sign-in
 * (a forged or replayed link must not cancel a real sign-in under way).
 */
export function readReturn(c, call) {
  if (!c.authorizationEndpoint) throw noLoginPage('handleRedirect');
  const url = new URL(location.href);
  const q = url.searchParams;
  const code = q.get('code');
  const failure = q.get('error');
  const state = q.get('state');
  if (state === null || (code === null && failure === null)) return null;
  const description = q.get('error_description');
  const iss = q.get('iss');
  let record;
  try {
    record = withTabStorage((area) => area.getItem(c.pendingKey));
  } catch {
    // No record to read: the engine refuses the return as one this tab did not start.
  }
  for (const name of CALLBACK_PARAMS) q.delete(name);
  try {
    history.replaceState(history.state, '', url.href);
  } catch {
    // The address bar keeps a code that is used up: its record is gone, so it cannot replay.
  }
  const reply = call((core, now) => wire.redirectReturn(core, now, code, state, failure, description, iss, record));
  if (reply.type !== 'foreign') {
    try {
      withTabStorage((area) => area.removeItem(c.pendingKey));
    } catch {
      // Storage refused: the record stays, and its state no longer matches anything.
    }
  }
  return reply;
}
