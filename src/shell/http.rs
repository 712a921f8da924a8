//! Sends the core's [`HttpRequest`]s with `window.fetch` and reads back the parts of the answer
//! the core's parsers look at.
//!
//! A network failure, a CORS refusal or an abort comes back as `Err(message)`, which the caller
//! hands to the core as a network failure. A body the server announces as larger than the
//! core's [`MAX_BODY`] is not read at all (the request is aborted), and a body that turns out
//! larger while streaming is abandoned at that point; either way the core is shown an oversized
//! placeholder, which it refuses as `BodyTooLarge` exactly as it would the real one.

use super::errors::with_cause;
use super::events::set;
use super::promise::{defer, settle};
use crate::core::protocol::{HttpRequest, HttpResponse, MAX_BODY};
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, Request};

/// What came back, owned (the core borrows it as an [`HttpResponse`]).
pub struct Received {
    pub status: u16,
    pub error_type: Option<String>,
    pub retry_after: Option<String>,
    pub amz_retry_after: Option<String>,
    pub body: String,
}

impl Received {
    /// The view the core's parsers take.
    pub fn as_response(&self) -> HttpResponse<'_> {
        HttpResponse {
            status: self.status,
            error_type: self.error_type.as_deref(),
            retry_after: self.retry_after.as_deref(),
            amz_retry_after: self.amz_retry_after.as_deref(),
            body: &self.body,
        }
    }
}

/// What [`send`] hands its continuation: the answer, or why there is none.
pub type Answer = Result<Received, String>;

/// Sends `request` as a `POST` without cookies or caching; `abort` cancels it. `done` receives
/// the answer on a later microtask, never inside this call.
pub fn send(request: &HttpRequest, abort: Option<AbortController>, done: Box<dyn FnOnce(Answer)>) {
    match start(request, abort.as_ref()) {
        Ok(fetched) => settle(&fetched, move |answer| match answer {
            Err(e) => done(Err(with_cause("fetch failed", &e))),
            Ok(answer) => match answer.dyn_into::<web_sys::Response>() {
                Ok(response) => read(response, abort, done),
                Err(_) => done(Err(String::from("fetch did not return a Response"))),
            },
        }),
        Err(message) => defer(move || done(Err(message))),
    }
}

/// Builds the `Request` and calls `fetch`.
fn start(request: &HttpRequest, abort: Option<&AbortController>) -> Result<Promise, String> {
    let window = super::window().ok_or_else(|| String::from("no window to fetch from"))?;
    // A plain init object: fewer imports and glue than Headers and RequestInit's setters, and
    // `new Request` reads it the same way (an invalid header still throws there).
    let headers = Object::new();
    for (name, value) in &request.headers {
        set(&headers, name, &JsValue::from_str(value));
    }
    let init = Object::new();
    set(&init, "method", &JsValue::from_str("POST"));
    set(&init, "headers", &headers);
    set(&init, "body", &JsValue::from_str(&request.body));
    set(&init, "credentials", &JsValue::from_str("omit"));
    set(&init, "cache", &JsValue::from_str("no-store"));
    if let Some(controller) = abort {
        set(&init, "signal", &controller.signal());
    }
    let req = Request::new_with_str_and_init(&request.url, init.unchecked_ref())
        .map_err(|e| with_cause("fetch failed", &e))?;
    Ok(window.fetch_with_request(&req))
}

/// Reads status, the three headers the core looks at, and the body (see the module doc for
/// oversized bodies), then hands them to `done`.
fn read(
    response: web_sys::Response,
    abort: Option<AbortController>,
    done: Box<dyn FnOnce(Answer)>,
) {
    let headers = response.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let announced = header("content-length").and_then(|l| l.trim().parse::<u64>().ok());
    let status = response.status();
    let error_type = header("x-amzn-errortype");
    let retry_after = header("retry-after");
    let amz_retry_after = header("x-amz-retry-after");
    let finish: Body = Box::new(move |body| {
        done(body.map(|body| Received {
            status,
            error_type,
            retry_after,
            amz_retry_after,
            body,
        }))
    });
    if announced.is_some_and(|l| l > MAX_BODY as u64) {
        if let Some(controller) = abort {
            controller.abort();
        }
        finish(Ok(oversized()));
        return;
    }
    // The body as text, read chunk by chunk and abandoned (the stream cancelled) as soon as it
    // passes [`MAX_BODY`]: a hostile 1 GB answer costs at most 64 KiB of memory.
    match response.body() {
        Some(stream) => pump(stream.get_reader().unchecked_into(), Vec::new(), finish),
        None => finish(Ok(String::new())),
    }
}

/// The continuation of a body read: the text or why reading failed.
type Body = Box<dyn FnOnce(Result<String, String>)>;

/// Reads the next chunk onto `bytes`, and so on until the end, an error or [`MAX_BODY`].
fn pump(reader: web_sys::ReadableStreamDefaultReader, mut bytes: Vec<u8>, done: Body) {
    let next = reader.read();
    settle(&next, move |chunk| {
        let failed = |e: JsValue| with_cause("reading the response failed", &e);
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => return done(Err(failed(e))),
        };
        match Reflect::get(&chunk, &"done".into()) {
            Ok(end) if end.is_truthy() => {
                // Token and error bodies are JSON, hence UTF-8; anything else is shown to the
                // core as one replacement character, which it reads as an unparseable body
                // (classified by status and headers), as it would the decoded text.
                let text = String::from_utf8(bytes).unwrap_or_else(|_| String::from("\u{fffd}"));
                return done(Ok(text));
            }
            Ok(_) => {}
            Err(e) => return done(Err(failed(e))),
        }
        let value = match Reflect::get(&chunk, &"value".into()) {
            Ok(value) => value,
            Err(e) => return done(Err(failed(e))),
        };
        let Some(array) = value.dyn_ref::<js_sys::Uint8Array>() else {
            return done(Err(String::from("reading the response failed: not bytes")));
        };
        let len = array.length() as usize;
        if bytes.len().saturating_add(len) > MAX_BODY {
            // Cancelling tells the server to stop; its failure changes nothing for us.
            let _ = reader.cancel();
            return done(Ok(oversized()));
        }
        let start = bytes.len();
        bytes.resize(start + len, 0);
        if let Some(dst) = bytes.get_mut(start..) {
            array.copy_to(dst);
        }
        pump(reader, bytes, done);
    });
}

/// A stand-in the core refuses as too large without reading it.
fn oversized() -> String {
    " ".repeat(MAX_BODY.saturating_add(1))
}
