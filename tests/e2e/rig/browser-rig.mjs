// What the Chromium tests against moto share: the rig (moto behind the fault proxy, the API),
// the static server for the test pages and the built module, a headless Chromium, and a record
// of the Cognito calls a page sends. Used by challenges.test.mjs and signout.test.mjs
// (`browserRigHooks`).

import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { REPO_ROOT, startRig } from './rig.mjs';
import { launchChromium } from './browser.mjs';
import { startStaticServer } from './serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const TARGET = 'AWSCognitoIdentityProviderService.';
const HARNESS = 'tests/e2e/pages/harness.html';

/** Starts the rig (with `options`, see startRig), the static server and Chromium:
 * `{rig, site, browser, openHarness(), stop()}`. */
export async function startBrowserRig(options = {}) {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh (or scripts/e2e.sh, which builds)`);
  const rig = await startRig(options);
  const site = await startStaticServer({ dir: REPO_ROOT, config: () => rig.control.config() });
  const browser = await launchChromium();
  return {
    rig,
    site,
    browser,
    /** A tab of the harness page in `context` with a session made from `config`, recording the
     * Cognito calls it sends (`sent`) and its page errors: `{page, sent, pageErrors}`. */
    async openHarness(context, config = {}) {
      const page = await context.newPage();
      const sent = cognitoCalls(page);
      const pageErrors = [];
      page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
      await page.goto(`${site.url}${HARNESS}`);
      await page.evaluate(() => window.H.ready);
      await page.evaluate((cfg) => window.H.make(cfg), config);
      return { page, sent, pageErrors };
    },
    async stop() {
      await browser.close();
      await site.close();
      await rig.stop();
    },
  };
}

/** Starts them before the file's tests and stops them after: an object whose `rig`, `site` and
 * `browser` are there once the tests run. */
export function browserRigHooks(options = {}) {
  const env = {};
  before(async () => Object.assign(env, await startBrowserRig(options)));
  after(() => env.stop?.());
  return env;
}

/** The Cognito calls `page` sends from now on, as they go: `[{operation, body}]`. */
export function cognitoCalls(page) {
  const sent = [];
  page.on('request', (r) => {
    const target = r.headers()['x-amz-target'];
    if (r.method() === 'POST' && target?.startsWith(TARGET)) sent.push({ operation: target.slice(TARGET.length), body: JSON.parse(r.postData()) });
  });
  return sent;
}
