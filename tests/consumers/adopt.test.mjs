// cognito-session/adopt as an app gets it: tests/consumers/adopt-app installed from the packed
// tarball. The entry resolves through the package's exports map and loads in Node (it imports
// nothing), and its declarations type-check with the main entry's under `tsc --strict`. What the
// adopters do in a browser is tests/e2e/adopt.test.mjs's.
//
//   node --test tests/consumers/adopt.test.mjs   (after scripts/bootstrap.sh and tests/e2e/rig/setup.sh)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CONSUMERS_DIR, REPO_ROOT, installApp, removeApp, run } from './lib.mjs';

const TSC = path.join(REPO_ROOT, 'tests', 'e2e', 'node_modules', 'typescript', 'bin', 'tsc');

let appDir;

before(async () => {
  appDir = await installApp(path.join(CONSUMERS_DIR, 'adopt-app'));
});

after(() => removeApp(appDir));

test('cognito-session/adopt resolves from the tarball and makes adopters', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import('cognito-session/adopt');
       let refused;
       try { m.fromOidcClientTs({}); } catch (e) { refused = e.code; }
       console.log(JSON.stringify({
         exports: Object.keys(m).sort(),
         sources: [m.fromAmplify(), m.fromCognitoIdentityJs(), m.fromOidcClientTs({ authority: 'https://a.example' })].map((a) => [typeof a, a.source]),
         refused,
       }));`,
    ],
    { cwd: appDir, timeoutMs: 30000 },
  );
  assert.deepEqual(JSON.parse(stdout), {
    exports: ['fromAmplify', 'fromCognitoIdentityJs', 'fromOidcClientTs'],
    sources: [
      ['function', 'amplify'],
      ['function', 'cognito-identity-js'],
      ['function', 'oidc-client-ts'],
    ],
    refused: 'BAD_CONFIG',
  });
});

test('its types fit SessionConfig.adopt and narrow the adoption events (tsc --strict)', { timeout: 120000 }, async (t) => {
  if (!fs.existsSync(TSC)) return t.skip(`no TypeScript at ${TSC} (tests/e2e/rig/setup.sh installs it)`);
  await run(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'esnext,dom', 'types-check.ts'], {
    cwd: appDir,
    timeoutMs: 110000,
  });
});
