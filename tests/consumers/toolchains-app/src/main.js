// A user's app, the same for every toolchain in tests/consumers/toolchains.test.mjs: the
// package's main entry imported by name, a session against the Cognito the page's
// /rig-config.json names. `window.app` lets the test drive it; its helpers answer plain data
// (`{ok, value}` or `{ok: false, code, message}`) so the test asserts on typed errors.
import { Session, isSessionError } from 'cognito-session';

async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, code: isSessionError(error) ? error.code : null, message: String(error?.message ?? error) };
  }
}

const cfg = await (await fetch('/rig-config.json', { cache: 'no-store' })).json();
const session = new Session({
  userPoolId: cfg.poolId,
  clientId: cfg.clientId,
  endpoint: cfg.cognitoUrl,
  storage: 'memory',
  allowedOrigins: [new URL(cfg.apiUrl).origin],
});

window.app = {
  signIn: () => settle(session.signInWithPassword(cfg.username, cfg.password)),
  token: () => settle(session.getAccessToken({ deadlineMs: 5000 })),
  callApi: () => settle(session.fetch(`${cfg.apiUrl}api/data`).then((r) => r.status)),
};
document.getElementById('status').textContent = 'ready';
