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
