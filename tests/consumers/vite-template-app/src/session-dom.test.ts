// @vitest-environment jsdom
// The same in Vitest's jsdom environment (after `npm install -D jsdom`), where the page has web
// storage: the session keeps its record in sessionStorage, as in a browser.
import { expect, test } from 'vitest'
import { Session } from 'cognito-session'
import { rig } from './rig.ts'

test('in jsdom, a session in sessionStorage signs in, gets a token and keeps its record', async () => {
  const session = new Session({ userPoolId: rig.poolId, clientId: rig.clientId, endpoint: rig.cognitoUrl })
  const events: unknown[] = []
  session.subscribe((event) => events.push(event))
  expect(await session.signInWithPassword(rig.username, rig.password)).toEqual({ status: 'signedIn' })
  expect((await session.getAccessToken()).split('.')).toHaveLength(3)
  expect(sessionStorage.getItem(`cognito-session:${rig.poolId}:${rig.clientId}`)).toContain('"refresh":')
  expect(events).not.toContainEqual(expect.objectContaining({ type: 'storageUnavailable' }))
  session.free()
})
