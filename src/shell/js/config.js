// Reads and validates the plain object given to `new Session(config)`. Every bad value is
// refused with a `BAD_CONFIG` error naming the field, and unknown fields are refused too: a typo
// such as `alowedOrigins` would otherwise silently keep tokens from an API. The user pool id
// itself is checked by the engine when the session's `Core` is built, which also derives the
// endpoint from it.

import { badConfig } from './errors.js';
import { parseOrigin } from './origin.js';

const KNOWN = [
  'userPoolId',
  'clientId',
  'endpoint',
  'tokenEndpoint',
  'issuer',
  'rotation',
  'authorizationEndpoint',
  'redirectUri',
  'scope',
  'storage',
  'loginUrl',
  'onLoginRequired',
  'allowedOrigins',
  'clientSecret',
  'region',
  'adopt',
  'revocationEndpoint',
  'endSessionEndpoint',
  'logoutEndpoint',
  'postLogoutRedirectUri',
  'verifyTokens',
  'jwksUri',
];

/** OAuth2 scope tokens (RFC 6749 §3.3: visible ASCII but `"` and `\`), one space apart. */
const SCOPE = /^[!#-[\]-~]+( [!#-[\]-~]+)*$/;

const httpUrl = (text, base) => {
  try {
    return /^https?:$/.test(new URL(text, base).protocol);
  } catch {
    return false;
  }
};

/**
 * The validated config: `{clientId, pool, endpoint, tokenEndpoint, issuer, rotation, verifyTokens, jwksUri,
 * authorizationEndpoint, redirectUri, scope, storage, key, pendingKey, loginUrl,
 * onLoginRequired, allowedOrigins, adopt}` (absent strings are "").
 */
export function readConfig(value) {
  if (typeof value !== 'object' || value === null) throw badConfig('config must be an object');
  for (const k of Object.keys(value)) if (!KNOWN.includes(k)) throw badConfig(`unknown config field ${k}`);
  // A getter that throws is a bad config, not a crash.
  const get = (name) => {
    try {
      return value[name];
    } catch {
      throw badConfig(name);
    }
  };
  /** An optional string: absent/null is ""; another type or "" is an error. */
  const string = (name) => {
    const v = get(name);
    if (v == null) return '';
    if (typeof v !== 'string' || v === '') throw badConfig(`${name} must be a non-empty string`);
    return v;
  };
  const url = (name, text) => {
    if (!httpUrl(text)) throw badConfig(`${name} must be an absolute http(s) URL`);
  };

  if (get('clientSecret') !== undefined) {
    throw badConfig('clientSecret: never ship a client secret to a browser; use an app client without a secret');
  }
  const clientId = string('clientId');
  if (!clientId) throw badConfig('clientId is required');
  // Cognito app client ids are alphanumeric; anything outside this set would also corrupt
  // storage keys and log lines.
  if (!/^[\w.-]{1,256}$/.test(clientId)) throw badConfig("clientId must be letters, digits, '-', '_' or '.'");
  const pool = string('userPoolId');
  const region = string('region');
  const endpoint = string('endpoint');
  const tokenEndpoint = string('tokenEndpoint');
  const issuer = string('issuer');
  if (issuer && !tokenEndpoint && !endpoint) throw badConfig("issuer goes with tokenEndpoint, or with endpoint (an emulator's own issuer); a Cognito pool's follows from its id");
  const rotation = get('rotation');
  if (rotation != null && typeof rotation !== 'boolean') throw badConfig('rotation must be true or false');

  let namespace;
  if (tokenEndpoint) {
    if (endpoint || rotation != null || region) {
      throw badConfig('tokenEndpoint (OAuth2) cannot be combined with endpoint, region or rotation (Cognito API)');
    }
    url('tokenEndpoint', tokenEndpoint);
    namespace = tokenEndpoint;
  } else if (pool) {
    if (region && !pool.startsWith(`${region}_`)) throw badConfig('region does not match the region in userPoolId');
    if (endpoint) url('endpoint', endpoint);
    namespace = pool;
  } else {
    throw badConfig('userPoolId (Cognito) or tokenEndpoint (OAuth2) is required');
  }

  // Sign-in through the provider's login page: the code is traded at the token endpoint.
  const authorizationEndpoint = string('authorizationEndpoint');
  const redirectUri = string('redirectUri');
  const scope = string('scope') || 'openid';
  if (authorizationEndpoint) {
    if (!tokenEndpoint) throw badConfig('authorizationEndpoint needs tokenEndpoint');
    url('authorizationEndpoint', authorizationEndpoint);
  } else if (redirectUri || get('scope') != null) {
    throw badConfig('redirectUri and scope go with authorizationEndpoint');
  }
  if (redirectUri) url('redirectUri', redirectUri);
  if (!SCOPE.test(scope)) throw badConfig('scope must be scope names, one space apart');

  // Signing out at the provider (`signOut({revoke, redirect})`): the engine builds the requests
  // and the logout page's URL from these.
  const [revocationEndpoint, endSessionEndpoint, logoutEndpoint, postLogoutRedirectUri] = ['revocationEndpoint', 'endSessionEndpoint', 'logoutEndpoint', 'postLogoutRedirectUri'].map((name) => {
    const text = string(name);
    if (text) url(name, text);
    return text;
  });
  if (endSessionEndpoint && logoutEndpoint) throw badConfig('endSessionEndpoint or logoutEndpoint');
  if (logoutEndpoint && !postLogoutRedirectUri) throw badConfig('logoutEndpoint needs postLogoutRedirectUri');

  // Token signatures, checked by default where the keys can be found (the engine decides).
  const verifyTokens = get('verifyTokens');
  if (verifyTokens != null && typeof verifyTokens !== 'boolean') throw badConfig('verifyTokens must be true or false');
  const jwksUri = string('jwksUri');
  if (jwksUri) url('jwksUri', jwksUri);

  const storage = string('storage') || 'session';
  if (!['session', 'local', 'memory'].includes(storage)) throw badConfig('storage must be "session", "local" or "memory"');

  // `javascript:`, `data:` and the like would run code on redirect; the URL is resolved as the
  // browser would (against the page), so spaces, tabs or case tricks do not hide the scheme.
  const loginUrl = string('loginUrl');
  if (loginUrl && !httpUrl(loginUrl, globalThis.location?.href || 'http://localhost/')) {
    throw badConfig('loginUrl must be a non-empty http(s) or relative URL');
  }
  /** An optional function: absent/null is undefined. */
  const fn = (name) => {
    const v = get(name);
    if (v != null && typeof v !== 'function') throw badConfig(`${name} must be a function`);
    return v ?? undefined;
  };
  const onLoginRequired = fn('onLoginRequired');
  // Made by cognito-session/adopt: called by the Session it configures, once, at start.
  const adopt = fn('adopt');

  const allowedOrigins = [];
  const list = get('allowedOrigins');
  if (list != null) {
    if (!Array.isArray(list)) throw badConfig('allowedOrigins must be an array of origins');
    for (let i = 0; i < list.length; i += 1) {
      const text = list[i];
      if (typeof text !== 'string') throw badConfig('allowedOrigins must hold strings');
      const origin = parseOrigin(text);
      if (origin === null) throw badConfig(`allowedOrigins: not an origin (scheme://host[:port], no path or wildcard): ${text}`);
      allowedOrigins.push(origin);
    }
  }

  const key = `cognito-session:${namespace}:${clientId}`;
  return {
    clientId,
    pool,
    endpoint,
    tokenEndpoint,
    issuer,
    rotation: rotation === true,
    authorizationEndpoint,
    redirectUri: redirectUri && new URL(redirectUri).href,
    scope,
    storage,
    key,
    pendingKey: `${key}:signIn`,
    loginUrl,
    onLoginRequired,
    allowedOrigins,
    adopt,
    revocationEndpoint,
    endSessionEndpoint,
    logoutEndpoint,
    postLogoutRedirectUri,
    verifyTokens: verifyTokens !== false,
    jwksUri,
  };
}
