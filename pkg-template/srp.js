// cognito-session/srp: signs a user in with Cognito's Secure Remote Password flow
// (`USER_SRP_AUTH`, then the `PASSWORD_VERIFIER` challenge), in which the password never leaves
// the page, for app clients that allow ALLOW_USER_SRP_AUTH (and not USER_PASSWORD_AUTH). A package
// entry of its own, so its arithmetic (srp-arithmetic.js) is bundled only into apps that import
// it; the main entry does not.
//
// The session does the talking: its internal `Symbol.for('cognito-session.srp')` method sends
// InitiateAuth with the public value A and resolves Cognito's PASSWORD_VERIFIER challenge (with
// the pool id), and `respondToChallenge` sends the password claim, installs the tokens or
// resolves the next challenge, and turns Cognito's refusals into the session's typed errors.
// This module draws the private value a, checks the challenge's values and computes the claim.
//
// Errors: arguments that cannot work reject with BAD_CONFIG before anything is sent; a
// challenge whose values are malformed (SRP_B or SALT not hex, SECRET_BLOCK not base64, no
// USER_ID_FOR_SRP) or unsafe (B = 0 mod N, u = 0: RFC 5054 §2.6) with BAD_RESPONSE, and the
// claim is not sent; the session's own errors pass through as they are. Nothing else escapes
// as a raw exception.

import { badConfig, cause, error, isSessionError } from './bundler/errors.js';
import { claimSignature, claimTimestamp, cognito, numberOf, padHex, passwordKey } from './srp-arithmetic.js';

/** The session's internal method that starts a USER_SRP_AUTH sign-in (see session.js). */
const START = Symbol.for('cognito-session.srp');

/**
 * The length of the private value a in random bytes: 128 (1024 bits), as amazon-cognito-identity-js
 * and Amplify draw it, four times the 256 bits RFC 5054 §2.5.4 asks for at least.
 */
const PRIVATE_BYTES = 128;

const HEX = /^[0-9a-f]+$/i;
/**
 * Base64 in the standard alphabet or the URL-safe one, padded or not. Cognito sends the
 * standard one; moto's SECRET_BLOCK is a UUID, which reads as the URL-safe one (Amplify maps
 * `-` and `_` the same way).
 */
const BASE64 = /^[\w+/-]+={0,2}$/;
/** Any non-empty text. */
const TEXT = /[^]/;

const badResponse = (message) => error('BAD_RESPONSE', `Cognito's PASSWORD_VERIFIER challenge: ${message}`);

/** Challenge parameter `name` when it is a string `pattern` matches, else BAD_RESPONSE. */
function parameter(challenge, name, pattern, what) {
  const value = challenge.parameters?.[name];
  if (typeof value !== 'string' || !pattern.test(value)) throw badResponse(`${name} is not ${what}`);
  return value;
}

/** The bytes of base64 `text` (BASE64 already matched it), else BAD_RESPONSE. */
function base64Bytes(text) {
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    throw badResponse('SECRET_BLOCK is not base64');
  }
}

/** The password claim's `{signature, secretBlock, timestamp}` for the PASSWORD_VERIFIER `challenge`. */
async function passwordClaim(challenge, password, a, A) {
  const B = BigInt(`0x${parameter(challenge, 'SRP_B', HEX, 'hexadecimal')}`);
  const salt = BigInt(`0x${parameter(challenge, 'SALT', HEX, 'hexadecimal')}`);
  const secretBlock = parameter(challenge, 'SECRET_BLOCK', BASE64, 'base64');
  const block = base64Bytes(secretBlock);
  const userId = parameter(challenge, 'USER_ID_FOR_SRP', TEXT, 'a user id');
  const poolName = challenge.userPoolId?.split('_')[1];
  if (!poolName) throw badConfig('signInWithSrp needs a Session with a Cognito userPoolId');
  if (B % cognito.N === 0n) throw badResponse('SRP_B is 0 mod N');
  const u = await cognito.u(A, B);
  if (u === 0n) throw badResponse('u = H(A, B) is 0');
  const x = await cognito.x(padHex(salt), poolName + userId, password);
  const key = await passwordKey(await cognito.S(a, B, x, u), u);
  const timestamp = claimTimestamp(new Date());
  return { signature: await claimSignature(key, poolName, userId, block, timestamp), secretBlock, timestamp };
}

async function signIn(session, username, password) {
  if (typeof session?.[START] !== 'function' || typeof session.respondToChallenge !== 'function') {
    throw badConfig('signInWithSrp needs a cognito-session Session as its first argument');
  }
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw badConfig('signInWithSrp: username and password must be strings');
  }
  if (!globalThis.crypto?.subtle) {
    throw badConfig('signInWithSrp needs WebCrypto (crypto.subtle), which browsers give pages on https or localhost only');
  }
  const a = numberOf(crypto.getRandomValues(new Uint8Array(PRIVATE_BYTES)));
  const A = cognito.A(a);
  const challenge = await session[START](username, A.toString(16));
  // Anything else (Cognito asked for another step first) is the app's to answer.
  if (challenge?.challengeName !== 'PASSWORD_VERIFIER') return challenge;
  return session.respondToChallenge(challenge, { passwordClaim: await passwordClaim(challenge, password, a, A) });
}

/**
 * Signs `username` in to the session's Cognito user pool with SRP. Resolves as
 * `session.signInWithPassword` does: `{status: "signedIn"}`, or the next challenge (MFA,
 * NEW_PASSWORD_REQUIRED) to answer with `session.respondToChallenge`. Rejects with the
 * session's typed errors: BAD_CONFIG for arguments that cannot work, BAD_RESPONSE for a
 * malformed or unsafe challenge, NOT_SIGNED_IN when Cognito refuses the user or the password.
 *
 * @param {import('./index').Session} session
 * @param {string} username
 * @param {string} password
 */
export function signInWithSrp(session, username, password) {
  return signIn(session, username, password).catch((e) => {
    throw isSessionError(e) ? e : badConfig(cause('signInWithSrp could not compute the password claim', e));
  });
}
