// The page side of tests/e2e/adopt.test.mjs (driven through `window.A`): signs in for real with
// Amplify v6, amazon-cognito-identity-js or oidc-client-ts (bundled into
// /tests/e2e/adopt-libs/dist/libs.js by the test), and, after a reload, starts a cognito-session
// Session (the built /pkg/web/ module) with an adopter from /pkg-template/adopt.js, the file the
// package ships as `cognito-session/adopt`. Results are plain data: `{ok, value}` or
// `{ok: false, code, message}`.

import init, { Session } from '/pkg/web/cognito_session.js';
import { fromAmplify, fromCognitoIdentityJs, fromOidcClientTs } from '/pkg-template/adopt.js';
import * as L from '/tests/e2e/adopt-libs/dist/libs.js';

async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, code: error?.code ?? null, message: String(error?.message ?? error) };
  }
}

/** Every key of `area` and its value. */
function dump(area) {
  const out = {};
  for (let i = 0; i < area.length; i += 1) {
    const key = area.key(i);
    out[key] = area.getItem(key);
  }
  return out;
}

const A = {
  /** The rig's config (/rig-config.json). */
  cfg: null,
  session: null,
  /** Every session event, in order. */
  events: [],
  ready: null,

  /** Amplify v6 signs in with USER_PASSWORD_AUTH at the rig's Cognito URL. */
  async amplifySignIn(clientId = A.cfg.clientId) {
    L.Amplify.configure({ Auth: { Cognito: { userPoolId: A.cfg.poolId, userPoolClientId: clientId, userPoolEndpoint: A.cfg.cognitoUrl } } });
    return settle(L.amplifySignIn({ username: A.cfg.username, password: A.cfg.password, options: { authFlowType: 'USER_PASSWORD_AUTH' } }).then((r) => r.isSignedIn));
  },

  /** amazon-cognito-identity-js signs in with USER_PASSWORD_AUTH at the rig's Cognito URL. */
  cognitoJsSignIn() {
    const pool = new L.CognitoUserPool({ UserPoolId: A.cfg.poolId, ClientId: A.cfg.clientId, endpoint: A.cfg.cognitoUrl });
    const user = new L.CognitoUser({ Username: A.cfg.username, Pool: pool });
    user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
    const details = new L.AuthenticationDetails({ Username: A.cfg.username, Password: A.cfg.password });
    return settle(new Promise((resolve, reject) => user.authenticateUser(details, { onSuccess: () => resolve(true), onFailure: reject })));
  },

  /** oidc-client-ts's UserManager stores the user of a token answer `t`, as after its sign-in. */
  oidcStoreUser(t) {
    const manager = new L.OidcUserManager({ authority: A.cfg.issuer, client_id: A.cfg.clientId, redirect_uri: location.href });
    const user = new L.OidcUser({
      access_token: t.access_token,
      id_token: t.id_token,
      refresh_token: t.refresh_token,
      token_type: t.token_type,
      scope: t.scope,
      profile: {},
      expires_at: Math.floor(Date.now() / 1000) + t.expires_in,
    });
    return settle(manager.storeUser(user).then(() => true));
  },

  /**
   * A Session adopting from `from` ("amplify", "cognito-identity-js", "oidc-client-ts"), in
   * Cognito mode at the rig or, with `oauth2`, at the OpenID provider of the config.
   */
  start({ from, storage = 'session', oauth2 = false }) {
    const c = A.cfg;
    const adopt =
      from === 'amplify' ? fromAmplify() : from === 'cognito-identity-js' ? fromCognitoIdentityJs() : fromOidcClientTs({ authority: c.issuer });
    const where = oauth2 ? { tokenEndpoint: c.tokenEndpoint, issuer: c.issuer } : { userPoolId: c.poolId, endpoint: c.cognitoUrl };
    A.session = new Session({
      clientId: c.clientId,
      ...where,
      storage,
      adopt,
      allowedOrigins: [new URL(c.apiUrl).origin],
      onLoginRequired: () => A.events.push({ type: 'loginRequired' }),
    });
    A.session.subscribe((event) => A.events.push(event));
    return { adopting: true, signedInAtOnce: A.session.getSnapshot().signedIn };
  },

  /** `start(options)` at the moment `at` (ms since the epoch), so that tabs start together. */
  startAt(at, options) {
    return new Promise((resolve) => setTimeout(() => resolve(A.start(options)), at - Date.now()));
  },

  token(deadlineMs) {
    return settle(A.session.getAccessToken(deadlineMs === undefined ? undefined : { deadlineMs }));
  },

  /** The status of the API's answer to a request with the session's token (session.fetch):
   * the rig's API, or the provider's userinfo (`apiPath` "me"). */
  async callApi() {
    const res = await A.session.fetch(A.cfg.apiUrl + A.cfg.apiPath);
    return res.status;
  },

  snapshot: () => ({ ...A.session.getSnapshot() }),
  storage: () => ({ local: dump(localStorage), session: dump(sessionStorage) }),
};

A.ready = (async () => {
  await init();
  A.cfg = await (await fetch('/rig-config.json')).json();
})();

window.A = A;
