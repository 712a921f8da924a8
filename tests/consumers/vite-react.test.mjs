// A user's Vite + React app, installed from the packed tarball (the main entry and
// cognito-session/react, no vite.config), built with `vite build` and run in headless Chromium
// against moto's Cognito behind the rig's proxy, on React 19 and, reinstalled, on React 18. Its
// components use cognito-session/react: useSession must re-render when the session signs in,
// when a refresh replaces the token (short-lived tokens make the session refresh on its own) and
// when it signs out; useAccessToken must bring each new token, drop it with the sign-out in the
// same commit, and never show a token the session would no longer hand out (also when refreshes
// fail). The entry's declarations type-check with @types/react 19 and 18, it imports in Node
// and renders there signed out, and no other file of the package imports React.
//
//   node --test tests/consumers/vite-react.test.mjs
//   (needs scripts/bootstrap.sh and tests/e2e/rig/setup.sh first; builds and packs what is stale)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CONSUMERS_DIR,
  NPM_INSTALL_FLAGS,
  REPO_ROOT,
  badTokenRequests,
  builtApp,
  decodeJwt,
  installApp,
  listFiles,
  refreshCount,
  removeApp,
  run,
  startStaticServer,
  viteBuild,
  watchPage,
} from './lib.mjs';

const TSC = path.join(REPO_ROOT, 'tests', 'e2e', 'node_modules', 'typescript', 'bin', 'tsc');
/** React 18, installed over the template's React 19 in a second copy of the app. */
const REACT_18 = ['react@18.3.1', 'react-dom@18.3.1', '@types/react@18.3.32'];
/** How long before its expiry the session stops handing a token out (`min_validity`). */
const MIN_VALIDITY_MS = 30000;

// moto's tokens re-signed to live 35 s: with the session's 30 s margin it refreshes each one a
// few seconds after it arrives.
const SHORT_LIFETIME_S = 35;

let rig;
let site;
let browser;
let appDir;
let dist;
/** The same app on React 18: its directory and its static server (same rig, same browser). */
let appDir18;
let site18;

const app = builtApp('vite-react', viteBuild);
before(async () => {
  ({ appDir, dist, rig, site, browser } = await app.start());
  appDir18 = await installApp(path.join(CONSUMERS_DIR, 'vite-react'));
  await run('npm', ['install', ...NPM_INSTALL_FLAGS, ...REACT_18], { cwd: appDir18 });
  site18 = await startStaticServer({ dir: await viteBuild(appDir18), config: () => rig.control.config() });
}, { timeout: 900000 });
after(async () => {
  if (site18) await site18.close();
  removeApp(appDir18);
  await app.stop();
});
async function openApp(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const obs = watchPage(page);
  await page.goto(url);
  await page.waitForFunction(() => window.appReady === true, null, { timeout: 10000 });
  return { page, obs, close: () => context.close() };
}

/**
 * What the two components show now and, with `withSession` (while signed in and refreshing
 * fine), what the session says at the same moment: its snapshot's expiry and the token
 * `getAccessToken()` hands out (from its cache, a microtask away; a refresh is a network answer
 * away, so no other can slip in between).
 */
const shown = (page, withSession = false) =>
  page.evaluate(async (withSession) => {
    const s = document.getElementById('status').dataset;
    const t = document.getElementById('token').dataset;
    const session = window.app.session;
    const expiresAt = String(session.getSnapshot().expiresAt);
    const token = withSession ? await session.getAccessToken() : null;
    return {
      signedIn: s.signedIn,
      expiresAt: s.expiresAt,
      user: s.user,
      renders: Number(s.renders),
      token: t.token,
      tokenStatus: t.status,
      code: t.code,
      tokenRenders: Number(t.renders),
      session: { expiresAt, token },
    };
  }, withSession);

/**
 * Records, in the page, what both components showed after every DOM change (a
 * MutationObserver's callback runs after each commit), so a test can tell whether the token ever
 * showed beside a signed-out status.
 */
const watchDom = (page) =>
  page.evaluate(() => {
    window.domStates = [];
    const read = () => {
      const s = document.getElementById('status').dataset;
      const t = document.getElementById('token').dataset;
      window.domStates.push({ signedIn: s.signedIn, token: t.token, status: t.status, at: Date.now() });
    };
    new MutationObserver(read).observe(document.getElementById('root'), { subtree: true, attributes: true, childList: true, characterData: true });
  });

/**
 * Every token the TokenStatus component committed was replaced (or, for the last one, is still
 * shown at `now`) before the session stopped handing it out: `MIN_VALIDITY_MS` before its `exp`.
 * 2 s of slack: `exp` is whole seconds, and the session times a token from its arrival.
 */
function assertNeverStale(committed, now) {
  committed.forEach((c, i) => {
    if (c.status !== 'ready') return;
    const exp = decodeJwt(c.token)?.claims.exp;
    assert.ok(Number.isFinite(exp), `a committed token is a JWT: ${c.token}`);
    const gone = committed[i + 1]?.at ?? now;
    const handedOutUntil = exp * 1000 - MIN_VALIDITY_MS;
    assert.ok(gone <= handedOutUntil + 2000, `token ${i} shown until ${gone}, ${gone - handedOutUntil} ms after the session stopped handing it out`);
  });
}

/** A test app's tab, signed in, with both components showing the session. */
async function signIn(page) {
  await page.click('#sign-in');
  await page.waitForSelector('#token[data-status="ready"]', { timeout: 10000 });
  await page.waitForSelector('#status[data-signed-in="true"]', { timeout: 10000 });
  return shown(page, true);
}

describe('a Vite + React app using the packed package', { concurrency: false }, () => {
  test('the build ships the package’s .wasm as an asset, byte for byte', { timeout: 10000 }, (t) => {
    const files = listFiles(dist);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `one .wasm in dist: ${files.join(', ')}`);
    const wasmBytes = fs.statSync(path.join(dist, wasm[0])).size;
    const packaged = fs.statSync(path.join(appDir, 'node_modules', 'cognito-session', 'bundler', 'cognito_session_bg.wasm')).size;
    assert.equal(wasmBytes, packaged, 'the shipped .wasm is the package’s, byte for byte');
    const js = files.filter((f) => f.endsWith('.js')).reduce((n, f) => n + fs.statSync(path.join(dist, f)).size, 0);
    t.diagnostic(`vite build: ${wasm[0]} ${wasmBytes} B, JS (React included) ${js} B`);
  });

  for (const [react, url] of [
    ['19', () => site.url],
    ['18', () => site18.url],
  ]) {
    test(`React ${react}: signs in, re-renders on every refresh and on sign-out, and useAccessToken follows`, { timeout: 60000 }, async (t) => {
      rig.control.reset();
      rig.control.setTokenLifetime(SHORT_LIFETIME_S);
      const { page, obs, close } = await openApp(url());
      try {
        assert.equal((await page.evaluate(() => window.app.reactVersion)).split('.')[0], react, 'the app runs the React it was built with');
        const before = await shown(page);
        assert.equal(before.signedIn, 'false', JSON.stringify(before));
        await page.waitForSelector('#token[data-status="error"]', { timeout: 5000 });
        assert.equal((await shown(page)).code, 'NOT_SIGNED_IN', 'signed out: the token hook has the session’s typed error');

        const signedIn = await signIn(page);
        const cfg = rig.control.config();
        assert.equal(signedIn.user, cfg.username, 'useSession’s claims are the signed-in user’s');
        const firstExpiry = Number(signedIn.expiresAt);
        assert.ok(Math.abs(firstExpiry - (Date.now() + SHORT_LIFETIME_S * 1000)) < 5000, `expiresAt ${firstExpiry} is about ${SHORT_LIFETIME_S} s ahead`);
        assert.equal(signedIn.token, signedIn.session.token, 'the rendered token is the session’s');

        // The session refreshes on its own; both components must render what it brings.
        await page.waitForFunction((e) => Number(document.getElementById('status').dataset.expiresAt) > e, firstExpiry, { timeout: 20000 });
        await page.waitForFunction((tk) => document.getElementById('token').dataset.token !== tk && document.getElementById('token').dataset.status === 'ready', signedIn.token, { timeout: 5000 });
        const refreshed = await shown(page, true);
        assert.ok(refreshed.renders > signedIn.renders, `useSession re-rendered after the refresh: ${JSON.stringify({ signedIn, refreshed })}`);
        assert.ok(refreshed.tokenRenders > signedIn.tokenRenders, 'useAccessToken re-rendered after the refresh');
        assert.equal(refreshed.expiresAt, refreshed.session.expiresAt, 'the rendered expiry is the session’s');
        assert.equal(refreshed.token, refreshed.session.token, 'the rendered token is the one the session hands out now');
        assert.ok(refreshCount(rig.counts()) >= 1, 'the proxy saw the refresh');

        const call = await page.evaluate(() => window.app.callApi());
        assert.equal(call.status, 200, JSON.stringify(call));

        await watchDom(page);
        await page.click('#sign-out');
        await page.waitForSelector('#status[data-signed-in="false"]', { timeout: 10000 });
        await page.waitForSelector('#token[data-status="error"]', { timeout: 5000 });
        const out = await shown(page);
        assert.ok(out.renders > refreshed.renders, 're-rendered on sign-out');
        assert.equal(out.expiresAt, 'null');
        assert.deepEqual([out.token, out.code, out.user], ['', 'NOT_SIGNED_IN', '']);
        const dom = await page.evaluate(() => window.domStates);
        assert.deepEqual(dom.filter((d) => d.signedIn === 'false' && d.token !== ''), [], 'the token went in the commit that showed the sign-out');

        // Nothing renders on its own once signed out (no loop between the hook and the session).
        await page.waitForTimeout(1500);
        const still = await shown(page);
        assert.deepEqual([still.renders, still.tokenRenders], [out.renders, out.tokenRenders], 'no renders while nothing changes');

        const committed = await page.evaluate(() => window.app.committed());
        assertNeverStale(committed, Date.now());
        const tokens = new Set(committed.filter((c) => c.status === 'ready').map((c) => c.token));
        assert.ok(tokens.size >= 2, `the hook showed the first token and a refreshed one: ${tokens.size}`);

        const c = rig.counts();
        assert.equal(c.api.ok, 1);
        assert.equal(badTokenRequests(c), 0, JSON.stringify(c.api.byKind));
        assert.deepEqual(obs.pageErrors, []);
        assert.deepEqual(obs.consoleErrors, []);
        t.diagnostic(
          `React ${react}: useSession renders ${signedIn.renders} signed in, ${refreshed.renders} after the refresh, ${out.renders} signed out; ` +
            `useAccessToken renders ${out.tokenRenders}, ${tokens.size} tokens shown; ${refreshCount(c)} refreshes`,
        );
      } finally {
        rig.control.setTokenLifetime(null);
        await close();
      }
    });
  }

  test('while refreshes fail, useAccessToken drops the token when the session stops handing it out, and shows the next one', { timeout: 90000 }, async (t) => {
    rig.control.reset();
    rig.control.setTokenLifetime(SHORT_LIFETIME_S);
    const { page, obs, close } = await openApp(site.url);
    try {
      const signedIn = await signIn(page);
      rig.control.setFault({ mode: 'unavailable' });
      // The moment the session stops handing the token out, by its own expiry (rendered by useSession).
      const handedOutUntil = Number(signedIn.expiresAt) - MIN_VALIDITY_MS;
      await page.waitForFunction(() => document.getElementById('token').dataset.token === '', null, { timeout: 15000 });
      const dropped = await shown(page);
      assert.equal(dropped.signedIn, 'true', 'still signed in: the refresh token is fine, the provider is not');
      assert.ok(rig.counts().proxy.refresh.total >= 1, 'the session tried to refresh');
      const shownSoFar = await page.evaluate(() => window.app.committed());
      const firstReady = shownSoFar.findIndex((c) => c.status === 'ready');
      const droppedAt = shownSoFar.slice(firstReady).find((c) => c.status !== 'ready').at;
      // (5 ms: timers run on a monotonic clock, Date.now() on the wall clock)
      assert.ok(droppedAt >= handedOutUntil - 5, `not dropped before the session stopped handing it out: ${droppedAt - handedOutUntil} ms`);
      assert.ok(droppedAt <= handedOutUntil + 1000, `dropped ${droppedAt - handedOutUntil} ms after the session stopped handing it out`);

      // The provider recovers: the session's next retry brings a token, and the hook shows it.
      rig.control.setFault(null);
      await page.waitForFunction(() => document.getElementById('token').dataset.status === 'ready', null, { timeout: 45000 });
      const back = await shown(page, true);
      assert.notEqual(back.token, signedIn.token);
      assert.equal(back.token, back.session.token, 'the rendered token is the one the session hands out now');
      const committed = await page.evaluate(() => window.app.committed());
      assertNeverStale(committed, Date.now());
      assert.deepEqual(obs.pageErrors, []);
      const codes = committed.slice(firstReady).filter((c) => c.status === 'error').map((c) => c.code);
      t.diagnostic(`dropped ${droppedAt - handedOutUntil} ms after the session stopped handing it out; while failing: ${codes.join(', ') || 'loading only'}; back after ${Date.now() - droppedAt} ms`);
    } finally {
      rig.control.setFault(null);
      rig.control.setTokenLifetime(null);
      await close();
    }
  });

  test('cognito-session/react type-checks with @types/react 19 and 18 (tsc --strict, skipLibCheck off)', { timeout: 240000 }, async (t) => {
    if (!fs.existsSync(TSC)) return t.skip(`no TypeScript at ${TSC} (tests/e2e/rig/setup.sh installs it)`);
    for (const dir of [appDir, appDir18]) {
      await run(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'esnext,dom', 'types-check.ts'], {
        cwd: dir,
        timeoutMs: 110000,
      });
    }
  });

  test('in Node, without a DOM: the entry imports, and a server render is signed out with no token', { timeout: 30000 }, async () => {
    // A stand-in session that is signed in: the server must render what hydration renders first,
    // signed out, whatever the session says (the browser's tokens are not on the server).
    const script = `
      import { createElement as h } from 'react';
      import { renderToString } from 'react-dom/server';
      import * as entry from 'cognito-session/react';
      const snapshot = Object.freeze({ signedIn: true, expiresAt: Date.now() + 3600000, refreshing: false, retryAt: null, expired: false });
      let asked = 0;
      const session = {
        subscribe: () => () => {},
        getSnapshot: () => snapshot,
        claims: () => ({ email: 'a@example.com' }),
        getAccessToken: () => { asked += 1; return Promise.resolve('token'); },
      };
      function Page() {
        const s = entry.useSession();
        const token = entry.useAccessToken();
        return h('p', null, [String(s.signedIn), String(s.claims), token.status].join(' '));
      }
      const html = renderToString(h(entry.SessionProvider, { session }, h(Page)));
      let missing;
      try { renderToString(h(Page)); } catch (e) { missing = e.code; }
      console.log(JSON.stringify({ exports: Object.keys(entry).sort(), html, asked, missing, dom: typeof document }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: appDir, timeoutMs: 25000 });
    const got = JSON.parse(stdout.trim().split('\n').pop());
    assert.deepEqual(got.exports, ['SessionProvider', 'useAccessToken', 'useSession', 'useSessionContext']);
    assert.equal(got.dom, 'undefined');
    assert.equal(got.html, '<p>false null loading</p>');
    assert.equal(got.asked, 0, 'a server render asks for no token');
    assert.equal(got.missing, 'BAD_CONFIG', 'a hook with no session and no provider says so');
  });

  test('only cognito-session/react imports React, and it imports nothing else', { timeout: 10000 }, () => {
    const pkgDir = path.join(appDir, 'node_modules', 'cognito-session');
    const imports = {};
    for (const file of listFiles(pkgDir).filter((f) => /\.m?js$/.test(f))) {
      const text = fs.readFileSync(path.join(pkgDir, file), 'utf8');
      const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
      imports[file] = specifiers;
    }
    const withReact = Object.keys(imports).filter((f) => imports[f].some((s) => s === 'react' || s.startsWith('react/') || s.startsWith('react-dom')));
    assert.deepEqual(withReact, ['react.js']);
    assert.deepEqual(imports['react.js'], ['react']);
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    assert.deepEqual([pkg.peerDependencies?.react, pkg.peerDependenciesMeta?.react?.optional], ['>=18', true]);
  });
});
