// What an end-to-end test file against moto starts with: before its tests, the rig (moto, the
// fault proxy, the protected API), a static server for the repository (the harness pages and
// the built module under pkg/web/) and a headless Chromium; after them, all three stopped.
//
//   let rig, site, browser;
//   useRig((env) => ({ rig, site, browser } = env));

import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { REPO_ROOT, startRig } from './rig.mjs';
import { launchChromium } from './browser.mjs';
import { startStaticServer } from './serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');

/** Registers the hooks; `ready({rig, site, browser})` is called once all three run. (Node runs
 * a file's top-level `before` hooks without waiting for each other: a second hook could not
 * read them.) */
export function useRig(ready) {
  const env = { rig: null, site: null, browser: null };
  before(async () => {
    if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh (or scripts/e2e.sh, which builds)`);
    env.rig = await startRig();
    env.site = await startStaticServer({ dir: REPO_ROOT, config: () => env.rig.control.config() });
    env.browser = await launchChromium();
    ready(env);
  });
  after(async () => {
    if (env.browser) await env.browser.close();
    if (env.site) await env.site.close();
    if (env.rig) await env.rig.stop();
  });
}
