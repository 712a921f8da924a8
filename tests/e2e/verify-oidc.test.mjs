// End-to-end tests of token signature checks (issue 14) in OAuth2 mode: the built module
// (pkg/web/) in headless Chromium against oidc-provider (tests/e2e/rig/oidc.mjs), whose ID tokens
// are RS256 JWTs (its access tokens are opaque and stay unchecked). The session finds the keys
// through the issuer's discovery document; the provider counts every fetch of that document and
// of its key set, and can rotate its signing key (a new `kid`) without losing grants.
//
//   node --test tests/e2e/verify-oidc.test.mjs   (after tests/e2e/rig/setup.sh and scripts/build.sh)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, alterSignature, decodeJwt } from './rig/rig.mjs';
import { launchChromium } from './rig/browser.mjs';
import { startOidcProvider } from './rig/oidc.mjs';
import { startStaticServer } from './rig/serve.mjs';

const MODULE = path.join(REPO_ROOT, 'pkg', 'web', 'cognito_session.js');
const HARNESS = 'tests/e2e/pages/harness.html';
/** A few seconds more than the 30 s a token must still be valid for to be handed out. */
const SHORT_LIFETIME_S = 34;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let op;
let site;
let browser;
let siteConfig = {};

before(async () => {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run scripts/build.sh`);
  site = await startStaticServer({ dir: REPO_ROOT, config: () => siteConfig });
  op = await startOidcProvider({ siteOrigin: new URL(site.url).origin });
  siteConfig = { apiUrl: `${op.issuer}/`, tokenEndpoint: op.tokenEndpoint, issuer: op.issuer, clientId: op.clientId };
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (op) await op.stop();
  if (site) await site.close();
});

async function openTab(context) {
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack || e)));
  await page.goto(`${site.url}${HARNESS}`);
  await page.evaluate(() => window.H.ready);
  return { page, pageErrors };
}

/** OAuth2 mode against the provider: keys through the issuer's discovery document. */
const oauth2 = (extra = {}) => ({ userPoolId: undefined, endpoint: undefined, tokenEndpoint: siteConfig.tokenEndpoint, issuer: siteConfig.issuer, clientId: siteConfig.clientId, ...extra });

/** A sign-in at the provider, as `setTokens` takes it; its tokens live `lifetimeS`. */
async function signIn(lifetimeS = 3600) {
  op.setTokenLifetime(lifetimeS);
  const a = await op.signIn();
  op.setTokenLifetime(3600);
  return { accessToken: a.access_token, idToken: a.id_token, refreshToken: a.refresh_token, expiresIn: a.expires_in };
}

function byCode(results) {
  const out = {};
  for (const r of results) {
    const k = r.ok ? 'ok' : (r.code ?? `untyped ${r.name}: ${r.message}`);
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

describe('token signatures checked in Chromium against oidc-provider', { concurrency: false }, () => {
  test('ID tokens are checked with the key set the discovery document names; a key rotation costs one fetch and no failure', { timeout: 60000 }, async (t) => {
    op.reset();
    const context = await browser.newContext();
    try {
      const { page, pageErrors } = await openTab(context);
      const handedIn = await signIn(SHORT_LIFETIME_S);
      const firstKid = decodeJwt(handedIn.idToken).header.kid;
      await page.evaluate((cfg) => window.H.make(cfg), oauth2());
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), handedIn), { ok: true });
      const id = await page.evaluate(() => window.H.session.getIdToken());
      assert.equal(id, handedIn.idToken);
      assert.deepEqual([op.counts().discovery, op.counts().jwks], [1, 1], 'discovery document, key set');
      assert.equal((await page.evaluate(() => window.H.keysRecord())).url, `${op.issuer}/jwks`);

      // The provider rotates its signing key; the next refresh brings an ID token with a new kid.
      const newKid = await op.rotateKeys();
      assert.notEqual(newKid, firstKid);
      await sleep((SHORT_LIFETIME_S - 30) * 1000 + 1500);
      const results = await page.evaluate(() => window.H.tokens(10, 20000));
      assert.deepEqual(byCode(results), { ok: 10 }, JSON.stringify(results[0]));
      assert.equal(op.counts().refresh, 1);
      const rotated = await page.evaluate(() => window.H.session.getIdToken());
      assert.equal(decodeJwt(rotated).header.kid, newKid);
      assert.deepEqual([op.counts().discovery, op.counts().jwks], [1, 2], 'one more key-set fetch for the new kid');
      const events = await page.evaluate(() => window.H.events.map((e) => e.type));
      assert.ok(!events.includes('tokenRejected') && !events.includes('retryScheduled'), events.join());

      // An ID token whose signature was altered, handed in: never handed out.
      const fresh = await signIn();
      assert.deepEqual(await page.evaluate((tk) => window.H.setTokens(tk), { ...fresh, idToken: alterSignature(fresh.idToken) }), { ok: true });
      const after = await page.evaluate(() => window.H.session.getIdToken().catch((e) => e.code));
      assert.notEqual(after, alterSignature(fresh.idToken));
      assert.ok((await page.evaluate(() => window.H.events.map((e) => e.type))).includes('tokenRejected'));
      assert.deepEqual(pageErrors, []);
      t.diagnostic(`discovery ${op.counts().discovery}, key set ${op.counts().jwks}, refreshes ${op.counts().refresh}`);
    } finally {
      await context.close();
    }
  });

  test('three tabs start cold on one localStorage session → 1 discovery and 1 key-set request', { timeout: 60000 }, async (t) => {
    const context = await browser.newContext();
    try {
      // The session is in storage (written by a session that checks nothing); no key set is.
      const first = await openTab(context);
      await first.page.evaluate((cfg) => window.H.make(cfg), oauth2({ storage: 'local', verifyTokens: false }));
      assert.deepEqual(await first.page.evaluate((tk) => window.H.setTokens(tk), await signIn()), { ok: true });
      await first.page.close();
      op.reset();
      const tabs = await Promise.all([0, 1, 2].map(() => openTab(context)));
      const results = await Promise.all(
        tabs.map(({ page }) =>
          page.evaluate(async (cfg) => {
            window.H.make(cfg);
            return window.H.tokens(5, 15000);
          }, oauth2({ storage: 'local' })),
        ),
      );
      assert.deepEqual(byCode(results.flat()), { ok: 15 });
      assert.deepEqual([op.counts().discovery, op.counts().jwks], [1, 1], 'discovery document, key set');
      for (const { pageErrors } of tabs) assert.deepEqual(pageErrors, []);
      t.diagnostic(`3 cold tabs: ${op.counts().discovery} discovery, ${op.counts().jwks} key-set request`);
    } finally {
      await context.close();
    }
  });
});
