// What tests/consumers/vite-template.test.mjs adds to the template for Vitest (after the README's
// `npm install -D vitest`, and no configuration): the package imported in Node, a session in
// memory signing in against the test rig's Cognito and handing out its access token.
import { expect, test } from 'vitest'
import { Session, isSessionError } from 'cognito-session'
import { rig } from './rig.ts'

test('a session in memory signs in and gets a token', async () => {
  const session = new Session({ userPoolId: rig.poolId, clientId: rig.clientId, endpoint: rig.cognitoUrl, storage: 'memory' })
  const before = await session.getAccessToken().catch((e: unknown) => e)
  expect(isSessionError(before) && before.code).toBe('NOT_SIGNED_IN')
  expect(await session.signInWithPassword(rig.username, rig.password)).toEqual({ status: 'signedIn' })
  const token = await session.getAccessToken()
  expect(JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).client_id).toBe(rig.clientId)
  expect(session.getSnapshot().signedIn).toBe(true)
  session.free()
})

test('web storage, which Node lacks, falls back to memory with a storageUnavailable event', async () => {
  const session = new Session({ userPoolId: rig.poolId, clientId: rig.clientId, endpoint: rig.cognitoUrl, storage: 'local' })
  const events: unknown[] = []
  session.subscribe((event) => events.push(event))
  await Promise.resolve()
  expect(events).toEqual([{ type: 'storageUnavailable', detail: 'web storage is unavailable' }])
  expect(await session.signInWithPassword(rig.username, rig.password)).toEqual({ status: 'signedIn' })
  session.free()
})
