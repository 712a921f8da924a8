// End-to-end tests of `cognito-session/adopt` (pkg-template/adopt.js): a page signed in for real
// with Amplify v6 or amazon-cognito-identity-js against moto (behind the rig's counting proxy),
// or holding oidc-client-ts's user from oidc-provider, is reloaded with cognito-session and
// `adopt` set. The counts are the proxy's (password sign-ins, refreshes) and the provider's.
//
// The libraries are the npm packages in tests/e2e/adopt-libs (installed by tests/e2e/rig/
// setup.sh), bundled here with the project's esbuild into tests/e2e/adopt-libs/dist/.
//
// How a test makes the adopted session need a refresh at once: the rig (or the provider) issues
// the other library's tokens with a 30 s lifetime, which is never enough to hand out (a token
// must stay valid 30 s more), so the first getAccessToken after the adoption refreshes, through
// cognito-session, with the refresh token the other library stored.
//
//   node --test tests/e2e/adopt.test.mjs    (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, decodeJwt, startRig } from './rig/rig.mjs';
import { launchChromium } from './rig/browser.mjs';
import { startOidcProvider } from './rig/oidc.mjs';
import { startStaticServer } from './rig/serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const LIBS = path.join(REPO_ROOT, 'tests', 'e2e', 'adopt-libs');
const ESBUILD = path.join(REPO_ROOT, '.tools', 'node_modules', '.bin', 'esbuild');
const PAGE = 'tests/e2e/pages/adopt.html';
/** The other library's tokens live this long: never long enough to be handed out. */
const UNUSABLE_LIFETIME_S = 30;
const PASSWORD_SIGN_IN = 'InitiateAuth/USER_PASSWORD_AUTH';
const REFRESH = 'InitiateAuth/REFRESH_TOKEN_AUTH';

let rig;
let op;
let site;
let browser;
/** What /rig-config.json answers: the rig's, plus the OpenID provider's for the oidc test. */
let siteConfig = {};

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh (or scripts/e2e.sh, which builds)`);
  if (!fs.existsSync(path.join(LIBS, 'node_modules', 'aws-amplify'))) throw new Error(`${LIBS}/node_modules is missing: run tests/e2e/rig/setup.sh`);
  execFileSync(
    ESBUILD,
    ['entry.js', '--bundle', '--format=esm', '--platform=browser', '--target=es2022', '--define:global=globalThis', '--outfile=dist/libs.js', '--log-level=warning'],
    { cwd: LIBS, stdio: 'inherit' },
  );
  rig = await startRig();
  site = await startStaticServer({ dir: REPO_ROOT, config: () => siteConfig });
  op = await startOidcProvider({ siteOrigin: new URL(site.url).origin });
  siteConfig = { ...rig.control.config(), apiPath: 'api/data' };
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (op) await op.stop();
  if (site) await site.close();
  if (rig) await rig.stop();
});

/** The page in `context`, ready, with its uncaught errors collected. */
async function openPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e?.stack || e)));
  await page.goto(`${site.url}${PAGE}`);
  await page.evaluate(() => window.A.ready);
  return { page, errors };
}

/** The page loaded again (same storage), as a user's next visit with the new build. */
async function reload(page) {
  await page.reload();
  await page.evaluate(() => window.A.ready);
}

/** Runs `body(context)` in a new browser context (its own storage), the rig's counts reset. */
async function inFreshContext(body) {
  rig.control.reset();
  rig.control.setTokenLifetime(null);
  siteConfig = { ...rig.control.config(), apiPath: 'api/data' };
  const context = await browser.newContext();
  try {
    await body(context);
  } finally {
    await context.close();
  }
}

const calls = (op) => rig.counts().proxy.byOperation[op]?.total ?? 0;
const cognitoKeys = (storage) => Object.keys(storage).filter((k) => k.startsWith(`CognitoIdentityServiceProvider.${rig.clientId}.`));
const events = (page) => page.evaluate(() => window.A.events);
const ofType = (list, type) => list.filter((e) => e.type === type);

/**
 * Signs in with `signIn` ("amplifySignIn" or "cognitoJsSignIn") on a fresh page, checks that the
 * library stored its session, and answers the page and what it stored.
 */
async function signedInWith(context, signIn) {
  const { page, errors } = await openPage(context);
  rig.control.setTokenLifetime(UNUSABLE_LIFETIME_S);
  const result = await page.evaluate((f) => window.A[f](), signIn);
  rig.control.setTokenLifetime(null);
  assert.deepEqual(result, { ok: true, value: true }, `${signIn}: ${JSON.stringify(result)}`);
  const { local } = await page.evaluate(() => window.A.storage());
  const base = `CognitoIdentityServiceProvider.${rig.clientId}`;
  const user = local[`${base}.LastAuthUser`];
  assert.ok(user, `no LastAuthUser after ${signIn}: ${JSON.stringify(Object.keys(local))}`);
  const stored = { user, accessToken: local[`${base}.${user}.accessToken`], refreshToken: local[`${base}.${user}.refreshToken`] };
  assert.equal(decodeJwt(stored.accessToken).claims.client_id, rig.clientId);
  assert.ok(stored.refreshToken, 'no refresh token stored');
  assert.equal(calls(PASSWORD_SIGN_IN), 1, 'the library signed in once');
  return { page, errors, local, stored };
}

/** The adoption of a real library's session: the assertions of issue 15's first item. */
async function adoptsTheSession(signIn, from, storage) {
  await inFreshContext(async (context) => {
    const { page, errors, stored } = await signedInWith(context, signIn);
    await reload(page);
    const start = await page.evaluate((o) => window.A.start(o), { from, storage });
    const token = await page.evaluate(() => window.A.token());
    assert.equal(token.ok, true, `getAccessToken after adopting: ${JSON.stringify(token)}`);
    // 0 password sign-ins after the reload: the one is the library's own, before it.
    assert.equal(calls(PASSWORD_SIGN_IN), 1, 'a password sign-in after the reload');
    // The adopted token could not be handed out: the token came from a refresh by cognito-session,
    // with the refresh token the library had stored.
    assert.equal(calls(REFRESH), 1);
    const refresh = rig.counts().proxy.events.filter((e) => e.op === REFRESH);
    assert.equal(refresh.length, 1);
    assert.notEqual(token.value, stored.accessToken);
    assert.equal(decodeJwt(token.value).claims.client_id, rig.clientId);
    assert.equal(await page.evaluate(() => window.A.callApi()), 200, 'the API refused the token');
    const snapshot = await page.evaluate(() => window.A.snapshot());
    assert.equal(snapshot.signedIn, true);
    const seen = await events(page);
    assert.deepEqual(ofType(seen, 'adopted'), [{ type: 'adopted', from }]);
    assert.deepEqual(ofType(seen, 'adoptionRefused'), []);
    assert.ok(seen.findIndex((e) => e.type === 'signedIn') < seen.findIndex((e) => e.type === 'adopted'), JSON.stringify(seen));
    assert.equal(ofType(seen, 'refreshed').length, 1);
    // The old keys are gone; cognito-session's record holds the session, with the library's
    // refresh token.
    const after = await page.evaluate(() => window.A.storage());
    const area = storage === 'local' ? after.local : after.session;
    assert.deepEqual(cognitoKeys(after.local), [], 'the library\'s keys are still there');
    const record = JSON.parse(area[`cognito-session:${rig.poolId}:${rig.clientId}`]);
    assert.equal(record.refresh, stored.refreshToken);
    assert.equal(record.access, token.value);
    // A reload now resumes cognito-session's own session: nothing to adopt, no sign-in.
    await reload(page);
    await page.evaluate((o) => window.A.start(o), { from, storage });
    const again = await page.evaluate(() => window.A.token());
    assert.deepEqual(again, token);
    assert.deepEqual(ofType(await events(page), 'adopted'), []);
    assert.equal(calls(PASSWORD_SIGN_IN), 1);
    assert.equal(start.signedInAtOnce, false);
    assert.deepEqual(errors, []);
  });
}

describe('adopting another library\'s session', () => {
  test('Amplify v6: a page signed in with it is reloaded with cognito-session and stays signed in, without a password sign-in', async () => {
    await adoptsTheSession('amplifySignIn', 'amplify', 'session');
  });

  test('amazon-cognito-identity-js: the same, into localStorage', async () => {
    await adoptsTheSession('cognitoJsSignIn', 'cognito-identity-js', 'local');
  });

  test('a record that does not read is left in place with an adoptionRefused event', async () => {
    await inFreshContext(async (context) => {
      const { page, errors } = await openPage(context);
      const base = `CognitoIdentityServiceProvider.${rig.clientId}`;
      const planted = { [`${base}.LastAuthUser`]: 'rig-user', [`${base}.rig-user.accessToken`]: 'not-a-jwt', [`${base}.rig-user.refreshToken`]: 'r' };
      await page.evaluate((p) => {
        for (const [k, v] of Object.entries(p)) localStorage.setItem(k, v);
        // oidc-client-ts's user, cut short.
        sessionStorage.setItem(`oidc.user:${window.A.cfg.issuer}:${window.A.cfg.clientId}`, '{"access_token":"x"');
      }, planted);
      await page.evaluate(() => window.A.start({ from: 'amplify' }));
      const token = await page.evaluate(() => window.A.token());
      assert.equal(token.code, 'NOT_SIGNED_IN', JSON.stringify(token));
      const seen = await events(page);
      const refused = ofType(seen, 'adoptionRefused');
      assert.equal(refused.length, 1, JSON.stringify(seen));
      assert.equal(refused[0].from, 'amplify');
      assert.match(refused[0].detail, /access token/);
      assert.deepEqual(ofType(seen, 'adopted'), []);
      assert.deepEqual(ofType(seen, 'signedIn'), []);
      const { local } = await page.evaluate(() => window.A.storage());
      for (const [k, v] of Object.entries(planted)) assert.equal(local[k], v, `${k} was touched`);

      await reload(page);
      await page.evaluate(() => window.A.start({ from: 'oidc-client-ts' }));
      assert.equal((await page.evaluate(() => window.A.token())).code, 'NOT_SIGNED_IN');
      const oidcRefused = ofType(await events(page), 'adoptionRefused');
      assert.deepEqual(oidcRefused, [{ type: 'adoptionRefused', from: 'oidc-client-ts', detail: 'the stored user is not JSON' }]);
      const { session } = await page.evaluate(() => window.A.storage());
      assert.equal(session[`oidc.user:${rig.issuer}:${rig.clientId}`], '{"access_token":"x"');
      assert.equal(rig.counts().proxy.total, 0, 'a refused record sent something');
      assert.deepEqual(errors, []);
    });
  });

  test('tokens of another app client under this client\'s keys are refused by the engine and left in place', async () => {
    const other = await rig.control.admin('CreateUserPoolClient', {
      UserPoolId: rig.poolId,
      ClientName: 'another-app',
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    });
    const otherId = other.json.UserPoolClient.ClientId;
    await inFreshContext(async (context) => {
      const { page, errors } = await openPage(context);
      // Amplify signed in for real with the other app client; its keys copied to this client's.
      assert.deepEqual(await page.evaluate((id) => window.A.amplifySignIn(id), otherId), { ok: true, value: true });
      const planted = await page.evaluate(
        ([from, to]) => {
          const out = {};
          for (const k of Object.keys(localStorage)) {
            if (k.startsWith(`CognitoIdentityServiceProvider.${from}.`)) out[k.replace(from, to)] = localStorage.getItem(k);
          }
          for (const [k, v] of Object.entries(out)) localStorage.setItem(k, v);
          return out;
        },
        [otherId, rig.clientId],
      );
      assert.ok(Object.keys(planted).length >= 4, JSON.stringify(Object.keys(planted)));
      await reload(page);
      await page.evaluate(() => window.A.start({ from: 'amplify', storage: 'local' }));
      const token = await page.evaluate(() => window.A.token());
      assert.equal(token.code, 'NOT_SIGNED_IN', JSON.stringify(token));
      const refused = ofType(await events(page), 'adoptionRefused');
      assert.equal(refused.length, 1);
      assert.match(refused[0].detail, /client/i, refused[0].detail);
      const { local } = await page.evaluate(() => window.A.storage());
      for (const [k, v] of Object.entries(planted)) assert.equal(local[k], v, `${k} was touched`);
      assert.equal(local[`cognito-session:${rig.poolId}:${rig.clientId}`], undefined);
      assert.equal(calls(REFRESH), 0);
      assert.deepEqual(errors, []);
    });
  });

  test('two tabs starting together adopt once and refresh once', async () => {
    await inFreshContext(async (context) => {
      const { page: first, stored } = await signedInWith(context, 'amplifySignIn');
      const { page: second } = await openPage(context);
      await reload(first);
      const at = Date.now() + 300;
      await Promise.all([first, second].map((p) => p.evaluate((t) => window.A.startAt(t, { from: 'amplify', storage: 'local' }), at)));
      const tokens = await Promise.all([first, second].map((p) => p.evaluate(() => window.A.token())));
      for (const t of tokens) assert.equal(t.ok, true, JSON.stringify(t));
      assert.equal(tokens[0].value, tokens[1].value);
      const seen = [...(await events(first)), ...(await events(second))];
      assert.equal(ofType(seen, 'adopted').length, 1, JSON.stringify(seen));
      assert.deepEqual(ofType(seen, 'adoptionRefused'), []);
      assert.equal(calls(REFRESH), 1);
      assert.equal(calls(PASSWORD_SIGN_IN), 1);
      const refreshTokens = rig.counts().proxy.events.filter((e) => e.op === REFRESH);
      assert.equal(refreshTokens.length, 1);
      const { local } = await first.evaluate(() => window.A.storage());
      assert.deepEqual(cognitoKeys(local), []);
      assert.equal(JSON.parse(local[`cognito-session:${rig.poolId}:${rig.clientId}`]).refresh, stored.refreshToken);
    });
  });

  test('a caller waits for the adoption within its deadline, and a lock held too long leaves the keys for the next load', async () => {
    await inFreshContext(async (context) => {
      const { page: first, local } = await signedInWith(context, 'amplifySignIn');
      const { page: holder } = await openPage(context);
      // Another tab holds the adoption lock (as a tab frozen mid-adoption would) for 5 s.
      await holder.evaluate((name) => {
        window.held = new Promise((granted) => {
          navigator.locks.request(name, () => {
            granted();
            return new Promise((release) => setTimeout(release, 5000));
          });
        });
        return window.held;
      }, `cognito-session:adopt CognitoIdentityServiceProvider.${rig.clientId}`);
      await reload(first);
      await first.evaluate(() => window.A.start({ from: 'amplify', storage: 'local' }));
      const started = Date.now();
      const early = await first.evaluate(() => window.A.token(200));
      assert.equal(early.code, 'UNAVAILABLE', JSON.stringify(early));
      assert.ok(Date.now() - started < 2000);
      // The adoption gives up after 3 s; then a caller is told nobody is signed in.
      const late = await first.evaluate(() => window.A.token(10000));
      assert.equal(late.code, 'NOT_SIGNED_IN', JSON.stringify(late));
      const waited = Date.now() - started;
      assert.ok(waited >= 2900 && waited < 4900, `waited ${waited} ms`);
      const refused = ofType(await events(first), 'adoptionRefused');
      assert.equal(refused.length, 1);
      assert.match(refused[0].detail, /adoption lock/);
      const after = (await first.evaluate(() => window.A.storage())).local;
      assert.deepEqual(cognitoKeys(after).sort(), cognitoKeys(local).sort());
      assert.equal(calls(REFRESH), 0);
    });
  });

  test('oidc-client-ts: its stored user is adopted and refreshed once at the provider, whose refresh tokens rotate', async () => {
    op.reset();
    op.setTokenLifetime(UNUSABLE_LIFETIME_S);
    const answer = await op.signIn();
    op.setTokenLifetime(3600);
    op.reset();
    const context = await browser.newContext();
    try {
      siteConfig = { apiUrl: `${op.issuer}/`, apiPath: 'me', tokenEndpoint: op.tokenEndpoint, issuer: op.issuer, clientId: op.clientId };
      const { page, errors } = await openPage(context);
      assert.deepEqual(await page.evaluate((t) => window.A.oidcStoreUser(t), answer), { ok: true, value: true });
      const key = `oidc.user:${op.issuer}:${op.clientId}`;
      const stored = JSON.parse((await page.evaluate(() => window.A.storage())).session[key]);
      assert.equal(stored.refresh_token, answer.refresh_token);
      await reload(page);
      await page.evaluate(() => window.A.start({ from: 'oidc-client-ts', oauth2: true }));
      const token = await page.evaluate(() => window.A.token());
      assert.equal(token.ok, true, JSON.stringify(token));
      assert.notEqual(token.value, answer.access_token);
      const counts = op.counts();
      assert.equal(counts.refresh, 1);
      assert.deepEqual(counts.refreshTokensSeen, [answer.refresh_token]);
      assert.deepEqual(counts.refreshRefused, []);
      assert.equal(counts.codeExchanges, 0);
      assert.equal(await op.isActive(token.value), true);
      assert.equal(await page.evaluate(() => window.A.callApi()), 200);
      const seen = await events(page);
      assert.deepEqual(ofType(seen, 'adopted'), [{ type: 'adopted', from: 'oidc-client-ts' }]);
      const { session } = await page.evaluate(() => window.A.storage());
      assert.equal(session[key], undefined, 'oidc-client-ts\'s user is still stored');
      const record = JSON.parse(session[`cognito-session:${op.tokenEndpoint}:${op.clientId}`]);
      assert.notEqual(record.refresh, answer.refresh_token, 'the rotated refresh token was not kept');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
