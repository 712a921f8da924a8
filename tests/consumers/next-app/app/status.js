'use client';
// A client component as a Next.js user writes it from the README: the session is made when the
// module loads, on the server (Node: storage falls back to memory, nobody is signed in) and in
// the browser. useSyncExternalStore's third argument is what the server rendered, signed out, so
// that hydration matches it before the browser's own snapshot (a session resumed from storage).
// `window.app` lets tests/consumers/toolchains.test.mjs drive it; `rig.js` is written by the
// test before the build (the rig's Cognito, API and user).
import { useEffect, useSyncExternalStore } from 'react';
import { Session, isSessionError } from 'cognito-session';
import { rig } from './rig.js';

const session = new Session({
  userPoolId: rig.poolId,
  clientId: rig.clientId,
  endpoint: rig.cognitoUrl,
  allowedOrigins: [new URL(rig.apiUrl).origin],
});
const SIGNED_OUT = Object.freeze({ signedIn: false, expiresAt: null, refreshing: false, retryAt: null, expired: false });

async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, code: isSessionError(error) ? error.code : null, message: String(error?.message ?? error) };
  }
}

export default function Status() {
  const snap = useSyncExternalStore(session.subscribe, session.getSnapshot, () => SIGNED_OUT);
  useEffect(() => {
    window.app = {
      signIn: () => settle(session.signInWithPassword(rig.username, rig.password)),
      token: () => settle(session.getAccessToken({ deadlineMs: 5000 })),
      callApi: () => settle(session.fetch(`${rig.apiUrl}api/data`).then((r) => r.status)),
    };
  }, []);
  return <p id="status" data-signed-in={String(snap.signedIn)}>{snap.signedIn ? 'signed in' : 'signed out'}</p>;
}
