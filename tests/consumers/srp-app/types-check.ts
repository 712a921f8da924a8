// Type-checked (never run) by tests/consumers/srp.test.mjs with `tsc --noEmit --strict`: the
// package's SRP types take the Session of either entry and resolve a SignInResult the app
// narrows, as it does signInWithPassword's.
import { Session, type SignInResult } from 'cognito-session';
import { Session as WebSession } from 'cognito-session/web';
import { signInWithSrp } from 'cognito-session/srp';

const session = new Session({ clientId: 'abc123', userPoolId: 'us-east-1_AbC123' });

async function signIn(username: string, password: string): Promise<boolean> {
  const step: SignInResult = await signInWithSrp(session, username, password);
  if (step.status === 'signedIn') return true;
  if (step.challengeName === 'SOFTWARE_TOKEN_MFA') {
    const next = await session.respondToChallenge(step, { code: '123456' });
    return next.status === 'signedIn';
  }
  return false;
}
void signIn;
void signInWithSrp(new WebSession({ clientId: 'abc123', userPoolId: 'us-east-1_AbC123' }), 'alice', 'pw');

// @ts-expect-error not a session
void signInWithSrp({}, 'alice', 'pw');
// @ts-expect-error the password is a string
void signInWithSrp(session, 'alice', 12345);
