// End-to-end tests of signing out at the provider with Cognito: the built module (pkg/web/) in
// headless Chromium against moto behind the rig's proxy (which answers RevokeToken as Cognito
// does, moto having none). After `signOut({revoke})` or `signOut({global})` the test asks the
// provider itself, straight from node: the old refresh token must be refused, the old access
// token too, and every tab must be signed out. The logout page is checked by the URL the browser
// goes to.
//
//   node --test tests/e2e/signout.test.mjs   (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cognitoCall, decodeJwt, httpRequest } from './rig/rig.mjs';
import { browserRigHooks } from './rig/browser-rig.mjs';

const BACK = 'tests/e2e/pages/login.html';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowS = () => Math.floor(Date.now() / 1000);

const env = browserRigHooks();

const openTab = (context, config) => env.openHarness(context, config);

/** `page`'s session signed in with the rig's user: its refresh and access tokens. */
async function signIn(page) {
  const result = await page.evaluate(() => window.H.signIn());
  assert.deepEqual(result.value, { status: 'signedIn' }, JSON.stringify(result));
  return page.evaluate(async () => ({ refresh: window.H.record().refresh, access: await window.H.session.getAccessToken() }));
}

/** `signOut(options)` in the page: `{ok}` or the error's `{code, providerCode, message}`. */
function signOut(page, options) {
  return page.evaluate(async (options) => {
    try {
      await window.H.session.signOut(options);
      return { ok: true };
    } catch (e) {
      return { ok: false, code: e.code, providerCode: e.providerCode ?? null, message: e.message };
    }
  }, options);
}

const signedIn = (page) => page.evaluate(() => window.H.session.getSnapshot().signedIn);

/** Polls until `page`'s session is signed out (another tab follows through storage), or fails. */
async function untilSignedOut(page) {
  for (let i = 0; i < 50; i += 1) {
    if (!(await signedIn(page))) return;
    await sleep(40);
  }
  assert.fail('the tab did not follow the sign-out');
}

/** A refresh with `refreshToken` straight at the provider (the rig's proxy), not the page's. */
function refreshAtProvider(refreshToken) {
  return cognitoCall(env.rig.cognitoUrl, 'InitiateAuth', { ClientId: env.rig.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } });
}

/** The rig's API with `accessToken`: its status. */
async function apiWith(accessToken) {
  return (await httpRequest(`${env.rig.apiUrl}api/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

describe('signing out at Cognito (moto behind the proxy) in Chromium', { concurrency: false }, () => {
  test('signOut({revoke: true}) with two tabs on localStorage: RevokeToken with the refresh token held, both tabs signed out, and the provider refuses the old tokens', { timeout: 30000 }, async (t) => {
    env.rig.control.reset();
    const context = await env.browser.newContext();
    try {
      const a = await openTab(context, { storage: 'local' });
      const b = await openTab(context, { storage: 'local' });
      const held = await signIn(a.page);
      await b.page.waitForFunction(() => window.H.session.getSnapshot().signedIn, null, { timeout: 5000 });
      assert.equal((await refreshAtProvider(held.refresh)).status, 200, 'the refresh token works before');
      assert.equal(await apiWith(held.access), 200);

      assert.deepEqual(await signOut(a.page, { revoke: true }), { ok: true });
      assert.deepEqual(a.sent.at(-1), { operation: 'RevokeToken', body: { ClientId: env.rig.clientId, Token: held.refresh } });
      assert.equal(await signedIn(a.page), false);
      await untilSignedOut(b.page);
      assert.equal(b.sent.length, 0, 'the other tab sent nothing');
      assert.deepEqual((await b.page.evaluate(() => window.H.tokens(1, 200))).map((r) => r.code), ['NOT_SIGNED_IN']);

      const refused = await refreshAtProvider(held.refresh);
      assert.deepEqual([refused.status, refused.json?.__type, refused.json?.message], [400, 'NotAuthorizedException', 'Refresh Token has been revoked']);
      assert.equal(await apiWith(held.access), 401, 'the access token issued with it is revoked too');
      assert.deepEqual([...a.pageErrors, ...b.pageErrors], []);
      t.diagnostic('RevokeToken: the old refresh token answers NotAuthorizedException, both tabs signed out');
    } finally {
      await context.close();
    }
  });

  test('signOut({global: true}): GlobalSignOut with the access token held; moto then refuses it (GetUser) and the refresh token', { timeout: 30000 }, async () => {
    env.rig.control.reset();
    const context = await env.browser.newContext();
    try {
      const tab = await openTab(context);
      const held = await signIn(tab.page);
      assert.deepEqual(await signOut(tab.page, { global: true, revoke: true }), { ok: true });
      assert.deepEqual(tab.sent.slice(1), [{ operation: 'GlobalSignOut', body: { AccessToken: held.access } }], 'GlobalSignOut alone: it revokes the refresh token too');
      const getUser = await env.rig.control.admin('GetUser', { AccessToken: held.access });
      assert.deepEqual([getUser.status, getUser.json?.__type], [400, 'NotAuthorizedException']);
      assert.equal((await refreshAtProvider(held.refresh)).json?.__type, 'NotAuthorizedException');
      assert.equal(await signedIn(tab.page), false);
      assert.deepEqual(tab.pageErrors, []);
    } finally {
      await context.close();
    }
  });

  test('signOut({global: true}) with an expired access token: the refresh token buys a fresh one first, never installed, and GlobalSignOut uses it', { timeout: 30000 }, async () => {
    env.rig.control.reset();
    const context = await env.browser.newContext();
    try {
      const tab = await openTab(context);
      // A hidden tab does not refresh on its own: the session still holds the expired token.
      await tab.page.evaluate(() => window.H.setHidden(true));
      const moto = await env.rig.control.signIn();
      const expired = env.rig.control.mintToken({ tokenUse: 'access', iat: nowS() - 3600, expiresInS: 3000 });
      assert.deepEqual(await tab.page.evaluate((tk) => window.H.setTokens(tk), { accessToken: expired, refreshToken: moto.RefreshToken }), { ok: true });

      assert.deepEqual(await signOut(tab.page, { global: true }), { ok: true });
      const [refresh, global] = tab.sent;
      assert.equal(tab.sent.length, 2);
      assert.deepEqual([refresh.operation, refresh.body.AuthFlow, refresh.body.AuthParameters.REFRESH_TOKEN], ['InitiateAuth', 'REFRESH_TOKEN_AUTH', moto.RefreshToken]);
      assert.equal(global.operation, 'GlobalSignOut');
      const fresh = global.body.AccessToken;
      assert.notEqual(fresh, expired);
      assert.ok(decodeJwt(fresh).claims.exp > nowS(), 'a fresh access token');
      assert.equal((await env.rig.control.admin('GetUser', { AccessToken: fresh })).json?.__type, 'NotAuthorizedException', 'signed out everywhere');
      assert.equal(await signedIn(tab.page), false);
      assert.equal(await tab.page.evaluate(() => window.H.record()), null, 'the fresh tokens were never stored');
      assert.equal(env.rig.counts().api.total, 0, 'no API call was made with any token');
      assert.deepEqual(tab.pageErrors, []);
    } finally {
      await context.close();
    }
  });

  test('a provider call that fails rejects with its typed error, which says the session was signed out here, as it was', { timeout: 30000 }, async () => {
    env.rig.control.reset();
    const context = await env.browser.newContext();
    try {
      const tab = await openTab(context);
      const held = await signIn(tab.page);
      env.rig.control.setFault({ mode: 'internal', operations: ['RevokeToken'], count: 1 });
      const out = await signOut(tab.page, { revoke: true });
      assert.deepEqual([out.ok, out.code, out.providerCode], [false, 'UNAVAILABLE', 'InternalErrorException'], JSON.stringify(out));
      assert.match(out.message, /^signed out here, not at the provider: /);
      assert.equal(await signedIn(tab.page), false);
      assert.equal(await tab.page.evaluate(() => window.H.record()), null);
      assert.equal((await refreshAtProvider(held.refresh)).status, 200, 'the revocation did not happen: the provider still honours the token');
      assert.deepEqual(tab.pageErrors, []);
    } finally {
      env.rig.control.clearFault();
      await context.close();
    }
  });

  test("signOut({redirect: true}) goes to Cognito's /logout with client_id and logout_uri; options that cannot work change nothing", { timeout: 45000 }, async () => {
    env.rig.control.reset();
    const context = await env.browser.newContext();
    try {
      const plain = await openTab(context);
      await signIn(plain.page);
      const refused = await signOut(plain.page, { redirect: true });
      assert.deepEqual([refused.ok, refused.code], [false, 'BAD_CONFIG']);
      assert.match(refused.message, /logout endpoint/);
      const misspelt = await signOut(plain.page, { revoked: true });
      assert.deepEqual([misspelt.ok, misspelt.code], [false, 'BAD_CONFIG']);
      assert.equal(await signedIn(plain.page), true, 'a refused sign-out does nothing');
      assert.equal(plain.sent.length, 1);

      // Cognito's managed login, stood in for by Playwright: the page goes there and stays.
      const logoutEndpoint = 'https://auth.example.com/logout?lang=en';
      const tab = await openTab(context, { logoutEndpoint, postLogoutRedirectUri: `${env.site.url}${BACK}` });
      await tab.page.route('https://auth.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Signed out</title>' }));
      await signIn(tab.page);
      const going = tab.page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith('https://auth.example.com/logout'), { timeout: 10000 });
      // Started after evaluate returns: the page leaves at once, nothing being sent first.
      await tab.page.evaluate(() => {
        setTimeout(() => window.H.session.signOut({ redirect: true }), 0);
      });
      const url = new URL((await going).url());
      assert.deepEqual(Object.fromEntries(url.searchParams), { lang: 'en', client_id: env.rig.clientId, logout_uri: `${env.site.url}${BACK}` });
      assert.deepEqual([...plain.pageErrors, ...tab.pageErrors], []);
    } finally {
      await context.close();
    }
  });
});
