// The demo page's live timeline (www/timeline.js) in headless Chromium against the rig, driven
// as a person would: sign in, open a second tab, throttle the provider, clear it, revoke. The
// timeline must show each step as it happens: the refresh attempts coloured by outcome
// (throttled, then ok) in the lane of the tab that held the refresh lock, the backoff window, the
// revoke and the login required, with every refresh the proxy saw on it exactly once (two tabs,
// one refresh at a time). A screenshot of the timeline goes to target/demo-timeline.png (not
// committed) for a person to look at.
//
//   node --test tests/e2e/demo-timeline.test.mjs   (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT, startRig } from './rig/rig.mjs';
import { launchChromium } from './rig/browser.mjs';
import { startStaticServer } from './rig/serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const SHOT = path.join(REPO_ROOT, 'target', 'demo-timeline.png');
const REFRESH_OPS = ['InitiateAuth/REFRESH_TOKEN_AUTH', 'InitiateAuth/REFRESH_TOKEN', 'GetTokensFromRefreshToken'];

let rig;
let site;
let browser;

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh (or scripts/e2e.sh, which builds)`);
  rig = await startRig();
  // As scripts/demo.sh serves it: www/ at /, the built module under /pkg/.
  site = await startStaticServer({
    dir: path.join(REPO_ROOT, 'www'),
    mounts: { '/pkg/': path.join(REPO_ROOT, 'pkg') },
    config: () => rig.control.config(),
  });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (site) await site.close();
  if (rig) await rig.stop();
});

/** How many elements of the timeline match `selector`. */
const count = (page, selector) => page.locator(`#timeline ${selector}`).count();

/** Waits until the timeline has at least `n` elements matching `selector`. */
async function waitForTimeline(page, selector, { n = 1, timeout = 30000 } = {}) {
  await page.waitForFunction(
    ([sel, min]) => document.querySelectorAll(`#timeline ${sel}`).length >= min,
    [selector, n],
    { timeout, polling: 200 },
  );
}

const refreshesAtProxy = () => rig.control.counts().proxy.events.filter((e) => REFRESH_OPS.includes(e.op));

test('the demo timeline shows a throttle storm and its backoff, two tabs sharing one refresh, and a revoke', { timeout: 180000 }, async () => {
  rig.control.reset();
  // 40 s tokens: the session refreshes within 10 s of each new token.
  rig.control.setTokenLifetime(40);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e?.stack || e)));
    await page.goto(site.url);
    await waitForTimeline(page, '.row');
    assert.equal(await page.locator('#timeline title').first().textContent(), 'Session timeline');

    // Sign in: a sign-in bar, a token bar; then an API call with its result.
    await page.click('#signin-button');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'signed in');
    await waitForTimeline(page, '.attempt[data-kind="signin"][data-outcome="ok"]');
    await waitForTimeline(page, '.token-bar');
    await page.click('#call-one');
    await waitForTimeline(page, '.api[data-outcome="ok"]');

    // A second tab of the page: same origin, so one session, one lock and one timeline channel.
    const [second] = await Promise.all([context.waitForEvent('page'), page.click('#second-tab')]);
    second.on('pageerror', (e) => errors.push(String(e?.stack || e)));
    await second.waitForLoadState();
    await second.waitForFunction(() => document.getElementById('status')?.textContent === 'signed in', null, { timeout: 30000 });
    // Each tab draws both lanes (the other's entries arrive over the BroadcastChannel).
    await page.waitForFunction(() => document.querySelectorAll('#timeline .lane').length === 2, null, { timeout: 10000 });
    await second.waitForFunction(() => document.querySelectorAll('#timeline .lane').length === 2, null, { timeout: 10000 });

    // The throttle storm, from the demo's own button: the next refresh is throttled and the
    // session backs off; the timeline shows the fault, the throttled attempt and the window.
    await page.click('button[data-fault*="throttle"]');
    await waitForTimeline(page, '.fault');
    await waitForTimeline(page, '.attempt[data-kind="refresh"][data-outcome="throttled"]', { timeout: 40000 });
    await waitForTimeline(page, '.backoff');
    // Cleared: a later attempt succeeds.
    await page.click('#clear-fault');
    await waitForTimeline(page, '.attempt[data-kind="refresh"][data-outcome="ok"]', { timeout: 60000 });

    // One refresh at a time across both tabs: every refresh at the proxy is on the timeline
    // once, in the lane of the tab that sent it (and held the lock), and the other tab agrees.
    const seen = async (p) =>
      p.evaluate(() =>
        [...document.querySelectorAll('#timeline .attempt[data-kind="refresh"]')].map((g) => ({
          tab: g.getAttribute('data-tab'),
          outcome: g.getAttribute('data-outcome'),
          t0: Number(g.getAttribute('data-t0')),
          t1: Number(g.getAttribute('data-t1')),
        })),
      );
    // (Read until both sides agree for a moment: a refresh may be between the page and the proxy.)
    let first = [];
    let atProxy = -1;
    let other = [];
    for (let i = 0; i < 20; i += 1) {
      atProxy = refreshesAtProxy().length;
      first = await seen(page);
      other = await seen(second);
      if (first.length === atProxy && other.length === atProxy && !first.some((a) => a.outcome === 'pending')) break;
      await page.waitForTimeout(250);
    }
    assert.equal(first.length, atProxy, `timeline ${JSON.stringify(first)} vs ${atProxy} refreshes at the proxy`);
    assert.equal(other.length, atProxy, `the second tab's ${JSON.stringify(other)}`);
    // Never two refreshes at once, whichever tab sent them: each left after the one before had
    // its answer (both times from this machine's clock, shared by the two tabs).
    const spans = first.map((a) => [a.t0, a.t1]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i += 1) assert.ok(spans[i][0] >= spans[i - 1][1], `overlapping refreshes ${JSON.stringify(spans)}`);
    assert.ok(first.some((a) => a.outcome === 'throttled') && first.some((a) => a.outcome === 'ok'), JSON.stringify(first));

    // The revoke: a mark now, then the next refresh is refused and the session asks for a login.
    await page.click('#revoke');
    await waitForTimeline(page, '.mark[data-kind="revoke"]');
    await waitForTimeline(page, '.attempt[data-kind="refresh"][data-outcome="refused"]', { timeout: 40000 });
    await waitForTimeline(page, '.mark[data-kind="expired"]', { timeout: 10000 });
    await second.waitForFunction(() => document.querySelectorAll('#timeline .attempt[data-outcome="refused"]').length >= 1, null, { timeout: 10000 });

    // The wire: no API call ever carried a bad token; exactly one refused refresh.
    const counts = rig.control.counts();
    assert.equal(counts.api.total - counts.api.ok, 0, JSON.stringify(counts.api));
    const refused = (await seen(page)).filter((a) => a.outcome === 'refused');
    assert.equal(refused.length, 1, JSON.stringify(refused));
    assert.equal(await count(page, '.mark[data-kind="expired"]') >= 1, true);

    fs.mkdirSync(path.dirname(SHOT), { recursive: true });
    await page.locator('#timeline-card').screenshot({ path: SHOT });
    assert.ok(fs.statSync(SHOT).size > 10000, 'screenshot written');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    rig.control.reset();
    rig.control.setTokenLifetime(null);
  }
});
