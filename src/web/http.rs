//! Sending the engine's requests (refresh, sign-in, sign-out) with the browser's `fetch`
//! (web-sys `Request`, `Headers`, `AbortSignal`), and reading back what the engine's parsers
//! look at: the status, three headers and the body as text, as the JavaScript shell's `http.js`
//! does. Also the URL rules: which origins may receive the token.
//!
//! The answer is always a value, never an error: [`Answer::None`] says why no answer came
//! (network failure, CORS refusal, abort, a redirect not followed). A body larger than the
//! engine's [`MAX_BODY`] is abandoned after that many bytes (announced larger: not read at all)
//! and shown to the engine as an oversized placeholder, which it refuses as it would the real
//! one.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, Request, RequestCache,
    RequestCredentials, RequestInit, RequestRedirect, Response, ResponseType, Url,
};

use crate::engine::http::{HttpRequest, HttpResponse, MAX_BODY};

/// What came back for a request: the parts the engine reads, or why nothing came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Response {
        status: u16,
        body: String,
        error_type: Option<String>,
        retry_after: Option<String>,
        amz_retry_after: Option<String>,
    },
    None(String),
}

impl Answer {
    /// The answer as the engine's handlers take it: the response, or why none came.
    pub fn view(&self) -> Result<HttpResponse<'_>, &str> {
        match self {
            Answer::Response {
                status,
                body,
                error_type,
                retry_after,
                amz_retry_after,
            } => Ok(HttpResponse {
                status: *status,
                body,
                error_type: error_type.as_deref(),
                retry_after: retry_after.as_deref(),
                amz_retry_after: amz_retry_after.as_deref(),
            }),
            Answer::None(why) => Err(why),
        }
    }
}

/// `message`, then `: ` and the thrown value's own message when it has one (as `errors.js`).
pub(crate) fn cause(message: &str, thrown: &JsValue) -> String {
    let detail = Reflect::get(thrown, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| thrown.as_string())
        .unwrap_or_default();
    if detail.is_empty() {
        String::from(message)
    } else {
        format!("{message}: {detail}")
    }
}

/// POSTs `request` as the engine built it, without cookies, caching or following redirects (a
/// redirect would re-send the refresh token, code or password to wherever it points);
/// `controller` aborts it.
pub(crate) async fn send(request: &HttpRequest, controller: &AbortController) -> Answer {
    let response = match fetch(request, controller).await {
        Ok(response) => response,
        Err(why) => return Answer::None(why),
    };
    if response.type_() == ResponseType::Opaqueredirect {
        return Answer::None(String::from("redirect not followed"));
    }
    let headers = response.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let oversized = || " ".repeat(MAX_BODY + 1);
    let announced = header("content-length");
    let too_long = |n: &str| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && n.parse::<u64>().map_or(true, |n| n > MAX_BODY as u64)
    };
    let body = match announced.as_deref().map(str::trim) {
        Some(n) if too_long(n) => {
            controller.abort();
            oversized()
        }
        _ => match read_body(&response).await {
            Ok(Some(bytes)) => {
                String::from_utf8(bytes).unwrap_or_else(|_| String::from("\u{fffd}"))
            }
            Ok(None) => oversized(),
            Err(why) => return Answer::None(why),
        },
    };
    Answer::Response {
        status: response.status(),
        body,
        error_type: header("x-amzn-errortype"),
        retry_after: header("retry-after").map(|v| seconds(&v)),
        amz_retry_after: header("x-amz-retry-after"),
    }
}

/// The browser's `fetch` of `request`: the response, or why none came.
async fn fetch(request: &HttpRequest, controller: &AbortController) -> Result<Response, String> {
    let window = web_sys::window().ok_or_else(|| String::from("fetch needs a window"))?;
    let headers = Headers::new().map_err(|e| cause("fetch failed", &e))?;
    for (name, value) in &request.headers {
        headers
            .append(name, value)
            .map_err(|e| cause("fetch failed", &e))?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&request.body));
    init.set_credentials(RequestCredentials::Omit);
    init.set_cache(RequestCache::NoStore);
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(Some(&controller.signal()));
    let req = Request::new_with_str_and_init(&request.url, &init)
        .map_err(|e| cause("fetch failed", &e))?;
    let answer = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|e| cause("fetch failed", &e))?;
    answer
        .dyn_into::<Response>()
        .map_err(|_| String::from("fetch did not return a Response"))
}

/// The body's bytes, chunk by chunk: `None` past [`MAX_BODY`] (the rest is cancelled, so a
/// hostile 1 GB answer costs at most 64 KiB of memory), an error when reading failed.
async fn read_body(response: &Response) -> Result<Option<Vec<u8>>, String> {
    let Some(stream) = response.body() else {
        return Ok(Some(Vec::new()));
    };
    let reader: ReadableStreamDefaultReader = stream
        .get_reader()
        .dyn_into()
        .map_err(|_| String::from("reading the response failed: no reader"))?;
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| cause("reading the response failed", &e))?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(|e| cause("reading the response failed", &e))?;
        if done.is_truthy() {
            return Ok(Some(bytes));
        }
        let value = Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|e| cause("reading the response failed", &e))?;
        let value: Uint8Array = value
            .dyn_into()
            .map_err(|_| String::from("reading the response failed: not bytes"))?;
        let length = value.length() as usize;
        if bytes.len() + length > MAX_BODY {
            // The rest is abandoned: the answer is refused as too large anyway.
            let _ = reader.cancel();
            return Ok(None);
        }
        let at = bytes.len();
        bytes.resize(at + length, 0);
        value.copy_to(&mut bytes[at..]);
    }
}

/// A `retry-after` header as the engine reads it: seconds. An HTTP date becomes the seconds left
/// until it (`Date.parse` reads all three formats); what the engine makes of it is its own.
fn seconds(value: &str) -> String {
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return String::from(value);
    }
    let at = js_sys::Date::parse(value);
    if at.is_nan() {
        return String::from(value);
    }
    let left = ((at - js_sys::Date::now()) / 1000.0).ceil().max(0.0);
    format!("{}", left as u64)
}

/// The URL `text` if it is an absolute http(s) URL.
fn http_url(text: &str, base: Option<&str>) -> Option<Url> {
    let url = match base {
        Some(base) => Url::new_with_base(text, base),
        None => Url::new(text),
    }
    .ok()?;
    matches!(url.protocol().as_str(), "http:" | "https:").then_some(url)
}

/// Whether `text` is an absolute http(s) URL.
pub(crate) fn is_http_url(text: &str) -> bool {
    http_url(text, None).is_some()
}

/// Whether `text` is an http(s) URL once resolved against the page (`javascript:`, `data:` and
/// the like are not, however written).
pub(crate) fn is_http_url_on_page(text: &str) -> bool {
    !text.is_empty() && http_url(text, Some(&page_href())).is_some()
}

/// The page's address (`http://localhost/` outside a page).
pub(crate) fn page_href() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_else(|| String::from("http://localhost/"))
}

/// The origin of the http(s) URL `text` (relative to the page), or `None` (invalid, opaque).
pub(crate) fn origin_of(text: &str) -> Option<String> {
    let origin = http_url(text, Some(&page_href()))?.origin();
    (origin != "null").then_some(origin)
}

/// The normalised origin if `text` is exactly an origin (`scheme://host[:port]`, an optional
/// trailing `/`), else `None`: paths, queries, credentials and wildcards are refused.
pub(crate) fn parse_origin(text: &str) -> Option<String> {
    let url = http_url(text, None)?;
    let origin = url.origin();
    (url.href() == format!("{origin}/") && !text.contains('*')).then_some(origin)
}
