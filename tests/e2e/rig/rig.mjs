// The end-to-end test rig: a real Cognito emulator (moto_server), a fault-injecting proxy in
// front of it that answers in Cognito's exact wire shapes, and a protected API that records
// every request carrying a missing, null, empty, malformed, expired or forged bearer token.
// Everything binds to 127.0.0.1; every wait is bounded; stop() (or process exit) ends moto.
//
// Install first: `bash tests/e2e/rig/setup.sh` (moto in .tools/venv, npm deps in tests/e2e).
//
// ---------------------------------------------------------------------------------------------
// What moto_server 5.2.5 does, as measured on this machine (the rig relies on all of it):
//
// - Endpoint: POST http://127.0.0.1:PORT/ with `X-Amz-Target: AWSCognitoIdentityProviderService.Op`
//   and `Content-Type: application/x-amz-json-1.1`. No region in the URL is needed. Without an
//   Authorization header the region is us-east-1; the rig sends a dummy SigV4 header
//   (`Credential=.../<region>/cognito-idp/aws4_request`, never checked) on its own admin calls so
//   a pool can live in another region. Unsigned InitiateAuth finds the pool by client id in any
//   region, but unsigned GlobalSignOut / GetUser only look in us-east-1: for another region the
//   proxy adds that dummy header to unsigned Cognito calls it forwards.
// - Pool ids look like `us-east-1_<32 hex>` (real Cognito: `us-east-1_<9 alnum>`); client ids
//   are 26 lowercase alphanumerics. A new client has RefreshTokenValidity 30 (days),
//   EnableTokenRevocation true, AuthSessionValidity 3.
// - Tokens: RS256 JWTs, header `{"typ":"JWT","kid":"dummy","alg":"RS256"}`, signed with ONE
//   static key pair shipped inside moto (moto/cognitoidp/resources/jwks-private.json.gz; the rig
//   reads it to sign crafted tokens that verify like moto's own).
//   iss = `https://cognito-idp.<region>.amazonaws.com/<poolId>` (the AWS host, not the emulator).
//   Access token claims: iss, sub, client_id, token_use "access", iat, auth_time, exp, jti,
//   username, origin_jti, scope "aws.cognito.signin.user.admin" (+ cognito:groups if any).
//   ID token claims: iss, sub, aud, token_use "id", iat, auth_time, exp, jti, cognito:username,
//   origin_jti (+ custom attributes).
//   Lifetime: always 3600 s (ExpiresIn 3600); the client's AccessTokenValidity is ignored. The
//   rig's `tokenLifetimeS` re-signs tokens with a shorter exp (see below) when a test needs one.
//   The refresh token is an opaque UUID (real Cognito: a 5-part JWE).
// - USER_PASSWORD_AUTH answers `{"AuthenticationResult":{AccessToken,ExpiresIn,TokenType:"Bearer",
//   RefreshToken,IdToken}}`; REFRESH_TOKEN_AUTH the same without RefreshToken. Neither carries
//   ChallengeParameters.
// - JWKS: GET /<poolId>/.well-known/jwks.json → `{"keys":[{alg:"RS256",e,kid:"dummy",kty:"RSA",
//   n,use:"sig"}]}`, Content-Type application/json. GET /<poolId>/.well-known/openid-configuration
//   → issuer (AWS host) and jwks_uri built from the request's Host header.
// - Errors: HTTP 400, `X-Amzn-ErrorType: <Name>` (no `:uri` suffix), Content-Type
//   application/json (NOT x-amz-json-1.1), body `{"__type": "<Name>", "message": "..."}`.
//   Wrong password → NotAuthorizedException "Incorrect username or password."; unknown or revoked
//   refresh token → NotAuthorizedException "Refresh Token has been revoked"; unknown client id →
//   ResourceNotFoundException; bad AuthFlow → InvalidParameterException.
// - GlobalSignOut(AccessToken) → 200 `{}`; it revokes EVERY refresh token and access token of the
//   user (all sessions); afterwards REFRESH_TOKEN_AUTH → 400 NotAuthorizedException "Refresh Token
//   has been revoked" and GetUser → NotAuthorizedException "Invalid token". AdminUserGlobalSignOut
//   does the same by user name.
// - GetTokensFromRefreshToken is not implemented: 500 with a Werkzeug HTML page. Neither is
//   RevokeToken (no revoke_token in moto's cognitoidp): the proxy answers it as Cognito does (see
//   `revokeToken` below).
// - CORS (flask-cors): every answer has Access-Control-Allow-Origin (`*`, or the request's Origin
//   echoed with `Vary: Origin`); an OPTIONS preflight answers 200 echoing the requested headers,
//   Allow-Methods "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT", no Max-Age (Chrome then caches
//   5 s), with an unrelated S3 XML body. No Access-Control-Expose-Headers, so a page could not
//   read x-amzn-ErrorType: the proxy adds `Access-Control-Expose-Headers` to every answer.
// - Never throttles. Every answer carries `Connection: close`.
//
// What the proxy sends for faults is Cognito's shape, not moto's: HTTP 400 (or 500),
// `x-amzn-ErrorType: <Name>:`, `Content-Type: application/x-amz-json-1.1`,
// `x-amzn-RequestId: <uuid>`, body `{"__type":"<Name>","message":"..."}`.
// ---------------------------------------------------------------------------------------------

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (tests/e2e/rig/../../..). */
export const REPO_ROOT = path.resolve(HERE, '..', '..', '..');
const DEFAULT_VENV = process.env.RIG_VENV || path.join(REPO_ROOT, '.tools', 'venv');
const HOST = '127.0.0.1';
const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const AMZ_JSON = 'application/x-amz-json-1.1';
const MAX_REQUEST_BODY = 2 * 1024 * 1024;
const MAX_EVENTS = 20000;
const EXPOSE_HEADERS =
  'x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date, Retry-After, x-amz-retry-after';

/** Operation keys of the refresh calls the faults aim at by default. */
export const REFRESH_OPERATIONS = Object.freeze([
  'InitiateAuth/REFRESH_TOKEN_AUTH',
  'InitiateAuth/REFRESH_TOKEN',
  'GetTokensFromRefreshToken',
]);

/** Every fault mode the proxy knows. */
export const FAULT_MODES = Object.freeze([
  'throttle', // 400 TooManyRequestsException (Cognito's real throttle answer)
  'internal', // 500 InternalErrorException
  'error', // any Cognito error: {error: Name, status?: 400, message?}
  'bad-gateway', // 502 HTML page
  'unavailable', // 503 HTML page
  'gateway-timeout', // 504 HTML page
  'drop', // destroy the socket without answering
  'hang', // hold the request open for `ms` (default 30000), then destroy the socket
  'latency', // wait `ms` (default 1000), then forward to moto
  'html200', // 200 with an HTML page
  'truncated-json', // 200 with the first half of a valid answer
  'wrong-types', // 200 with AccessToken: 12345 and friends
  'huge', // 200 with a valid answer padded to `bytes` (default 1 MiB)
  'expired-token', // 200 with a well-formed, correctly signed AccessToken whose exp is past
  'redirect', // 307 to `location` (a client that follows re-sends the refresh token there)
  'answer', // 200 with `answer` (an object): a recorded Cognito answer moto cannot give
  'bad-signature', // 200 with a valid answer whose AccessToken's signature has one byte altered
  'forged-alg', // 200 with a valid answer whose AccessToken names `alg` ("none": no signature;
  //               "HS256": an HMAC keyed with moto's public key in PEM, the key-confusion forgery)
]);

/** `token` with one byte of its signature changed (a base64url letter in the middle). */
export function alterSignature(token) {
  const dot = token.lastIndexOf('.');
  const at = dot + Math.floor((token.length - dot) / 2);
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

/** `token` re-made with header `alg`: "none" (empty signature) or "HS256" keyed with `secret`. */
export function forgeAlg(token, alg, secret) {
  const d = decodeJwt(token);
  const input = `${b64url(JSON.stringify({ ...d.header, alg }))}.${token.split('.')[1]}`;
  if (alg === 'none') return `${input}.`;
  return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
}

// ----------------------------------------------------------------------------- small helpers --

function b64url(input) {
  return Buffer.from(input).toString('base64url');
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readBody(req, limit = MAX_REQUEST_BODY) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { code: 'TOO_LARGE' }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJsonObject(text) {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * One bounded HTTP request. Resolves `{status, headers, body: Buffer, text, json}`; rejects on a
 * network error or after `timeoutMs`.
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const payload = body === undefined ? undefined : Buffer.from(body);
    const h = { ...headers };
    if (payload !== undefined) h['content-length'] = String(payload.length);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          resolve({ status: res.statusCode, headers: res.headers, body: buf, text, json: parseJsonObject(text) });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Calls one Cognito JSON 1.1 operation at `baseUrl`. */
export function cognitoCall(baseUrl, operation, payload, { headers = {}, timeoutMs } = {}) {
  return httpRequest(baseUrl, {
    method: 'POST',
    headers: { 'content-type': AMZ_JSON, 'x-amz-target': TARGET_PREFIX + operation, ...headers },
    body: JSON.stringify(payload),
    timeoutMs,
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export function getFreePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function corsFor(req) {
  return {
    'access-control-allow-origin': req.headers.origin || '*',
    vary: 'Origin',
    'access-control-expose-headers': EXPOSE_HEADERS,
  };
}

function preflightHeaders(req, methods) {
  return {
    ...corsFor(req),
    'access-control-allow-methods': methods,
    'access-control-allow-headers': req.headers['access-control-request-headers'] || 'authorization, content-type',
    'access-control-max-age': '600',
  };
}

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

// ------------------------------------------------------------------------------ JWT helpers --

function signJwt(header, claims, privateKey) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('RSA-SHA256', Buffer.from(input), privateKey);
  return `${input}.${b64url(sig)}`;
}

const B64URL_PART = /^[A-Za-z0-9_-]+$/;

/** Splits a compact JWS; null unless it is 3 base64url parts whose first two are JSON objects. */
export function decodeJwt(token) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL_PART.test(p))) return null;
  const header = parseJsonObject(Buffer.from(parts[0], 'base64url').toString('utf8'));
  const claims = parseJsonObject(Buffer.from(parts[1], 'base64url').toString('utf8'));
  if (!header || !claims) return null;
  return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

const big = (b64) => BigInt(`0x${Buffer.from(b64, 'base64url').toString('hex') || '0'}`);
const unbig = (n) => {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
};
function modPow(base, exp, mod) {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}
function gcd(a, b) {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y) [x, y] = [y, x % y];
  return x;
}
function modInverse(a, m) {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

/**
 * moto's private JWK carries only n, e, d; node:crypto wants the CRT parameters too. Recovers
 * the primes from (n, e, d) with the usual randomized square-root-of-one search (bounded tries).
 */
function completeRsaJwk(jwk) {
  if (jwk.p && jwk.q && jwk.dp && jwk.dq && jwk.qi) return jwk;
  const n = big(jwk.n);
  const e = big(jwk.e);
  const d = big(jwk.d);
  const k = d * e - 1n;
  let r = k;
  let t = 0;
  while ((r & 1n) === 0n) {
    r >>= 1n;
    t += 1;
  }
  for (let g = 2n; g < 200n; g += 1n) {
    let y = modPow(g, r, n);
    if (y === 1n || y === n - 1n) continue;
    for (let i = 0; i < t; i += 1) {
      const x = (y * y) % n;
      if (x === 1n) {
        const p = gcd(y - 1n, n);
        const q = n / p;
        return { ...jwk, p: unbig(p), q: unbig(q), dp: unbig(d % (p - 1n)), dq: unbig(d % (q - 1n)), qi: unbig(modInverse(q, p)) };
      }
      if (x === n - 1n) break;
      y = x;
    }
  }
  throw new Error('could not recover RSA primes from the JWK');
}

/** Finds moto's private signing key (a JWK, gzipped) inside the venv. */
function loadMotoSigningKey(venv) {
  const lib = path.join(venv, 'lib');
  let dirs = [];
  try {
    dirs = fs.readdirSync(lib).filter((d) => d.startsWith('python'));
  } catch {
    return null;
  }
  for (const d of dirs) {
    const base = path.join(lib, d, 'site-packages', 'moto', 'cognitoidp', 'resources', 'jwks-private.json');
    for (const [file, gz] of [[`${base}.gz`, true], [base, false]]) {
      if (!fs.existsSync(file)) continue;
      const raw = fs.readFileSync(file);
      const jwk = completeRsaJwk(JSON.parse((gz ? zlib.gunzipSync(raw) : raw).toString('utf8')));
      return { kid: jwk.kid || 'dummy', key: crypto.createPrivateKey({ key: jwk, format: 'jwk' }) };
    }
  }
  return null;
}

// ------------------------------------------------------------------------- child processes --

const liveRigs = new Set();
let handlersInstalled = false;

function killAllSync(signal = 'SIGTERM') {
  for (const rig of liveRigs) rig.killSync(signal);
}

function onSignal(signal) {
  killAllSync('SIGTERM');
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function installProcessHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function removeProcessHandlers() {
  if (!handlersInstalled || liveRigs.size > 0) return;
  handlersInstalled = false;
  process.off('exit', killAllSync);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

// Runs moto_server with PR_SET_PDEATHSIG so it gets SIGTERM even if node is SIGKILLed.
const PDEATHSIG_EXEC = `
import ctypes, os, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, 15, 0, 0, 0)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
os.execv(sys.argv[2], sys.argv[2:])
`;

async function startMoto({ venv, startTimeoutMs, log }) {
  const py = path.join(venv, 'bin', 'python');
  const motoBin = path.join(venv, 'bin', 'moto_server');
  if (!fs.existsSync(motoBin)) {
    throw new Error(`moto_server not found at ${motoBin}: run \`bash tests/e2e/rig/setup.sh\` first`);
  }
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await getFreePort();
    const child = spawn(py, ['-c', PDEATHSIG_EXEC, String(process.pid), motoBin, '-H', HOST, '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP: moto checks TOTP codes (SOFTWARE_TOKEN_MFA,
      // VerifySoftwareToken) as Cognito does; without it any code passes.
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP: 'true' },
    });
    const logTail = [];
    const onData = (chunk) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        logTail.push(line);
        if (logTail.length > 200) logTail.shift();
        if (log) process.stderr.write(`[moto] ${line}\n`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let exited = null;
    const exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exited = { code, signal };
        resolve(exited);
      });
    });
    child.once('error', (err) => {
      exited = { code: null, signal: null, error: err };
    });
    const url = `http://${HOST}:${port}/`;
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline && !exited) {
      try {
        const r = await httpRequest(`${url}moto-api/`, { timeoutMs: 1000 });
        if (r.status > 0) return { child, port, url, logTail, exitPromise };
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    lastError = new Error(
      exited
        ? `moto_server exited before answering (${JSON.stringify(exited)}):\n${logTail.join('\n')}`
        : `moto_server did not answer within ${startTimeoutMs} ms:\n${logTail.join('\n')}`,
    );
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------- startRig --

/**
 * Starts moto, seeds a user pool, app client and user, and starts the proxy and the API.
 *
 * options:
 *   region = 'us-east-1', username = 'rig-user', password = 'Rig-passw0rd!',
 *   poolConfig = {}          extra CreateUserPool fields (UsernameAttributes: ['email'] needs
 *                            an email as username),
 *   clientConfig = {}        extra CreateUserPoolClient fields,
 *   fault = null             initial fault (see setFault),
 *   quota = null             initial token bucket {quotaRps, burst, operations?},
 *   tokenLifetimeS = null    re-sign moto's tokens to live this long (moto's are 3600 s),
 *   proxyPort = 0, apiPort = 0 (0: any free port), venv = .tools/venv,
 *   startTimeoutMs = 30000, motoLog = false (copy moto's log to stderr).
 *
 * Returns { cognitoUrl, apiUrl, proxyControlUrl, motoUrl, region, poolId, clientId, issuer,
 *           jwksUrl, username, password, userSub, control, counts(), stop() }.
 */
export async function startRig(options = {}) {
  const opts = {
    region: 'us-east-1',
    username: 'rig-user',
    password: 'Rig-passw0rd!',
    poolConfig: {},
    clientConfig: {},
    fault: null,
    quota: null,
    tokenLifetimeS: null,
    proxyPort: 0,
    apiPort: 0,
    venv: DEFAULT_VENV,
    startTimeoutMs: 30000,
    motoLog: false,
    ...options,
  };
  const t0 = Date.now();
  const moto = await startMoto({ venv: opts.venv, startTimeoutMs: opts.startTimeoutMs, log: opts.motoLog });
  let motoAlive = true;
  moto.exitPromise.then(() => {
    motoAlive = false;
  });

  const rig = {
    killSync(signal) {
      if (motoAlive) {
        try {
          moto.child.kill(signal);
        } catch {
          // already gone
        }
      }
    },
  };
  liveRigs.add(rig);
  installProcessHandlers();

  let proxyServer;
  let apiServer;
  try {
    // --- seed ---------------------------------------------------------------------------
    const admin = {
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/${opts.region}/cognito-idp/aws4_request, SignedHeaders=host, Signature=00`,
    };
    const must = async (op, payload) => {
      const r = await cognitoCall(moto.url, op, payload, { headers: admin });
      if (r.status !== 200 || !r.json) throw new Error(`seeding ${op} failed: ${r.status} ${r.text}`);
      return r.json;
    };
    const pool = await must('CreateUserPool', { PoolName: 'cognito-session-e2e', ...opts.poolConfig });
    const poolId = pool.UserPool.Id;
    const client = await must('CreateUserPoolClient', {
      UserPoolId: poolId,
      ClientName: 'cognito-session-e2e',
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      ...opts.clientConfig,
    });
    const clientId = client.UserPoolClient.ClientId;
    const user = await must('AdminCreateUser', { UserPoolId: poolId, Username: opts.username, MessageAction: 'SUPPRESS' });
    const userSub = (user.User.Attributes || []).find((a) => a.Name === 'sub')?.Value;
    await must('AdminSetUserPassword', { UserPoolId: poolId, Username: opts.username, Password: opts.password, Permanent: true });

    const issuer = `https://cognito-idp.${opts.region}.amazonaws.com/${poolId}`;
    const jwks = await httpRequest(`${moto.url}${poolId}/.well-known/jwks.json`);
    if (jwks.status !== 200 || !jwks.json || !Array.isArray(jwks.json.keys)) throw new Error(`JWKS fetch failed: ${jwks.status} ${jwks.text}`);
    const publicKeys = new Map();
    for (const k of jwks.json.keys) publicKeys.set(k.kid, crypto.createPublicKey({ key: k, format: 'jwk' }));
    /** moto's public key in PEM: the secret of the HS256 key-confusion forgery. */
    const publicPem = [...publicKeys.values()][0]?.export({ type: 'spki', format: 'pem' }) ?? '';

    let signer = loadMotoSigningKey(opts.venv);
    if (!signer) {
      // Should not happen with moto 5.x; crafted tokens then fail the API's signature check.
      const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      signer = { kid: 'rig-unknown-key', key: privateKey };
    }

    // --- tokens the rig crafts -----------------------------------------------------------
    const nowS = () => Math.floor(Date.now() / 1000);
    const mintToken = ({ tokenUse = 'access', expiresInS = 3600, iat, clientId: cid = clientId, extra = {} } = {}) => {
      const issuedAt = iat ?? nowS();
      const claims = {
        iss: issuer,
        sub: userSub,
        [tokenUse === 'access' ? 'client_id' : 'aud']: cid,
        token_use: tokenUse,
        iat: issuedAt,
        auth_time: issuedAt,
        exp: issuedAt + expiresInS,
        jti: crypto.randomUUID(),
        ...(tokenUse === 'access'
          ? { username: opts.username, origin_jti: crypto.randomUUID(), scope: 'aws.cognito.signin.user.admin' }
          : { 'cognito:username': opts.username, origin_jti: crypto.randomUUID() }),
        ...extra,
      };
      return signJwt({ typ: 'JWT', kid: signer.kid, alg: 'RS256' }, claims, signer.key);
    };
    const resign = (token, lifetimeS) => {
      const d = decodeJwt(token);
      if (!d) return token;
      const iat = nowS();
      return signJwt(d.header, { ...d.claims, iat, exp: iat + lifetimeS }, signer.key);
    };

    // --- shared state --------------------------------------------------------------------
    const state = {
      fault: null,
      quota: null,
      tokenLifetimeS: null,
      resigned: new Map(), // re-signed access token → moto's original
    };
    const timers = new Set();
    const later = (ms, fn) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
      return t;
    };

    const emptyProxyCounts = () => ({ total: 0, forwarded: 0, faulted: 0, refresh: { total: 0, forwarded: 0, faulted: 0 }, byOperation: {}, byMode: {}, events: [] });
    const emptyApiCounts = () => ({ total: 0, ok: 0, rejected: 0, preflight: 0, byKind: {}, events: [] });
    let proxyCounts = emptyProxyCounts();
    let apiCounts = emptyApiCounts();

    const pushEvent = (list, ev) => {
      list.push(ev);
      if (list.length > MAX_EVENTS) list.splice(0, list.length - MAX_EVENTS);
    };

    const recordProxy = (ev) => {
      const c = proxyCounts;
      c.total += 1;
      c[ev.outcome] = (c[ev.outcome] || 0) + 1;
      const o = (c.byOperation[ev.op] ||= { total: 0, forwarded: 0, faulted: 0, first: ev.t, last: ev.t });
      o.total += 1;
      o[ev.outcome] = (o[ev.outcome] || 0) + 1;
      o.last = ev.t;
      if (REFRESH_OPERATIONS.includes(ev.op)) {
        c.refresh.total += 1;
        c.refresh[ev.outcome] = (c.refresh[ev.outcome] || 0) + 1;
      }
      if (ev.mode) c.byMode[ev.mode] = (c.byMode[ev.mode] || 0) + 1;
      pushEvent(c.events, ev);
    };

    const recordApi = (ev) => {
      const c = apiCounts;
      if (ev.kind === 'preflight') {
        c.preflight += 1;
      } else {
        c.total += 1;
        if (ev.kind === 'ok') c.ok += 1;
        else c.rejected += 1;
        c.byKind[ev.kind] = (c.byKind[ev.kind] || 0) + 1;
      }
      pushEvent(c.events, ev);
    };

    const snapshot = () => structuredClone({ proxy: proxyCounts, api: apiCounts, at: Date.now() });

    // --- fault and quota control -----------------------------------------------------------
    const matches = (operations, op) =>
      operations.some((o) => o === op || o === '*' || (o === 'refresh' && REFRESH_OPERATIONS.includes(op)));

    const setFault = (spec) => {
      if (spec == null || spec.mode == null || spec.mode === 'none' || spec.mode === 'off') {
        state.fault = null;
        return null;
      }
      if (!FAULT_MODES.includes(spec.mode)) throw new Error(`unknown fault mode ${JSON.stringify(spec.mode)}; known: ${FAULT_MODES.join(', ')}`);
      const ops = spec.operations == null ? ['refresh'] : Array.isArray(spec.operations) ? spec.operations.map(String) : [String(spec.operations)];
      for (const [k, v] of [['forMs', spec.forMs], ['count', spec.count], ['ms', spec.ms], ['bytes', spec.bytes], ['status', spec.status]]) {
        if (v != null && !(Number.isFinite(v) && v >= 0)) throw new Error(`fault ${k} must be a non-negative number`);
      }
      if (spec.ms != null && spec.ms > 600000) throw new Error('fault ms must be at most 600000');
      if (spec.mode === 'error' && typeof spec.error !== 'string') throw new Error('fault mode "error" needs error: "<ExceptionName>"');
      if (spec.mode === 'redirect' && typeof spec.location !== 'string') throw new Error('fault mode "redirect" needs location: "<url>"');
      if (spec.mode === 'answer' && (typeof spec.answer !== 'object' || spec.answer === null)) throw new Error('fault mode "answer" needs answer: {...}');
      state.fault = {
        mode: spec.mode,
        operations: ops,
        ms: spec.ms,
        bytes: spec.bytes,
        error: spec.error,
        status: spec.status,
        message: spec.message,
        headers: spec.headers && typeof spec.headers === 'object' ? { ...spec.headers } : {},
        cors: spec.cors !== false,
        expiredAgoS: spec.expiredAgoS,
        location: spec.location,
        answer: spec.answer,
        alg: spec.alg,
        remaining: spec.count == null ? null : Math.floor(spec.count),
        until: spec.forMs == null ? null : Date.now() + spec.forMs,
        setAt: Date.now(),
        hits: 0,
      };
      if (state.fault.remaining === 0) state.fault = null;
      return getFault();
    };
    const getFault = () => (state.fault ? { ...state.fault, headers: { ...state.fault.headers } } : null);

    // Returns the fault to apply to this request (consuming one of its count), or null.
    const takeFault = (op) => {
      const f = state.fault;
      if (!f) return null;
      if (f.until != null && Date.now() >= f.until) {
        state.fault = null;
        return null;
      }
      if (!matches(f.operations, op)) return null;
      f.hits += 1;
      if (f.remaining != null) {
        f.remaining -= 1;
        if (f.remaining <= 0) state.fault = null;
      }
      return f;
    };

    const setQuota = (spec) => {
      if (spec == null || spec.quotaRps == null) {
        state.quota = null;
        return null;
      }
      const rps = Number(spec.quotaRps);
      const burst = spec.burst == null ? Math.max(1, Math.ceil(rps)) : Number(spec.burst);
      if (!(Number.isFinite(rps) && rps >= 0 && Number.isFinite(burst) && burst >= 1)) throw new Error('quota needs quotaRps >= 0 and burst >= 1');
      const ops = spec.operations == null ? ['refresh'] : Array.isArray(spec.operations) ? spec.operations.map(String) : [String(spec.operations)];
      state.quota = { quotaRps: rps, burst, operations: ops, tokens: burst, last: Date.now(), throttled: 0, admitted: 0 };
      return getQuota();
    };
    const getQuota = () => (state.quota ? { ...state.quota } : null);

    // true: admitted; false: over quota.
    const takeQuota = (op) => {
      const q = state.quota;
      if (!q || !matches(q.operations, op)) return true;
      const now = Date.now();
      q.tokens = Math.min(q.burst, q.tokens + ((now - q.last) / 1000) * q.quotaRps);
      q.last = now;
      if (q.tokens >= 1) {
        q.tokens -= 1;
        q.admitted += 1;
        return true;
      }
      q.throttled += 1;
      return false;
    };

    const setTokenLifetime = (seconds) => {
      if (seconds == null) {
        state.tokenLifetimeS = null;
        return null;
      }
      const s = Number(seconds);
      if (!(Number.isFinite(s) && s >= 1 && s <= 86400)) throw new Error('tokenLifetimeS must be 1..86400');
      state.tokenLifetimeS = Math.floor(s);
      return state.tokenLifetimeS;
    };

    const reset = () => {
      proxyCounts = emptyProxyCounts();
      apiCounts = emptyApiCounts();
      state.fault = null;
      state.quota = null;
    };

    // --- answers the proxy crafts ------------------------------------------------------------
    const cognitoError = (status, name, message) => ({
      status,
      headers: { 'Content-Type': AMZ_JSON, 'x-amzn-ErrorType': `${name}:`, 'x-amzn-RequestId': crypto.randomUUID() },
      body: JSON.stringify({ __type: name, message }),
    });
    const htmlPage = (status, title) => ({
      status,
      headers: { 'Content-Type': 'text/html' },
      body: `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1></center>\r\n</body>\r\n</html>\r\n`,
    });
    const successBody = (op, reqJson, { expiresInS = 3600, iat } = {}) => {
      const cid = typeof reqJson?.ClientId === 'string' ? reqJson.ClientId : clientId;
      const result = {
        AccessToken: mintToken({ tokenUse: 'access', expiresInS, iat, clientId: cid }),
        ExpiresIn: 3600,
        TokenType: 'Bearer',
        IdToken: mintToken({ tokenUse: 'id', expiresInS, iat, clientId: cid }),
      };
      if (op === 'GetTokensFromRefreshToken' && typeof reqJson?.RefreshToken === 'string') result.RefreshToken = reqJson.RefreshToken;
      return { AuthenticationResult: result, ChallengeParameters: {} };
    };
    const ok200 = (body) => ({ status: 200, headers: { 'Content-Type': AMZ_JSON, 'x-amzn-RequestId': crypto.randomUUID() }, body });

    const craftAnswer = (f, op, reqJson) => {
      switch (f.mode) {
        case 'throttle':
          return cognitoError(400, 'TooManyRequestsException', f.message || 'Rate exceeded');
        case 'internal':
          return cognitoError(500, 'InternalErrorException', f.message || 'Internal server error');
        case 'error':
          return cognitoError(f.status || 400, f.error, f.message || f.error);
        case 'bad-gateway':
          return htmlPage(502, 'Bad Gateway');
        case 'unavailable':
          return htmlPage(503, 'Service Temporarily Unavailable');
        case 'gateway-timeout':
          return htmlPage(504, 'Gateway Time-out');
        case 'html200':
          return {
            status: 200,
            headers: { 'Content-Type': 'text/html; charset=utf-8' },
            body: '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Please sign in</h1><form method="post"><input name="user"></form></body></html>\n',
          };
        case 'truncated-json': {
          const full = JSON.stringify(successBody(op, reqJson));
          return ok200(full.slice(0, Math.floor(full.length / 2)));
        }
        case 'wrong-types':
          return ok200(JSON.stringify({ AuthenticationResult: { AccessToken: 12345, ExpiresIn: '3600', TokenType: 7, IdToken: ['not', 'a', 'token'] }, ChallengeParameters: [] }));
        case 'huge': {
          const target = f.bytes ?? 1024 * 1024;
          const base = successBody(op, reqJson);
          const overhead = JSON.stringify({ ...base, Padding: '' }).length;
          return ok200(JSON.stringify({ ...base, Padding: 'x'.repeat(Math.max(0, target - overhead)) }));
        }
        case 'redirect':
          return { status: 307, headers: { Location: f.location }, body: '' };
        case 'answer':
          return ok200(JSON.stringify(f.answer));
        case 'bad-signature':
        case 'forged-alg': {
          const body = successBody(op, reqJson);
          const t = body.AuthenticationResult.AccessToken;
          body.AuthenticationResult.AccessToken = f.mode === 'bad-signature' ? alterSignature(t) : forgeAlg(t, f.alg ?? 'HS256', publicPem);
          return ok200(JSON.stringify(body));
        }
        case 'expired-token': {
          const ago = f.expiredAgoS ?? 300;
          return ok200(JSON.stringify(successBody(op, reqJson, { iat: nowS() - 3600 - ago })));
        }
        default:
          return null;
      }
    };

    const classify = (req, url, body) => {
      if (req.method === 'OPTIONS') return { op: 'preflight', json: null };
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target.length > 0) {
        const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
        const json = parseJsonObject(body.toString('utf8'));
        if (name === 'InitiateAuth' || name === 'AdminInitiateAuth') {
          const flow = typeof json?.AuthFlow === 'string' ? json.AuthFlow : '?';
          return { op: `${name}/${flow}`, json };
        }
        return { op: name, json };
      }
      if (url.pathname.endsWith('/.well-known/jwks.json')) return { op: 'jwks', json: null };
      if (url.pathname.endsWith('/.well-known/openid-configuration')) return { op: 'openid-configuration', json: null };
      return { op: `${req.method} ${url.pathname}`, json: null };
    };

    // --- the proxy ---------------------------------------------------------------------------
    const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

    const forward = (req, res, body, ev, reqJson) => {
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && k !== 'content-length') headers[k] = v;
      // Unsigned calls (GlobalSignOut, GetUser) land in moto's us-east-1 backend; carry the region.
      if (opts.region !== 'us-east-1' && req.headers['x-amz-target'] && !req.headers.authorization) headers.authorization = admin.authorization;
      let outBody = body;
      // Translate re-signed access tokens back to moto's originals (GlobalSignOut, GetUser, ...).
      if (reqJson && typeof reqJson.AccessToken === 'string' && state.resigned.has(reqJson.AccessToken)) {
        outBody = Buffer.from(JSON.stringify({ ...reqJson, AccessToken: state.resigned.get(reqJson.AccessToken) }));
      }
      if (outBody.length > 0 || !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) headers['content-length'] = String(outBody.length);
      const lifetime = state.tokenLifetimeS;
      const rewrite = lifetime != null && (ev.op.startsWith('InitiateAuth/') || ev.op === 'GetTokensFromRefreshToken');
      const up = http.request({ host: HOST, port: moto.port, method: req.method, path: req.url, headers }, (upRes) => {
        const out = {};
        for (const [k, v] of Object.entries(upRes.headers)) if (!HOP.has(k)) out[k] = v;
        if (!out['access-control-allow-origin']) out['access-control-allow-origin'] = req.headers.origin || '*';
        out['access-control-expose-headers'] = EXPOSE_HEADERS;
        ev.status = upRes.statusCode;
        if (!rewrite || upRes.statusCode !== 200) {
          recordProxy(ev);
          res.writeHead(upRes.statusCode, out);
          upRes.pipe(res);
          return;
        }
        const chunks = [];
        upRes.on('data', (c) => chunks.push(c));
        upRes.on('end', () => {
          let text = Buffer.concat(chunks).toString('utf8');
          const json = parseJsonObject(text);
          const ar = json?.AuthenticationResult;
          if (ar && typeof ar.AccessToken === 'string') {
            const access = resign(ar.AccessToken, lifetime);
            state.resigned.set(access, ar.AccessToken);
            ar.AccessToken = access;
            if (typeof ar.IdToken === 'string') ar.IdToken = resign(ar.IdToken, lifetime);
            ar.ExpiresIn = lifetime;
            text = JSON.stringify(json);
            ev.resigned = true;
          }
          recordProxy(ev);
          out['content-length'] = String(Buffer.byteLength(text));
          res.writeHead(200, out);
          res.end(text);
        });
      });
      up.setTimeout(30000, () => up.destroy(new Error('moto did not answer within 30 s')));
      up.on('error', (err) => {
        ev.outcome = 'faulted';
        ev.mode = 'upstream-error';
        ev.status = 502;
        ev.detail = err.message;
        recordProxy(ev);
        if (!res.headersSent) sendJson(res, 502, { rigError: `moto unreachable: ${err.message}` }, corsFor(req));
        else res.destroy();
      });
      up.end(outBody);
    };

    // --- RevokeToken, which moto 5.2.5 lacks --------------------------------------------------
    // moto's Cognito has no revoke_token (neither its models.py nor its responses.py know it), so
    // the proxy answers RevokeToken as Cognito's API reference says: HTTP 200 with an empty body,
    // and from then on the refresh token AND the access tokens issued with it stop working. A
    // later refresh with the token answers 400 NotAuthorizedException "Refresh Token has been
    // revoked" (Cognito's words for it, as for moto's own revocations); an API call or a Cognito
    // call (GetUser, GlobalSignOut) with such an access token is refused ("Access Token has been
    // revoked"). moto gives a sign-in's refresh and access tokens one `origin_jti`, so the proxy
    // learns the token's by refreshing it once at moto before it revokes it.
    const revoked = { refreshTokens: new Set(), originJtis: new Set() };
    const revokeToken = async (json) => {
      const token = json?.Token;
      const client = json?.ClientId;
      if (typeof token !== 'string' || !/^[\w=.-]+$/.test(token) || typeof client !== 'string' || !/^[\w+]+$/.test(client)) {
        return cognitoError(400, 'InvalidParameterException', '1 validation error detected: Token and ClientId must be strings of the allowed characters');
      }
      if (!revoked.refreshTokens.has(token)) {
        const r = await cognitoCall(moto.url, 'InitiateAuth', { ClientId: client, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: token } }, { headers: admin });
        const claims = decodeJwt(r.json?.AuthenticationResult?.AccessToken ?? '')?.claims;
        if (claims && claims.client_id !== client) return cognitoError(400, 'UnauthorizedException', 'Token was not issued to this client');
        if (claims?.origin_jti) revoked.originJtis.add(claims.origin_jti);
        revoked.refreshTokens.add(token);
      }
      return { status: 200, headers: { 'Content-Type': AMZ_JSON, 'x-amzn-RequestId': crypto.randomUUID() }, body: '' };
    };
    const isRevokedAccess = (token) => typeof token === 'string' && revoked.originJtis.has(decodeJwt(token)?.claims.origin_jti);
    /** Cognito's own answer where moto's would be wrong (see above), or null to forward. */
    const emulate = async (op, json) => {
      if (op === 'RevokeToken') return revokeToken(json);
      const refreshToken = json?.AuthParameters?.REFRESH_TOKEN ?? json?.RefreshToken;
      if (REFRESH_OPERATIONS.includes(op) && revoked.refreshTokens.has(refreshToken)) {
        return cognitoError(400, 'NotAuthorizedException', 'Refresh Token has been revoked');
      }
      if (isRevokedAccess(json?.AccessToken)) return cognitoError(400, 'NotAuthorizedException', 'Access Token has been revoked');
      return null;
    };

    const onProxyRequest = async (req, res) => {
      const url = new URL(req.url, `http://${HOST}`);
      if (url.pathname.startsWith('/__rig/')) return onControl(req, res, url);
      let body;
      try {
        body = await readBody(req);
      } catch {
        if (!res.headersSent) sendJson(res, 413, { rigError: 'request body too large' }, corsFor(req));
        return;
      }
      const { op, json } = classify(req, url, body);
      const ev = { t: Date.now(), op, outcome: 'forwarded', mode: null, status: 0 };
      const fault = op === 'preflight' ? null : takeFault(op);
      if (!fault) {
        if (op !== 'preflight' && !takeQuota(op)) {
          const a = cognitoError(400, 'TooManyRequestsException', 'Rate exceeded');
          Object.assign(ev, { outcome: 'faulted', mode: 'quota', status: 400 });
          recordProxy(ev);
          res.writeHead(a.status, { ...a.headers, ...corsFor(req), 'content-length': Buffer.byteLength(a.body) });
          res.end(a.body);
          return;
        }
        const emulated = await emulate(op, json);
        if (emulated) {
          Object.assign(ev, { outcome: 'emulated', status: emulated.status });
          recordProxy(ev);
          res.writeHead(emulated.status, { ...emulated.headers, ...corsFor(req), 'content-length': Buffer.byteLength(emulated.body) });
          res.end(emulated.body);
          return;
        }
        forward(req, res, body, ev, json);
        return;
      }
      ev.mode = fault.mode;
      if (fault.mode === 'latency') {
        const ms = fault.ms ?? 1000;
        ev.delayMs = ms;
        later(ms, () => {
          if (!req.socket.destroyed) forward(req, res, body, ev, json);
        });
        return;
      }
      ev.outcome = 'faulted';
      if (fault.mode === 'drop') {
        recordProxy(ev);
        req.socket.destroy();
        return;
      }
      if (fault.mode === 'hang') {
        recordProxy(ev);
        later(fault.ms ?? 30000, () => req.socket.destroy());
        return;
      }
      const a = craftAnswer(fault, op, json);
      ev.status = a.status;
      recordProxy(ev);
      const headers = { ...a.headers, ...fault.headers, 'content-length': Buffer.byteLength(a.body) };
      if (fault.cors) Object.assign(headers, corsFor(req));
      res.writeHead(a.status, headers);
      res.end(a.body);
    };

    // --- control API (on the proxy's port, under /__rig/) ------------------------------------
    const revoke = async ({ accessToken, username } = {}) => {
      if (typeof accessToken === 'string') {
        const original = state.resigned.get(accessToken) || accessToken;
        const r = await cognitoCall(moto.url, 'GlobalSignOut', { AccessToken: original }, { headers: admin });
        return { operation: 'GlobalSignOut', status: r.status, body: r.json ?? r.text };
      }
      const r = await cognitoCall(moto.url, 'AdminUserGlobalSignOut', { UserPoolId: poolId, Username: username || opts.username }, { headers: admin });
      return { operation: 'AdminUserGlobalSignOut', status: r.status, body: r.json ?? r.text };
    };

    const signIn = async ({ username = opts.username, password = opts.password, viaProxy = false } = {}) => {
      const r = await cognitoCall(viaProxy ? cognitoUrl : moto.url, 'InitiateAuth', {
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: password },
      });
      if (r.status !== 200 || !r.json?.AuthenticationResult) throw new Error(`sign-in failed: ${r.status} ${r.text}`);
      return r.json.AuthenticationResult;
    };

    const config = () => ({
      cognitoUrl,
      apiUrl,
      proxyControlUrl,
      region: opts.region,
      poolId,
      clientId,
      issuer,
      jwksUrl: `${cognitoUrl}${poolId}/.well-known/jwks.json`,
      username: opts.username,
      password: opts.password,
    });

    const onControl = async (req, res, url) => {
      const cors = corsFor(req);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, preflightHeaders(req, 'GET, POST, DELETE, OPTIONS'));
        res.end();
        return;
      }
      let body = null;
      try {
        const raw = await readBody(req, 64 * 1024);
        if (raw.length > 0) {
          body = parseJsonObject(raw.toString('utf8'));
          if (!body) return sendJson(res, 400, { error: 'body must be a JSON object' }, cors);
        }
      } catch {
        return sendJson(res, 413, { error: 'body too large' }, cors);
      }
      const route = `${req.method} ${url.pathname}`;
      try {
        switch (route) {
          case 'GET /__rig/counts':
            return sendJson(res, 200, snapshot(), cors);
          case 'GET /__rig/state':
            return sendJson(res, 200, { fault: getFault(), quota: getQuota(), tokenLifetimeS: state.tokenLifetimeS }, cors);
          case 'GET /__rig/config':
            return sendJson(res, 200, config(), cors);
          case 'POST /__rig/fault':
            return sendJson(res, 200, { fault: setFault(body) }, cors);
          case 'DELETE /__rig/fault':
            return sendJson(res, 200, { fault: setFault(null) }, cors);
          case 'POST /__rig/quota':
            return sendJson(res, 200, { quota: setQuota(body) }, cors);
          case 'DELETE /__rig/quota':
            return sendJson(res, 200, { quota: setQuota(null) }, cors);
          case 'POST /__rig/token-lifetime':
            return sendJson(res, 200, { tokenLifetimeS: setTokenLifetime(body?.seconds ?? null) }, cors);
          case 'POST /__rig/reset':
            reset();
            return sendJson(res, 200, { reset: true }, cors);
          case 'POST /__rig/revoke':
            return sendJson(res, 200, await revoke(body || {}), cors);
          default:
            return sendJson(res, 404, { error: `no such control route: ${route}` }, cors);
        }
      } catch (err) {
        return sendJson(res, 400, { error: err.message }, cors);
      }
    };

    // --- the protected API -------------------------------------------------------------------
    const checkBearer = (authorization) => {
      if (authorization === undefined) return { kind: 'missing' };
      const m = /^\s*Bearer(?:\s+(.*?))?\s*$/i.exec(authorization);
      if (!m) return { kind: 'malformed', detail: 'not a Bearer credential' };
      const token = m[1] ?? '';
      if (token === '') return { kind: 'empty' };
      if (token === 'null') return { kind: 'null' };
      if (token === 'undefined') return { kind: 'undefined' };
      const d = decodeJwt(token);
      if (!d) return { kind: 'malformed', detail: 'not 3 base64url parts with JSON header and claims' };
      const key = publicKeys.get(d.header.kid);
      if (d.header.alg !== 'RS256' || !key) return { kind: 'bad-token', detail: `alg ${d.header.alg} kid ${d.header.kid}` };
      if (!crypto.verify('RSA-SHA256', Buffer.from(d.signingInput), key, d.signature)) return { kind: 'bad-token', detail: 'bad signature' };
      if (d.claims.iss !== issuer) return { kind: 'bad-token', detail: `iss ${d.claims.iss}` };
      if (typeof d.claims.exp !== 'number') return { kind: 'bad-token', detail: 'no numeric exp' };
      if (d.claims.exp <= nowS()) return { kind: 'expired', claims: d.claims };
      if (isRevokedAccess(token)) return { kind: 'revoked', claims: d.claims };
      return { kind: 'ok', claims: d.claims };
    };

    let apiServed = 0;
    const onApiRequest = async (req, res) => {
      const url = new URL(req.url, `http://${HOST}`);
      const cors = { ...corsFor(req), 'access-control-expose-headers': 'WWW-Authenticate' };
      if (req.method === 'OPTIONS') {
        recordApi({ t: Date.now(), method: 'OPTIONS', path: url.pathname, kind: 'preflight', status: 204 });
        res.writeHead(204, { ...preflightHeaders(req, 'GET, POST, PUT, DELETE, OPTIONS'), 'access-control-expose-headers': 'WWW-Authenticate' });
        res.end();
        return;
      }
      try {
        await readBody(req, 64 * 1024);
      } catch {
        return sendJson(res, 413, { error: 'body too large' }, cors);
      }
      if (!url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'not found' }, cors);
      const auth = req.headers.authorization;
      const verdict = checkBearer(auth);
      const ev = {
        t: Date.now(),
        method: req.method,
        path: url.pathname,
        kind: verdict.kind,
        status: verdict.kind === 'ok' ? 200 : 401,
        origin: req.headers.origin ?? null,
        authorization: auth === undefined ? null : auth.length > 48 ? `${auth.slice(0, 48)}…` : auth,
        ...(verdict.detail ? { detail: verdict.detail } : {}),
        ...(verdict.claims ? { tokenUse: verdict.claims.token_use, exp: verdict.claims.exp, jti: verdict.claims.jti } : {}),
      };
      recordApi(ev);
      if (verdict.kind !== 'ok') {
        return sendJson(res, 401, { error: verdict.kind, ...(verdict.detail ? { detail: verdict.detail } : {}) }, {
          ...cors,
          'www-authenticate': `Bearer error="invalid_token", error_description="${verdict.kind}"`,
        });
      }
      apiServed += 1;
      const c = verdict.claims;
      return sendJson(res, 200, { ok: true, n: apiServed, path: url.pathname, sub: c.sub, username: c.username ?? c['cognito:username'] ?? null, tokenUse: c.token_use, exp: c.exp }, cors);
    };

    // --- servers -----------------------------------------------------------------------------
    const guard = (handler) => (req, res) => {
      handler(req, res).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { rigError: String(err?.message || err) });
        else res.destroy();
      });
    };
    proxyServer = http.createServer(guard(onProxyRequest));
    apiServer = http.createServer(guard(onApiRequest));
    const proxyPort = await listen(proxyServer, opts.proxyPort);
    const apiPort = await listen(apiServer, opts.apiPort);
    const cognitoUrl = `http://${HOST}:${proxyPort}/`;
    const proxyControlUrl = `http://${HOST}:${proxyPort}/__rig/`;
    const apiUrl = `http://${HOST}:${apiPort}/`;

    if (opts.fault) setFault(opts.fault);
    if (opts.quota) setQuota(opts.quota);
    if (opts.tokenLifetimeS != null) setTokenLifetime(opts.tokenLifetimeS);

    const waitFor = async (predicate, { timeoutMs = 5000, intervalMs = 20 } = {}) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await predicate(snapshot());
        if (v) return v;
        if (Date.now() >= deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
        await sleep(intervalMs);
      }
    };

    const control = {
      /** {mode, forMs?, count?, operations? = ['refresh'], ms?, bytes?, error?, status?, message?, headers?, cors? = true, expiredAgoS?} */
      setFault,
      clearFault: () => setFault(null),
      getFault,
      /** {quotaRps, burst?, operations? = ['refresh']}; null clears. */
      setQuota,
      clearQuota: () => setQuota(null),
      getQuota,
      /** Re-sign tokens from InitiateAuth to live `seconds` (null: moto's 3600 s). */
      setTokenLifetime,
      reset,
      counts: snapshot,
      /** Polls `predicate(counts)` every `intervalMs` until truthy or `timeoutMs`. */
      waitFor,
      /** GlobalSignOut({accessToken}) or AdminUserGlobalSignOut({username = seeded user}). */
      revoke,
      /** USER_PASSWORD_AUTH straight to moto (not counted) unless viaProxy. */
      signIn,
      /** A token signed with moto's key: {tokenUse, expiresInS, iat, clientId, extra}. */
      mintToken,
      /** Any Cognito operation straight to moto, signed as the admin (not counted):
       * {status, json, text}. */
      admin: (operation, payload) => cognitoCall(moto.url, operation, payload, { headers: admin }),
      config,
      motoLogTail: () => [...moto.logTail],
    };

    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([closeServer(proxyServer), closeServer(apiServer)]);
      if (motoAlive) {
        moto.child.kill('SIGTERM');
        const killer = setTimeout(() => moto.child.kill('SIGKILL'), 3000);
        await moto.exitPromise;
        clearTimeout(killer);
      }
      liveRigs.delete(rig);
      removeProcessHandlers();
    };

    return {
      ...config(),
      motoUrl: moto.url,
      motoPid: moto.child.pid,
      userSub,
      startupMs: Date.now() - t0,
      control,
      counts: snapshot,
      stop,
    };
  } catch (err) {
    if (proxyServer) await closeServer(proxyServer);
    if (apiServer) await closeServer(apiServer);
    rig.killSync('SIGKILL');
    await moto.exitPromise;
    liveRigs.delete(rig);
    removeProcessHandlers();
    throw err;
  }
}
