#!/usr/bin/env node
// Micro-benchmark of the built module in headless Chromium (not a test: it prints numbers).
//
//   node tests/e2e/bench.mjs [--calls N] [--rounds R --block B]
//
// 1. `await session.getAccessToken()` with a fresh token: ns per call over N awaited calls
//    (default 200,000), timed with performance.now() in the page, next to the floor any
//    promise-returning API pays (awaiting an already-resolved promise) and the synchronous cost
//    of the call alone (not awaited).
// 2. `session.fetch(url)` against `fetch(url, {headers: {Authorization}})`: R interleaved blocks
//    of B sequential requests each; the medians of the per-block means and their ratio. Once
//    against the rig's protected API (another origin: CORS, and an RS256 check per request), once
//    against a small file on the page's own origin (the cheapest local endpoint, where the
//    session's own overhead shows most).
//
// Needs what scripts/e2e.sh installs and builds (moto, playwright-core, pkg/web/).

import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startRig } from './rig/rig.mjs';
import { launchChromium } from './rig/browser.mjs';
import { startStaticServer } from './rig/serve.mjs';


function args(argv) {
  const out = { calls: 200000, rounds: 10, block: 50 };
  for (let i = 0; i < argv.length; i += 1) {
    const key = { '--calls': 'calls', '--rounds': 'rounds', '--block': 'block' }[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 1) {
      process.stderr.write('usage: node tests/e2e/bench.mjs [--calls N] [--rounds R] [--block B]\n');
      process.exit(2);
    }
    out[key] = value;
    i += 1;
  }
  return out;
}

async function main() {
  const opts = args(process.argv.slice(2));
  const module = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
  if (!fs.existsSync(module)) throw new Error(`${module} is missing: run scripts/build.sh`);
  const rig = await startRig();
  let site;
  let browser;
  try {
    site = await startStaticServer({ dir: REPO_ROOT, config: () => rig.control.config() });
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${site.url}tests/e2e/pages/harness.html`);
    await page.evaluate(() => window.H.ready);
    await page.evaluate(() => window.H.make());
    const signIn = await page.evaluate(() => window.H.signIn());
    if (!signIn.ok) throw new Error(`sign-in failed: ${JSON.stringify(signIn)}`);
    const version = await browser.version();

    const token = await page.evaluate((n) => window.H.benchGetAccessToken(n), opts.calls);
    const fetches = await page.evaluate(([r, b]) => window.H.benchFetch(r, b), [opts.rounds, opts.block]);
    const local = await page.evaluate(([r, b, u]) => window.H.benchFetch(r, b, u), [opts.rounds, opts.block, `${site.url}tests/e2e/pages/login.html`]);
    const counts = rig.counts();
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);

    const ns = (x) => `${x.toFixed(0)} ns`;
    const us = (x) => `${x.toFixed(1)} µs`;
    const lines = [
      `cognito-session micro-benchmark (Chromium ${version}, ${new Date().toISOString()})`,
      '',
      `getAccessToken() with a fresh token, ${token.n} awaited calls:`,
      `  ${ns(token.nsPerAwaitedCall).padStart(10)} per awaited call       (target ≤ 1000 ns)`,
      `  ${ns(token.nsPerAwaitOfResolvedPromise).padStart(10)} per await of a resolved promise (the floor)`,
      `  ${ns(token.nsPerCallNotAwaited).padStart(10)} per call, not awaited`,
      '',
      `session.fetch vs fetch against the rig's API (cross-origin, RS256 check), ${fetches.requests} requests:`,
      `  ${us(fetches.plainUsPerRequest).padStart(10)} per plain fetch (Authorization header set by hand)`,
      `  ${us(fetches.sessionUsPerRequest).padStart(10)} per session.fetch`,
      `  ${fetches.ratio.toFixed(3).padStart(10)} ratio session.fetch / fetch`,
      `session.fetch vs fetch against a static file on the page's own origin, ${local.requests} requests:`,
      `  ${us(local.plainUsPerRequest).padStart(10)} per plain fetch`,
      `  ${us(local.sessionUsPerRequest).padStart(10)} per session.fetch`,
      `  ${local.ratio.toFixed(3).padStart(10)} ratio session.fetch / fetch`,
      '',
      `rig: ${counts.proxy.refresh.total} refresh requests, API ${counts.api.ok} ok / ${counts.api.total - counts.api.ok} bad-token`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stdout.write(`${JSON.stringify({ getAccessToken: token, fetchApi: fetches, fetchSameOrigin: local })}\n`);
  } finally {
    if (browser) await browser.close();
    if (site) await site.close();
    await rig.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack || err}\n`);
  process.exit(1);
});
