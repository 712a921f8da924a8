#!/usr/bin/env node
// Runs the test rig (moto + fault proxy + protected API) and a static file server for the demo
// page, all on 127.0.0.1, until Ctrl-C. Prints the URLs and the seeded pool id, client id, user
// and password as ONE JSON line, then as text; the static server also answers
// GET /rig-config.json with the same values so a page can read them.
//
//   node tests/e2e/rig/serve.mjs [--static DIR] [--mount /PREFIX/=DIR ...] [--port N]
//                                [--token-lifetime S] [--quota-rps R --burst B] [--moto-log]
//
// DIR defaults to www/ at the repository root; N defaults to 8080 (0: any free port).
// `--mount /pkg/=pkg` serves another directory under a URL prefix (the demo serves www/ at / and
// the built module at /pkg/); relative DIRs are resolved against the current directory.
// Also importable: `startStaticServer({dir, port, config, mounts})` for the browser tests.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, startRig } from './rig.mjs';

const HOST = '127.0.0.1';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
};

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Serves `dir` on 127.0.0.1:`port` (0: any free port). `config` (an object or a function
 * returning one) is answered at GET /rig-config.json. `mounts` maps URL prefixes ending in `/`
 * (e.g. `{'/pkg/': 'pkg'}`) to other directories, the longest prefix first. `headers(url)`
 * (the request target, path and query) gives headers added to (or replacing) those of every
 * answer, e.g. a Content-Security-Policy or another Content-Type. Resolves `{url, port,
 * requests(pathname), close()}`: `requests` counts the requests for a path so far (the
 * contract's scenarios count the login page's loads with it, in every engine).
 */
export async function startStaticServer({ dir, port = 0, config = null, mounts = {}, headers = () => ({}) } = {}) {
  const roots = Object.entries(mounts)
    .map(([prefix, d]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, path.resolve(d)])
    .sort((a, b) => b[0].length - a[0].length);
  roots.push(['/', path.resolve(dir)]);
  const requests = new Map();
  const server = http.createServer((req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers(req.url) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, `http://${HOST}`).pathname);
    } catch {
      return send(400, 'text/plain', 'bad path\n');
    }
    requests.set(pathname, (requests.get(pathname) || 0) + 1);
    if (pathname === '/rig-config.json' && config) {
      const value = typeof config === 'function' ? config() : config;
      return send(200, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
    }
    const [prefix, root] = roots.find(([p]) => pathname.startsWith(p)) || roots[roots.length - 1];
    const file = path.resolve(root, `.${pathname.slice(prefix.length - 1)}`);
    if (file !== root && !file.startsWith(root + path.sep)) return send(403, 'text/plain', 'forbidden\n');
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      return send(404, 'text/plain', 'not found\n');
    }
    if (stat.isDirectory()) {
      if (!pathname.endsWith('/')) {
        res.writeHead(301, { Location: `${pathname}/`, 'Content-Length': 0 });
        return res.end();
      }
      const index = path.join(file, 'index.html');
      if (fs.existsSync(index)) {
        return send(200, MIME['.html'], fs.readFileSync(index));
      }
      const entries = fs.readdirSync(file, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
      const items = entries.map((n) => `<li><a href="${encodeURI(n)}">${escapeHtml(n)}</a></li>`).join('\n');
      return send(200, MIME['.html'], `<!DOCTYPE html><meta charset="utf-8"><title>${escapeHtml(pathname)}</title><h1>${escapeHtml(pathname)}</h1><ul>\n${items}\n</ul>\n`);
    }
    return send(200, MIME[path.extname(file).toLowerCase()] || 'application/octet-stream', fs.readFileSync(file));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, resolve);
  });
  const actual = server.address().port;
  return {
    url: `http://${HOST}:${actual}/`,
    port: actual,
    requests: (pathname) => requests.get(pathname) || 0,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function parseArgs(argv) {
  const out = { static: path.join(REPO_ROOT, 'www'), mounts: {}, port: 8080, tokenLifetimeS: null, quotaRps: null, burst: null, motoLog: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      i += 1;
      return argv[i];
    };
    const num = (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a}: not a number: ${v}`);
      return n;
    };
    if (a === '--static') out.static = path.resolve(next());
    else if (a === '--mount') {
      const spec = next();
      const eq = spec.indexOf('=');
      if (eq < 1 || !spec.startsWith('/')) throw new Error(`--mount wants /PREFIX/=DIR, got ${spec}`);
      out.mounts[spec.slice(0, eq)] = path.resolve(spec.slice(eq + 1));
    } else if (a === '--port') out.port = num(next());
    else if (a === '--token-lifetime') out.tokenLifetimeS = num(next());
    else if (a === '--quota-rps') out.quotaRps = num(next());
    else if (a === '--burst') out.burst = num(next());
    else if (a === '--moto-log') out.motoLog = true;
    else if (a === '-h' || a === '--help') out.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`serve.mjs: ${err.message}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write('usage: node tests/e2e/rig/serve.mjs [--static DIR] [--mount /PREFIX/=DIR ...] [--port N] [--token-lifetime S] [--quota-rps R --burst B] [--moto-log]\n');
    return;
  }
  for (const d of [args.static, ...Object.values(args.mounts)]) {
    if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) {
      process.stderr.write(`serve.mjs: ${d} is not a directory\n`);
      process.exit(2);
    }
  }
  const rig = await startRig({
    motoLog: args.motoLog,
    tokenLifetimeS: args.tokenLifetimeS,
    quota: args.quotaRps == null ? null : { quotaRps: args.quotaRps, burst: args.burst ?? undefined },
  });
  let site;
  try {
    site = await startStaticServer({ dir: args.static, mounts: args.mounts, port: args.port, config: () => ({ ...rig.control.config(), staticUrl: site?.url }) });
  } catch (err) {
    await rig.stop();
    process.stderr.write(`serve.mjs: static server on port ${args.port}: ${err.message}\n`);
    process.exit(1);
  }
  const info = { ...rig.control.config(), staticUrl: site.url, staticDir: args.static, motoUrl: rig.motoUrl, motoPid: rig.motoPid };
  process.stdout.write(`${JSON.stringify(info)}\n`);
  process.stdout.write(
    [
      '',
      `  demo page       ${site.url}   (serving ${args.static})`,
      ...Object.entries(args.mounts).map(([p, d]) => `                  ${site.url}${p.replace(/^\//, '')}   (serving ${d})`),
      `  rig config      ${site.url}rig-config.json`,
      `  Cognito (proxy) ${info.cognitoUrl}   (moto at ${info.motoUrl})`,
      `  rig control     ${info.proxyControlUrl}counts | state | fault | quota | reset | revoke`,
      `  protected API   ${info.apiUrl}api/data`,
      `  region          ${info.region}`,
      `  user pool id    ${info.poolId}`,
      `  app client id   ${info.clientId}`,
      `  user / password ${info.username} / ${info.password}`,
      '',
      '  Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  // The rig's own SIGINT/SIGTERM handlers end moto and exit; servers die with the process.
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`serve.mjs: ${err.stack || err}\n`);
    process.exit(1);
  });
}
