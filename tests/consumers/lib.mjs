// What the consumer tests share: the packed npm tarball, consumer apps installed from it the way
// a user installs a package, bounded Vite and webpack builds, and the end-to-end rig (moto's
// Cognito, the fault proxy, the protected API), its static server and the headless Chromium
// launcher.
//
// A consumer test copies an app template (tests/consumers/<name>/, a package.json with exact
// versions plus sources) to a fresh directory under os.tmpdir(), adds the tarball as the
// `cognito-session` dependency (`file:<abs path>.tgz`, as `npm install ./x.tgz` records it) and
// runs `npm install`. Nothing in the repository is resolved by those apps: they see only what
// `npm pack` shipped.
//
// Needs first: scripts/bootstrap.sh (toolchain, chromium) and tests/e2e/rig/setup.sh (moto,
// playwright-core); packTarball() runs scripts/package.sh, which builds what is stale.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, decodeJwt, startRig } from '../e2e/rig/rig.mjs';
import { launchChromium } from '../e2e/rig/browser.mjs';
import { startStaticServer } from '../e2e/rig/serve.mjs';

export { REPO_ROOT, decodeJwt, launchChromium, startRig, startStaticServer };

/** tests/consumers/ */
export const CONSUMERS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Flags for every `npm install` here: no audit or funding calls, the local cache first. */
export const NPM_INSTALL_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/**
 * Runs `cmd args` in `cwd` with no standard input, killing it (and its process group) after
 * `timeoutMs`. Resolves `{stdout, stderr}`; rejects with both in the message on a non-zero exit,
 * a signal or the timeout.
 */
export function run(cmd, args, { cwd = REPO_ROOT, timeoutMs = 300000, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout, stderr });
      const why = timedOut ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exit ${code}`;
      const tail = (s) => s.split('\n').slice(-40).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}): ${why}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`));
    });
  });
}

let packing = null;

/**
 * Runs scripts/package.sh once per process (it builds what is stale, assembles pkg/npm/ and runs
 * `npm pack`) and resolves the absolute path of the .tgz it printed.
 */
export function packTarball() {
  packing ??= (async () => {
    const { stdout } = await run('bash', [path.join(REPO_ROOT, 'scripts', 'package.sh')], { timeoutMs: 540000 });
    const line = stdout.split('\n').find((l) => l.startsWith('tarball: '));
    if (!line) throw new Error(`scripts/package.sh printed no "tarball: " line:\n${stdout}`);
    const tgz = path.resolve(REPO_ROOT, line.slice('tarball: '.length).trim());
    if (!fs.existsSync(tgz)) throw new Error(`scripts/package.sh named ${tgz}, which does not exist`);
    return tgz;
  })();
  return packing;
}

/**
 * Copies the app template `templateDir` (its node_modules and dist excepted) to a fresh
 * directory under os.tmpdir(), makes the packed tarball its `cognito-session` dependency and
 * runs `npm install` there. Resolves the directory. `keep: false` in a test's `after` is the
 * caller's job: see removeApp().
 */
export async function installApp(templateDir, { timeoutMs = 300000 } = {}) {
  const tgz = await packTarball();
  const name = path.basename(templateDir);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cognito-session-${name}-`));
  fs.cpSync(templateDir, dir, {
    recursive: true,
    filter: (src) => !['node_modules', 'dist', 'package-lock.json'].includes(path.basename(src)),
  });
  const pkgFile = path.join(dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  pkg.dependencies = { ...(pkg.dependencies || {}), 'cognito-session': `file:${tgz}` };
  fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  await run('npm', ['install', ...NPM_INSTALL_FLAGS], { cwd: dir, timeoutMs });
  const installed = path.join(dir, 'node_modules', 'cognito-session', 'package.json');
  if (!fs.existsSync(installed)) throw new Error(`npm install in ${dir} did not install cognito-session`);
  return dir;
}

/**
 * Copies the app template `templateDir` as it is, with its package-lock.json (a generated
 * project, e.g. `npm create vite`'s), to a fresh directory under os.tmpdir(), installs what the
 * lockfile pins (`npm ci`) and then the packed tarball with `npm install <path of the .tgz>`, as
 * the README tells a user to. Resolves the directory (removeApp() deletes it).
 */
export async function installTemplate(templateDir, { timeoutMs = 300000 } = {}) {
  const tgz = await packTarball();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cognito-session-${path.basename(templateDir)}-`));
  fs.cpSync(templateDir, dir, { recursive: true, filter: (src) => !['node_modules', 'dist'].includes(path.basename(src)) });
  await run('npm', ['ci', ...NPM_INSTALL_FLAGS], { cwd: dir, timeoutMs });
  await run('npm', ['install', ...NPM_INSTALL_FLAGS, tgz], { cwd: dir, timeoutMs });
  return dir;
}

/**
 * Starts a server process (`node <script> args`, e.g. `vite` or `vite preview`) in `cwd` in its
 * own process group and resolves `{url, output(), stop()}` once its output shows `http://...`,
 * rejecting with that output when it exits first or after `timeoutMs`. `stop()` kills the group.
 */
export function startServerProcess(script, args, { cwd, timeoutMs = 60000, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let settled = false;
    const stop = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop();
      reject(new Error(`${script} ${args.join(' ')} (in ${cwd}): ${why}\n${output.split('\n').slice(-40).join('\n')}`));
    };
    const timer = setTimeout(() => fail(`no URL after ${timeoutMs} ms`), timeoutMs);
    const onData = (d) => {
      output += d;
      // eslint-disable-next-line no-control-regex
      const url = output.replace(/\x1b\[[0-9;]*m/g, '').match(/http:\/\/127\.0\.0\.1:\d+\/?/);
      if (url && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ url: url[0].endsWith('/') ? url[0] : `${url[0]}/`, output: () => output, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => fail(String(e)));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? code}) before it served`));
  });
}

/** Deletes an app directory made by installApp (only ones under os.tmpdir()). */
export function removeApp(dir) {
  if (dir && path.resolve(dir).startsWith(path.resolve(os.tmpdir()) + path.sep)) fs.rmSync(dir, { recursive: true, force: true });
}

/** `vite build` in an installed app (its own vite, its vite.config.*); resolves `<dir>/dist`. */
export async function viteBuild(dir, { timeoutMs = 180000 } = {}) {
  const vite = path.join(dir, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!fs.existsSync(vite)) throw new Error(`${dir} has no vite installed`);
  await run(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: dir, timeoutMs });
  const dist = path.join(dir, 'dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`vite build in ${dir} wrote no dist/index.html`);
  return dist;
}

/** `node build.mjs` in an installed app (webpack's Node API, tests/consumers/webpack-app);
 * resolves `<dir>/dist`. */
export async function webpackBuild(dir, { timeoutMs = 180000 } = {}) {
  await run(process.execPath, ['build.mjs'], { cwd: dir, timeoutMs });
  const dist = path.join(dir, 'dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`the webpack build in ${dir} wrote no dist/index.html`);
  return dist;
}

/**
 * What a test of a built consumer app runs against: the app template `template` installed from
 * the tarball and built by `build(appDir)` (which resolves the directory to serve), the rig, a
 * static server of that directory that answers /rig-config.json, and Chromium. `start()`
 * resolves `{appDir, dist, rig, site, browser}`; `stop()` ends whatever started and removes the
 * app, also after a failed start.
 */
export function builtApp(template, build) {
  const parts = {};
  return {
    async start() {
      parts.appDir = await installApp(path.join(CONSUMERS_DIR, template));
      parts.dist = await build(parts.appDir);
      parts.rig = await startRig();
      parts.site = await startStaticServer({ dir: parts.dist, config: () => parts.rig.control.config() });
      parts.browser = await launchChromium();
      return { ...parts };
    },
    async stop() {
      if (parts.browser) await parts.browser.close();
      if (parts.site) await parts.site.close();
      if (parts.rig) await parts.rig.stop();
      removeApp(parts.appDir);
    },
  };
}

/** The files under `dir` (recursively), relative paths with `/`. */
export function listFiles(dir) {
  const out = [];
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** API requests that carried a missing, null, empty, malformed, forged or expired token. */
export function badTokenRequests(counts) {
  return counts.api.total - counts.api.ok;
}

/** Refresh requests the proxy saw (every refresh operation). */
export function refreshCount(counts) {
  return counts.proxy.refresh.total;
}

/**
 * A page observer: collects uncaught page errors and console errors so a test can assert there
 * were none. Returns the arrays it fills.
 */
export function watchPage(page) {
  const obs = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (e) => obs.pageErrors.push(String(e?.stack || e)));
  page.on('console', (m) => {
    if (m.type() === 'error') obs.consoleErrors.push(m.text());
  });
  return obs;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The round trip of an app that offers `window.app.{signIn, token, callApi}` (each answering
 * `{ok: true, value}` or `{ok: false, code, message}`), opened at `url` in a fresh context of
 * `browser` against `rig`: NOT_SIGNED_IN first, then a sign-in, an access token of the rig's app
 * client and one API call that the API accepts, with no page error, no failed request of the
 * page and no console error (but the 404 of the browser's own /favicon.ico request, which pages
 * without an icon get). `check(page)` runs after the sign-in.
 */
export async function signInAndCallApi(browser, rig, url, check = async () => {}) {
  rig.control.reset();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const obs = watchPage(page);
    const refused = [];
    page.on('response', (r) => r.status() >= 400 && refused.push(`${r.status()} ${new URL(r.url()).pathname}`));
    await page.goto(url);
    await page.waitForFunction(() => window.app !== undefined, null, { timeout: 20000 }).catch((e) => {
      throw new Error(`${e.message}; page errors: ${obs.pageErrors.join('; ')}`);
    });
    const before = await page.evaluate(() => window.app.token());
    if (before.code !== 'NOT_SIGNED_IN') throw new Error(`before sign-in: ${JSON.stringify(before)}`);
    const signedIn = await page.evaluate(() => window.app.signIn());
    if (JSON.stringify(signedIn) !== JSON.stringify({ ok: true, value: { status: 'signedIn' } })) throw new Error(`sign-in: ${JSON.stringify(signedIn)}`);
    await check(page);
    const token = await page.evaluate(() => window.app.token());
    if (decodeJwt(token.value)?.claims.client_id !== rig.control.config().clientId) throw new Error(`token: ${JSON.stringify(token)}`);
    const call = await page.evaluate(() => window.app.callApi());
    if (JSON.stringify(call) !== JSON.stringify({ ok: true, value: 200 })) throw new Error(`API call: ${JSON.stringify(call)}`);
    const c = rig.counts();
    if (c.api.ok !== 1 || badTokenRequests(c) !== 0) throw new Error(`the API saw ${JSON.stringify(c.api)}`);
    const consoleErrors = obs.consoleErrors.filter((e) => !/^Failed to load resource: .* 404/.test(e));
    if (obs.pageErrors.length || refused.length || consoleErrors.length) {
      throw new Error(`page errors ${JSON.stringify(obs.pageErrors)}, failed requests ${JSON.stringify(refused)}, console errors ${JSON.stringify(consoleErrors)}`);
    }
  } finally {
    await context.close();
  }
}
