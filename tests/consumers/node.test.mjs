// The package in plain Node (20+), installed from the packed tarball into an empty project: every
// entry of its exports map imports without throwing (each in a fresh `node` process, as an app's
// server code or a test runner would import it), and the `node` condition's entry works: a
// Session in memory answers NOT_SIGNED_IN, storage "session" and "local" fall back to memory
// with a storageUnavailable event (Node has no web storage), and `cognito-session/web`'s
// `init()` resolves and its Session works too. Signing in from Node is tested with Vitest and
// Jest (vite-template.test.mjs, toolchains.test.mjs) against the rig.
//
//   node --test tests/consumers/node.test.mjs
//   (needs scripts/bootstrap.sh first; builds and packs what is stale)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONSUMERS_DIR, installApp, removeApp, run } from './lib.mjs';

let appDir;

before(async () => {
  appDir = await installApp(path.join(CONSUMERS_DIR, 'node-app'));
}, { timeout: 600000 });

after(() => removeApp(appDir));

/** Runs `code` as an ES module in a fresh Node process in the app; resolves what it printed. */
async function inNode(code) {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: appDir, timeoutMs: 30000 });
  return stdout.trim();
}

const CONFIG = "{ userPoolId: 'us-east-1_AbC123', clientId: 'nodeclient' }";

describe('the package in Node', { concurrency: false }, () => {
  test('every entry of the exports map imports without throwing', { timeout: 120000 }, async (t) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules', 'cognito-session', 'package.json'), 'utf8'));
    const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json' && !k.endsWith('.wasm'));
    for (const name of ['.', './web', './axios', './script', './srp']) assert.ok(entries.includes(name), `${name} is exported`);
    for (const entry of entries) {
      const specifier = entry === '.' ? 'cognito-session' : `cognito-session/${entry.slice(2)}`;
      const keys = JSON.parse(await inNode(`const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`));
      t.diagnostic(`${specifier}: ${keys.join(', ') || '(no exports: the script tag defines a global in a page)'}`);
    }
  });

  test('new Session with storage "memory" works in Node: signed out, NOT_SIGNED_IN', { timeout: 30000 }, async () => {
    const out = await inNode(`
      import { Session, isSessionError } from 'cognito-session';
      const session = new Session({ ...${CONFIG}, storage: 'memory' });
      const e = await session.getAccessToken({ deadlineMs: 1000 }).catch((e) => e);
      console.log(JSON.stringify({ signedIn: session.getSnapshot().signedIn, typed: isSessionError(e), code: e.code }));
      session.free();
    `);
    assert.deepEqual(JSON.parse(out), { signedIn: false, typed: true, code: 'NOT_SIGNED_IN' });
  });

  test('storage "session" and "local" fall back to memory with a storageUnavailable event', { timeout: 30000 }, async () => {
    const out = await inNode(`
      import { Session } from 'cognito-session';
      const seen = {};
      for (const storage of ['session', 'local']) {
        const session = new Session({ ...${CONFIG}, storage });
        const events = [];
        session.subscribe((e) => events.push(e));
        await new Promise((r) => setTimeout(r, 0));
        const e = await session.getAccessToken({ deadlineMs: 1000 }).catch((e) => e);
        seen[storage] = { events, code: e.code };
        session.free();
      }
      console.log(JSON.stringify(seen));
    `);
    const seen = JSON.parse(out);
    for (const storage of ['session', 'local']) {
      assert.deepEqual(seen[storage], { events: [{ type: 'storageUnavailable', detail: 'web storage is unavailable' }], code: 'NOT_SIGNED_IN' }, storage);
    }
  });

  test('cognito-session/web in Node: init() resolves, then a Session works', { timeout: 30000 }, async () => {
    const out = await inNode(`
      import init, { Session } from 'cognito-session/web';
      await init();
      const session = new Session({ ...${CONFIG}, storage: 'memory' });
      console.log(JSON.stringify(session.getSnapshot()));
      session.free();
    `);
    assert.equal(JSON.parse(out).signedIn, false);
  });
});
