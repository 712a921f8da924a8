//! The HTTP exchange as the engine sees it: a request for the driver to send and the parts of
//! the answer the parsers read. Shared by the request builders ([`protocol`](super::protocol),
//! [`redirect`](super::redirect)) and the failure classifier ([`classify`](super::classify)), so
//! neither of those imports the other for it.

use alloc::{string::String, vec::Vec};

/// Largest response body read, in bytes (64 KiB). Token responses are a few KiB; anything larger
/// is refused without parsing.
pub const MAX_BODY: usize = 64 * 1024;

/// A request for the shell to send. The method is always `POST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Absolute URL.
    pub url: String,
    /// Header names and values, to be sent as given.
    pub headers: Vec<(&'static str, String)>,
    /// The request body.
    pub body: String,
}

/// The parts of an HTTP answer the parsers read, borrowed from what the shell received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpResponse<'a> {
    /// The HTTP status code.
    pub status: u16,
    /// The `x-amzn-ErrorType` header (Cognito's error name, possibly with a `:<uri>` suffix).
    pub error_type: Option<&'a str>,
    /// The `retry-after` header: seconds, or an HTTP date.
    pub retry_after: Option<&'a str>,
    /// The `x-amz-retry-after` header: milliseconds.
    pub amz_retry_after: Option<&'a str>,
    /// The body as text.
    pub body: &'a str,
}

impl<'a> HttpResponse<'a> {
    /// A response with the given status and body and none of the headers the parsers read.
    ///
    /// ```
    /// use cognito_session::engine::http::HttpResponse;
    ///
    /// let resp = HttpResponse { retry_after: Some("2"), ..HttpResponse::new(429, "") };
    /// assert_eq!(resp.status, 429);
    /// ```
    pub const fn new(status: u16, body: &'a str) -> Self {
        HttpResponse {
            status,
            error_type: None,
            retry_after: None,
            amz_retry_after: None,
            body,
        }
    }
}
