// A user's app: the package's default (bundler) entry, a session against the Cognito the page's
// /rig-config.json names, and components on the hooks of cognito-session/react: useSession (from
// the SessionProvider's session) and useAccessToken (given the session). Plain createElement, so
// no JSX transform is involved; the same source runs on React 19 and, reinstalled, React 18.
// `window.app` lets the test drive it and read what each component rendered and committed.
import { createElement as h, useEffect, version as reactVersion } from 'react';
import { createRoot } from 'react-dom/client';
import init, { Session } from 'cognito-session';
import { SessionProvider, useAccessToken, useSession, useSessionContext } from 'cognito-session/react';

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

const renders = { status: 0, token: 0 };
/** Every token state the TokenStatus component committed, with the moment (ms since the epoch). */
const committed = [];

function SessionStatus() {
  const { signedIn, expiresAt, claims } = useSession();
  renders.status += 1;
  return h(
    'p',
    {
      id: 'status',
      'data-signed-in': String(signedIn),
      'data-expires-at': String(expiresAt),
      'data-renders': String(renders.status),
      'data-user': String(claims?.['cognito:username'] ?? claims?.username ?? ''),
    },
    signedIn ? `signed in until ${new Date(expiresAt).toISOString()}` : 'signed out',
  );
}

function TokenStatus() {
  const state = useAccessToken(session);
  renders.token += 1;
  useEffect(() => {
    committed.push({ status: state.status, token: state.token ?? null, code: state.error?.code ?? null, at: Date.now() });
  }, [state]);
  return h(
    'p',
    {
      id: 'token',
      'data-status': state.status,
      'data-token': state.token ?? '',
      'data-code': state.error?.code ?? '',
      'data-renders': String(renders.token),
    },
    state.status === 'error' ? `no token: ${state.error.code}` : state.status,
  );
}

function SignOutButton() {
  const s = useSessionContext();
  return h('button', { id: 'sign-out', onClick: () => s.signOut() }, 'Sign out');
}

function App() {
  return h(
    SessionProvider,
    { session },
    h(
      'main',
      null,
      h(SessionStatus),
      h(TokenStatus),
      h('button', { id: 'sign-in', onClick: () => app.signIn() }, 'Sign in'),
      h(SignOutButton),
    ),
  );
}

const app = {
  session,
  cfg,
  reactVersion,
  renders: () => ({ ...renders }),
  committed: () => committed.slice(),
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
