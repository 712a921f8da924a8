// Types for cognito-session/srp: SRP sign-in to a Cognito user pool.

import type { Session, SignInResult } from "./index.js";

/**
 * Signs `username` in to the session's Cognito user pool with the Secure Remote Password flow
 * (`USER_SRP_AUTH`, then the `PASSWORD_VERIFIER` challenge, answered here): the password never
 * leaves the page, and the app client needs `ALLOW_USER_SRP_AUTH`, not `USER_PASSWORD_AUTH`.
 * Resolves as `session.signInWithPassword` does: `{status: "signedIn"}`, or the next challenge
 * (`SOFTWARE_TOKEN_MFA`, `NEW_PASSWORD_REQUIRED`, ...) to answer with
 * `session.respondToChallenge`.
 *
 * Rejects with the session's typed errors (`isSessionError(e)`): `BAD_CONFIG` for arguments that
 * cannot work (not a Session, a user name or password that is not a string, no WebCrypto: pages
 * on https or localhost have it), sending nothing; `BAD_RESPONSE` when Cognito's challenge is
 * malformed or unsafe (`SRP_B` = 0 mod N, u = 0), sending no password claim; `NOT_SIGNED_IN`
 * when Cognito refuses the user name or password (`providerCode` says why).
 */
export function signInWithSrp(session: Session, username: string, password: string): Promise<SignInResult>;
