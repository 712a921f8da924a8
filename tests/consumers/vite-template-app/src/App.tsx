// What tests/consumers/vite-template.test.mjs writes over the `create vite` React-TS template's
// src/App.tsx: an app that uses the package the way the README shows, and nothing else set up.
// The session is made when the module loads; if the .wasm cannot load (a Content-Security-Policy
// without 'wasm-unsafe-eval'), `new Session()` throws the typed error, which the page shows.
// `window.app` lets the test drive it; its helpers answer plain data.
import { useSyncExternalStore } from 'react'
import { Session, isSessionError } from 'cognito-session'
import { rig } from './rig.ts'

type Failure = { ok: false; code: string | null; message: string }
type Outcome = { ok: true; value: unknown } | Failure

const failed = (e: unknown): Failure => ({ ok: false, code: isSessionError(e) ? e.code : null, message: e instanceof Error ? e.message : String(e) })

async function settle(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await promise }
  } catch (e) {
    return failed(e)
  }
}

let session: Session | null = null
let failure: Failure | null = null
try {
  session = new Session({
    userPoolId: rig.poolId,
    clientId: rig.clientId,
    endpoint: rig.cognitoUrl,
    storage: 'memory',
    allowedOrigins: [new URL(rig.apiUrl).origin],
  })
} catch (e) {
  failure = failed(e)
}

declare global {
  interface Window {
    app: unknown
  }
}

window.app = {
  failure,
  signIn: () => settle(session!.signInWithPassword(rig.username, rig.password)),
  token: () => settle(session!.getAccessToken()),
  callApi: () => settle(session!.fetch(`${rig.apiUrl}api/data`).then((res) => res.status)),
}

function SessionStatus({ session }: { session: Session }) {
  const snap = useSyncExternalStore(session.subscribe, session.getSnapshot)
  return (
    <main>
      <p id="status" data-signed-in={String(snap.signedIn)}>
        {snap.signedIn ? `signed in until ${new Date(snap.expiresAt!).toISOString()}` : 'signed out'}
      </p>
      <button id="sign-in" onClick={() => session.signInWithPassword(rig.username, rig.password)}>
        Sign in
      </button>
    </main>
  )
}

function App() {
  if (!session) {
    return (
      <p id="load-error" data-code={String(failure?.code)}>
        {failure?.message}
      </p>
    )
  }
  return <SessionStatus session={session} />
}

export default App
