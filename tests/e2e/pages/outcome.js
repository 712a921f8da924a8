// What both end-to-end harness pages share (harness.js for the JavaScript shell,
// rust-harness.js for the Rust driver): every outcome as plain, serialisable data, a log that
// survives a redirect, and a hidden tab as a browser shows one.

/** Where `persist` keeps its log in sessionStorage. */
export const LOG_KEY = 'e2e-log';

/** A failed call as plain data: the typed error's code, retryAt and message. */
export function failure(error, startedAt) {
  return {
    ok: false,
    name: error?.name ?? typeof error,
    code: error?.code ?? null,
    retryAt: typeof error?.retryAt === 'number' ? error.retryAt : null,
    message: String(error?.message ?? error),
    startedAt,
    at: Date.now(),
  };
}

/** A call that succeeded, as plain data. */
export function success(value, startedAt) {
  return { ok: true, value, startedAt, at: Date.now() };
}

/** `promise`'s outcome, started at `startedAt`: `success` or `failure`. */
export async function settle(startedAt, promise) {
  try {
    return success(await promise, startedAt);
  } catch (error) {
    return failure(error, startedAt);
  }
}

/** Appends to a log kept in sessionStorage, so it survives the redirect to the login page. */
export function persist(entry) {
  try {
    const list = JSON.parse(sessionStorage.getItem(LOG_KEY) || '[]');
    list.push(entry);
    sessionStorage.setItem(LOG_KEY, JSON.stringify(list));
  } catch {
    // The log is a test aid; a full storage must not change what the session does.
  }
}

/**
 * Starts calls in the background and returns at once with how many are pending: each spec gets
 * a slot `{spec, result}` in `pending`, filled by `call(spec)`'s outcome, which the log also gets
 * (a token as the word "token").
 */
export function startInBackground(pending, specs, call) {
  for (const spec of specs) {
    const slot = { spec, result: null };
    pending.push(slot);
    call(spec).then((result) => {
      slot.result = result;
      persist({ kind: 'result', spec, result: { ...result, value: result.ok && typeof result.value === 'string' ? 'token' : result.value } });
    });
  }
  return pending.length;
}

/** Waits (up to `timeoutMs`) until every call `startInBackground` put in `pending` settled;
 * returns them all as `{spec, result}`. */
export async function collectBackground(pending, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  while (pending.some((s) => s.result === null) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return pending.map((s) => ({ spec: s.spec, result: s.result }));
}

let hidden = false;

/**
 * Pretends the tab is hidden (or visible again) the way a browser does: `document.hidden`,
 * `document.visibilityState` and a `visibilitychange` event. Headless Chromium always reports
 * a visible page, so this is how a test gets a background tab.
 */
export function setHidden(value) {
  hidden = Boolean(value);
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  document.dispatchEvent(new Event('visibilitychange'));
  return hidden;
}
