// Chromium through playwright-core behind the engine interface of ./index.mjs, and the one
// thing only this driver has: observers of what a page does on the network and in its
// navigations. `observePage(page)` records every Cognito call the page sends (with the refresh
// token it carries), uncaught page errors across documents, and the main frame's navigations. The contract's scenarios (tests/e2e/rig/contract.mjs) add
// Playwright-only assertions from it where a page has one (`page.observer`); every other count
// comes from the rig's side, the same in every engine. The Chromium-only tests of
// session.test.mjs and rust.test.mjs use `openObservedTab` / `openObservedPage`: the raw
// Playwright page (for `context.setOffline`, `addInitScript`, clicks) with the same observer.

/** Cognito JSON API calls that are refreshes (the operation in the X-Amz-Target header). */
const isRefresh = (c) => c.flow === 'REFRESH_TOKEN_AUTH' || (c.target || '').endsWith('GetTokensFromRefreshToken');

/**
 * Attaches the observers to a Playwright page: `{obs: {cognito, pageErrors, navigations},
 * refreshAttempts(), navigationsTo(pathname)}`. Cognito calls are POSTs with an X-Amz-Target header (the rig's control
 * requests come from node, not the page).
 */
export function observePage(page) {
  const obs = { cognito: [], pageErrors: [], navigations: [] };
  page.on('pageerror', (e) => obs.pageErrors.push(String(e?.stack || e)));
  page.on('request', (r) => {
    const target = r.headers()['x-amz-target'];
    if (r.method() !== 'POST' || !target || r.url().includes('/__rig/')) return;
    let body = null;
    try {
      body = JSON.parse(r.postData() || 'null');
    } catch {
      // not JSON: recorded without a body
    }
    obs.cognito.push({
      t: Date.now(),
      target,
      flow: body?.AuthFlow ?? null,
      refreshToken: body?.AuthParameters?.REFRESH_TOKEN ?? body?.RefreshToken ?? null,
    });
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) obs.navigations.push({ t: Date.now(), url: frame.url() });
  });
  return {
    obs,
    refreshAttempts: () => obs.cognito.filter(isRefresh),
    navigationsTo: (pathname) => obs.navigations.filter((n) => new URL(n.url).pathname === pathname),
  };
}

/**
 * A Playwright `Browser` as an engine of ./index.mjs. Its pages are the interface's (`goto`,
 * `reload`, `url`, `evaluate`, `close`; index.mjs adds the rest) plus `observer`:
 * `observePage`'s. `close()` closes the browser only when `owned`.
 */
export function playwrightEngine(browser, { owned = false } = {}) {
  return {
    name: 'chromium',
    version: `Chromium ${browser.version()}`,
    async newContext() {
      const context = await browser.newContext();
      return {
        async newPage() {
          const p = await context.newPage();
          return {
            goto: (url) => p.goto(url).then(() => undefined),
            reload: () => p.reload().then(() => undefined),
            url: async () => p.url(),
            evaluate: (fn, arg = null) => p.evaluate(fn, arg),
            close: () => p.close(),
            observer: observePage(p),
          };
        },
        close: () => context.close(),
      };
    },
    close: async () => {
      if (owned) await browser.close();
    },
  };
}

/**
 * A raw Playwright tab of the harness page (`env.site.url` + `harness`, by default
 * `env.harness`) in `context`, with `observePage`'s observers: `{page, obs, refreshAttempts}`.
 * For the Chromium-only tests; `env.browser` is the Playwright browser.
 */
export async function openObservedTab(env, context, { hidden = false, harness = env.harness } = {}) {
  const page = await context.newPage();
  const { obs, refreshAttempts } = observePage(page);
  await page.goto(`${env.site.url}${harness}`);
  await page.evaluate(() => window.H.ready);
  if (hidden) await page.evaluate(() => window.H.setHidden(true));
  return { page, obs, refreshAttempts };
}

/** `openObservedTab` in a fresh context (its own storage): also `{context, close}`. */
export async function openObservedPage(env, options = {}) {
  const context = await env.browser.newContext();
  const tab = await openObservedTab(env, context, options);
  return { ...tab, context, close: () => context.close() };
}
