// A user's app: the package's default (bundler) entry, a session against the Cognito the page's
// /rig-config.json names, and a React component subscribed with useSyncExternalStore. Plain
// createElement, so no JSX transform is involved. `window.app` lets the test drive it.
import { createElement as h, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import init, { Session } from 'cognito-session';

const cfg = await (await fetch('/rig-config.json', { cache: 'no-store' })).json();
await init(); // resolves at once (the import loaded the .wasm); kept for symmetry with cognito-session/web

const session = new Session({
  userPoolId: cfg.poolId,
  clientId: cfg.clientId,
  endpoint: cfg.cognitoUrl,
  storage: 'memory',
  allowedOrigins: [new URL(cfg.apiUrl).origin],
  onLoginRequired: () => {},
});

let renders = 0;

function SessionStatus() {
  const snap = useSyncExternalStore(session.subscribe, session.getSnapshot);
  renders += 1;
  return h(
    'p',
    {
      id: 'status',
      'data-signed-in': String(snap.signedIn),
      'data-expires-at': String(snap.expiresAt),
      'data-renders': String(renders),
    },
    snap.signedIn ? `signed in until ${new Date(snap.expiresAt).toISOString()}` : 'signed out',
  );
}

function App() {
  return h(
    'main',
    null,
    h(SessionStatus),
    h('button', { id: 'sign-in', onClick: () => app.signIn() }, 'Sign in'),
    h('button', { id: 'sign-out', onClick: () => app.signOut() }, 'Sign out'),
  );
}

const app = {
  session,
  cfg,
  renders: () => renders,
  signIn: () => session.signInWithPassword(cfg.username, cfg.password),
  signOut: () => session.signOut(),
  async callApi() {
    const res = await session.fetch(`${cfg.apiUrl}api/data`);
    return { status: res.status, body: await res.json() };
  },
};
window.app = app;

createRoot(document.getElementById('root')).render(h(App));
window.appReady = true;
