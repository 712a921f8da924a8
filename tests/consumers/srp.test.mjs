// SRP sign-in as a user takes it: the packed tarball installed with npm, a page without a build
// step importing `cognito-session/web` and `cognito-session/srp` through an import map, in
// headless Chromium against moto's Cognito behind the rig's proxy. A user created with a
// permanent password (AdminCreateUser, then AdminSetUserPassword Permanent) signs in with
// signInWithSrp, and the access token the session then hands out is one the rig's API accepts.
//
// What moto 5.2.5 checks, read in .tools/venv/.../moto/cognitoidp/models.py, and so what this
// test proves and what it does not:
// - InitiateAuth USER_SRP_AUTH requires an SRP_A and an enabled, confirmed user; it never looks
//   at A's value. It answers PASSWORD_VERIFIER with a random SALT and SRP_B (32 hex digits
//   each), USERNAME, USER_ID_FOR_SRP (the user's internal id) and SECRET_BLOCK = its Session (a
//   UUID, which the entry reads as URL-safe base64).
// - RespondToAuthChallenge PASSWORD_VERIFIER finds the sign-in by the PASSWORD_CLAIM_SECRET_BLOCK
//   sent back, the user by USERNAME, and requires a non-empty PASSWORD_CLAIM_SIGNATURE and
//   TIMESTAMP. It verifies neither the signature nor the password: any claim signs the user in.
// So this test proves the wiring — the requests' shape, the secret block sent back unchanged,
// the user id moto looks the user up by, the password never sent, the tokens installed and
// accepted by the API, the errors typed — and not the arithmetic: that the signature is the one
// Cognito expects is what tests/consumers/srp-unit.test.mjs proves, against RFC 5054's vectors
// and amazon-cognito-identity-js.
//
// The rig's pool here signs users in with their email (UsernameAttributes), so the user's name in
// the pool is an internal id, not what the user typed: Cognito (and moto, in such a pool) sends
// that id as both USERNAME and USER_ID_FOR_SRP, the claim is signed for it and answers as it. (In
// a pool of plain user names moto's USER_ID_FOR_SRP is an id it cannot look the user up by, where
// Cognito's equals USERNAME.) Its app client allows SRP only (moto does not enforce
// ExplicitAuthFlows; Cognito does).
//
//   node --test tests/consumers/srp.test.mjs
//   (needs scripts/bootstrap.sh and tests/e2e/rig/setup.sh first; builds and packs what is stale)

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CONSUMERS_DIR,
  REPO_ROOT,
  badTokenRequests,
  decodeJwt,
  installApp,
  launchChromium,
  removeApp,
  run,
  startRig,
  startStaticServer,
  watchPage,
} from './lib.mjs';

const TSC = path.join(REPO_ROOT, 'tests', 'e2e', 'node_modules', 'typescript', 'bin', 'tsc');
const USERNAME = 'srp.user@example.com';
const TARGET = 'AWSCognitoIdentityProviderService.';

let rig;
let site;
let browser;
let appDir;

before(async () => {
  appDir = await installApp(path.join(CONSUMERS_DIR, 'srp-app'));
  rig = await startRig({
    username: USERNAME,
    poolConfig: { UsernameAttributes: ['email'] },
    clientConfig: { ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] },
  });
  site = await startStaticServer({ dir: appDir, config: () => rig.control.config() });
  browser = await launchChromium();
}, { timeout: 600000 });

after(async () => {
  if (browser) await browser.close();
  if (site) await site.close();
  if (rig) await rig.stop();
  removeApp(appDir);
});

/**
 * The page in a fresh browser context, with every request it sends (`{url, body}`) and every
 * Cognito call and answer (`{operation, body, answer}`) recorded.
 */
async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const obs = watchPage(page);
  const requests = [];
  const cognito = [];
  page.on('request', (r) => {
    requests.push({ url: r.url(), body: r.postData() ?? '' });
    const target = r.headers()['x-amz-target'];
    if (r.method() === 'POST' && target?.startsWith(TARGET)) {
      const call = { operation: target.slice(TARGET.length), body: JSON.parse(r.postData()) };
      cognito.push(call);
      r.response().then(
        async (res) => {
          call.answer = await res.json();
        },
        () => {},
      );
    }
  });
  await page.goto(`${site.url}index.html`);
  await page.evaluate(() => window.page);
  return { page, obs, requests, cognito, close: () => context.close() };
}

describe('cognito-session/srp from the packed tarball', { concurrency: false }, () => {
  test('a user with a permanent password signs in with SRP; the API accepts the token; the password is never sent', { timeout: 60000 }, async () => {
    rig.control.reset();
    const { page, obs, requests, cognito, close } = await openPage();
    try {
      const { password } = rig.control.config();
      const outcome = await page.evaluate(([u, p]) => window.page.then((app) => app.signIn(u, p)), [USERNAME, password]);
      assert.deepEqual(outcome, { result: { status: 'signedIn' } });

      assert.deepEqual(cognito.map((c) => c.operation), ['InitiateAuth', 'RespondToAuthChallenge']);
      const [start, claim] = cognito;
      assert.equal(start.body.AuthFlow, 'USER_SRP_AUTH');
      assert.equal(start.body.ClientId, rig.clientId);
      assert.deepEqual(Object.keys(start.body.AuthParameters).sort(), ['SRP_A', 'USERNAME']);
      assert.equal(start.body.AuthParameters.USERNAME, USERNAME);
      assert.match(start.body.AuthParameters.SRP_A, /^[1-9a-f][0-9a-f]{700,767}$/, 'A: lowercase hex, a 3072-bit group element');

      const challenge = start.answer;
      assert.equal(challenge.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(claim.body.ChallengeName, 'PASSWORD_VERIFIER');
      assert.equal(claim.body.ClientId, rig.clientId);
      assert.equal(claim.body.Session, challenge.Session);
      const responses = claim.body.ChallengeResponses;
      assert.deepEqual(Object.keys(responses).sort(), ['PASSWORD_CLAIM_SECRET_BLOCK', 'PASSWORD_CLAIM_SIGNATURE', 'TIMESTAMP', 'USERNAME']);
      const { USERNAME: name, USER_ID_FOR_SRP: userId } = challenge.ChallengeParameters;
      assert.equal(name, userId, 'an email pool: the user is named by one id');
      assert.notEqual(userId, USERNAME);
      assert.equal(responses.USERNAME, userId, 'answers as the user the challenge names, not as the email typed');
      assert.equal(responses.PASSWORD_CLAIM_SECRET_BLOCK, challenge.ChallengeParameters.SECRET_BLOCK, 'the secret block sent back unchanged');
      assert.equal(Buffer.from(responses.PASSWORD_CLAIM_SIGNATURE, 'base64').length, 32, 'an HMAC-SHA256, base64');
      assert.match(responses.TIMESTAMP, /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} [1-9]\d? \d\d:\d\d:\d\d UTC \d{4}$/);
      const stamped = Date.parse(responses.TIMESTAMP.replace(/^\w+ (\w+) (\d+) ([\d:]+) UTC (\d+)$/, '$1 $2 $4 $3 UTC'));
      assert.ok(Math.abs(stamped - Date.now()) < 60000, `TIMESTAMP ${responses.TIMESTAMP} is now`);

      for (const r of requests) {
        assert.ok(!r.body.includes(password) && !r.url.includes(encodeURIComponent(password)), `the password went out to ${r.url}`);
      }

      const token = await page.evaluate(() => window.page.then((app) => app.token()));
      assert.equal(typeof token, 'string', JSON.stringify(token));
      const claims = decodeJwt(token).claims;
      assert.equal(claims.token_use, 'access');
      assert.equal(claims.client_id, rig.clientId);
      assert.equal(claims.sub, rig.userSub);
      const api = await page.evaluate(() => window.page.then((app) => app.callApi()));
      assert.equal(api.status, 200, JSON.stringify(api.body));
      assert.equal(api.body.sub, rig.userSub);
      const counts = rig.control.counts();
      assert.equal(counts.api.ok, 1);
      assert.equal(badTokenRequests(counts), 0);
      assert.equal((await page.evaluate(() => window.page.then((app) => app.snapshot()))).signedIn, true);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('an unknown user is refused with NOT_SIGNED_IN, a session error, and no claim is sent', { timeout: 60000 }, async () => {
    const { page, obs, cognito, close } = await openPage();
    try {
      const outcome = await page.evaluate(() => window.page.then((app) => app.signIn('nobody@example.com', 'whatever')));
      assert.equal(outcome.error?.code, 'NOT_SIGNED_IN', JSON.stringify(outcome));
      assert.equal(outcome.error.providerCode, 'UserNotFoundException');
      assert.equal(outcome.error.sessionError, true, "the web entry's isSessionError knows the entry's errors");
      assert.deepEqual(cognito.map((c) => c.operation), ['InitiateAuth']);
      assert.deepEqual(obs.pageErrors, []);
    } finally {
      await close();
    }
  });

  test('its types take either entry\'s Session and resolve a SignInResult (tsc --strict)', { timeout: 120000 }, async () => {
    await run(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'esnext,dom', 'types-check.ts'], {
      cwd: appDir,
      timeoutMs: 110000,
    });
  });

  test('a password that is not a string rejects with BAD_CONFIG and sends nothing', { timeout: 60000 }, async () => {
    const { page, cognito, close } = await openPage();
    try {
      const typed = await page.evaluate((u) => window.page.then((app) => app.signIn(u, 12345)), USERNAME);
      assert.equal(typed.error?.code, 'BAD_CONFIG', JSON.stringify(typed));
      assert.equal(typed.error.name, 'CognitoSessionError');
      assert.equal(typed.error.sessionError, true);
      assert.deepEqual(cognito, []);
    } finally {
      await close();
    }
  });
});
