// Jest in its ES module mode (node --experimental-vm-modules), node environment, no configuration:
// the package in Node signs in against the test rig's Cognito (RIG_CONFIG, set by
// tests/consumers/toolchains.test.mjs) and hands out the access token.
import { Session, isSessionError } from 'cognito-session';

const rig = JSON.parse(process.env.RIG_CONFIG);

test('a session in memory signs in and gets a token', async () => {
  const session = new Session({ userPoolId: rig.poolId, clientId: rig.clientId, endpoint: rig.cognitoUrl, storage: 'memory' });
  const before = await session.getAccessToken().catch((e) => e);
  expect(isSessionError(before) && before.code).toBe('NOT_SIGNED_IN');
  expect(await session.signInWithPassword(rig.username, rig.password)).toEqual({ status: 'signedIn' });
  const token = await session.getAccessToken();
  expect(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).client_id).toBe(rig.clientId);
  session.free();
});
