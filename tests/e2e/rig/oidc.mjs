// A real OpenID Connect provider for the OAuth2 end-to-end tests: oidc-provider (npm), run in
// the test's own process on 127.0.0.1, with one public app client that must use PKCE and whose
// refresh tokens rotate. It stops with the test (stop(), or process exit).
//
// What oidc-provider 9.13 does, as measured on this machine (the tests rely on all of it):
//
// - Public client (`token_endpoint_auth_method: none`): PKCE S256 is required, refresh tokens are
//   issued for the `offline_access` scope (with `prompt=consent`) and ROTATE on every use: the
//   answer carries a new `refresh_token` and the old one is marked consumed.
// - Reuse detection: presenting a consumed refresh token answers 400 `invalid_grant` ("grant
//   request is invalid") AND revokes the whole grant, so the newest refresh token dies too. Two
//   tabs refreshing with the same refresh token therefore sign the user out everywhere.
// - Token answers: `{access_token, expires_in, id_token, refresh_token, scope, token_type:
//   "Bearer"}`. The access token is OPAQUE (43 base64url characters, no dots); its lifetime is
//   only `expires_in`. The ID token is an RS256 JWT with iss (this issuer), aud (the client id),
//   sub, iat and exp; no `token_use`.
// - CORS: by default the token and userinfo endpoints answer a page whose origin is that of one
//   of the client's redirect URIs; `clientBasedCORS` below says the same explicitly.
// - `GET /me` (userinfo) with `Authorization: Bearer <access token>` answers 200 `{sub}` for an
//   active token and 401 `invalid_token` otherwise: the tests use it as the protected API.
// - The development login and consent pages (devInteractions) accept any login and password;
//   `signIn()` walks them with fetch and a cookie jar, as a browser would.
// - Revocation (RFC 7009, `features.revocation`) at `/token/revocation`: a public client
//   revokes its refresh token with `token`, `token_type_hint` and `client_id`; 200 with an empty
//   body, and the token then answers `invalid_grant`.
// - RP-Initiated Logout at `/session/end` (`end_session_endpoint`): with `id_token_hint` and a
//   registered `post_logout_redirect_uri` it asks the user to confirm (a form posting
//   `logout=yes`), ends its own session and sends the browser to that URI.

import crypto from 'node:crypto';
import { getFreePort } from './rig.mjs';

const HOST = '127.0.0.1';

/**
 * Starts the provider. `siteOrigin` is the test site's origin (the client's redirect URI lives
 * there, which is what lets the site's pages call the token endpoint). `lifetimeS` is the
 * initial access and ID token lifetime. `redirectPaths` are further pages of the site the
 * client may be sent back to (the Rust driver's harness).
 */
export async function startOidcProvider({ siteOrigin, clientId = 'spa-client', lifetimeS = 3600, redirectPaths = [] }) {
  const { default: Provider } = await import('oidc-provider');
  // oidc-provider's own in-memory adapter, on one store that outlives a restart (rotateKeys).
  const { default: MemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
  const { default: LRU } = await import('oidc-provider/lib/helpers/lru.js');
  const store = new LRU({ maxSize: 1000 });
  const redirectUri = `${siteOrigin}/tests/e2e/pages/harness.html`;
  const postLogoutRedirectUri = `${siteOrigin}/tests/e2e/pages/login.html?signed-out`;
  let lifetime = lifetimeS;
  const counts = { refresh: 0, refreshRefused: [], codeExchanges: 0, refreshTokensSeen: [], jwks: 0, discovery: 0 };

  // The issuer needs its port before the provider exists: reserve one, then listen on it.
  const port = await getFreePort();
  const issuer = `http://${HOST}:${port}`;
  /** A new RS256 signing key (private JWK) named `kid`. */
  const newKey = (kid) => ({ ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
  let keys = [newKey('key-1')];
  let current;
  const cookieKeys = [crypto.randomBytes(16).toString('hex')];
  const serverErrors = [];
  // The provider is built again (same issuer, port and, through the shared store, grants) when
  // its keys rotate: it signs with the first key of `keys`.
  const build = () => {
    const provider = new Provider(issuer, {
      jwks: { keys },
      adapter: (model) => new MemoryAdapter(model, store),
      clients: [
        {
          client_id: clientId,
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [redirectUri, ...redirectPaths.map((p) => `${siteOrigin}${p}`)],
          post_logout_redirect_uris: [postLogoutRedirectUri],
        },
      ],
      features: {
        revocation: { enabled: true },
        // The default pages load a web font from the internet, which this machine cannot reach.
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => {
            ctx.body = `<!DOCTYPE html><title>Sign out?</title>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`;
          },
          postLogoutSuccessSource: (ctx) => {
            ctx.body = '<!DOCTYPE html><title>Signed out</title><p>Signed out.</p>';
          },
        },
      },
      ttl: {
        AccessToken: () => lifetime,
        IdToken: () => lifetime,
        RefreshToken: () => 24 * 3600,
        Grant: () => 24 * 3600,
        Session: () => 24 * 3600,
        Interaction: () => 600,
      },
      // The token and userinfo endpoints answer pages of the test site, and no other origin.
      clientBasedCORS: (_ctx, origin) => origin === siteOrigin,
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
      cookies: { keys: cookieKeys },
    });
    provider.on('grant.success', (ctx) => {
      if (ctx.oidc.params.grant_type === 'refresh_token') {
        counts.refresh += 1;
        counts.refreshTokensSeen.push(ctx.oidc.params.refresh_token);
      } else if (ctx.oidc.params.grant_type === 'authorization_code') {
        counts.codeExchanges += 1;
      }
    });
    provider.on('grant.error', (ctx, error) => {
      if (ctx.oidc.params?.grant_type === 'refresh_token') {
        counts.refreshRefused.push({ error: error.error, refreshToken: ctx.oidc.params.refresh_token });
        counts.refreshTokensSeen.push(ctx.oidc.params.refresh_token);
      }
    });
    // oidc-provider logs unexpected server errors here; a test must not pass over one silently.
    provider.on('server_error', (_ctx, error) => serverErrors.push(String(error?.stack || error)));
    // The key set and the discovery document, as the pages fetch them.
    provider.use(async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path === '/jwks') counts.jwks += 1;
      if (ctx.method === 'GET' && ctx.path === '/.well-known/openid-configuration') counts.discovery += 1;
      await next();
    });
    current = provider;
    return provider;
  };
  const listen = async () => {
    const server = build().listen(port, HOST);
    await new Promise((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return server;
  };
  const close = (s) =>
    new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections?.();
    });
  let server = await listen();
  const stopOnExit = () => server.close();
  process.once('exit', stopOnExit);

  const tokenEndpoint = `${issuer}/token`;
  const revocationEndpoint = `${issuer}/token/revocation`;

  /** One token-endpoint POST from node (not counted as the page's), answered as parsed JSON. */
  async function tokenRequest(params) {
    const res = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(10000),
    });
    return { status: res.status, body: await res.json() };
  }

  return {
    issuer,
    clientId,
    tokenEndpoint,
    revocationEndpoint,
    endSessionEndpoint: `${issuer}/session/end`,
    /** The one `post_logout_redirect_uri` the client has registered. */
    postLogoutRedirectUri,
    /** The userinfo endpoint: 200 for an active access token, 401 for any other. */
    userinfoUrl: `${issuer}/me`,
    serverErrors,

    /** What the provider answered since the last reset (refreshes counted at the provider). */
    counts: () => ({ ...counts, refreshRefused: [...counts.refreshRefused], refreshTokensSeen: [...counts.refreshTokensSeen] }),
    reset() {
      counts.jwks = 0;
      counts.discovery = 0;
      counts.refresh = 0;
      counts.codeExchanges = 0;
      counts.refreshRefused.length = 0;
      counts.refreshTokensSeen.length = 0;
    },
    /** Key rotation: from now on tokens are signed with a new key (a new `kid`), and the key set
     * publishes it before the old one. The provider restarts on the same address; grants,
     * sessions and refresh tokens stay. */
    async rotateKeys() {
      keys = [newKey(`key-${keys.length + 1}`), ...keys];
      await close(server);
      server = await listen();
      return keys[0].kid;
    },
    /** Lifetime, in seconds, of the access and ID tokens issued from now on. */
    setTokenLifetime(seconds) {
      lifetime = seconds;
    },

    /**
     * Signs a user in the way an SPA's redirect does: authorization request with PKCE S256,
     * the provider's login and consent pages, the code exchange. Answers the token response.
     */
    async signIn(login = `user-${crypto.randomUUID()}`) {
      const verifier = crypto.randomBytes(32).toString('base64url');
      const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
      const jar = new Map();
      const go = async (url, init = {}) => {
        const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
        const res = await fetch(url, { ...init, headers: { ...init.headers, cookie }, redirect: 'manual', signal: AbortSignal.timeout(10000) });
        for (const line of res.headers.getSetCookie()) {
          const pair = line.split(';')[0];
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        return res;
      };
      const query = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid offline_access',
        prompt: 'consent',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: crypto.randomUUID(),
      });
      let url = `${issuer}/auth?${query}`;
      let res = await go(url);
      // Login, consent, and the redirects between them: a handful of hops, never more than 10.
      for (let hop = 0; hop < 10; hop += 1) {
        const location = res.headers.get('location');
        if (!location) throw new Error(`oidc sign-in: HTTP ${res.status} without a redirect at ${url}`);
        url = new URL(location, url).href;
        if (url.startsWith(redirectUri)) break;
        if (new URL(url).pathname.startsWith('/interaction/')) {
          const page = await (await go(url)).text();
          const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
          if (!prompt) throw new Error(`oidc sign-in: no prompt on the interaction page ${url}`);
          const form = prompt === 'login' ? { prompt, login, password: 'any' } : { prompt };
          res = await go(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        } else {
          res = await go(url);
        }
      }
      const code = url.startsWith(redirectUri) ? new URL(url).searchParams.get('code') : null;
      if (!code) throw new Error(`oidc sign-in: ended at ${url} without a code`);
      const answer = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier });
      if (answer.status !== 200 || !answer.body.refresh_token) throw new Error(`oidc sign-in: code exchange answered ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    },

    /** A refresh from node with `refreshToken` (e.g. replaying a rotated one): the answer. */
    refreshFromNode(refreshToken) {
      return tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
    },

    /** Whether the provider holds `accessToken` as issued, unexpired and not revoked. */
    async isActive(accessToken) {
      const token = await current.AccessToken.find(accessToken);
      return Boolean(token && !token.isExpired);
    },

    stop() {
      process.removeListener('exit', stopOnExit);
      return close(server);
    },
  };
}
