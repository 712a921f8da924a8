// The package README's "Setup" for each toolchain besides Vite 8 and webpack 5 (which have their
// own tests), checked with the real tools installed from npm: one app (toolchains-app/src, the
// packed tarball imported by name) built by Rollup and esbuild (with the README's one step, the
// .wasm copied next to the bundle) and by Parcel (nothing), served by Vite 7's dev server (the
// README's one line of vite.config.js), and a Jest test in its ES module mode (nothing else);
// then a Next.js App Router app (next-app, no next.config) whose client component makes a
// Session: `next build` renders it on the server, `next start` serves it. Each app signs in
// against the rig (moto's Cognito behind the fault proxy) in headless Chromium (Jest in Node),
// gets a token and calls the API; Rollup without the copy gets LOAD_FAILED, HTTP 404.
//
//   node --test tests/consumers/toolchains.test.mjs
//   (needs scripts/bootstrap.sh and tests/e2e/rig/setup.sh first; builds and packs what is stale)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CONSUMERS_DIR,
  installApp,
  launchChromium,
  listFiles,
  removeApp,
  run,
  signInAndCallApi,
  startRig,
  startServerProcess,
  startStaticServer,
} from './lib.mjs';

let appDir;
let nextDir;
let rig;
let browser;

before(async () => {
  [appDir, nextDir] = await Promise.all([installApp(path.join(CONSUMERS_DIR, 'toolchains-app')), installApp(path.join(CONSUMERS_DIR, 'next-app'))]);
  rig = await startRig();
  browser = await launchChromium();
}, { timeout: 600000 });

after(async () => {
  if (browser) await browser.close();
  if (rig) await rig.stop();
  removeApp(appDir);
  removeApp(nextDir);
});

/** The package's .wasm, as installed. */
const packagedWasm = (dir) => path.join(dir, 'node_modules', 'cognito-session', 'bundler', 'cognito_session_bg.wasm');

/** The app at `url` signs in, gets a token and calls the API (lib.mjs). */
const signsInAndCallsTheApi = (url) => signInAndCallApi(browser, rig, url);

/** Serves `dist` (with /rig-config.json) while `fn(url)` runs. */
async function serving(dist, fn) {
  const site = await startStaticServer({ dir: dist, config: () => rig.control.config() });
  try {
    return await fn(site.url);
  } finally {
    await site.close();
  }
}

/** `dist/index.html` from the app's page, for the bundlers that do not write one. */
function withPage(dist) {
  fs.copyFileSync(path.join(appDir, 'src', 'index.html'), path.join(dist, 'index.html'));
  return dist;
}

describe('toolchains set up as the package README says', { concurrency: false }, () => {
  test('Rollup (node-resolve, the .wasm copied next to the bundle)', { timeout: 120000 }, async () => {
    await run(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', '--silent'], { cwd: appDir, timeoutMs: 110000 });
    const dist = withPage(path.join(appDir, 'dist-rollup'));
    // Without the README's copy the page cannot load the module, and says so.
    await serving(dist, async (url) => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e));
        await page.goto(url);
        for (let i = 0; i < 100 && errors.length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));
        assert.equal(errors.length, 1, 'new Session() threw');
        assert.equal(errors[0].name, 'CognitoSessionError');
        assert.match(errors[0].message, /^could not load http:\/\/127\.0\.0\.1:\d+\/cognito_session_bg\.wasm \(serve that file; .*\): HTTP 404$/);
      } finally {
        await context.close();
      }
    });
    fs.copyFileSync(packagedWasm(appDir), path.join(dist, 'cognito_session_bg.wasm'));
    await serving(dist, signsInAndCallsTheApi);
  });

  test('esbuild (--bundle --format=esm, the .wasm copied next to the bundle)', { timeout: 60000 }, async () => {
    await run(path.join(appDir, 'node_modules', '.bin', 'esbuild'), ['src/main.js', '--bundle', '--format=esm', '--outdir=dist-esbuild', '--log-level=warning'], { cwd: appDir });
    const dist = withPage(path.join(appDir, 'dist-esbuild'));
    fs.copyFileSync(packagedWasm(appDir), path.join(dist, 'cognito_session_bg.wasm'));
    await serving(dist, signsInAndCallsTheApi);
  });

  test('Parcel (parcel build, nothing else)', { timeout: 180000 }, async () => {
    await run(process.execPath, ['node_modules/parcel/lib/bin.js', 'build', 'src/index.html', '--dist-dir', 'dist-parcel', '--no-cache', '--log-level', 'warn'], { cwd: appDir, timeoutMs: 170000 });
    const dist = path.join(appDir, 'dist-parcel');
    const wasm = listFiles(dist).filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, 'Parcel emitted the .wasm');
    assert.ok(fs.readFileSync(path.join(dist, wasm[0])).equals(fs.readFileSync(packagedWasm(appDir))), 'byte for byte');
    await serving(dist, signsInAndCallsTheApi);
  });

  test('Vite 7 dev server (optimizeDeps.exclude, the README’s line)', { timeout: 60000 }, async () => {
    const pub = path.join(appDir, 'src', 'public');
    fs.mkdirSync(pub, { recursive: true });
    fs.writeFileSync(path.join(pub, 'rig-config.json'), JSON.stringify(rig.control.config()));
    const server = await startServerProcess('node_modules/vite/bin/vite.js', ['src', '--config', 'vite.config.js', '--port', '0', '--strictPort', '--host', '127.0.0.1'], {
      cwd: appDir,
    });
    try {
      await signsInAndCallsTheApi(server.url);
    } finally {
      server.stop();
    }
  });

  test('Jest (ES module mode, node environment): the package in Node signs in and gets a token', { timeout: 120000 }, async (t) => {
    const { stderr } = await run(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--ci'], {
      cwd: appDir,
      timeoutMs: 110000,
      env: { ...process.env, RIG_CONFIG: JSON.stringify(rig.control.config()) },
    });
    assert.match(stderr, /Tests:\s+1 passed, 1 total/, stderr);
    t.diagnostic(stderr.split('\n').find((l) => l.startsWith('Tests:')));
  });

  test('Next.js (App Router, no next.config): next build renders the page on the server, next start serves it', { timeout: 300000 }, async (t) => {
    const cfg = rig.control.config();
    fs.writeFileSync(
      path.join(nextDir, 'app', 'rig.js'),
      `// Written by tests/consumers/toolchains.test.mjs: the test rig's Cognito, API and user.\nexport const rig = ${JSON.stringify(cfg, null, 2)};\n`,
    );
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
    const { stdout } = await run(process.execPath, ['node_modules/next/dist/bin/next', 'build'], { cwd: nextDir, timeoutMs: 280000, env });
    assert.match(stdout, /○ \//, 'the page was prerendered (rendered on the server at build time)');
    const html = fs.readFileSync(path.join(nextDir, '.next', 'server', 'app', 'index.html'), 'utf8');
    assert.match(html, /data-signed-in="false"[^>]*>signed out</, 'the server render has the session, signed out');
    const server = await startServerProcess('node_modules/next/dist/bin/next', ['start', '-p', '0', '-H', '127.0.0.1'], { cwd: nextDir, env });
    try {
      await signsInAndCallsTheApi(server.url);
    } finally {
      server.stop();
    }
    t.diagnostic(stdout.split('\n').find((l) => /Next\.js/.test(l))?.trim() ?? 'next build');
  });
});
