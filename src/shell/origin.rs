//! The rule for where `Session.fetch` may attach the access token: the page's own origin and
//! the configured `allowedOrigins`, compared as exact origins (scheme, host and port), never by
//! prefix or wildcard. A token sent to the wrong origin is a stolen token.

/// The origin of an absolute URL (`https://api.example.com:8443`), or `None` when the URL is
/// invalid or has an opaque origin (`data:`, `blob:` of one, `about:`, `file:`): those never get
/// a token.
pub fn origin_of(url: &str) -> Option<String> {
    let url = web_sys::Url::new(url).ok()?;
    if !matches!(url.protocol().as_str(), "http:" | "https:") {
        return None;
    }
    let origin = url.origin();
    (origin != "null").then_some(origin)
}

/// The normalised origin if `text` is exactly an origin (`scheme://host[:port]`, an optional
/// trailing `/`), else `None`: paths, queries, credentials and wildcards are refused, so a
/// configured `https://api.example.com/v1` cannot be mistaken for a rule about paths.
pub fn parse_origin(text: &str) -> Option<String> {
    let url = web_sys::Url::new(text).ok()?;
    if !matches!(url.protocol().as_str(), "http:" | "https:") {
        return None;
    }
    let origin = url.origin();
    let mut root = origin.clone();
    root.push('/');
    let exact = url.href() == root;
    (exact && !text.contains('*')).then_some(origin)
}

/// Whether a request to `target` (an origin from [`origin_of`]) may carry the token.
pub fn may_attach(target: &str, page: Option<&str>, allowed: &[String]) -> bool {
    target != "null" && (page == Some(target) || allowed.iter().any(|a| a == target))
}
