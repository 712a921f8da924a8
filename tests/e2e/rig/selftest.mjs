// Self-test of the end-to-end rig: moto answers like Cognito, the proxy faults exactly as
// Cognito does, the quota throttles, the API catches every bad token, counts add up, a browser
// page can talk to all of it across origins, and nothing outlives stop().
//
//   node --test tests/e2e/rig/selftest.mjs        (after `bash tests/e2e/rig/setup.sh`)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FAULT_MODES, cognitoCall, decodeJwt, httpRequest, startRig } from './rig.mjs';
import { CHROMIUM, launchChromium } from './browser.mjs';
import { startStaticServer } from './serve.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ORIGIN = 'http://127.0.0.1:1234';
const AMZ_JSON = 'application/x-amz-json-1.1';

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refusesConnections(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

async function waitUntil(fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

describe('the e2e rig', () => {
  let rig;
  let refreshToken;

  const signIn = (extraHeaders = {}) =>
    cognitoCall(
      rig.cognitoUrl,
      'InitiateAuth',
      { ClientId: rig.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: rig.username, PASSWORD: rig.password } },
      { headers: extraHeaders },
    );
  const refresh = (token = refreshToken, extraHeaders = {}) =>
    cognitoCall(
      rig.cognitoUrl,
      'InitiateAuth',
      { ClientId: rig.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: token } },
      { headers: extraHeaders },
    );
  const api = (authorization) => httpRequest(`${rig.apiUrl}api/data`, { headers: authorization === undefined ? {} : { authorization } });

  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    if (rig) await rig.stop();
  });

  test('starts moto, seeds a pool, a password-enabled client and a user, within 15 s', () => {
    assert.match(rig.poolId, /^us-east-1_[0-9a-f]+$/);
    assert.match(rig.clientId, /^[0-9a-z]{26}$/);
    assert.equal(rig.issuer, `https://cognito-idp.us-east-1.amazonaws.com/${rig.poolId}`);
    assert.ok(rig.startupMs < 15000, `startup took ${rig.startupMs} ms`);
    for (const u of [rig.cognitoUrl, rig.apiUrl, rig.proxyControlUrl, rig.motoUrl]) assert.match(u, /^http:\/\/127\.0\.0\.1:\d+\//);
  });

  test('signs in with USER_PASSWORD_AUTH through the proxy and gets moto-signed RS256 tokens for 3600 s', async () => {
    rig.control.reset();
    const r = await signIn({ origin: ORIGIN });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
    assert.match(r.headers['access-control-expose-headers'], /x-amzn-ErrorType/);
    const ar = r.json.AuthenticationResult;
    assert.equal(ar.TokenType, 'Bearer');
    assert.equal(ar.ExpiresIn, 3600);
    assert.equal(typeof ar.RefreshToken, 'string');
    refreshToken = ar.RefreshToken;
    const access = decodeJwt(ar.AccessToken);
    assert.deepEqual(access.header, { typ: 'JWT', kid: 'dummy', alg: 'RS256' });
    assert.equal(access.claims.iss, rig.issuer);
    assert.equal(access.claims.token_use, 'access');
    assert.equal(access.claims.client_id, rig.clientId);
    assert.equal(access.claims.username, rig.username);
    assert.equal(access.claims.exp - access.claims.iat, 3600);
    const id = decodeJwt(ar.IdToken);
    assert.equal(id.claims.token_use, 'id');
    assert.equal(id.claims.aud, rig.clientId);
    assert.equal(id.claims['cognito:username'], rig.username);
    assert.equal(rig.counts().proxy.byOperation['InitiateAuth/USER_PASSWORD_AUTH'].forwarded, 1);
  });

  test('refreshes with REFRESH_TOKEN_AUTH through the proxy: new access token, no new refresh token', async () => {
    const r = await refresh();
    assert.equal(r.status, 200, r.text);
    const ar = r.json.AuthenticationResult;
    assert.equal(ar.RefreshToken, undefined);
    assert.equal(decodeJwt(ar.AccessToken).claims.token_use, 'access');
    const c = rig.counts().proxy;
    assert.equal(c.byOperation['InitiateAuth/REFRESH_TOKEN_AUTH'].forwarded, 1);
    assert.equal(c.refresh.forwarded, 1);
  });

  test('serves the JWKS (kid "dummy") and a preflight with CORS through the proxy', async () => {
    const j = await httpRequest(`${rig.jwksUrl}`, { headers: { origin: ORIGIN } });
    assert.equal(j.status, 200);
    assert.equal(j.json.keys[0].kid, 'dummy');
    assert.equal(j.headers['access-control-allow-origin'], ORIGIN);
    const p = await httpRequest(rig.cognitoUrl, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target' },
    });
    assert.equal(p.status, 200);
    assert.equal(p.headers['access-control-allow-origin'], ORIGIN);
    assert.match(p.headers['access-control-allow-headers'], /x-amz-target/);
    assert.match(p.headers['access-control-allow-methods'], /POST/);
  });

  test('the API answers 200 to valid access and ID tokens and 401 to every bad token kind, counting each', async () => {
    rig.control.reset();
    const ar = (await signIn()).json.AuthenticationResult;
    assert.equal((await api(`Bearer ${ar.AccessToken}`)).status, 200);
    const okId = await api(`Bearer ${ar.IdToken}`);
    assert.equal(okId.status, 200);
    assert.equal(okId.json.tokenUse, 'id');

    const [h, p, s] = ar.AccessToken.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, username: 'mallory' })).toString('base64url')}.${s}`;
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreignInput = `${h}.${p}`;
    const foreign = `${foreignInput}.${crypto.sign('RSA-SHA256', Buffer.from(foreignInput), privateKey).toString('base64url')}`;
    const cases = [
      [undefined, 'missing'],
      ['Bearer ', 'empty'],
      ['Bearer', 'empty'],
      ['Bearer null', 'null'],
      ['Bearer undefined', 'undefined'],
      ['Bearer abc', 'malformed'],
      ['Bearer a.b.c', 'malformed'],
      [`Bearer ${h}.${p}`, 'malformed'],
      [`Basic ${Buffer.from('u:p').toString('base64')}`, 'malformed'],
      [`Bearer ${rig.control.mintToken({ iat: Math.floor(Date.now() / 1000) - 7200, expiresInS: 3600 })}`, 'expired'],
      [`Bearer ${rig.control.mintToken({ iat: Math.floor(Date.now() / 1000) - 3600, expiresInS: 3600 })}`, 'expired'],
      [`Bearer ${tampered}`, 'bad-token'],
      [`Bearer ${foreign}`, 'bad-token'],
      [`Bearer ${rig.control.mintToken({ extra: { iss: 'https://evil.example/pool' } })}`, 'bad-token'],
    ];
    for (const [auth, kind] of cases) {
      const r = await api(auth);
      assert.equal(r.status, 401, `${auth} → ${r.status}`);
      assert.equal(r.json.error, kind, `${auth} classified as ${r.json.error}`);
      assert.match(r.headers['www-authenticate'], /invalid_token/);
    }
    assert.equal((await api(`Bearer ${rig.control.mintToken({ expiresInS: 60 })}`)).status, 200, 'a minted token verifies like moto’s');

    const c = rig.counts().api;
    assert.equal(c.total, cases.length + 3);
    assert.equal(c.ok, 3);
    assert.equal(c.rejected, cases.length);
    assert.deepEqual(c.byKind, { ok: 3, missing: 1, empty: 2, null: 1, undefined: 1, malformed: 4, expired: 2, 'bad-token': 3 });
    assert.equal(c.events.filter((e) => e.kind !== 'ok').length, cases.length);

    const pre = await httpRequest(`${rig.apiUrl}api/data`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], ORIGIN);
    assert.match(pre.headers['access-control-allow-headers'], /authorization/);
    assert.equal(rig.counts().api.preflight, 1);
  });

  test('fault throttle answers exactly like Cognito: 400, x-amzn-ErrorType, x-amz-json-1.1, Rate exceeded', async () => {
    rig.control.setFault({ mode: 'throttle' });
    const r = await refresh(refreshToken, { origin: ORIGIN });
    assert.equal(r.status, 400);
    assert.equal(r.headers['x-amzn-errortype'], 'TooManyRequestsException:');
    assert.equal(r.headers['content-type'], AMZ_JSON);
    assert.equal(r.text, '{"__type":"TooManyRequestsException","message":"Rate exceeded"}');
    assert.match(r.headers['x-amzn-requestid'], /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
    rig.control.clearFault();
  });

  test('faults internal / error / bad-gateway / unavailable / gateway-timeout give their exact status, headers and body', async () => {
    const expectations = [
      [{ mode: 'internal' }, 500, AMZ_JSON, 'InternalErrorException:', '{"__type":"InternalErrorException","message":"Internal server error"}'],
      [
        { mode: 'error', error: 'NotAuthorizedException', message: 'Refresh Token has expired' },
        400,
        AMZ_JSON,
        'NotAuthorizedException:',
        '{"__type":"NotAuthorizedException","message":"Refresh Token has expired"}',
      ],
      [{ mode: 'bad-gateway' }, 502, 'text/html', undefined, /<h1>502 Bad Gateway<\/h1>/],
      [{ mode: 'unavailable' }, 503, 'text/html', undefined, /<h1>503 Service Temporarily Unavailable<\/h1>/],
      [{ mode: 'gateway-timeout' }, 504, 'text/html', undefined, /<h1>504 Gateway Time-out<\/h1>/],
    ];
    for (const [fault, status, type, errorType, body] of expectations) {
      rig.control.setFault({ ...fault, count: 1 });
      const r = await refresh();
      assert.equal(r.status, status, fault.mode);
      assert.equal(r.headers['content-type'], type, fault.mode);
      assert.equal(r.headers['x-amzn-errortype'], errorType, fault.mode);
      if (typeof body === 'string') assert.equal(r.text, body);
      else assert.match(r.text, body);
      assert.equal(rig.control.getFault(), null, `${fault.mode}: count 1 reverts after one hit`);
    }
  });

  test('faults drop and hang end the connection without an answer', async () => {
    rig.control.setFault({ mode: 'drop', count: 1 });
    await assert.rejects(refresh(), (err) => ['ECONNRESET', 'EPIPE'].includes(err.code) || /socket hang up/.test(err.message));
    rig.control.setFault({ mode: 'hang', ms: 200, count: 1 });
    const t = Date.now();
    await assert.rejects(refresh(), (err) => ['ECONNRESET', 'EPIPE'].includes(err.code) || /socket hang up/.test(err.message));
    assert.ok(Date.now() - t >= 190, `hang lasted ${Date.now() - t} ms`);
  });

  test('fault latency delays the real answer by N ms', async () => {
    rig.control.setFault({ mode: 'latency', ms: 300, count: 1 });
    const t = Date.now();
    const r = await refresh();
    assert.ok(Date.now() - t >= 290, `took ${Date.now() - t} ms`);
    assert.equal(r.status, 200);
    const last = rig.counts().proxy.events.at(-1);
    assert.equal(last.outcome, 'forwarded');
    assert.equal(last.mode, 'latency');
  });

  test('faults html200 / truncated-json / wrong-types / huge / expired-token give 200 with bad bodies', async () => {
    rig.control.setFault({ mode: 'html200', count: 1 });
    let r = await refresh();
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/html/);
    assert.match(r.text, /^<!DOCTYPE html>/);

    rig.control.setFault({ mode: 'truncated-json', count: 1 });
    r = await refresh();
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], AMZ_JSON);
    assert.ok(r.text.startsWith('{"AuthenticationResult":{"AccessToken":"ey'));
    assert.throws(() => JSON.parse(r.text));
    assert.equal(Number(r.headers['content-length']), r.body.length);

    rig.control.setFault({ mode: 'wrong-types', count: 1 });
    r = await refresh();
    assert.equal(r.status, 200);
    assert.equal(r.json.AuthenticationResult.AccessToken, 12345);

    rig.control.setFault({ mode: 'huge', count: 1 });
    r = await refresh();
    assert.equal(r.status, 200);
    assert.ok(r.body.length >= 1024 * 1024, `${r.body.length} bytes`);
    assert.ok(r.body.length < 1024 * 1024 + 16);
    assert.equal(typeof JSON.parse(r.text).AuthenticationResult.AccessToken, 'string');

    rig.control.setFault({ mode: 'expired-token', count: 1 });
    r = await refresh();
    assert.equal(r.status, 200);
    const access = r.json.AuthenticationResult.AccessToken;
    const d = decodeJwt(access);
    assert.ok(d.claims.exp < Date.now() / 1000 - 60, 'exp is in the past');
    assert.equal(d.header.kid, 'dummy');
    const verdict = await api(`Bearer ${access}`);
    assert.equal(verdict.json.error, 'expired', 'correctly signed, only expired');
  });

  test('a fault hits only its operations, reverts after its count or its duration, and can drop CORS', async () => {
    rig.control.reset();
    rig.control.setFault({ mode: 'throttle', count: 2 });
    assert.equal((await signIn()).status, 200, 'sign-in is not a refresh operation');
    assert.equal((await refresh()).status, 400);
    assert.equal((await refresh()).status, 400);
    assert.equal((await refresh()).status, 200);

    rig.control.setFault({ mode: 'internal', forMs: 150 });
    assert.equal((await refresh()).status, 500);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await refresh()).status, 200);

    rig.control.setFault({ mode: 'throttle', operations: ['InitiateAuth/USER_PASSWORD_AUTH'], count: 1 });
    assert.equal((await refresh()).status, 200);
    assert.equal((await signIn()).status, 400);

    rig.control.setFault({ mode: 'bad-gateway', cors: false, count: 1 });
    const noCors = await refresh(refreshToken, { origin: ORIGIN });
    assert.equal(noCors.status, 502);
    assert.equal(noCors.headers['access-control-allow-origin'], undefined);

    rig.control.setFault({ mode: 'throttle', count: 1, headers: { 'Retry-After': '2' } });
    assert.equal((await refresh()).headers['retry-after'], '2');

    rig.control.setFault({ mode: 'throttle', count: 1 });
    const gt = await cognitoCall(rig.cognitoUrl, 'GetTokensFromRefreshToken', { ClientId: rig.clientId, RefreshToken: refreshToken });
    assert.equal(gt.status, 400, 'GetTokensFromRefreshToken is a refresh operation');

    const c = rig.counts().proxy;
    assert.equal(c.byOperation['InitiateAuth/USER_PASSWORD_AUTH'].total, 2);
    assert.equal(c.byOperation['InitiateAuth/USER_PASSWORD_AUTH'].faulted, 1);
    assert.equal(c.byOperation['InitiateAuth/REFRESH_TOKEN_AUTH'].total, 8);
    assert.equal(c.byOperation['InitiateAuth/REFRESH_TOKEN_AUTH'].faulted, 5);
    assert.equal(c.byOperation['InitiateAuth/REFRESH_TOKEN_AUTH'].forwarded, 3);
    assert.equal(c.byOperation.GetTokensFromRefreshToken.faulted, 1);
    assert.deepEqual(c.byMode, { throttle: 5, internal: 1, 'bad-gateway': 1 });
    assert.equal(c.total, 11);
    assert.equal(c.forwarded + c.faulted, c.total);
    assert.equal(c.refresh.total, 9);
    assert.ok(c.events.every((e, i, a) => typeof e.t === 'number' && (i === 0 || a[i - 1].t <= e.t)));
  });

  test('rejects unknown fault modes and accepts every listed one', () => {
    assert.throws(() => rig.control.setFault({ mode: 'explode' }), /unknown fault mode/);
    assert.throws(() => rig.control.setFault({ mode: 'redirect' }), /needs location/);
    assert.throws(() => rig.control.setFault({ mode: 'answer' }), /needs answer/);
    for (const mode of FAULT_MODES) {
      const needs = { error: { error: 'X' }, redirect: { location: 'http://127.0.0.1:9/elsewhere' }, answer: { answer: {} } };
      rig.control.setFault({ mode, ...needs[mode] });
      assert.equal(rig.control.getFault().mode, mode);
    }
    rig.control.clearFault();
    assert.equal(rig.control.getFault(), null);
  });

  test('the token-bucket quota admits the burst, then throttles like Cognito, then refills', async () => {
    rig.control.reset();
    rig.control.setQuota({ quotaRps: 2, burst: 3 });
    const statuses = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await refresh()).status);
    assert.deepEqual(statuses, [200, 200, 200, 400, 400, 400]);
    const throttled = await refresh();
    assert.equal(throttled.text, '{"__type":"TooManyRequestsException","message":"Rate exceeded"}');
    assert.equal(throttled.headers['x-amzn-errortype'], 'TooManyRequestsException:');
    assert.equal((await signIn()).status, 200, 'sign-in is outside the refresh quota');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await refresh()).status, 200, 'one token refilled after 500 ms at 2 rps');
    const c = rig.counts().proxy;
    assert.equal(c.byMode.quota, 4);
    assert.equal(c.refresh.forwarded, 4);
    rig.control.clearQuota();
  });

  test('the control API works over HTTP with CORS: fault, state, counts, reset, quota', async () => {
    const ctl = rig.proxyControlUrl;
    const pre = await httpRequest(`${ctl}fault`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], ORIGIN);
    const post = (p, body) => httpRequest(`${ctl}${p}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let r = await post('fault', { mode: 'unavailable', count: 1 });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
    assert.equal((await httpRequest(`${ctl}state`)).json.fault.mode, 'unavailable');
    assert.equal((await refresh()).status, 503);
    assert.equal((await httpRequest(`${ctl}state`)).json.fault, null);
    r = await post('fault', { mode: 'nope' });
    assert.equal(r.status, 400);
    r = await post('quota', { quotaRps: 1, burst: 1 });
    assert.equal(r.json.quota.burst, 1);
    r = await httpRequest(`${ctl}counts`);
    assert.ok(r.json.proxy.total > 0);
    assert.equal((await post('reset', {})).status, 200);
    r = await httpRequest(`${ctl}counts`);
    assert.equal(r.json.proxy.total, 0);
    assert.equal(r.json.api.total, 0);
    assert.equal((await httpRequest(`${ctl}state`)).json.quota, null);
    assert.equal((await httpRequest(`${ctl}config`)).json.clientId, rig.clientId);
    assert.equal((await httpRequest(`${ctl}nothing`)).status, 404);
  });

  test('tokenLifetimeS re-signs tokens to live N seconds, and GlobalSignOut still accepts them', async () => {
    rig.control.setTokenLifetime(5);
    const ar = (await signIn()).json.AuthenticationResult;
    assert.equal(ar.ExpiresIn, 5);
    const d = decodeJwt(ar.AccessToken);
    assert.equal(d.claims.exp - d.claims.iat, 5);
    assert.equal((await api(`Bearer ${ar.AccessToken}`)).status, 200);
    const rr = (await refresh(ar.RefreshToken)).json.AuthenticationResult;
    assert.equal(rr.ExpiresIn, 5);
    const user = await cognitoCall(rig.cognitoUrl, 'GetUser', { AccessToken: rr.AccessToken });
    assert.equal(user.status, 200, user.text);
    rig.control.setTokenLifetime(null);
    const out = await cognitoCall(rig.cognitoUrl, 'GlobalSignOut', { AccessToken: ar.AccessToken });
    assert.equal(out.status, 200, out.text);
    assert.equal((await refresh(ar.RefreshToken)).status, 400);
  });

  test('GlobalSignOut (via control.revoke) makes the next refresh answer 400 NotAuthorizedException', async () => {
    const ar = (await signIn()).json.AuthenticationResult;
    assert.equal((await refresh(ar.RefreshToken)).status, 200);
    const out = await rig.control.revoke({ accessToken: ar.AccessToken });
    assert.deepEqual(out, { operation: 'GlobalSignOut', status: 200, body: {} });
    const r = await refresh(ar.RefreshToken, { origin: ORIGIN });
    assert.equal(r.status, 400);
    assert.equal(r.headers['x-amzn-errortype'], 'NotAuthorizedException');
    assert.deepEqual(r.json, { __type: 'NotAuthorizedException', message: 'Refresh Token has been revoked' });
    assert.equal(r.headers['access-control-allow-origin'], ORIGIN);

    const ar2 = (await signIn()).json.AuthenticationResult;
    const viaHttp = await httpRequest(`${rig.proxyControlUrl}revoke`, { method: 'POST', body: '{}' });
    assert.equal(viaHttp.json.operation, 'AdminUserGlobalSignOut');
    assert.equal(viaHttp.json.status, 200);
    assert.equal((await refresh(ar2.RefreshToken)).status, 400);
  });

  test('a real browser page on another origin can sign in, read x-amzn-ErrorType, call the API and the control API', { timeout: 30000 }, async (t) => {
    if (!fs.existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} not installed`);
    try {
      await import('playwright-core');
    } catch {
      return t.skip('playwright-core not installed (run setup.sh)');
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-page-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!DOCTYPE html><title>rig</title><p>rig page</p>');
    const site = await startStaticServer({ dir, config: () => rig.control.config() });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(site.url);
      const result = await page.evaluate(async () => {
        const cfg = await (await fetch('/rig-config.json')).json();
        const call = (op, body) =>
          fetch(cfg.cognitoUrl, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${op}` },
            body: JSON.stringify(body),
          });
        const signIn = await call('InitiateAuth', { ClientId: cfg.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: cfg.username, PASSWORD: cfg.password } });
        const tokens = (await signIn.json()).AuthenticationResult;
        const ctl = await fetch(`${cfg.proxyControlUrl}fault`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ mode: 'throttle', count: 1 }) });
        const throttled = await call('InitiateAuth', { ClientId: cfg.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken } });
        const refreshed = await call('InitiateAuth', { ClientId: cfg.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken } });
        const data = await fetch(`${cfg.apiUrl}api/data`, { headers: { Authorization: `Bearer ${tokens.AccessToken}` } });
        const bad = await fetch(`${cfg.apiUrl}api/data`, { headers: { Authorization: 'Bearer null' } });
        const counts = await (await fetch(`${cfg.proxyControlUrl}counts`)).json();
        // Chrome silently resends a request (up to 2 more times, measured: 3 attempts) when the
        // socket closes before any answer byte, so a count-1 drop can be invisible to the page:
        // drop until cleared instead.
        let dropped = 'answered';
        await fetch(`${cfg.proxyControlUrl}fault`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ mode: 'drop' }) });
        const before = (await (await fetch(`${cfg.proxyControlUrl}counts`)).json()).proxy.byMode.drop || 0;
        try {
          await call('InitiateAuth', { ClientId: cfg.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken } });
        } catch (e) {
          dropped = e.name;
        }
        await fetch(`${cfg.proxyControlUrl}fault`, { method: 'DELETE' });
        const drops = (await (await fetch(`${cfg.proxyControlUrl}counts`)).json()).proxy.byMode.drop - before;
        return {
          signIn: signIn.status,
          ctl: ctl.status,
          throttled: [throttled.status, throttled.headers.get('x-amzn-ErrorType'), await throttled.text()],
          refreshed: refreshed.status,
          data: [data.status, (await data.json()).ok],
          bad: [bad.status, (await bad.json()).error, bad.headers.get('WWW-Authenticate')],
          refreshCount: counts.proxy.refresh.total,
          dropped,
          drops,
        };
      });
      assert.deepEqual(result, {
        signIn: 200,
        ctl: 200,
        throttled: [400, 'TooManyRequestsException:', '{"__type":"TooManyRequestsException","message":"Rate exceeded"}'],
        refreshed: 200,
        data: [200, true],
        bad: [401, 'null', 'Bearer error="invalid_token", error_description="null"'],
        refreshCount: result.refreshCount,
        dropped: 'TypeError',
        drops: result.drops,
      });
      assert.ok(result.drops >= 1 && result.drops <= 3, `${result.drops} drops for one fetch`);
      t.diagnostic(`browser: one dropped fetch reached the proxy ${result.drops} time(s)`);
      assert.ok(result.refreshCount >= 2);
      // The static server counts requests per path (the contract counts the login page's loads).
      assert.deepEqual([site.requests('/'), site.requests('/rig-config.json'), site.requests('/nowhere')], [1, 1, 0]);
    } finally {
      await browser.close();
      await site.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stop() ends moto and closes every port; a second stop() is harmless', async () => {
    const { motoPid, motoUrl, cognitoUrl, apiUrl } = rig;
    assert.ok(isAlive(motoPid));
    await rig.stop();
    await rig.stop();
    assert.equal(isAlive(motoPid), false, 'moto is gone');
    for (const u of [motoUrl, cognitoUrl, apiUrl]) assert.ok(await refusesConnections(u), `${u} still accepts connections`);
    rig = null;
  });
});

test('serve.mjs prints one JSON line, serves /rig-config.json, and SIGINT leaves no moto behind', { timeout: 30000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-www-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!DOCTYPE html><p>demo</p>');
  const child = spawn(process.execPath, [path.join(HERE, 'serve.mjs'), '--static', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    assert.ok(await waitUntil(() => out.includes('\n'), 20000), `no output; stderr: ${err}`);
    const info = JSON.parse(out.split('\n')[0]);
    for (const k of ['cognitoUrl', 'apiUrl', 'proxyControlUrl', 'staticUrl', 'poolId', 'clientId', 'username', 'password', 'motoPid']) assert.ok(info[k], k);
    const cfg = await httpRequest(`${info.staticUrl}rig-config.json`);
    assert.equal(cfg.status, 200);
    assert.equal(cfg.json.clientId, info.clientId);
    assert.equal(cfg.json.poolId, info.poolId);
    const index = await httpRequest(info.staticUrl);
    assert.equal(index.text, '<!DOCTYPE html><p>demo</p>');
    assert.equal((await httpRequest(`${info.staticUrl}..%2f..%2fetc/passwd`)).status, 403);
    const r = await cognitoCall(info.cognitoUrl, 'InitiateAuth', {
      ClientId: info.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: info.username, PASSWORD: info.password },
    });
    assert.equal(r.status, 200);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
    assert.ok(await waitUntil(() => !isAlive(info.motoPid), 5000), 'moto outlived serve.mjs');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a rig in another region issues that region’s pool id and issuer, and GlobalSignOut still revokes', { timeout: 30000 }, async () => {
  const rig = await startRig({ region: 'eu-west-1' });
  try {
    assert.match(rig.poolId, /^eu-west-1_/);
    const ar = await rig.control.signIn({ viaProxy: true });
    assert.equal(decodeJwt(ar.AccessToken).claims.iss, `https://cognito-idp.eu-west-1.amazonaws.com/${rig.poolId}`);
    const out = await cognitoCall(rig.cognitoUrl, 'GlobalSignOut', { AccessToken: ar.AccessToken });
    assert.equal(out.status, 200, out.text);
    const r = await cognitoCall(rig.cognitoUrl, 'InitiateAuth', { ClientId: rig.clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: ar.RefreshToken } });
    assert.equal(r.json.__type, 'NotAuthorizedException');
  } finally {
    await rig.stop();
  }
});
