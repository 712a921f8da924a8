// The rule for where `Session.fetch` may attach the access token: the page's own origin and the
// configured `allowedOrigins`, compared as exact origins (scheme, host and port), never by
// prefix or wildcard. A token sent to the wrong origin is a stolen token.

function httpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** The origin of an absolute http(s) URL, or null (invalid, or an opaque origin). */
export function originOf(text) {
  const origin = httpUrl(text)?.origin;
  return origin && origin !== 'null' ? origin : null;
}

/** The normalised origin if `text` is exactly an origin (`scheme://host[:port]`, an optional
 * trailing `/`), else null: paths, queries, credentials and wildcards are refused. */
export function parseOrigin(text) {
  const url = httpUrl(text);
  return url && url.href === `${url.origin}/` && !text.includes('*') ? url.origin : null;
}

/** Whether a request to `url` may carry the token. */
export function mayAttach(url, allowed) {
  const target = originOf(url);
  return target !== null && (target === globalThis.location?.origin || allowed.includes(target));
}
