// Cognito's challenges, the shell's half: the challenge object a sign-in step resolves with, and
// the app's typed answer turned into the `ChallengeResponses` that `RespondToAuthChallenge`
// sends. The engine decides (src/engine/challenge.rs): whether an answer is a challenge, and that
// a malformed or oversized one is a bad response; it puts the responses, checked, in the
// request. What is left here is moving strings between objects, which costs JavaScript a
// fraction of what it costs the .wasm.

import { badConfig, error } from './errors.js';

/**
 * Which string of the app's answer becomes which `ChallengeResponses` entry, by challenge: pairs
 * of member and entry, all required (Cognito API reference, `ChallengeResponses`; the TypeScript
 * type `ChallengeAnswers` says the same); `code` is `<challenge>_CODE`. A `PASSWORD_VERIFIER`
 * answer has its strings in `passwordClaim`; besides its own, `NEW_PASSWORD_REQUIRED` takes
 * `attributes`, whose strings become `userAttributes.<name>`. Values are Cognito's to judge: an
 * MFA type `SELECT_MFA_TYPE` does not offer, a password the pool's policy refuses, an unknown
 * attribute come back as its errors.
 */
const ANSWERS = {
  NEW_PASSWORD_REQUIRED: 'newPassword NEW_PASSWORD',
  SOFTWARE_TOKEN_MFA: 'code',
  SMS_MFA: 'code',
  EMAIL_OTP: 'code',
  SELECT_MFA_TYPE: 'mfaType ANSWER',
  PASSWORD_VERIFIER: 'signature PASSWORD_CLAIM_SIGNATURE secretBlock PASSWORD_CLAIM_SECRET_BLOCK timestamp TIMESTAMP',
};

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `[challengeName, session, ChallengeResponses as JSON, username]` for `challenge` (the object
 * a sign-in step resolved with, each of its fields read once) answered with `answer`.
 * `BAD_CONFIG` when the challenge object lacks its name, session or user name, or the answer
 * does not fit `ANSWERS`: a member it does not list (empty objects aside, which add nothing),
 * one it lists missing, a value that is not a non-empty string.
 */
export function challengeResponses(challenge, answer) {
  let name, session, username;
  try {
    ({ challengeName: name, session, username } = challenge);
  } catch {
    // null, undefined, a throwing getter: refused below
  }
  if (![name, session, username].every((v) => typeof v === 'string' && v)) {
    throw badConfig('respondToChallenge needs the challenge a sign-in resolved with');
  }
  const misfit = () => badConfig(`respondToChallenge has no such answer to ${name}`);
  // member → entry
  const entries = new Map();
  const pairs = (Object.hasOwn(ANSWERS, name) ? ANSWERS[name] : '').split(' ');
  for (let i = 0; pairs[i]; i += 2) entries.set(pairs[i], pairs[i + 1] ?? `${name}_CODE`);
  const within = name === 'PASSWORD_VERIFIER' ? 'passwordClaim' : '';
  const responses = { USERNAME: username };
  const put = (group, member, value) => {
    const entry = group === 'attributes' && name === 'NEW_PASSWORD_REQUIRED' ? `userAttributes.${member}` : group === within && entries.get(member);
    if (!entry || typeof value !== 'string' || !value) throw 0;
    responses[entry] = value;
  };
  try {
    if (!isObject(answer)) throw 0;
    for (const [member, value] of Object.entries(answer)) {
      if (isObject(value)) for (const [part, v] of Object.entries(value)) put(member, part, v);
      else put('', member, value);
    }
  } catch {
    throw misfit();
  }
  if (!entries.size || [...entries.values()].some((entry) => !Object.hasOwn(responses, entry))) throw misfit();
  return [name, session, JSON.stringify(responses), username];
}

/**
 * The challenge object a sign-in step resolves with, `{status: "challenge", challengeName,
 * session, username, parameters}` (`parameters` frozen), from `body`, the answer the engine
 * approved as challenge `name`: a non-empty `Session`, at most 32 string parameters, read as
 * `JSON.parse` reads them (the last of duplicate members wins in both). Who answers is the
 * parameters' `USERNAME`, else `USER_ID_FOR_SRP` (Cognito sends them equal when it sends both),
 * else `username`, the name the step was for.
 */
export function readChallenge(name, body, username) {
  let session, ChallengeParameters;
  try {
    ({ Session: session, ChallengeParameters } = JSON.parse(body));
  } catch {
    // Only if the two JSON readers disagreed: then it is no answer the engine approved.
    throw error('BAD_RESPONSE', 'malformed challenge');
  }
  const parameters = Object.freeze({ ...ChallengeParameters });
  return {
    status: 'challenge',
    challengeName: name,
    session,
    username: parameters.USERNAME || parameters.USER_ID_FOR_SRP || username,
    parameters,
  };
}
