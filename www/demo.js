// The demo page: one cognito-session Session against the local rig (moto behind the fault
// proxy, and a protected API). A person signs in, calls the API, flips the proxy into throttling,
// 5xx, dropped connections, hostile answers or a revoked refresh token, and watches the session's
// events next to what the rig counted on the wire, and on a live timeline (timeline.js) of the
// refreshes, their backoff and the API calls of every tab of the page. Served by scripts/demo.sh.

import init, { Session } from '/pkg/web/cognito_session.js';
import { Timeline } from './timeline.js';

const $ = (id) => document.getElementById(id);
const time = (ms) => (ms == null ? '–' : new Date(ms).toLocaleTimeString([], { hour12: false }));
const inSeconds = (ms) => `${Math.max(0, Math.round((ms - Date.now()) / 1000))} s`;

/** Appends a line to the log: `kind` picks the colour (ok, warn, bad, info). */
function log(kind, text) {
  const li = document.createElement('li');
  li.className = kind;
  const at = document.createElement('time');
  at.textContent = new Date().toLocaleTimeString([], { hour12: false });
  li.append(at, ` ${text}`);
  $('log').prepend(li);
  while ($('log').children.length > 200) $('log').lastChild.remove();
}

function describeError(error) {
  const parts = [error?.code ?? error?.name ?? 'Error'];
  if (typeof error?.retryAt === 'number') parts.push(`retry at ${time(error.retryAt)}`);
  if (error?.message) parts.push(`(${error.message})`);
  return parts.join(' ');
}

const cfg = await (await fetch('/rig-config.json', { cache: 'no-store' })).json();
await init();

// --- the timeline ----------------------------------------------------------------------------

const tabId = Math.random().toString(16).slice(2, 10);
const timeline = new Timeline($('timeline'), tabId);
setInterval(() => timeline.draw(), 1000);

/** What Cognito's answer says: ok, throttled, refused (NotAuthorized: revoked) or error. */
async function outcomeOf(res) {
  if (res.ok) return { outcome: 'ok', label: `HTTP ${res.status}` };
  const type = await res
    .clone()
    .json()
    .then((b) => String(b?.__type ?? ''))
    .catch(() => '');
  if (type.endsWith('TooManyRequestsException')) return { outcome: 'throttled', label: `HTTP ${res.status} ${type}` };
  if (type.endsWith('NotAuthorizedException')) return { outcome: 'refused', label: `HTTP ${res.status} ${type}` };
  return { outcome: 'error', label: `HTTP ${res.status}${type ? ` ${type}` : ''}` };
}

// The page watches its own requests to Cognito (the session calls the global fetch when it
// sends one): each refresh or sign-in becomes a bar in this tab's lane, from when it left to its
// answer. A tab sends a refresh only while it holds the refresh lock.
const pageFetch = window.fetch.bind(window);
window.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input?.url ?? '';
  let kind = null;
  if (url.startsWith(cfg.cognitoUrl)) {
    // The session sends a Request; its body is read from a clone.
    const request = input instanceof Request ? input : null;
    const target = new Headers(init?.headers ?? request?.headers).get('x-amz-target') ?? '';
    let flow = '';
    try {
      const body = typeof init?.body === 'string' ? init.body : request ? await request.clone().text() : '';
      flow = String(JSON.parse(body)?.AuthFlow ?? '');
    } catch {
      // not JSON: not a refresh
    }
    if (target.endsWith('GetTokensFromRefreshToken') || flow.startsWith('REFRESH_TOKEN')) kind = 'refresh';
    else if (flow === 'USER_PASSWORD_AUTH') kind = 'signin';
  }
  if (!kind) return pageFetch(input, init);
  const id = timeline.upsert({ kind, t0: Date.now(), t1: null, outcome: 'pending' });
  try {
    const res = await pageFetch(input, init);
    timeline.upsert({ id, t1: Date.now(), ...(await outcomeOf(res)) });
    return res;
  } catch (error) {
    timeline.upsert({ id, t1: Date.now(), outcome: 'error', label: error?.name === 'AbortError' ? 'aborted' : 'network error' });
    throw error;
  }
};

let loginRequests = 0;
const options = {
  userPoolId: cfg.poolId,
  clientId: cfg.clientId,
  endpoint: cfg.cognitoUrl,
  allowedOrigins: [new URL(cfg.apiUrl).origin],
};
$('o-pool').textContent = options.userPoolId;
$('o-client').textContent = options.clientId;
$('o-endpoint').textContent = options.endpoint;
$('o-origins').textContent = JSON.stringify(options.allowedOrigins);
const session = new Session({
  ...options,
  // localStorage: every tab of the page shares the session (and one refresh at a time).
  storage: 'local',
  onLoginRequired: (reason) => {
    loginRequests += 1;
    log('bad', `login required (${reason}): the refresh token is dead; sign in again. Login requests so far: ${loginRequests}`);
    $('signin-card').classList.add('attention');
    $('password').focus();
  },
});

// --- the session's state ------------------------------------------------------------------

function render() {
  const s = session.getSnapshot();
  const pill = $('status');
  let text = 'signed out';
  let cls = 'off';
  if (s.expired) {
    text = 'session expired: sign in again';
    cls = 'bad';
  } else if (s.signedIn && s.retryAt != null && s.retryAt > Date.now()) {
    text = `signed in, provider failing: next try in ${inSeconds(s.retryAt)}`;
    cls = 'warn';
  } else if (s.signedIn && s.refreshing) {
    text = 'signed in, refreshing…';
    cls = 'warn';
  } else if (s.signedIn) {
    text = 'signed in';
    cls = 'ok';
  }
  pill.textContent = text;
  pill.className = `pill ${cls}`;
  $('s-signed').textContent = s.signedIn ? 'yes' : s.expired ? 'no (expired)' : 'no';
  $('s-expires').textContent = s.expiresAt == null ? '–' : `${time(s.expiresAt)} (in ${inSeconds(s.expiresAt)}; handed out until 30 s before)`;
  $('s-refreshing').textContent = s.refreshing ? 'yes' : 'no';
  $('s-retry').textContent = s.retryAt == null ? '–' : `${time(s.retryAt)}${s.retryAt > Date.now() ? ` (in ${inSeconds(s.retryAt)})` : ''}`;
  const c = session.claims();
  $('s-user').textContent = c ? `${c['cognito:username'] ?? c.username ?? '?'} (sub ${String(c.sub).slice(0, 8)}…)` : '–';
  $('signout').disabled = !s.signedIn;
}

session.subscribe((event) => {
  switch (event.type) {
    case 'signedIn':
      $('signin-card').classList.remove('attention');
      log('ok', `signedIn: access token valid until ${time(event.expiresAt)}`);
      break;
    case 'refreshed':
      log('ok', `refreshed: one refresh request, new token valid until ${time(event.expiresAt)}`);
      break;
    case 'throttled':
      log('warn', `throttled (TooManyRequestsException): backing off, next attempt at ${time(event.retryAt)}`);
      timeline.upsert({ kind: 'backoff', t0: Date.now(), t1: event.retryAt, label: 'throttled' });
      break;
    case 'retryScheduled':
      log('warn', `refresh failed (5xx, network or bad answer): next attempt at ${time(event.retryAt)}`);
      timeline.upsert({ kind: 'backoff', t0: Date.now(), t1: event.retryAt, label: 'failing' });
      break;
    case 'expired':
      log('bad', `expired (${event.reason}): tokens cleared`);
      timeline.upsert({ kind: 'mark', t0: Date.now(), outcome: 'expired', label: 'login required' });
      break;
    case 'signedOut':
      log('info', 'signedOut');
      break;
    case 'storageDiscarded':
      log('warn', `storageDiscarded: ${event.detail}`);
      break;
    case 'change':
      break;
    default:
      log('info', JSON.stringify(event));
  }
  render();
  timeline.token(session.getSnapshot().expiresAt);
});
setInterval(render, 1000);
render();
timeline.token(session.getSnapshot().expiresAt);
if (session.getSnapshot().signedIn) log('info', 'resumed the session kept in localStorage');

$('second-tab').addEventListener('click', () => {
  // Same origin: the new tab shares localStorage, the refresh lock and the timeline's channel.
  window.open(window.location.href, '_blank');
  log('info', 'opened a second tab of this page: both share one session and take turns with the refresh lock');
});

// --- sign in / out -------------------------------------------------------------------------

$('username').value = cfg.username;
$('password').value = cfg.password;
$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('signin-button').disabled = true;
  try {
    const result = await session.signInWithPassword($('username').value, $('password').value);
    if (result.status !== 'signedIn') log('warn', `sign-in needs another step: ${result.challengeName}`);
  } catch (error) {
    log('bad', `sign-in failed: ${describeError(error)}`);
  } finally {
    $('signin-button').disabled = false;
  }
});
$('signout').addEventListener('click', () => session.signOut());

// --- the protected API ---------------------------------------------------------------------

const apiUrl = `${cfg.apiUrl}api/data`;

async function callApi() {
  const t0 = Date.now();
  try {
    const res = await session.fetch(apiUrl);
    const body = await res.json().catch(() => null);
    const outcome = res.status === 200 ? 'ok' : res.status === 401 ? 'refused' : 'error';
    timeline.upsert({ kind: 'api', t0, t1: Date.now(), outcome, label: `HTTP ${res.status}` });
    return { ok: res.status === 200, status: res.status, body };
  } catch (error) {
    timeline.upsert({ kind: 'api', t0, t1: Date.now(), outcome: 'error', label: `rejected: ${describeError(error)} (nothing sent)` });
    return { ok: false, error };
  }
}

$('call-one').addEventListener('click', async () => {
  const t0 = performance.now();
  const r = await callApi();
  const ms = Math.round(performance.now() - t0);
  const text = r.error
    ? `session.fetch rejected: ${describeError(r.error)} (nothing was sent)`
    : `HTTP ${r.status} in ${ms} ms${r.body?.username ? `: hello ${r.body.username}, request #${r.body.n}` : r.body?.error ? `: ${r.body.error}` : ''}`;
  $('api-result').textContent = text;
  log(r.ok ? 'ok' : 'bad', `API call: ${text}`);
});

$('call-burst').addEventListener('click', async () => {
  const before = await counts();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: 50 }, callApi));
  const ms = Math.round(performance.now() - t0);
  const after = await counts();
  const tally = {};
  for (const r of results) {
    const k = r.error ? r.error.code ?? 'error' : `HTTP ${r.status}`;
    tally[k] = (tally[k] || 0) + 1;
  }
  const refreshes = after && before ? after.proxy.refresh.total - before.proxy.refresh.total : '?';
  const text = `50 concurrent calls in ${ms} ms: ${Object.entries(tally).map(([k, n]) => `${n}× ${k}`).join(', ')}; refresh requests meanwhile: ${refreshes}`;
  $('api-result').textContent = text;
  log(tally['HTTP 200'] === 50 ? 'ok' : 'warn', text);
});

$('get-token').addEventListener('click', async () => {
  try {
    const token = await session.getAccessToken({ deadlineMs: 5000 });
    const text = `getAccessToken(): ${token.slice(0, 24)}… (${token.length} chars)`;
    $('api-result').textContent = text;
    log('ok', text);
  } catch (error) {
    $('api-result').textContent = `getAccessToken() rejected: ${describeError(error)}`;
    log('bad', $('api-result').textContent);
  }
});

// --- the rig: faults and counts --------------------------------------------------------------

async function control(method, route, body) {
  const res = await fetch(`${cfg.proxyControlUrl}${route}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(json?.error ?? `HTTP ${res.status}`);
  return json;
}

async function counts() {
  try {
    return await control('GET', 'counts');
  } catch {
    return null;
  }
}

for (const button of document.querySelectorAll('[data-fault]')) {
  button.addEventListener('click', async () => {
    const spec = JSON.parse(button.dataset.fault);
    try {
      await control('POST', 'fault', spec);
      log('info', `proxy: ${button.textContent.trim()} (refresh requests only)`);
      const now = Date.now();
      timeline.upsert({ kind: 'fault', t0: now, t1: now + (spec.forMs ?? 1000), label: button.textContent.trim() });
    } catch (error) {
      log('bad', `proxy control failed: ${error.message}`);
    }
    showFault();
  });
}

$('clear-fault').addEventListener('click', async () => {
  await control('DELETE', 'fault');
  await control('DELETE', 'quota');
  log('info', 'proxy: faults cleared');
  endFaults();
  showFault();
});

$('revoke').addEventListener('click', async () => {
  try {
    const r = await control('POST', 'revoke', {});
    log('warn', `proxy: ${r.operation} → HTTP ${r.status}: every refresh token of ${cfg.username} is revoked; the next refresh will find out`);
    timeline.upsert({ kind: 'mark', t0: Date.now(), outcome: 'revoke', label: 'revoked' });
  } catch (error) {
    log('bad', `revoke failed: ${error.message}`);
  }
});

$('apply-lifetime').addEventListener('click', async () => {
  const seconds = Number($('lifetime').value);
  await control('POST', 'token-lifetime', { seconds: seconds === 3600 ? null : seconds });
  log('info', `proxy: tokens issued from now on live ${seconds} s`);
});

$('reset-counts').addEventListener('click', async () => {
  await control('POST', 'reset');
  log('info', 'rig counts reset (faults cleared too)');
  endFaults();
  showFault();
});

/** Ends this tab's fault bands now (the proxy's faults were cleared). */
function endFaults() {
  const now = Date.now();
  for (const e of timeline.entries.values()) {
    if (e.kind === 'fault' && e.tab === tabId && (e.t1 == null || e.t1 > now)) timeline.upsert({ id: e.id, t1: now });
  }
}

async function showFault() {
  try {
    const s = await control('GET', 'state');
    // The rig drops a timed fault lazily (at the next request): an elapsed one is already over.
    const f = s.fault && !(s.fault.until != null && s.fault.until <= Date.now()) ? s.fault : null;
    let text = 'Proxy: no fault.';
    if (f) {
      const left = f.until != null ? `, ${inSeconds(f.until)} left` : f.remaining != null ? `, ${f.remaining} left` : '';
      text = `Proxy: ${f.mode} on refresh requests${left} (${f.hits} hit so far).`;
    }
    if (s.tokenLifetimeS) text += ` Tokens live ${s.tokenLifetimeS} s.`;
    $('fault-state').textContent = text;
    const select = $('lifetime');
    const want = String(s.tokenLifetimeS ?? 3600);
    if ([...select.options].some((o) => o.value === want) && document.activeElement !== select) select.value = want;
  } catch {
    $('fault-state').textContent = 'Proxy: unreachable (is scripts/demo.sh still running?)';
  }
}

async function showCounts() {
  const c = await counts();
  if (!c) return;
  $('c-refresh').textContent = String(c.proxy.refresh.total);
  const modes = Object.entries(c.proxy.byMode).map(([m, n]) => `${n} ${m}`).join(', ');
  $('c-faulted').textContent = `${c.proxy.refresh.faulted || 0}${modes ? ` (${modes})` : ''}`;
  $('c-api-ok').textContent = String(c.api.ok);
  const bad = c.api.total - c.api.ok;
  $('c-api-bad').textContent = String(bad);
  $('c-api-bad').className = `big ${bad === 0 ? 'ok' : 'bad'}`;
}

setInterval(() => {
  showCounts();
  showFault();
}, 1000);
showCounts();
showFault();
log('info', `ready: Cognito (moto via the fault proxy) at ${cfg.cognitoUrl} (the endpoint option), API at ${cfg.apiUrl}`);
