// Unit tests of SRP sign-in (pkg-template/srp.js, the `cognito-session/srp` entry, and its
// arithmetic, pkg-template/srp-arithmetic.js), in node, whose WebCrypto is the browser's API:
//
// - SRP-6a against the test vectors RFC 5054 publishes (Appendix B: SHA-1, the 1024-bit group
//   of Appendix A, I = "alice", P = "password123" and the given s, a, b): k, x, v, A, B, u and
//   the premaster secret S must each equal the published hex.
// - Cognito's variant against amazon-cognito-identity-js 6.3.21 (the library Amplify grew from;
//   tests/consumers/srp-reference/package.json, installed with npm into a temporary directory):
//   for fixed private values a and fixed server values, the group, k, A, u, x, S, the HKDF key,
//   Cognito's padding and timestamp equal what its AuthenticationHelper and DateHelper compute,
//   and a whole `CognitoUser.authenticateUser` over a stubbed client sends the same SRP_A,
//   PASSWORD_CLAIM_SIGNATURE, PASSWORD_CLAIM_SECRET_BLOCK and TIMESTAMP as signInWithSrp with
//   the same a and clock. A server holding the password's verifier reaches the same S.
// - The entry against a fake session: what it hands the session, and every way it refuses
//   (BAD_CONFIG before sending, BAD_RESPONSE for a malformed or unsafe challenge, never a raw
//   exception).
//
//   node --test tests/consumers/srp-unit.test.mjs
//
// srp.js imports `./bundler/errors.js`, the session's errors as the package ships them next to
// it: the test lays the files out that way in a temporary directory and imports from there.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CONSUMERS_DIR, NPM_INSTALL_FLAGS, REPO_ROOT, run } from './lib.mjs';

const LAYOUT = fs.mkdtempSync(path.join(os.tmpdir(), 'cognito-session-srp-unit-'));
fs.mkdirSync(path.join(LAYOUT, 'bundler'));
for (const file of ['srp.js', 'srp-arithmetic.js']) fs.copyFileSync(path.join(REPO_ROOT, 'pkg-template', file), path.join(LAYOUT, file));
fs.copyFileSync(path.join(REPO_ROOT, 'src', 'shell', 'js', 'errors.js'), path.join(LAYOUT, 'bundler', 'errors.js'));
const { signInWithSrp } = await import(pathToFileURL(path.join(LAYOUT, 'srp.js')).href);
const { claimSignature, claimTimestamp, cognito, modPow, numberOf, padHex, passwordKey, srp6a } = await import(
  pathToFileURL(path.join(LAYOUT, 'srp-arithmetic.js')).href
);
const { CognitoSessionError, isSessionError } = await import(pathToFileURL(path.join(LAYOUT, 'bundler', 'errors.js')).href);

/** Where amazon-cognito-identity-js is installed, and its modules once it is. */
const REFERENCE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'cognito-session-srp-reference-'));
let reference;

before(async () => {
  fs.copyFileSync(path.join(CONSUMERS_DIR, 'srp-reference', 'package.json'), path.join(REFERENCE_DIR, 'package.json'));
  await run('npm', ['install', ...NPM_INSTALL_FLAGS], { cwd: REFERENCE_DIR, timeoutMs: 180000 });
  const require = createRequire(path.join(REFERENCE_DIR, 'package.json'));
  reference = {
    ...require('amazon-cognito-identity-js'),
    BigInteger: require('amazon-cognito-identity-js/lib/BigInteger').default,
  };
}, { timeout: 200000 });

after(() => {
  fs.rmSync(LAYOUT, { recursive: true, force: true });
  fs.rmSync(REFERENCE_DIR, { recursive: true, force: true });
});

/** The number written as hex, spaces allowed (as RFC 5054 prints it). */
const hexNumber = (text) => BigInt(`0x${text.replace(/\s+/g, '')}`);
const bytesOfHex = (text) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const hexOf = (bytes) => Buffer.from(bytes).toString('hex');

// ---------------------------------------------------------------------------- RFC 5054 -----

// RFC 5054 (https://www.rfc-editor.org/rfc/rfc5054), Appendix A's 1024-bit group and Appendix
// B's test vectors, as the RFC prints them. Typed in from the RFC's published vectors (this
// machine has no copy of the RFC's own text: they are as secure-remote-password/test-vectors'
// rfc5054.json reproduces them, citing https://www.ietf.org/rfc/rfc5054.txt, and as
// RustCrypto's srp crate tests them in tests/rfc5054.rs).
const RFC5054 = {
  N: `EEAF0AB9 ADB38DD6 9C33F80A FA8FC5E8 60726187 75FF3C0B 9EA2314C 9C256576 D674DF74 96EA81D3
      383B4813 D692C6E0 E0D5D8E2 50B98BE4 8E495C1D 6089DAD1 5DC7D7B4 6154D6B6 CE8EF4AD 69B15D49
      82559B29 7BCF1885 C529F566 660E57EC 68EDBC3C 05726CC0 2FD4CBF4 976EAA9A FD5138FE 8376435B
      9FC61D2F C0EB06E3`,
  g: 2n,
  I: 'alice',
  P: 'password123',
  s: 'BEB25379 D1A8581E B5A72767 3A2441EE',
  k: '7556AA04 5AEF2CDD 07ABAF0F 665C3E81 8913186F',
  x: '94B7555A ABE9127C C58CCF49 93DB6CF8 4D16C124',
  v: `7E273DE8 696FFC4F 4E337D05 B4B375BE B0DDE156 9E8FA00A 9886D812 9BADA1F1 822223CA 1A605B53
      0E379BA4 729FDC59 F105B478 7E5186F5 C671085A 1447B52A 48CF1970 B4FB6F84 00BBF4CE BFBB1681
      52E08AB5 EA53D15C 1AFF87B2 B9DA6E04 E058AD51 CC72BFC9 033B564E 26480D78 E955A5E2 9E7AB245
      DB2BE315 E2099AFB`,
  a: '60975527 035CF2AD 1989806F 0407210B C81EDC04 E2762A56 AFD529DD DA2D4393',
  b: 'E487CB59 D31AC550 471E81F0 0F6928E0 1DDA08E9 74A004F4 9E61F5D1 05284D20',
  A: `61D5E490 F6F1B795 47B0704C 436F523D D0E560F0 C64115BB 72557EC4 4352E890 3211C046 92272D8B
      2D1A5358 A2CF1B6E 0BFCF99F 921530EC 8E393561 79EAE45E 42BA92AE ACED8251 71E1E8B9 AF6D9C03
      E1327F44 BE087EF0 6530E69F 66615261 EEF54073 CA11CF58 58F0EDFD FE15EFEA B349EF5D 76988A36
      72FAC47B 0769447B`,
  B: `BD0C6151 2C692C0C B6D041FA 01BB152D 4916A1E7 7AF46AE1 05393011 BAF38964 DC46A067 0DD125B9
      5A981652 236F99D9 B681CBF8 7837EC99 6C6DA044 53728610 D0C6DDB5 8B318885 D7D82C7F 8DEB75CE
      7BD4FBAA 37089E6F 9C6059F3 88838E7A 00030B33 1EB76840 910440B1 B27AAEAE EB4012B7 D7665238
      A8E3FB00 4B117B58`,
  u: 'CE38B959 3487DA98 554ED47D 70A7AE5F 462EF019',
  S: `B0DC82BA BCF30674 AE450C02 87745E79 90A3381F 63B387AA F271A10D 233861E3 59B48220 F7C4693C
      9AE12B0A 6F67809F 0876E2D0 13800D6C 41BB59B6 D5979B5C 00A172B4 A2A5903A 0BDCAF8A 709585EB
      2AFAFA8F 3499B200 210DCC1F 10EB3394 3CD67FC8 8A2F39A4 BE5BEC4E C0A3212D C346D7E4 74B29EDE
      8A469FFE CA686E5A`,
};

describe('SRP-6a against RFC 5054 Appendix B (SHA-1, 1024-bit group)', () => {
  const N = hexNumber(RFC5054.N);
  // RFC 5054 §2.6: PAD(x) is x left-padded with zeros to the length of N (128 bytes).
  const pad = (n) => bytesOfHex(n.toString(16).padStart(256, '0'));
  const srp = srp6a({ N, g: RFC5054.g, hash: 'SHA-1', pad });
  const expect = (name) => hexNumber(RFC5054[name]);

  test('k, x, v, A, B, u and the premaster secret S are the published values', async () => {
    const k = await srp.multiplier();
    assert.equal(k, expect('k'), 'k = SHA1(N | PAD(g))');
    const x = await srp.x(bytesOfHex(RFC5054.s), RFC5054.I, RFC5054.P);
    assert.equal(x, expect('x'), 'x = SHA1(s | SHA1(I | ":" | P))');
    const v = modPow(RFC5054.g, x, N);
    assert.equal(v, expect('v'), 'v = g^x % N');
    const a = expect('a');
    const b = expect('b');
    const A = srp.A(a);
    assert.equal(A, expect('A'), 'A = g^a % N');
    // The server's side, from the same pieces: B = k*v + g^b % N.
    const B = (k * v + modPow(RFC5054.g, b, N)) % N;
    assert.equal(B, expect('B'), 'B = k*v + g^b % N');
    const u = await srp.u(A, B);
    assert.equal(u, expect('u'), 'u = SHA1(PAD(A) | PAD(B))');
    const S = await srp.S(a, B, x, u);
    assert.equal(S, expect('S'), "the client's premaster secret (B - (k * g^x)) ^ (a + (u * x)) % N");
    assert.equal(modPow(A * modPow(v, u, N), b, N), expect('S'), "the server's, (A * v^u) ^ b % N");
  });

  test('a wrong password gives another x and another premaster secret', async () => {
    const x = await srp.x(bytesOfHex(RFC5054.s), RFC5054.I, 'password124');
    assert.notEqual(x, expect('x'));
    const S = await srp.S(expect('a'), expect('B'), x, expect('u'));
    assert.notEqual(S, expect('S'));
  });
});

// ------------------------------------------------------- Cognito, against the reference -----

const POOL_ID = 'eu-west-1_Xq7TuvW3z';
const POOL_NAME = 'Xq7TuvW3z';

/** 128 deterministic bytes for private value number `seed` (what getRandomValues is made to give). */
const privateBytes = (seed) => Uint8Array.from({ length: 128 }, (_, i) => (i * 131 + seed * 53 + 11) & 255);

/**
 * What a Cognito server holding the verifier of `password` for `userId` (salt `saltHex`) sends
 * with private value `b`: B = k*v + g^b % N. Returns `{B, v, b}`.
 */
async function server(saltHex, userId, password, b) {
  const x = await cognito.x(padHex(BigInt(`0x${saltHex}`)), POOL_NAME + userId, password);
  const v = modPow(2n, x, cognito.N);
  return { B: ((await cognito.multiplier()) * v + modPow(2n, b, cognito.N)) % cognito.N, v, b };
}

/** The cases the cross-check runs: salts with and without the high bit, with a leading zero
 * nibble and byte; secret blocks in standard base64 and moto's UUID; non-ASCII names. */
const CASES = [
  { seed: 1, salt: 'a3f1c2d4e5b60718293a4b5c6d7e8f90', userId: '7c1e2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b', password: 'Rig-passw0rd!' },
  { seed: 2, salt: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', userId: 'alice', password: 'pässwörd ✓ 123' },
  { seed: 3, salt: '00ab4c5d6e7f8091a2b3c4d5e6f70819', userId: 'ユーザー@example.jp', password: 'x' },
  { seed: 4, salt: '7fffffffffffffffffffffffffffffff', userId: 'bob', password: 'correct horse battery staple' },
  { seed: 5, salt: '80', userId: 'carol', password: '' },
];
const SECRET_BLOCKS = [Buffer.from(Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 250) & 255)).toString('base64'), '3f2b8c1e-9d4a-4b7e-8f21-6c5d4e3b2a10'];

/** The PASSWORD_VERIFIER challenge a cognito-session Session resolves, for `params`. */
const challengeOf = (params) => ({
  status: 'challenge',
  challengeName: 'PASSWORD_VERIFIER',
  session: 'AYABeSession',
  username: params.USER_ID_FOR_SRP,
  parameters: Object.freeze({ ...params }),
  userPoolId: POOL_ID,
});

/**
 * A stand-in for the Session: the SRP start method resolves `reply(srpA)` (a challenge, or
 * whatever a test wants), `respondToChallenge` resolves `answer()` (signed in by default).
 * `calls` records both.
 */
function fakeSession(reply, answer = () => ({ status: 'signedIn' })) {
  const calls = { start: [], respond: [] };
  return {
    calls,
    [Symbol.for('cognito-session.srp')]: async (username, srpA) => {
      calls.start.push({ username, srpA });
      return reply(srpA);
    },
    respondToChallenge: async (challenge, response) => {
      calls.respond.push({ challenge, response });
      return answer(challenge, response);
    },
  };
}

/** Runs `fn` with getRandomValues giving `bytes` and the clock at `now` (ms), then restores both. */
async function withFixed(bytes, now, fn) {
  mock.method(globalThis.crypto, 'getRandomValues', (array) => {
    array.set(bytes.subarray(0, array.length));
    return array;
  });
  mock.timers.enable({ apis: ['Date'], now });
  try {
    return await fn();
  } finally {
    mock.timers.reset();
    mock.restoreAll();
  }
}

/** amazon-cognito-identity-js's callback API as a promise. */
const promised = (fn) => new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

/**
 * A whole `CognitoUser.authenticateUser` (USER_SRP_AUTH) by the reference, its private value a
 * being `aHex` and its clock `now`, over a client stub that answers InitiateAuth with `params`:
 * resolves the SRP_A it sent and the ChallengeResponses of its RespondToAuthChallenge.
 */
function referenceSignIn(aHex, params, password, now) {
  const { AuthenticationDetails, AuthenticationHelper, BigInteger, CognitoUser, CognitoUserPool } = reference;
  const pool = new CognitoUserPool({ UserPoolId: POOL_ID, ClientId: 'client123' });
  const user = new CognitoUser({ Username: 'typed-name', Pool: pool });
  const sent = {};
  return withFixed(new Uint8Array(0), now, () => {
    mock.method(AuthenticationHelper.prototype, 'generateRandomSmallA', () => new BigInteger(aHex, 16));
    return new Promise((resolve, reject) => {
      user.client.request = (operation, body, callback) => {
        if (operation === 'InitiateAuth') {
          sent.srpA = body.AuthParameters.SRP_A;
          callback(null, { ChallengeName: 'PASSWORD_VERIFIER', ChallengeParameters: params, Session: 'AYABeSession' });
        } else {
          sent.responses = body.ChallengeResponses;
          // An answer with no tokens: the reference then fails, after sending what is compared.
          callback(Object.assign(new Error('stop here'), { code: 'Stop' }));
        }
      };
      user.authenticateUser(new AuthenticationDetails({ Username: 'typed-name', Password: password }), {
        onSuccess: () => reject(new Error('the stub never signs in')),
        onFailure: (e) => (e.code === 'Stop' ? resolve(sent) : reject(e)),
      });
    });
  });
}

describe("Cognito's SRP against amazon-cognito-identity-js", () => {
  test("the group, g and k are the reference's", async () => {
    const helper = new reference.AuthenticationHelper(POOL_NAME);
    assert.equal(cognito.N.toString(16), helper.N.toString(16), 'the 3072-bit prime');
    assert.equal(cognito.A(1n), 2n, 'g = 2');
    assert.equal((await cognito.multiplier()).toString(16), helper.k.toString(16), 'k = H(padHex(N) | padHex(g))');
  });

  test("padHex writes numbers as the reference's padHex does", () => {
    const helper = new reference.AuthenticationHelper(POOL_NAME);
    const numbers = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, cognito.N, cognito.N - 1n, numberOf(privateBytes(9))];
    for (const n of numbers) {
      assert.equal(hexOf(padHex(n)), helper.padHex(new reference.BigInteger(n.toString(16), 16)), `0x${n.toString(16)}`);
    }
    assert.deepEqual([...padHex(0x80n)], [0, 0x80], 'a 00 byte before a high bit');
    assert.deepEqual([...padHex(0x7fn)], [0x7f]);
    assert.deepEqual([...padHex(0x100n)], [1, 0], 'odd-length hex made even');
  });

  test('the timestamp is written as the reference writes it, day not padded', async () => {
    const moments = [
      Date.UTC(2026, 2, 3, 8, 9, 5),
      Date.UTC(2025, 11, 31, 23, 59, 59),
      Date.UTC(2024, 1, 29, 0, 0, 0),
      Date.UTC(2030, 0, 10, 12, 30, 7),
      Date.UTC(2027, 6, 4, 1, 2, 3),
    ];
    for (const now of moments) {
      await withFixed(new Uint8Array(0), now, () => {
        assert.equal(claimTimestamp(new Date()), new reference.DateHelper().getNowString());
      });
    }
    assert.equal(claimTimestamp(new Date(Date.UTC(2026, 2, 3, 8, 9, 5))), 'Tue Mar 3 08:09:05 UTC 2026');
    assert.equal(claimTimestamp(new Date(Date.UTC(2025, 11, 31, 23, 59, 59))), 'Wed Dec 31 23:59:59 UTC 2025');
  });

  for (const [i, c] of CASES.entries()) {
    test(`case ${i + 1}: A, u, x, S and the HKDF key equal the reference's, and a server with the verifier reaches the same S`, async () => {
      const a = numberOf(privateBytes(c.seed));
      const { B, v, b } = await server(c.salt, c.userId, c.password, numberOf(privateBytes(c.seed + 100)));
      const helper = new reference.AuthenticationHelper(POOL_NAME);
      helper.smallAValue = new reference.BigInteger(a.toString(16), 16);
      helper.largeAValue = undefined;
      const refA = await promised((cb) => helper.getLargeAValue(cb));
      const A = cognito.A(a);
      assert.equal(A.toString(16), refA.toString(16), 'A');

      const refB = new reference.BigInteger(B.toString(16), 16);
      const refSalt = new reference.BigInteger(c.salt, 16);
      const refKey = await promised((cb) => helper.getPasswordAuthenticationKey(c.userId, c.password, refB, refSalt, cb));
      const u = await cognito.u(A, B);
      assert.equal(u.toString(16), helper.UValue.toString(16), 'u');
      const x = await cognito.x(padHex(BigInt(`0x${c.salt}`)), POOL_NAME + c.userId, c.password);
      const refX = new reference.BigInteger(helper.hexHash(helper.padHex(refSalt) + helper.hash(`${POOL_NAME}${c.userId}:${c.password}`)), 16);
      assert.equal(x.toString(16), refX.toString(16), 'x');
      const S = await cognito.S(a, B, x, u);
      const refS = await promised((cb) => helper.calculateS(refX, refB, cb));
      assert.equal(S.toString(16), refS.toString(16), 'S');
      assert.equal(modPow(A * modPow(v, u, cognito.N), b, cognito.N), S, "the server's (A * v^u) ^ b");
      const key = await passwordKey(S, u);
      assert.equal(key.length, 16);
      assert.equal(hexOf(key), hexOf(refKey), 'the HKDF key');
    });
  }

  for (const [i, c] of CASES.entries()) {
    for (const secretBlock of SECRET_BLOCKS) {
      const blockKind = secretBlock.includes('-') ? "moto's UUID" : 'base64';
      test(`case ${i + 1}, ${blockKind} secret block: signInWithSrp answers as CognitoUser.authenticateUser does`, async () => {
        const now = Date.UTC(2026, 2, 3 + i, 8, 9, 5 + i);
        const { B } = await server(c.salt, c.userId, c.password, numberOf(privateBytes(c.seed + 100)));
        const params = { SALT: c.salt, SRP_B: B.toString(16), SECRET_BLOCK: secretBlock, USER_ID_FOR_SRP: c.userId, USERNAME: c.userId };
        const session = fakeSession(() => challengeOf(params));
        const result = await withFixed(privateBytes(c.seed), now, () => signInWithSrp(session, 'typed-name', c.password));
        assert.deepEqual(result, { status: 'signedIn' }, "resolves with what respondToChallenge resolved");
        const ref = await referenceSignIn(numberOf(privateBytes(c.seed)).toString(16), params, c.password, now);

        assert.deepEqual(session.calls.start, [{ username: 'typed-name', srpA: ref.srpA }], 'SRP_A, as the reference sends it');
        assert.equal(session.calls.respond.length, 1);
        const { challenge, response } = session.calls.respond[0];
        assert.equal(challenge.challengeName, 'PASSWORD_VERIFIER', 'answers the challenge it was given');
        assert.equal(challenge.session, 'AYABeSession');
        assert.deepEqual(Object.keys(response), ['passwordClaim']);
        assert.deepEqual(response.passwordClaim, {
          signature: ref.responses.PASSWORD_CLAIM_SIGNATURE,
          secretBlock: ref.responses.PASSWORD_CLAIM_SECRET_BLOCK,
          timestamp: ref.responses.TIMESTAMP,
        });
        assert.equal(ref.responses.USERNAME, c.userId, "the reference answers as USER_ID_FOR_SRP (the session's challenge.username)");
        assert.equal(challenge.username, c.userId);
      });
    }
  }

  test('the A the cases send has the high bit both set and clear (padHex adds 00 to one)', () => {
    const firstBytes = CASES.map((c) => padHex(cognito.A(numberOf(privateBytes(c.seed))))[0]);
    assert.ok(firstBytes.includes(0) && firstBytes.some((byte) => byte !== 0), `first bytes ${firstBytes}`);
  });

  test('the signature is HMAC-SHA256 over pool name, user id, secret block bytes and timestamp', async () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const block = Uint8Array.of(0, 255, 1);
    const signature = await claimSignature(key, 'Pool', 'user', block, 'Tue Mar 3 08:09:05 UTC 2026');
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', key).update(Buffer.concat([Buffer.from('Pooluser'), block, Buffer.from('Tue Mar 3 08:09:05 UTC 2026')])).digest('base64');
    assert.equal(signature, expected);
  });
});

// ------------------------------------------------------------------------ the entry -----

describe('signInWithSrp with a fake session', () => {
  const PARAMS = { SALT: CASES[0].salt, SRP_B: '1f'.repeat(384), SECRET_BLOCK: SECRET_BLOCKS[0], USER_ID_FOR_SRP: 'uid', USERNAME: 'uid' };

  /** Rejects with a session error of `code`: the promise's rejection, checked. */
  async function rejectsWith(promise, code, pattern) {
    const e = await promise.then(
      () => assert.fail('resolved'),
      (err) => err,
    );
    assert.ok(isSessionError(e), `a session error, not ${e?.stack ?? e}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }

  test('sends lowercase hex A from 128 random bytes, a fresh one each time', async () => {
    const session = fakeSession(() => challengeOf(PARAMS));
    const sizes = [];
    const random = crypto.getRandomValues.bind(crypto);
    mock.method(globalThis.crypto, 'getRandomValues', (array) => {
      sizes.push(array.length);
      return random(array);
    });
    try {
      await signInWithSrp(session, 'alice', 'pw');
      await signInWithSrp(session, 'alice', 'pw');
    } finally {
      mock.restoreAll();
    }
    assert.deepEqual(sizes, [128, 128]);
    const [first, second] = session.calls.start.map((c) => c.srpA);
    for (const srpA of [first, second]) {
      assert.match(srpA, /^[1-9a-f][0-9a-f]*$/, 'lowercase hex without leading zeros, as Cognito clients send it');
      assert.ok(BigInt(`0x${srpA}`) < cognito.N);
    }
    assert.notEqual(first, second);
    assert.equal(session.calls.respond.length, 2);
    assert.match(session.calls.respond[0].response.passwordClaim.timestamp, /^[A-Z][a-z]{2} [A-Z][a-z]{2} [1-9]\d? \d\d:\d\d:\d\d UTC \d{4}$/);
  });

  test('arguments that cannot work reject with BAD_CONFIG and send nothing', async () => {
    const session = fakeSession(() => challengeOf(PARAMS));
    await rejectsWith(signInWithSrp(null, 'alice', 'pw'), 'BAD_CONFIG', /Session/);
    await rejectsWith(signInWithSrp({ respondToChallenge() {} }, 'alice', 'pw'), 'BAD_CONFIG', /Session/);
    await rejectsWith(signInWithSrp(session, 42, 'pw'), 'BAD_CONFIG', /strings/);
    await rejectsWith(signInWithSrp(session, 'alice', undefined), 'BAD_CONFIG', /strings/);
    assert.deepEqual(session.calls.start, []);
  });

  test('without WebCrypto (a page on plain http) it rejects with BAD_CONFIG and sends nothing', async () => {
    const session = fakeSession(() => challengeOf(PARAMS));
    const webCrypto = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    Object.defineProperty(globalThis, 'crypto', { value: {}, configurable: true });
    try {
      await rejectsWith(signInWithSrp(session, 'alice', 'pw'), 'BAD_CONFIG', /https or localhost/);
    } finally {
      Object.defineProperty(globalThis, 'crypto', webCrypto);
    }
    assert.ok(globalThis.crypto.subtle, 'WebCrypto is back');
    assert.deepEqual(session.calls.start, []);
  });

  const malformed = [
    ['SRP_B not hex', { SRP_B: 'xyz' }, /SRP_B is not hexadecimal/],
    ['SRP_B empty', { SRP_B: '' }, /SRP_B is not hexadecimal/],
    ['SRP_B missing', { SRP_B: undefined }, /SRP_B is not hexadecimal/],
    ['SRP_B with a sign', { SRP_B: '-1f' }, /SRP_B is not hexadecimal/],
    ['SRP_B a number', { SRP_B: 31 }, /SRP_B is not hexadecimal/],
    ['SALT not hex', { SALT: '0xab' }, /SALT is not hexadecimal/],
    ['SECRET_BLOCK with a character outside base64', { SECRET_BLOCK: 'ab!d' }, /SECRET_BLOCK is not base64/],
    ['SECRET_BLOCK of an impossible length', { SECRET_BLOCK: 'abcde' }, /SECRET_BLOCK is not base64/],
    ['SECRET_BLOCK with padding inside', { SECRET_BLOCK: 'ab=cd' }, /SECRET_BLOCK is not base64/],
    ['SECRET_BLOCK empty', { SECRET_BLOCK: '' }, /SECRET_BLOCK is not base64/],
    ['USER_ID_FOR_SRP missing', { USER_ID_FOR_SRP: undefined }, /USER_ID_FOR_SRP/],
    ['USER_ID_FOR_SRP empty', { USER_ID_FOR_SRP: '' }, /USER_ID_FOR_SRP/],
    ['B = 0', { SRP_B: '0' }, /SRP_B is 0 mod N/],
    ['B = N', { SRP_B: cognito.N.toString(16) }, /SRP_B is 0 mod N/],
    ['B = 3N', { SRP_B: (3n * cognito.N).toString(16) }, /SRP_B is 0 mod N/],
  ];
  for (const [what, change, pattern] of malformed) {
    test(`a challenge with ${what} rejects with BAD_RESPONSE and sends no claim`, async () => {
      const params = { ...PARAMS, ...change };
      for (const [k, v] of Object.entries(change)) if (v === undefined) delete params[k];
      const session = fakeSession(() => challengeOf(params));
      await rejectsWith(signInWithSrp(session, 'alice', 'pw'), 'BAD_RESPONSE', pattern);
      assert.equal(session.calls.start.length, 1);
      assert.deepEqual(session.calls.respond, []);
    });
  }

  test('a challenge without parameters rejects with BAD_RESPONSE', async () => {
    const session = fakeSession(() => ({ ...challengeOf(PARAMS), parameters: undefined }));
    await rejectsWith(signInWithSrp(session, 'alice', 'pw'), 'BAD_RESPONSE');
    assert.deepEqual(session.calls.respond, []);
  });

  test('u = 0 rejects with BAD_RESPONSE and sends no claim (SHA-256 made to answer zeros)', async () => {
    const session = fakeSession(() => challengeOf(PARAMS));
    const digest = crypto.subtle.digest.bind(crypto.subtle);
    // Zeros for the hash of padHex(A) | padHex(B), the one input over 700 bytes long.
    mock.method(crypto.subtle, 'digest', async (hash, data) => (data.byteLength > 700 ? new ArrayBuffer(32) : digest(hash, data)));
    try {
      await rejectsWith(signInWithSrp(session, 'alice', 'pw'), 'BAD_RESPONSE', /u = H\(A, B\) is 0/);
    } finally {
      mock.restoreAll();
    }
    assert.deepEqual(session.calls.respond, []);
  });

  test('a session without a Cognito pool id rejects with BAD_CONFIG and sends no claim', async () => {
    for (const userPoolId of [undefined, 'no-underscore']) {
      const session = fakeSession(() => ({ ...challengeOf(PARAMS), userPoolId }));
      await rejectsWith(signInWithSrp(session, 'alice', 'pw'), 'BAD_CONFIG', /userPoolId/);
      assert.deepEqual(session.calls.respond, []);
    }
  });

  test("the session's own errors pass through unchanged", async () => {
    const refused = Object.assign(new CognitoSessionError('refused'), {
      code: 'NOT_SIGNED_IN',
      providerCode: 'NotAuthorizedException',
    });
    const atStart = fakeSession(() => Promise.reject(refused));
    assert.equal(await signInWithSrp(atStart, 'alice', 'pw').catch((e) => e), refused, 'from the start');
    const atAnswer = fakeSession(
      () => challengeOf(PARAMS),
      () => Promise.reject(refused),
    );
    assert.equal(await signInWithSrp(atAnswer, 'alice', 'pw').catch((e) => e), refused, 'from respondToChallenge');
  });

  test('the next challenge after the claim is what it resolves with', async () => {
    const mfa = { status: 'challenge', challengeName: 'SOFTWARE_TOKEN_MFA', session: 's2', username: 'uid', parameters: {} };
    const session = fakeSession(
      () => challengeOf(PARAMS),
      () => mfa,
    );
    assert.equal(await signInWithSrp(session, 'alice', 'pw'), mfa);
  });

  test('a start that does not ask for PASSWORD_VERIFIER is handed to the app as it is, no claim sent', async () => {
    for (const answer of [{ status: 'signedIn' }, { status: 'challenge', challengeName: 'CUSTOM_CHALLENGE', session: 's', username: 'u', parameters: {} }]) {
      const session = fakeSession(() => answer);
      assert.equal(await signInWithSrp(session, 'alice', 'pw'), answer);
      assert.deepEqual(session.calls.respond, []);
    }
  });

  test('an exception from WebCrypto becomes a BAD_CONFIG session error, not a raw one', async () => {
    const session = fakeSession(() => challengeOf(PARAMS));
    mock.method(crypto.subtle, 'importKey', async () => {
      throw new TypeError('importKey broke');
    });
    try {
      const e = await rejectsWith(signInWithSrp(session, 'alice', 'pw'), 'BAD_CONFIG', /importKey broke/);
      assert.ok(!(e instanceof TypeError));
    } finally {
      mock.restoreAll();
    }
    assert.deepEqual(session.calls.respond, []);
  });
});
