// The browser's own life, end to end in headless Chromium against moto behind the fault proxy:
// the network going away and coming back, tabs waking together after a sleep, the tab that
// holds the refresh lock dying mid-refresh, a page restored from the back-forward cache, and
// storage written by a newer release. Each test asserts counts taken on the wire: refreshes at
// the proxy (and which reached moto), bad-token API calls, login redirects.
//
//   node --test tests/e2e/life.test.mjs    (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REPO_ROOT } from './rig/rig.mjs';
import { CHROMIUM, CHROMIUM_ARGS } from './rig/browser.mjs';
import { startStaticServer } from './rig/serve.mjs';
import { useRig } from './rig/suite.mjs';

const HARNESS = 'tests/e2e/pages/harness.html';
const OTHER_PAGE = 'tests/e2e/pages/login.html';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowS = () => Math.floor(Date.now() / 1000);

let rig;
let site;
let browser;
useRig((env) => ({ rig, site, browser } = env));

/** `n` tabs of one browser context (one localStorage) on the harness (served at `base`), each
 * with a session on localStorage; `hidden` tabs refresh only when a caller asks. */
async function tabsOn(context, n, { hidden, base = site.url }) {
  const tabs = [];
  for (let i = 0; i < n; i += 1) {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e?.stack || e)));
    await page.goto(`${base}${HARNESS}`);
    await page.evaluate(() => window.H.ready);
    if (hidden) await page.evaluate(() => window.H.setHidden(true));
    await page.evaluate(() => window.H.make({ storage: 'local' }));
    tabs.push({ page, errors });
  }
  return tabs;
}

/** Signs the first tab in with moto's refresh token and an access token that expired ten
 * minutes ago (the others resume it from localStorage): the next token needs a refresh. */
async function expiredSignIn(tab) {
  const ar = await rig.control.signIn();
  const accessToken = rig.control.mintToken({ tokenUse: 'access', iat: nowS() - 3600, expiresInS: 3000 });
  assert.deepEqual(await tab.page.evaluate((t) => window.H.setTokens(t), { accessToken, refreshToken: ar.RefreshToken }), { ok: true });
  return ar.RefreshToken;
}

/** The counts every test states: refreshes at the proxy and at moto, bad-token API calls. */
function wire() {
  const c = rig.counts();
  return { refreshes: c.proxy.refresh.total, reachedMoto: c.proxy.refresh.forwarded, badTokens: c.api.total - c.api.ok, apiOk: c.api.ok };
}

/** Polls `f` until it is truthy (every 50 ms, at most `ms`). */
async function until(f, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await f();
    if (value) return value;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

function codes(results) {
  const out = {};
  for (const r of results) out[r.ok ? 'ok' : r.code] = (out[r.ok ? 'ok' : r.code] || 0) + 1;
  return out;
}

describe('the browser’s own life', { concurrency: false }, () => {
  test('offline: no refresh goes out and no backoff is recorded; callers get UNAVAILABLE by their deadline; back online, one refresh restores the session', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    const context = await browser.newContext();
    try {
      const [tab] = await tabsOn(context, 1, { hidden: true });
      await expiredSignIn(tab);
      await context.setOffline(true);
      assert.equal(await tab.page.evaluate(() => navigator.onLine), false);
      const offline = await tab.page.evaluate(() => window.H.tokens(5, 1500));
      assert.deepEqual(codes(offline), { UNAVAILABLE: 5 });
      const snap = await tab.page.evaluate(() => window.H.snapshot());
      assert.deepEqual([snap.signedIn, snap.expired, snap.retryAt], [true, false, null], 'signed in, nothing backed off');
      assert.deepEqual(wire(), { refreshes: 0, reachedMoto: 0, badTokens: 0, apiOk: 0 });

      await context.setOffline(false);
      const back = await tab.page.evaluate(() => window.H.burst(10));
      assert.deepEqual(codes(back.map((r) => (r.ok && r.value.status === 200 ? r : { code: r.code ?? `HTTP ${r.value?.status}` }))), { ok: 10 });
      assert.deepEqual(wire(), { refreshes: 1, reachedMoto: 1, badTokens: 0, apiOk: 10 });
      assert.deepEqual(await tab.page.evaluate(() => window.H.loginRequired), []);
      assert.deepEqual(tab.errors, []);
      t.diagnostic('offline: 5 callers UNAVAILABLE, 0 refreshes; online: 1 refresh, 10 API calls ok, 0 bad tokens');
    } finally {
      await context.close();
    }
  });

  test('offline in two visible tabs: when the network comes back, one refresh (spread over a few seconds) serves both', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    const context = await browser.newContext();
    try {
      const tabs = await tabsOn(context, 2, { hidden: true });
      await context.setOffline(true);
      await expiredSignIn(tabs[0]);
      await until(() => tabs[1].page.evaluate(() => window.H.snapshot().signedIn), 5000, 'the second tab resumed the session');
      for (const tab of tabs) await tab.page.evaluate(() => window.H.setHidden(false));
      await sleep(1500);
      assert.equal(wire().refreshes, 0, 'visible tabs with an expired token send nothing while offline');
      const online = Date.now();
      await context.setOffline(false);
      await until(() => wire().refreshes === 1, 10000, 'a refresh after the network came back');
      const took = Date.now() - online;
      await until(async () => (await Promise.all(tabs.map((tab) => tab.page.evaluate(() => window.H.snapshot().retryAt === null && window.H.events.some((e) => e.type === 'refreshed'))))).every(Boolean), 5000, 'both tabs have the new tokens');
      const calls = (await Promise.all(tabs.map((tab) => tab.page.evaluate(() => window.H.burst(5))))).flat();
      assert.equal(calls.filter((r) => r.ok && r.value.status === 200).length, 10);
      await sleep(300);
      assert.deepEqual(wire(), { refreshes: 1, reachedMoto: 1, badTokens: 0, apiOk: 10 });
      assert.ok(took <= 7000, `the refresh came ${took} ms after the network`);
      for (const tab of tabs) assert.deepEqual(tab.errors, []);
      t.diagnostic(`back online: 1 refresh for 2 tabs, ${took} ms after the online event (spread: up to 5 s)`);
    } finally {
      await context.close();
    }
  });

  test('sleep and wake: five tabs become visible together with an expired token → 1 refresh, every tab served, 0 bad tokens', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    const context = await browser.newContext();
    try {
      const tabs = await tabsOn(context, 5, { hidden: true });
      await expiredSignIn(tabs[0]);
      for (const tab of tabs) await until(() => tab.page.evaluate(() => window.H.snapshot().signedIn), 5000, 'a tab resumed the session');
      await sleep(300);
      assert.equal(wire().refreshes, 0, 'hidden tabs wait for a caller');
      // The lid opens: every tab becomes visible and gets focus at once.
      await Promise.all(
        tabs.map((tab) =>
          tab.page.evaluate(() => {
            window.H.setHidden(false);
            window.dispatchEvent(new Event('focus'));
          }),
        ),
      );
      const calls = (await Promise.all(tabs.map((tab) => tab.page.evaluate(() => window.H.burst(4))))).flat();
      assert.equal(calls.filter((r) => r.ok && r.value.status === 200).length, 20, JSON.stringify(codes(calls)));
      await sleep(300);
      assert.deepEqual(wire(), { refreshes: 1, reachedMoto: 1, badTokens: 0, apiOk: 20 });
      for (const tab of tabs) {
        assert.deepEqual(await tab.page.evaluate(() => window.H.loginRequired), []);
        assert.deepEqual(tab.errors, []);
      }
      t.diagnostic('five tabs waking with an expired token: 1 refresh, 20 API calls ok, 0 bad tokens');
    } finally {
      await context.close();
    }
  });

  test('the tab holding the refresh lock closes while its refresh hangs: another tab gets a token in bounded time, one refresh reaches moto, no refresh token presented twice', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    const context = await browser.newContext();
    try {
      const [holder, waiter] = await tabsOn(context, 2, { hidden: true });
      await expiredSignIn(holder);
      await until(() => waiter.page.evaluate(() => window.H.snapshot().signedIn), 5000, 'the second tab resumed the session');
      rig.control.setFault({ mode: 'hang', count: 1, ms: 60000 });
      await holder.page.evaluate(() => window.H.start([{ kind: 'token', deadlineMs: 60000 }]));
      await until(() => wire().refreshes === 1, 5000, 'the holder’s refresh reached the proxy and hangs');
      await waiter.page.evaluate(() => window.H.start([{ kind: 'token', deadlineMs: 20000 }]));
      await sleep(500);
      assert.equal(wire().refreshes, 1, 'the waiting tab waits for the lock');
      const closed = Date.now();
      await holder.page.close();
      const [{ result }] = await waiter.page.evaluate(() => window.H.collect(20000));
      const took = Date.now() - closed;
      assert.equal(result.ok, true, JSON.stringify(result));
      const w = wire();
      assert.deepEqual([w.refreshes, w.reachedMoto], [2, 1], 'the hung request never reached moto; the second did');
      const presented = rig
        .counts()
        .proxy.events.filter((e) => e.op.startsWith('InitiateAuth/REFRESH') && e.outcome === 'forwarded').length;
      assert.equal(presented, 1, 'the refresh token reached the provider once');
      assert.ok(took < 10000, `the waiting tab got its token ${took} ms after the holder closed`);
      const calls = await waiter.page.evaluate(() => window.H.burst(3));
      assert.equal(calls.filter((r) => r.ok && r.value.status === 200).length, 3);
      assert.equal(wire().badTokens, 0);
      assert.deepEqual(await waiter.page.evaluate(() => window.H.loginRequired), []);
      assert.deepEqual(waiter.errors, []);
      t.diagnostic(`holder closed mid-refresh: the other tab had a token ${took} ms later; 2 refreshes at the proxy, 1 at moto`);
    } finally {
      rig.control.clearFault();
      await context.close();
    }
  });

  test('back-forward cache: a page restored with a stale session reads storage before handing anything out', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    // Playwright turns the back-forward cache off (--disable-back-forward-cache), and Chromium
    // keeps no page served with Cache-Control: no-store: this test has its own browser and
    // static server. A restore fires no `load`, so going back waits for the commit only.
    const { chromium } = await import('playwright-core');
    const bfBrowser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
    const bfSite = await startStaticServer({ dir: REPO_ROOT, config: () => rig.control.config(), headers: () => ({ 'Cache-Control': 'no-cache' }) });
    const context = await bfBrowser.newContext();
    try {
      const [away, other] = await tabsOn(context, 2, { hidden: true, base: bfSite.url });
      other.page.on('pageerror', () => {});
      const signedIn = await away.page.evaluate(() => window.H.signIn());
      assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
      await until(() => other.page.evaluate(() => window.H.snapshot().signedIn), 5000, 'the other tab resumed the session');
      // The app's own pageshow handler (added after the session's) asks for a token at once.
      await away.page.evaluate(() => {
        window.__shows = [];
        window.addEventListener('pageshow', (e) => {
          window.__shows.push(e.persisted);
          window.__onShow = window.H.session.getAccessToken({ deadlineMs: 500 }).then(
            () => 'a token',
            (error) => error.code,
          );
        });
      });
      const token = await away.page.evaluate(async () => (await window.H.tokens(1))[0].value);
      await away.page.goto(`${bfSite.url}${OTHER_PAGE}`);
      // While it is away, the record goes from storage. (Not by a sign-out in the other tab:
      // its BroadcastChannel message would evict the cached page, which then loads afresh and
      // reads storage anyway; storage events are what a cached page misses.)
      await other.page.evaluate(() => localStorage.clear());
      await away.page.goBack({ waitUntil: 'commit' });
      await until(() => away.page.evaluate(() => window.__shows?.length > 0), 5000, 'the page is shown again');
      const shows = await away.page.evaluate(() => window.__shows ?? null);
      assert.deepEqual(shows, [true], 'the page came back from the back-forward cache (not reloaded)');
      assert.equal(await away.page.evaluate(() => window.__onShow), 'NOT_SIGNED_IN', 'the pageshow handler got the stale token');
      const after = await away.page.evaluate(() => window.H.tokens(1, 500));
      assert.deepEqual(codes(after), { NOT_SIGNED_IN: 1 }, `handed out ${after[0].value === token ? 'the stale token' : JSON.stringify(after)}`);
      assert.equal(await away.page.evaluate(() => window.H.snapshot().signedIn), false);
      assert.equal(wire().badTokens, 0);
      assert.deepEqual(away.errors, []);
      t.diagnostic('restored from bfcache after the record went: NOT_SIGNED_IN, not the stale token');
    } finally {
      await context.close();
      await bfBrowser.close();
      await bfSite.close();
    }
  });

  test('pageshow from the back-forward cache rereads storage: a change the page was never told of is taken in before the next token', { timeout: 30000 }, async (t) => {
    rig.control.reset();
    const context = await browser.newContext();
    try {
      const [tab] = await tabsOn(context, 1, { hidden: true });
      const signedIn = await tab.page.evaluate(() => window.H.signIn());
      assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
      // A page is not told of its own storage writes: this removal stands for one it missed
      // (a browser that does not replay storage events to a restored page).
      const [before, afterShow] = await tab.page.evaluate(async () => {
        localStorage.clear();
        const stale = await window.H.session.getAccessToken({ deadlineMs: 500 }).then(() => 'a token', (e) => e.code);
        window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
        const fresh = await window.H.session.getAccessToken({ deadlineMs: 500 }).then(() => 'a token', (e) => e.code);
        return [stale, fresh];
      });
      assert.deepEqual([before, afterShow], ['a token', 'NOT_SIGNED_IN']);
      assert.deepEqual(tab.errors, []);
      t.diagnostic('unseen removal: a token before pageshow, NOT_SIGNED_IN after it');
    } finally {
      await context.close();
    }
  });

  test('a record written by a newer release is left alone; the session runs from memory and says so', { timeout: 60000 }, async (t) => {
    rig.control.reset();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e?.stack || e)));
      await page.goto(`${site.url}${HARNESS}`);
      await page.evaluate(() => window.H.ready);
      const key = await page.evaluate(() => `cognito-session:${window.H.cfg.poolId}:${window.H.cfg.clientId}`);
      const newer = JSON.stringify({ v: 2, sessions: ['whatever a later release writes'] });
      await page.evaluate(([k, v]) => localStorage.setItem(k, v), [key, newer]);
      await page.evaluate(() => window.H.make({ storage: 'local' }));
      await until(() => page.evaluate(() => window.H.events.some((e) => e.type === 'storageUnavailable')), 2000, 'the storageUnavailable event');
      const event = await page.evaluate(() => window.H.events.find((e) => e.type === 'storageUnavailable'));
      assert.match(event.detail, /newer version/);
      const signedIn = await page.evaluate(() => window.H.signIn());
      assert.equal(signedIn.ok, true, JSON.stringify(signedIn));
      const calls = await page.evaluate(() => window.H.burst(3));
      assert.equal(calls.filter((r) => r.ok && r.value.status === 200).length, 3);
      await page.evaluate(() => window.H.session.signOut());
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), key), newer, 'the newer record is untouched');
      assert.equal(wire().badTokens, 0);
      assert.deepEqual(await page.evaluate(() => window.H.loginRequired), []);
      assert.deepEqual(errors, []);
      t.diagnostic('newer record: left as it was through sign-in, API calls and sign-out');
    } finally {
      await context.close();
    }
  });
});
