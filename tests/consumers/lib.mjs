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
