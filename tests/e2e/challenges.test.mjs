// End-to-end tests of Cognito sign-in through its challenges: the built module (pkg/web/) in
// headless Chromium against moto behind the rig's proxy. An admin-created user passes
// NEW_PASSWORD_REQUIRED, a user with a TOTP authenticator passes SOFTWARE_TOKEN_MFA (moto checks
// the code: the rig starts it with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP, and the test computes
// real RFC 6238 codes from the secret AssociateSoftwareToken hands out), and the challenges moto
// never asks for (SELECT_MFA_TYPE, EMAIL_OTP) are Cognito's recorded answers, which the proxy
// plays back. Every test asserts what went over the wire, not only what the page saw.
//
//   node --test tests/e2e/challenges.test.mjs   (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeJwt } from './rig/rig.mjs';
import { browserRigHooks } from './rig/browser-rig.mjs';


const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const env = browserRigHooks();

/** The harness in a fresh context with a session made, recording every Cognito call it sends:
 * `{operation, body}`. */
async function openPage() {
  const context = await env.browser.newContext();
  return { ...(await env.openHarness(context)), close: () => context.close() };
}

/**
 * Runs a session method in the page: `{ok: true, value}` or `{ok: false, code, providerCode,
 * message}`. `challenge` (a value an earlier step resolved with) is handed back as it came.
 */
function step(page, method, ...args) {
  return page.evaluate(
    async ([method, args]) => {
      try {
        const value = await window.H.session[method](...args);
        return { ok: true, value, frozen: value?.parameters ? Object.isFrozen(value.parameters) : null };
      } catch (e) {
        return { ok: false, code: e.code ?? null, providerCode: e.providerCode ?? null, message: String(e.message) };
      }
    },
    [method, args],
  );
}

/** The SRP entry's hook, as it calls it. */
function srpStart(page, username, srpA) {
  return page.evaluate(
    async ([username, srpA]) => {
      try {
        return { ok: true, value: await window.H.session[Symbol.for('cognito-session.srp')](username, srpA) };
      } catch (e) {
        return { ok: false, code: e.code ?? null, message: String(e.message) };
      }
    },
    [username, srpA],
  );
}

async function admin(operation, payload) {
  const r = await env.rig.control.admin(operation, payload);
  assert.equal(r.status, 200, `${operation}: ${r.text}`);
  return r.json;
}

/** RFC 4648 base32 (Cognito's SecretCode), padding optional. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.toUpperCase().replace(/=+$/, '')) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${text}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (HMAC-SHA1, 30 s steps, 6 digits) for `secret` at `atMs`. */
function totp(secret, atMs = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = crypto.createHmac('sha1', base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** A code valid for at least 5 more seconds (moto accepts the current step only). */
async function freshTotp(secret) {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 5_000) await sleep(left + 100);
  return totp(secret);
}

function assertSignedIn(result) {
  assert.deepEqual(result, { ok: true, value: { status: 'signedIn' }, frozen: null });
}

describe('Cognito challenges in Chromium against moto', { concurrency: false }, () => {
  test('an admin-created user signs in through NEW_PASSWORD_REQUIRED, after a refused password and a misfit answer', { timeout: 30000 }, async () => {
    env.rig.control.reset();
    const username = `newbie-${crypto.randomUUID().slice(0, 8)}`;
    await admin('AdminCreateUser', { UserPoolId: env.rig.poolId, Username: username, TemporaryPassword: 'Temp-passw0rd!', MessageAction: 'SUPPRESS' });
    const { page, sent, pageErrors, close } = await openPage();
    try {
      const first = await step(page, 'signInWithPassword', username, 'Temp-passw0rd!');
      assert.equal(first.ok, true, JSON.stringify(first));
      const challenge = first.value;
      assert.equal(challenge.status, 'challenge');
      assert.equal(challenge.challengeName, 'NEW_PASSWORD_REQUIRED');
      assert.equal(challenge.username, username);
      assert.deepEqual(challenge.parameters, { USERNAME: username });
      assert.ok(first.frozen, 'the parameters are frozen');
      assert.ok(typeof challenge.session === 'string' && challenge.session.length > 0);
      assert.equal(sent.at(-1).body.AuthFlow, 'USER_PASSWORD_AUTH');

      // An answer for another challenge is the app's bug: refused, nothing sent.
      const misfit = await step(page, 'respondToChallenge', challenge, { code: '123456' });
      assert.deepEqual([misfit.ok, misfit.code], [false, 'BAD_CONFIG']);
      assert.match(misfit.message, /no such answer to NEW_PASSWORD_REQUIRED/);
      const lacking = await step(page, 'respondToChallenge', { challengeName: 'NEW_PASSWORD_REQUIRED' }, { newPassword: 'x' });
      assert.deepEqual([lacking.ok, lacking.code], [false, 'BAD_CONFIG']);
      assert.equal(sent.filter((s) => s.operation === 'RespondToAuthChallenge').length, 0, 'nothing sent for a misfit');

      // The pool's policy refuses a weak password: the user's to fix, the same challenge again.
      const weak = await step(page, 'respondToChallenge', challenge, { newPassword: 'weak' });
      assert.deepEqual([weak.ok, weak.code, weak.providerCode], [false, 'NOT_SIGNED_IN', 'InvalidPasswordException'], JSON.stringify(weak));

      const done = await step(page, 'respondToChallenge', challenge, { newPassword: 'N3w-passw0rd!' });
      assertSignedIn(done);
      const answers = sent.filter((s) => s.operation === 'RespondToAuthChallenge');
      assert.equal(answers.length, 2);
      assert.deepEqual(answers[1].body, {
        ClientId: env.rig.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: challenge.session,
        ChallengeResponses: { USERNAME: username, NEW_PASSWORD: 'N3w-passw0rd!' },
      });
      assert.equal(await page.evaluate(() => window.H.session.getSnapshot().signedIn), true);
      const token = await page.evaluate(() => window.H.session.getAccessToken());
      assert.equal(decodeJwt(token).claims.username, username);
      // The password changed at the provider: the new one signs in without a challenge.
      const again = await env.rig.control.signIn({ username, password: 'N3w-passw0rd!' });
      assert.ok(again.RefreshToken);
      assert.deepEqual(pageErrors, []);
    } finally {
      await close();
    }
  });

  test('a TOTP user signs in through SOFTWARE_TOKEN_MFA; a wrong code is NOT_SIGNED_IN and the same challenge takes the right one', { timeout: 60000 }, async (t) => {
    env.rig.control.reset();
    const username = `totp-${crypto.randomUUID().slice(0, 8)}`;
    const password = 'Totp-passw0rd!';
    await admin('AdminCreateUser', { UserPoolId: env.rig.poolId, Username: username, MessageAction: 'SUPPRESS' });
    await admin('AdminSetUserPassword', { UserPoolId: env.rig.poolId, Username: username, Password: password, Permanent: true });
    // The user sets up an authenticator, as an app's settings page would.
    const { AccessToken } = await env.rig.control.signIn({ username, password });
    const { SecretCode } = await admin('AssociateSoftwareToken', { AccessToken });
    const refused = await env.rig.control.admin('VerifySoftwareToken', { AccessToken, UserCode: '000000' === totp(SecretCode) ? '111111' : '000000' });
    assert.equal(refused.json?.__type, 'CodeMismatchException', 'moto checks TOTP codes');
    assert.equal((await admin('VerifySoftwareToken', { AccessToken, UserCode: await freshTotp(SecretCode) })).Status, 'SUCCESS');
    await admin('SetUserMFAPreference', { AccessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } });

    const { page, sent, pageErrors, close } = await openPage();
    try {
      const first = await step(page, 'signInWithPassword', username, password);
      assert.equal(first.ok, true, JSON.stringify(first));
      const challenge = first.value;
      assert.equal(challenge.challengeName, 'SOFTWARE_TOKEN_MFA');
      assert.equal(challenge.username, username, 'moto names nobody: the name signed in with');
      assert.deepEqual(challenge.parameters, {});

      const code = await freshTotp(SecretCode);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      const mismatch = await step(page, 'respondToChallenge', challenge, { code: wrong });
      assert.deepEqual([mismatch.ok, mismatch.code, mismatch.providerCode], [false, 'NOT_SIGNED_IN', 'CodeMismatchException'], JSON.stringify(mismatch));
      assert.equal(await page.evaluate(() => window.H.session.getSnapshot().signedIn), false);

      const done = await step(page, 'respondToChallenge', challenge, { code: await freshTotp(SecretCode) });
      assertSignedIn(done);
      const answers = sent.filter((s) => s.operation === 'RespondToAuthChallenge').map((s) => s.body);
      assert.equal(answers.length, 2);
      assert.deepEqual(answers.map((a) => a.ChallengeResponses.SOFTWARE_TOKEN_MFA_CODE)[0], wrong);
      assert.ok(answers.every((a) => a.Session === challenge.session && a.ChallengeResponses.USERNAME === username));
      const r = await page.evaluate(async () => (await window.H.session.fetch(`${window.H.cfg.apiUrl}api/me`)).status);
      assert.equal(r, 200);
      assert.equal(env.rig.counts().api.rejected, 0);
      assert.deepEqual(pageErrors, []);
      t.diagnostic('wrong TOTP code refused, the same challenge answered with the right one');
    } finally {
      await close();
    }
  });

  test('SELECT_MFA_TYPE then EMAIL_OTP, as Cognito records them (played back by the proxy), end in tokens', { timeout: 30000 }, async () => {
    env.rig.control.reset();
    const { page, sent, pageErrors, close } = await openPage();
    try {
      // Cognito's answer for a user with SMS and email MFA and no preference (API reference:
      // MFAS_CAN_CHOOSE is a JSON array in a string; USER_ID_FOR_SRP names the user).
      env.rig.control.setFault({
        mode: 'answer',
        operations: ['InitiateAuth/USER_PASSWORD_AUTH'],
        count: 1,
        answer: {
          ChallengeName: 'SELECT_MFA_TYPE',
          ChallengeParameters: { MFAS_CAN_CHOOSE: '["SMS_MFA","EMAIL_OTP"]', USER_ID_FOR_SRP: env.rig.username },
          Session: 'AYABeSelect-recorded',
        },
      });
      const first = await step(page, 'signInWithPassword', env.rig.username, env.rig.password);
      assert.equal(first.value?.challengeName, 'SELECT_MFA_TYPE', JSON.stringify(first));
      assert.deepEqual(JSON.parse(first.value.parameters.MFAS_CAN_CHOOSE), ['SMS_MFA', 'EMAIL_OTP']);

      env.rig.control.setFault({
        mode: 'answer',
        operations: ['RespondToAuthChallenge'],
        count: 1,
        answer: {
          ChallengeName: 'EMAIL_OTP',
          ChallengeParameters: { CODE_DELIVERY_DELIVERY_MEDIUM: 'EMAIL', CODE_DELIVERY_DESTINATION: 'r***@e***', USER_ID_FOR_SRP: env.rig.username },
          Session: 'AYABeEmail-recorded',
        },
      });
      const second = await step(page, 'respondToChallenge', first.value, { mfaType: 'EMAIL_OTP' });
      assert.equal(second.value?.challengeName, 'EMAIL_OTP', JSON.stringify(second));
      assert.equal(second.value.parameters.CODE_DELIVERY_DESTINATION, 'r***@e***');
      assert.equal(second.value.session, 'AYABeEmail-recorded');

      // The last answer carries tokens the rig signs with moto's key (Cognito's shape).
      env.rig.control.setFault({
        mode: 'answer',
        operations: ['RespondToAuthChallenge'],
        count: 1,
        answer: {
          AuthenticationResult: {
            AccessToken: env.rig.control.mintToken({ tokenUse: 'access' }),
            ExpiresIn: 3600,
            IdToken: env.rig.control.mintToken({ tokenUse: 'id' }),
            RefreshToken: 'recorded-refresh-token',
            TokenType: 'Bearer',
          },
          ChallengeParameters: {},
        },
      });
      assertSignedIn(await step(page, 'respondToChallenge', second.value, { code: '12345678' }));

      const answers = sent.filter((s) => s.operation === 'RespondToAuthChallenge').map((s) => s.body);
      assert.deepEqual(answers, [
        {
          ClientId: env.rig.clientId,
          ChallengeName: 'SELECT_MFA_TYPE',
          Session: 'AYABeSelect-recorded',
          ChallengeResponses: { USERNAME: env.rig.username, ANSWER: 'EMAIL_OTP' },
        },
        {
          ClientId: env.rig.clientId,
          ChallengeName: 'EMAIL_OTP',
          Session: 'AYABeEmail-recorded',
          ChallengeResponses: { USERNAME: env.rig.username, EMAIL_OTP_CODE: '12345678' },
        },
      ]);
      assert.equal(await page.evaluate(() => window.H.session.getSnapshot().signedIn), true);
      assert.deepEqual(pageErrors, []);
    } finally {
      env.rig.control.clearFault();
      await close();
    }
  });

  test("the SRP entry's hook starts USER_SRP_AUTH and resolves moto's PASSWORD_VERIFIER with the pool id; a non-hex A sends nothing", { timeout: 30000 }, async () => {
    env.rig.control.reset();
    const { page, sent, pageErrors, close } = await openPage();
    try {
      const bad = await srpStart(page, env.rig.username, 'ABC');
      assert.deepEqual([bad.ok, bad.code], [false, 'BAD_CONFIG']);
      assert.equal(sent.length, 0);

      const srpA = crypto.randomBytes(384).toString('hex');
      const started = await srpStart(page, env.rig.username, srpA);
      assert.equal(started.ok, true, JSON.stringify(started));
      const c = started.value;
      assert.equal(c.challengeName, 'PASSWORD_VERIFIER');
      assert.equal(c.userPoolId, env.rig.poolId);
      assert.equal(c.username, env.rig.username);
      for (const name of ['SALT', 'SRP_B', 'SECRET_BLOCK', 'USER_ID_FOR_SRP', 'USERNAME']) assert.equal(typeof c.parameters[name], 'string', name);
      assert.deepEqual(sent[0], { operation: 'InitiateAuth', body: { ClientId: env.rig.clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: env.rig.username, SRP_A: srpA } } });

      // The claim goes back as PASSWORD_VERIFIER's responses (moto does not check it).
      const claim = { signature: 'c2lnbmF0dXJl', secretBlock: c.parameters.SECRET_BLOCK, timestamp: 'Tue Feb 1 03:04:05 UTC 2022' };
      assertSignedIn(await step(page, 'respondToChallenge', c, { passwordClaim: claim }));
      assert.deepEqual(sent[1].body.ChallengeResponses, {
        USERNAME: env.rig.username,
        PASSWORD_CLAIM_SIGNATURE: claim.signature,
        PASSWORD_CLAIM_SECRET_BLOCK: claim.secretBlock,
        TIMESTAMP: claim.timestamp,
      });
      assert.deepEqual(pageErrors, []);
    } finally {
      await close();
    }
  });
});
