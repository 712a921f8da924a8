// Sends the core's requests (refresh, password sign-in) with `fetch` and reads back what the
// core's parsers look at: the status, three headers and the body as text.
//
// The answer always comes back as a value, never a rejection: `status` 0 means no answer came
// (network failure, CORS refusal, abort) and `body` then says why. A body the server announces
// as larger than the core's MAX_BODY is not read (the request is aborted), and one that turns
// out larger while streaming is abandoned there; either way the core is shown an oversized
// placeholder, which it refuses as `BodyTooLarge` exactly as it would the real one.

import { cause } from './errors.js';

/** The core's `protocol::MAX_BODY` (64 KiB). */
const MAX_BODY = 65536;

const failed = (body) => ({ status: 0, body });

/**
 * A `retry-after` header as the engine reads it: seconds. An HTTP date (RFC 9110 §10.2.3, in
 * any of its three formats, which `Date.parse` reads) becomes the seconds left until it; what
 * the engine makes of the hint (a cap, the backoff) stays its own.
 */
function seconds(value) {
  const at = value === undefined || /^\s*\d+\s*$/.test(value) ? NaN : Date.parse(value);
  return Number.isNaN(at) ? value : String(Math.max(0, Math.ceil((at - Date.now()) / 1000)));
}

/**
 * POSTs `request` (`{url, body, headers: [[name, value], ...]}`, as the engine built it; a GET
 * without `body`) without cookies or caching; `controller` aborts it.
 * @returns {Promise<{status: number, body: string, errorType?: string, retryAfter?: string, amzRetryAfter?: string, cacheControl?: string}>}
 */
export async function send({ url, body, headers }, controller) {
  let response;
  try {
    response = await fetch(
      // A redirect is not followed: it would re-send the refresh token (or the code, or the
      // password) to wherever the answer points, and take tokens from there.
      new Request(url, { method: body === undefined ? 'GET' : 'POST', headers, body, credentials: 'omit', cache: 'no-store', redirect: 'manual', signal: controller.signal }),
    );
  } catch (e) {
    return failed(cause('fetch failed', e));
  }
  if (response?.type === 'opaqueredirect') return failed('redirect not followed');
  if (!(response instanceof Response)) return failed('fetch did not return a Response');
  const header = (name) => response.headers.get(name) ?? undefined;
  const answer = {
    status: response.status,
    errorType: header('x-amzn-errortype'),
    retryAfter: seconds(header('retry-after')),
    amzRetryAfter: header('x-amz-retry-after'),
    cacheControl: header('cache-control'),
    body: '',
  };
  const announced = header('content-length')?.trim();
  if (announced && /^\d+$/.test(announced) && +announced > MAX_BODY) {
    controller.abort();
    answer.body = ' '.repeat(MAX_BODY + 1);
    return answer;
  }
  if (!response.body) return answer;
  // Read chunk by chunk and abandon (cancel) past MAX_BODY: a hostile 1 GB answer costs at most
  // 64 KiB of memory.
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Not `instanceof`: under Vitest's or Jest's jsdom the stream's bytes come from another realm.
      if (Object.prototype.toString.call(value) !== '[object Uint8Array]') return failed('reading the response failed: not bytes');
      size += value.length;
      if (size > MAX_BODY) {
        reader.cancel().catch(() => {});
        answer.body = ' '.repeat(MAX_BODY + 1);
        return answer;
      }
      chunks.push(value);
    }
  } catch (e) {
    return failed(cause('reading the response failed', e));
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  // Token and error bodies are JSON, hence UTF-8; anything else is shown to the core as one
  // replacement character, which it reads as an unparseable body.
  try {
    answer.body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    answer.body = '\ufffd';
  }
  return answer;
}
