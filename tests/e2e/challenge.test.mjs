// Cognito challenges, the shell's half (src/shell/js/challenge.js): which typed answer becomes
// which ChallengeResponses entry, which answers are refused before anything is sent, and the
// challenge object the app gets from an answer the engine approved. Runs in node: no browser
// and no .wasm (the engine's half is src/engine/challenge.rs, tested natively; the whole sign-in
// runs against moto in challenges.test.mjs).
//
//   node --test tests/e2e/challenge.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { challengeResponses, readChallenge } from '../../src/shell/js/challenge.js';

const challenge = (challengeName) => ({ status: 'challenge', challengeName, session: 'AYAB', username: 'alice', parameters: {} });

/** The ChallengeResponses object a fitting answer becomes. */
function responses(name, answer) {
  const [sentName, session, json] = challengeResponses(challenge(name), answer);
  assert.deepEqual([sentName, session], [name, 'AYAB']);
  return JSON.parse(json);
}

describe('a typed answer becomes ChallengeResponses', () => {
  const cases = [
    ['NEW_PASSWORD_REQUIRED', { newPassword: 'N3w-pass!' }, { USERNAME: 'alice', NEW_PASSWORD: 'N3w-pass!' }],
    [
      'NEW_PASSWORD_REQUIRED',
      { attributes: { name: 'Alice "A"', 'custom:team': 'x' }, newPassword: 'N3w' },
      { USERNAME: 'alice', 'userAttributes.name': 'Alice "A"', 'userAttributes.custom:team': 'x', NEW_PASSWORD: 'N3w' },
    ],
    ['NEW_PASSWORD_REQUIRED', { newPassword: 'N3w', attributes: {} }, { USERNAME: 'alice', NEW_PASSWORD: 'N3w' }],
    ['SOFTWARE_TOKEN_MFA', { code: '123456' }, { USERNAME: 'alice', SOFTWARE_TOKEN_MFA_CODE: '123456' }],
    ['SMS_MFA', { code: '654321' }, { USERNAME: 'alice', SMS_MFA_CODE: '654321' }],
    ['EMAIL_OTP', { code: '12345678' }, { USERNAME: 'alice', EMAIL_OTP_CODE: '12345678' }],
    ['SELECT_MFA_TYPE', { mfaType: 'SOFTWARE_TOKEN_MFA' }, { USERNAME: 'alice', ANSWER: 'SOFTWARE_TOKEN_MFA' }],
    [
      'PASSWORD_VERIFIER',
      { passwordClaim: { signature: 'c2ln', secretBlock: 'YmxvY2s=', timestamp: 'Tue Feb 1 03:04:05 UTC 2022' } },
      { USERNAME: 'alice', PASSWORD_CLAIM_SIGNATURE: 'c2ln', PASSWORD_CLAIM_SECRET_BLOCK: 'YmxvY2s=', TIMESTAMP: 'Tue Feb 1 03:04:05 UTC 2022' },
    ],
    // An empty object adds nothing, wherever it is.
    ['SMS_MFA', { code: '1', extra: {} }, { USERNAME: 'alice', SMS_MFA_CODE: '1' }],
  ];
  for (const [name, answer, expected] of cases) {
    test(`${name} ${JSON.stringify(answer)}`, () => {
      const got = responses(name, answer);
      assert.deepEqual(got, expected);
      assert.deepEqual(Object.keys(got), Object.keys(expected), 'USERNAME first, then the answer in order');
    });
  }

  test('SELECT_MFA_TYPE passes any type on: Cognito judges it', () => {
    for (const mfa of ['SMS_MFA', 'EMAIL_OTP']) assert.equal(responses('SELECT_MFA_TYPE', { mfaType: mfa }).ANSWER, mfa);
  });

  test('values travel as JSON, however they are spelled', () => {
    const got = responses('SMS_MFA', { code: '1"}, "ChallengeName":"X' });
    assert.equal(got.SMS_MFA_CODE, '1"}, "ChallengeName":"X');
  });
});

describe('what does not fit is BAD_CONFIG before anything is sent', () => {
  const cyclic = {};
  cyclic.self = cyclic;
  const misfits = [
    ['SMS_MFA', { newPassword: 'x' }],
    ['SMS_MFA', { code: '' }],
    ['SMS_MFA', { code: 123456 }],
    ['SMS_MFA', { code: 1n }],
    ['SMS_MFA', { code: { a: '1' } }],
    ['SMS_MFA', { code: ['1'] }],
    ['SMS_MFA', { code: '1', extra: '2' }],
    ['SMS_MFA', {}],
    ['SMS_MFA', '123456'],
    ['SMS_MFA', null],
    ['SMS_MFA', undefined],
    ['SMS_MFA', ['123456']],
    ['SMS_MFA', cyclic],
    ['SMS_MFA', { get code() { throw new Error('getter'); } }],
    ['SOFTWARE_TOKEN_MFA', { code: '1', attributes: { a: 'b' } }],
    ['SOFTWARE_TOKEN_MFA', { mfaType: 'SMS_MFA' }],
    ['NEW_PASSWORD_REQUIRED', { attributes: { a: 'b' } }],
    ['NEW_PASSWORD_REQUIRED', { newPassword: 'x', attributes: { a: 1 } }],
    ['NEW_PASSWORD_REQUIRED', { newPassword: 'x', attributes: 'a' }],
    ['NEW_PASSWORD_REQUIRED', { newPassword: 'x', attributes: ['a'] }],
    ['NEW_PASSWORD_REQUIRED', { newPassword: { x: 'y' } }],
    ['SELECT_MFA_TYPE', { type: 'SMS_MFA' }],
    ['PASSWORD_VERIFIER', { signature: 's', secretBlock: 'b', timestamp: 't' }],
    ['PASSWORD_VERIFIER', { passwordClaim: { signature: 's', secretBlock: 'b' } }],
    ['PASSWORD_VERIFIER', { passwordClaim: { signature: 's', secretBlock: 'b', timestamp: 't', x: 'y' } }],
    ['PASSWORD_VERIFIER', { passwordClaim: { signature: 's', secretBlock: 'b', timestamp: 't' }, x: '1' }],
    ['MFA_SETUP', { code: '1' }],
    ['CUSTOM_CHALLENGE', { answer: '1' }],
    ['constructor', { code: '1' }],
    ['__proto__', { code: '1' }],
  ];
  for (const [i, [name, answer]] of misfits.entries()) {
    test(`${name}, misfit #${i}`, () => {
      assert.throws(
        () => challengeResponses(challenge(name), answer),
        (e) => e.code === 'BAD_CONFIG' && e.message === `respondToChallenge has no such answer to ${name}`,
      );
    });
  }

  test('a challenge object without its name, session or user name', () => {
    const throwing = { get challengeName() { throw new Error('getter'); } };
    for (const [i, c] of [
      null,
      undefined,
      'SMS_MFA',
      throwing,
      { challengeName: 'SMS_MFA', session: 's' },
      { challengeName: 'SMS_MFA', username: 'u' },
      { session: 's', username: 'u' },
      { challengeName: 'SMS_MFA', session: '', username: 'u' },
      { challengeName: 'SMS_MFA', session: 's', username: 5 },
    ].entries()) {
      assert.throws(
        () => challengeResponses(c, { code: '1' }),
        (e) => e.code === 'BAD_CONFIG' && e.message.includes('needs the challenge'),
        `challenge object #${i}`,
      );
    }
  });
});

describe('the challenge object the app gets', () => {
  test('Session and parameters as Cognito sent them; USER_ID_FOR_SRP answers when there is no USERNAME', () => {
    const body = JSON.stringify({
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: 'AYABe',
      ChallengeParameters: { USER_ID_FOR_SRP: '7c1e-sub', requiredAttributes: '[]', userAttributes: '{"email":"alice@example.com"}' },
    });
    const c = readChallenge('NEW_PASSWORD_REQUIRED', body, 'alice@example.com');
    assert.deepEqual(c, {
      status: 'challenge',
      challengeName: 'NEW_PASSWORD_REQUIRED',
      session: 'AYABe',
      username: '7c1e-sub',
      parameters: { USER_ID_FOR_SRP: '7c1e-sub', requiredAttributes: '[]', userAttributes: '{"email":"alice@example.com"}' },
    });
    assert.ok(Object.isFrozen(c.parameters));
  });

  test('USERNAME wins wherever it comes; nobody named is the name the step was for', () => {
    const read = (parameters) => readChallenge('SMS_MFA', JSON.stringify({ Session: 's', ChallengeParameters: parameters }), 'step-user').username;
    assert.equal(read({ USER_ID_FOR_SRP: 'id', USERNAME: 'bob' }), 'bob');
    assert.equal(read({ USERNAME: 'bob', USER_ID_FOR_SRP: 'id' }), 'bob');
    assert.equal(read({}), 'step-user');
    assert.equal(read(null), 'step-user');
    assert.equal(readChallenge('SMS_MFA', '{"Session":"s"}', 'step-user').username, 'step-user');
    assert.deepEqual(readChallenge('SMS_MFA', '{"Session":"s"}', 'u').parameters, {});
  });

  test('the last of duplicate members wins, as in the engine', () => {
    const c = readChallenge('SMS_MFA', '{"Session":5,"Session":"s2","ChallengeParameters":{"a":"1","a":"2"}}', 'u');
    assert.deepEqual([c.session, c.parameters], ['s2', { a: '2' }]);
  });

  test('a body JSON.parse cannot read is a typed BAD_RESPONSE', () => {
    assert.throws(() => readChallenge('SMS_MFA', '{"Session":', 'u'), (e) => e.code === 'BAD_RESPONSE');
  });
});
