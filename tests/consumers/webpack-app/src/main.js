// A user's webpack app: the package's default (bundler) entry imported by name, a session against
// the Cognito the page's /rig-config.json names. `window.app` lets the test drive it; its helpers
// answer plain data (`{ok, status}` or `{ok: false, code}`) so the test asserts on typed errors.
import { Session } from 'cognito-session';

async function settle(promise) {
  try {
    const value = await promise;
    return { ok: true, value };
  } catch (error) {
    return { ok: false, code: error?.code ?? null, message: String(error?.message ?? error) };
  }
}

const cfg = await (await fetch('/rig-config.json', { cache: 'no-store' })).json();
const session = new Session({
  userPoolId: cfg.poolId,
  clientId: cfg.clientId,
  endpoint: cfg.cognitoUrl,
  storage: 'memory',
  allowedOrigins: [new URL(cfg.apiUrl).origin],
  onLoginRequired: () => {},
});

window.app = {
  session,
  signIn: () => settle(session.signInWithPassword(cfg.username, cfg.password)),
  signOut: () => settle(session.signOut()),
  token: () => settle(session.getAccessToken({ deadlineMs: 5000 })),
  /** `n` concurrent session.fetch calls of the API: each answers its HTTP status. */
  burst: (n) => Promise.all(Array.from({ length: n }, () => settle(session.fetch(`${cfg.apiUrl}api/data`).then((r) => r.status)))),
};
document.getElementById('status').textContent = 'ready';
window.appReady = true;
