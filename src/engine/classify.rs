//! Sorts a provider failure into what the session must do about it.
//!
//! Every failed exchange with a token provider becomes a [`ProviderError`] whose
//! [`FailureKind`] answers the only questions the session asks: retry later (throttled, server
//! error, network, bad response), send the user to login (dead credential), or report a bug in
//! the app's configuration (caller bug). The provider's own error name is kept in
//! [`ProviderError::code`] for logs and for the app.
//!
//! Cognito errors are classified **by name, not by status**: Cognito answers
//! `TooManyRequestsException` with HTTP 400, so a status-only rule would call throttling a caller
//! bug. The name comes from the body's `__type` (a `namespace#` prefix stripped) or, failing
//! that, from the `x-amzn-ErrorType` header (a `:<uri>` suffix stripped). OAuth2 errors are named
//! by the body's `error` member (RFC 6749 section 5.2). A response that names no error falls
//! back to its status: 429 is throttling, any 5xx is a server error, anything else is a response
//! we cannot read.
//!
//! Server hints about when to come back (`x-amz-retry-after` in milliseconds, `retry-after` in
//! seconds or as an HTTP date) are read by [`retry_after`] and capped at [`MAX_RETRY_AFTER`], so a
//! misconfigured proxy cannot park a session for a day.

use alloc::{borrow::ToOwned, string::String};
use core::fmt;

use crate::engine::http::{HttpResponse, MAX_BODY};
use crate::engine::json::{self, Value};
use crate::engine::text;
use crate::engine::Millis;

/// The longest server hint honoured; longer hints are shortened to this (5 minutes).
pub const MAX_RETRY_AFTER: Millis = 5 * 60 * 1000;

/// Longest error message kept from a response body, in bytes; longer messages are cut at a
/// character boundary.
const MAX_MESSAGE: usize = 256;

/// Longest error name accepted from a response; longer or oddly spelled names are ignored.
const MAX_NAME: usize = 128;

/// What a failure means for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The provider is rate-limiting us (`TooManyRequestsException`, HTTP 429): back off harder.
    /// Never a reason to sign the user out.
    Throttled,
    /// The provider failed (`InternalErrorException`, any HTTP 5xx): back off and retry.
    ServerError,
    /// The request never got an answer (offline, DNS, CORS, timeout): back off and retry.
    Network,
    /// The refresh token or the user is no longer valid (`NotAuthorizedException`,
    /// `invalid_grant`): clear the tokens and go to login.
    CredentialDead,
    /// The provider refused the request itself (wrong client id, unknown pool, bad parameter):
    /// retrying cannot help and signing out would not either; report it to the app.
    CallerBug,
    /// The answer could not be understood (HTML instead of JSON, truncated body, missing or
    /// mistyped fields): likely a proxy or a transient fault, worth retrying later.
    BadResponse,
}

impl FailureKind {
    /// Whether the same request may succeed later: true for [`Throttled`](Self::Throttled),
    /// [`ServerError`](Self::ServerError), [`Network`](Self::Network) and
    /// [`BadResponse`](Self::BadResponse); false for [`CredentialDead`](Self::CredentialDead)
    /// and [`CallerBug`](Self::CallerBug).
    pub fn is_transient(self) -> bool {
        match self {
            FailureKind::Throttled
            | FailureKind::ServerError
            | FailureKind::Network
            | FailureKind::BadResponse => true,
            FailureKind::CredentialDead | FailureKind::CallerBug => false,
        }
    }
}

/// A failed exchange with a token provider, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// What the session must do about it.
    pub kind: FailureKind,
    /// The provider's error name (`TooManyRequestsException`, `invalid_grant`), or `HTTP <status>`
    /// when the response names none, or one of our own names (`NetworkError`, `MalformedBody`,
    /// `MissingAccessToken`, ...) saying what was wrong.
    pub code: String,
    /// A short human-readable explanation: the provider's message when it sent one (at most 256
    /// bytes), otherwise ours. May be empty.
    pub message: String,
    /// How long the server asked us to wait before trying again, in milliseconds from `now`,
    /// capped at [`MAX_RETRY_AFTER`].
    pub retry_after: Option<Millis>,
}

impl ProviderError {
    /// Whether the same request may succeed later (see [`FailureKind::is_transient`]).
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }
}

impl ProviderError {
    /// Appends `code`, then `: message` when there is one: the `Display` text, built with
    /// `push_str` so that the `.wasm` needs no `fmt` machinery for it.
    pub fn describe(&self, out: &mut String) {
        out.push_str(&self.code);
        if !self.message.is_empty() {
            out.push_str(": ");
            out.push_str(&self.message);
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.describe(&mut text);
        f.write_str(&text)
    }
}

impl core::error::Error for ProviderError {}

/// Classifies a failed answer from the Cognito user-pool API (JSON 1.1 protocol).
///
/// The error name is read from the body's `__type` (after any `namespace#`) or else from the
/// `x-amzn-ErrorType` header (before any `:`); a known name decides the kind whatever the status.
/// An unknown name is a server error on a 5xx, throttling on a 429 and a caller bug otherwise.
/// Without a name: 429 is [`FailureKind::Throttled`], any 5xx [`FailureKind::ServerError`]
/// (HTML error pages included), anything else [`FailureKind::BadResponse`].
///
/// ```
/// use cognito_session::engine::classify::{cognito_error, FailureKind};
/// use cognito_session::engine::http::HttpResponse;
///
/// let body = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
/// let err = cognito_error(&HttpResponse::new(400, body));
/// assert_eq!(err.kind, FailureKind::Throttled);
/// assert_eq!(err.code, "TooManyRequestsException");
/// ```
pub fn cognito_error(resp: &HttpResponse) -> ProviderError {
    let body = parse_error_body(resp.body);
    let body_name = body
        .as_ref()
        .and_then(|v| v.get("__type"))
        .and_then(Value::as_str)
        .and_then(aws_error_name);
    let name = body_name.or_else(|| resp.error_type.and_then(aws_error_name));
    let message = body.as_ref().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
    });
    classified(resp, body.is_some(), name, message, cognito_kind)
}

/// Classifies a failed answer from an OAuth2 / OIDC token endpoint (RFC 6749 section 5.2).
///
/// `invalid_grant` (the refresh token is expired, revoked or reused) is
/// [`FailureKind::CredentialDead`]; `invalid_request`, `invalid_client`, `unauthorized_client`,
/// `unsupported_grant_type` and `invalid_scope` are [`FailureKind::CallerBug`];
/// `temporarily_unavailable` and `server_error` are [`FailureKind::ServerError`] and `slow_down`
/// is [`FailureKind::Throttled`]. Otherwise the status decides as in [`cognito_error`].
pub fn oauth_error(resp: &HttpResponse) -> ProviderError {
    let body = parse_error_body(resp.body);
    let name = body
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_str)
        .map(str::trim_ascii)
        .filter(|n| plausible_name(n));
    let message = body
        .as_ref()
        .and_then(|v| v.get("error_description"))
        .and_then(Value::as_str);
    classified(resp, body.is_some(), name, message, oauth_kind)
}

/// A request that got no answer at all (offline, DNS, CORS refusal, timeout, aborted fetch).
pub fn network_error(message: &str) -> ProviderError {
    ProviderError {
        kind: FailureKind::Network,
        code: "NetworkError".to_owned(),
        message: clip(message),
        retry_after: None,
    }
}

/// An answer we could not understand; `code` names what was wrong (`MalformedBody`,
/// `MissingAccessToken`, ...).
pub fn bad_response(code: &'static str, message: &str) -> ProviderError {
    ProviderError {
        kind: FailureKind::BadResponse,
        code: code.to_owned(),
        message: clip(message),
        retry_after: None,
    }
}

/// The server's hint of how long to wait before trying again, in milliseconds from `now`.
///
/// Reads `x-amz-retry-after` (an integer number of milliseconds) first, then `retry-after` (an
/// integer number of seconds). Any hint is capped at [`MAX_RETRY_AFTER`]; anything else is
/// ignored. `retry-after` may also be an HTTP date (RFC 9110 §10.2.3): the driver reads that form
/// with the host's date parser (`Date.parse` reads all three of RFC 9110's date formats) and hands
/// over the seconds left until it, as `src/shell/js/http.js` does.
pub fn retry_after(resp: &HttpResponse) -> Option<Millis> {
    let amz = resp
        .amz_retry_after
        .and_then(|v| text::parse_u64(v.trim_ascii()));
    let hint = amz.or_else(|| {
        text::parse_u64(resp.retry_after?.trim_ascii()).map(|s| s.saturating_mul(1000))
    })?;
    Some(hint.min(MAX_RETRY_AFTER))
}

/// Builds the error once the name and message are known; `by_name` maps a known name to a kind.
fn classified(
    resp: &HttpResponse,
    body_is_json: bool,
    name: Option<&str>,
    message: Option<&str>,
    by_name: fn(&str) -> Option<FailureKind>,
) -> ProviderError {
    let by_status = match resp.status {
        429 => Some(FailureKind::Throttled),
        500..=599 => Some(FailureKind::ServerError),
        _ => None,
    };
    let (kind, code) = match name {
        Some(name) => {
            let kind = by_name(name)
                .or(by_status)
                .unwrap_or(FailureKind::CallerBug);
            (kind, name.to_owned())
        }
        None => {
            let kind = by_status.unwrap_or(FailureKind::BadResponse);
            let mut code = String::from("HTTP ");
            text::push_u64(&mut code, u64::from(resp.status));
            (kind, code)
        }
    };
    let message = match message {
        Some(m) => clip(m),
        None if name.is_some() => String::new(),
        None if body_is_json => "error response names no error".to_owned(),
        None => "error response body is not JSON".to_owned(),
    };
    ProviderError {
        kind,
        code,
        message,
        retry_after: retry_after(resp),
    }
}

/// Cognito error names whose meaning is known (see `cognito-protocol.md`), plus the generic AWS
/// throttling and server-failure names a gateway in front of it may use.
fn cognito_kind(name: &str) -> Option<FailureKind> {
    Some(match name {
        "TooManyRequestsException"
        | "LimitExceededException"
        | "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "RequestThrottledException"
        | "RequestLimitExceeded"
        | "SlowDown" => FailureKind::Throttled,
        "InternalErrorException"
        | "InternalFailure"
        | "InternalServerError"
        | "InternalServerException"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "RequestTimeout"
        | "RequestTimeoutException" => FailureKind::ServerError,
        "NotAuthorizedException"
        | "RefreshTokenReuseException"
        | "UserNotFoundException"
        | "PasswordResetRequiredException"
        | "UserNotConfirmedException" => FailureKind::CredentialDead,
        "InvalidParameterException" | "ResourceNotFoundException" | "ForbiddenException" => {
            FailureKind::CallerBug
        }
        _ => return None,
    })
}

/// OAuth2 token-endpoint error codes (RFC 6749 section 5.2, plus the transient ones some servers
/// send there: `temporarily_unavailable`, `server_error`, `slow_down`).
fn oauth_kind(name: &str) -> Option<FailureKind> {
    Some(match name {
        "invalid_grant" => FailureKind::CredentialDead,
        "invalid_request"
        | "invalid_client"
        | "unauthorized_client"
        | "unsupported_grant_type"
        | "unsupported_response_type"
        | "invalid_scope" => FailureKind::CallerBug,
        "temporarily_unavailable" | "server_error" => FailureKind::ServerError,
        "slow_down" => FailureKind::Throttled,
        _ => return None,
    })
}

/// Classifies the `error` an authorization endpoint sent the browser back with (RFC 6749
/// §4.1.2.1), `description` being its `error_description`. Names the token endpoint uses too
/// keep their kind (`server_error`, `temporarily_unavailable`: server error; `invalid_request`,
/// `unauthorized_client`, `invalid_scope`, ...: caller bug); any other (`access_denied`,
/// `login_required`, ...) means the user did not sign in: credential dead.
pub fn authorization_error(name: &str, description: &str) -> ProviderError {
    ProviderError {
        kind: oauth_kind(name).unwrap_or(FailureKind::CredentialDead),
        code: clip(name),
        message: clip(description),
        retry_after: None,
    }
}

/// The body as JSON, unless it is too large to be worth reading or is not JSON.
fn parse_error_body(body: &str) -> Option<Value> {
    if body.len() > MAX_BODY {
        return None;
    }
    json::parse(body).ok()
}

/// `com.amazonaws.cognito#NotAuthorizedException` and `NotAuthorizedException:http://...` both
/// name `NotAuthorizedException`; `None` when what is left is not a plausible name.
fn aws_error_name(raw: &str) -> Option<&str> {
    let before_uri = text::before(raw, b':');
    // What follows the last `#` (a byte search: str's reverse char searcher costs ~1 KB of wasm).
    let name = match before_uri.bytes().rposition(|b| b == b'#') {
        Some(hash) => before_uri.get(hash + 1..).unwrap_or_default(),
        None => before_uri,
    }
    .trim_ascii();
    plausible_name(name).then_some(name)
}

/// Error names are short identifiers; anything else (HTML, prose, huge strings) is not one.
fn plausible_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `s`, cut to at most [`MAX_MESSAGE`] bytes at a character boundary.
fn clip(s: &str) -> String {
    let mut end = s.len().min(MAX_MESSAGE);
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    fn resp(status: u16, body: &str) -> HttpResponse<'_> {
        HttpResponse::new(status, body)
    }

    fn cognito(status: u16, body: &str) -> ProviderError {
        cognito_error(&resp(status, body))
    }

    fn oauth(status: u16, body: &str) -> ProviderError {
        oauth_error(&resp(status, body))
    }

    fn typed(name: &str) -> String {
        let mut body = String::from("{\"__type\":");
        json::write_string(&mut body, name);
        body.push_str(",\"message\":\"m\"}");
        body
    }

    fn hint(retry_after: Option<&str>, amz: Option<&str>) -> Option<Millis> {
        let mut r = resp(400, "");
        r.retry_after = retry_after;
        r.amz_retry_after = amz;
        super::retry_after(&r)
    }

    const COGNITO_NAMES: &[(&str, FailureKind)] = &[
        ("TooManyRequestsException", FailureKind::Throttled),
        ("LimitExceededException", FailureKind::Throttled),
        ("ThrottlingException", FailureKind::Throttled),
        ("InternalErrorException", FailureKind::ServerError),
        ("NotAuthorizedException", FailureKind::CredentialDead),
        ("RefreshTokenReuseException", FailureKind::CredentialDead),
        ("UserNotFoundException", FailureKind::CredentialDead),
        (
            "PasswordResetRequiredException",
            FailureKind::CredentialDead,
        ),
        ("UserNotConfirmedException", FailureKind::CredentialDead),
        ("InvalidParameterException", FailureKind::CallerBug),
        ("ResourceNotFoundException", FailureKind::CallerBug),
        ("ForbiddenException", FailureKind::CallerBug),
    ];

    #[test]
    fn every_cognito_error_name_in_the_protocol_doc_is_classified_by_its_body_type() {
        for &(name, kind) in COGNITO_NAMES {
            let err = cognito(400, &typed(name));
            assert_eq!(err.kind, kind, "{name}");
            assert_eq!(err.code, name);
            assert_eq!(err.message, "m");
        }
    }

    #[test]
    fn every_cognito_error_name_is_classified_from_the_header_alone() {
        for &(name, kind) in COGNITO_NAMES {
            let mut header = name.to_owned();
            header.push_str(
                ":http://internal.amazon.com/coral/com.amazonaws.cognito.identity.idp.model/",
            );
            for body in [
                "",
                "<html>oops</html>",
                "{}",
                "{\"message\":\"Rate exceeded\"}",
            ] {
                let mut r = resp(400, body);
                r.error_type = Some(&header);
                let err = cognito_error(&r);
                assert_eq!(
                    (err.kind, err.code.as_str()),
                    (kind, name),
                    "{header} {body}"
                );
            }
        }
    }

    #[test]
    fn a_namespace_prefix_on_the_body_type_is_stripped() {
        let err = cognito(
            400,
            &typed("com.amazonaws.cognito.identity.idp.model#NotAuthorizedException"),
        );
        assert_eq!(err.kind, FailureKind::CredentialDead);
        assert_eq!(err.code, "NotAuthorizedException");
        let err = cognito(400, &typed("aws#TooManyRequestsException:http://x/y"));
        assert_eq!(err.code, "TooManyRequestsException");
    }

    #[test]
    fn the_body_type_wins_over_the_header_and_a_bad_body_type_falls_back_to_it() {
        let mut r = resp(400, r#"{"__type":"NotAuthorizedException"}"#);
        r.error_type = Some("TooManyRequestsException");
        assert_eq!(cognito_error(&r).kind, FailureKind::CredentialDead);
        let mut r = resp(400, r#"{"__type":"<b>nope</b>"}"#);
        r.error_type = Some("  TooManyRequestsException  ");
        assert_eq!(cognito_error(&r).code, "TooManyRequestsException");
        let mut r = resp(400, r#"{"__type":7}"#);
        r.error_type = Some("UserNotFoundException");
        assert_eq!(cognito_error(&r).kind, FailureKind::CredentialDead);
    }

    #[test]
    fn too_many_requests_as_http_400_is_throttling_not_a_caller_bug() {
        let body = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
        let err = cognito(400, body);
        assert_eq!(err.kind, FailureKind::Throttled);
        assert!(err.is_transient());
        assert_eq!(err.message, "Rate exceeded");
        assert_eq!(err.to_string(), "TooManyRequestsException: Rate exceeded");
    }

    #[test]
    fn a_known_name_decides_whatever_the_status() {
        assert_eq!(
            cognito(429, &typed("NotAuthorizedException")).kind,
            FailureKind::CredentialDead
        );
        assert_eq!(
            cognito(500, &typed("InvalidParameterException")).kind,
            FailureKind::CallerBug
        );
        assert_eq!(
            cognito(200, &typed("TooManyRequestsException")).kind,
            FailureKind::Throttled
        );
    }

    #[test]
    fn unknown_names_are_caller_bugs_on_4xx_and_server_errors_on_5xx() {
        let err = cognito(400, &typed("CodeMismatchException"));
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::CallerBug, "CodeMismatchException")
        );
        assert_eq!(
            cognito(503, &typed("SomethingNewException")).kind,
            FailureKind::ServerError
        );
        assert_eq!(
            cognito(429, &typed("SomethingNewException")).kind,
            FailureKind::Throttled
        );
        assert_eq!(
            cognito(400, &typed("InternalFailure")).kind,
            FailureKind::ServerError
        );
        assert_eq!(
            cognito(400, &typed("Throttling")).kind,
            FailureKind::Throttled
        );
    }

    #[test]
    fn html_gateway_pages_are_server_errors_named_by_status() {
        let page = "<html><head><title>502 Bad Gateway</title></head><body><center>\
                    <h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
        for status in [500, 502, 503, 504, 599] {
            let err = cognito(status, page);
            assert_eq!(err.kind, FailureKind::ServerError);
            assert_eq!(err.code, ["HTTP ", &status.to_string()].concat());
            assert_eq!(err.message, "error response body is not JSON");
            assert_eq!(oauth(status, page).kind, FailureKind::ServerError);
        }
        assert_eq!(cognito(503, "").code, "HTTP 503");
    }

    #[test]
    fn an_unnamed_429_is_throttling() {
        for body in ["", "Too Many Requests", "{}", r#"{"message":"slow down"}"#] {
            let err = cognito(429, body);
            assert_eq!(
                (err.kind, err.code.as_str()),
                (FailureKind::Throttled, "HTTP 429")
            );
            assert_eq!(oauth(429, body).kind, FailureKind::Throttled);
        }
    }

    #[test]
    fn an_unnamed_2xx_or_4xx_is_a_bad_response() {
        for (status, body) in [
            (400, "<html>Bad Request</html>"),
            (400, r#"{"__type":"NotAuthorized"#),
            (403, r#"{"message":"Forbidden"}"#),
            (200, "not json"),
            (302, ""),
            (100, ""),
        ] {
            let err = cognito(status, body);
            assert_eq!(err.kind, FailureKind::BadResponse, "{status} {body}");
            assert_eq!(err.code, ["HTTP ", &status.to_string()].concat());
            assert_eq!(
                oauth(status, body).kind,
                FailureKind::BadResponse,
                "{status} {body}"
            );
        }
        assert_eq!(
            cognito(403, r#"{"message":"Forbidden"}"#).message,
            "Forbidden"
        );
        assert_eq!(cognito(403, "{}").message, "error response names no error");
    }

    #[test]
    fn implausible_names_are_ignored() {
        let long = "A".repeat(MAX_NAME + 1);
        for name in [
            "",
            "   ",
            "<script>",
            "Not Authorized",
            "#",
            ":x",
            "é",
            long.as_str(),
        ] {
            let err = cognito(400, &typed(name));
            assert_eq!(err.kind, FailureKind::BadResponse, "{name:?}");
            let mut r = resp(400, "");
            r.error_type = Some(name);
            assert_eq!(cognito_error(&r).kind, FailureKind::BadResponse, "{name:?}");
        }
        let just_long_enough = "A".repeat(MAX_NAME);
        assert_eq!(
            cognito(400, &typed(&just_long_enough)).kind,
            FailureKind::CallerBug
        );
    }

    #[test]
    fn messages_are_read_from_either_spelling_and_clipped() {
        assert_eq!(
            cognito(400, r#"{"__type":"X","Message":"capital"}"#).message,
            "capital"
        );
        let long = "é".repeat(300);
        let mut body = String::from("{\"__type\":\"X\",\"message\":");
        json::write_string(&mut body, &long);
        body.push('}');
        let err = cognito(400, &body);
        assert_eq!(err.message.len(), MAX_MESSAGE);
        assert!(long.starts_with(&err.message));
        let odd = "éa".repeat(200);
        assert!(odd.starts_with(&clip(&odd)) && clip(&odd).len() == MAX_MESSAGE - 1);
        assert_eq!(cognito(400, r#"{"__type":"X","message":5}"#).message, "");
    }

    #[test]
    fn oauth_error_codes_are_classified_by_name() {
        for (name, kind) in [
            ("invalid_grant", FailureKind::CredentialDead),
            ("invalid_request", FailureKind::CallerBug),
            ("invalid_client", FailureKind::CallerBug),
            ("unauthorized_client", FailureKind::CallerBug),
            ("unsupported_grant_type", FailureKind::CallerBug),
            ("invalid_scope", FailureKind::CallerBug),
            ("temporarily_unavailable", FailureKind::ServerError),
            ("server_error", FailureKind::ServerError),
            ("slow_down", FailureKind::Throttled),
            ("something_else", FailureKind::CallerBug),
        ] {
            let mut body = String::from("{\"error\":");
            json::write_string(&mut body, name);
            body.push_str(",\"error_description\":\"grant revoked\"}");
            let err = oauth(400, &body);
            assert_eq!((err.kind, err.code.as_str()), (kind, name));
            assert_eq!(err.message, "grant revoked");
        }
        assert_eq!(
            oauth(401, r#"{"error":"invalid_client"}"#).kind,
            FailureKind::CallerBug
        );
        assert_eq!(
            oauth(500, r#"{"error":"whatever"}"#).kind,
            FailureKind::ServerError
        );
        assert_eq!(oauth(400, r#"{"error":3}"#).kind, FailureKind::BadResponse);
        assert_eq!(
            oauth(400, r#"{"error":"<html>"}"#).kind,
            FailureKind::BadResponse
        );
        assert_eq!(
            oauth(400, r#"["invalid_grant"]"#).kind,
            FailureKind::BadResponse
        );
    }

    #[test]
    fn an_oauth_error_does_not_read_cognito_names_and_vice_versa() {
        assert_eq!(
            oauth(400, &typed("NotAuthorizedException")).kind,
            FailureKind::BadResponse
        );
        assert_eq!(
            cognito(400, r#"{"error":"invalid_grant"}"#).kind,
            FailureKind::BadResponse
        );
    }

    #[test]
    fn oversized_error_bodies_are_not_parsed() {
        let mut body = typed("NotAuthorizedException");
        body.push_str(&" ".repeat(MAX_BODY - body.len()));
        assert_eq!(body.len(), MAX_BODY);
        assert_eq!(
            cognito(400, &body).kind,
            FailureKind::CredentialDead,
            "a body of exactly MAX_BODY bytes is read"
        );
        body.push(' ');
        let err = cognito(400, &body);
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::BadResponse, "HTTP 400")
        );
        let mut r = resp(400, &body);
        r.error_type = Some("NotAuthorizedException");
        assert_eq!(cognito_error(&r).kind, FailureKind::CredentialDead);
    }

    #[test]
    fn network_and_bad_response_errors_carry_their_code() {
        let err = network_error("Failed to fetch");
        assert_eq!(
            err,
            ProviderError {
                kind: FailureKind::Network,
                code: "NetworkError".into(),
                message: "Failed to fetch".into(),
                retry_after: None
            }
        );
        let err = bad_response("MalformedBody", "unexpected end of JSON");
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::BadResponse, "MalformedBody")
        );
        assert_eq!(err.to_string(), "MalformedBody: unexpected end of JSON");
        assert_eq!(bad_response("X", "").to_string(), "X");
    }

    #[test]
    fn only_dead_credentials_and_caller_bugs_are_permanent() {
        use FailureKind::*;
        for kind in [Throttled, ServerError, Network, BadResponse] {
            assert!(kind.is_transient(), "{kind:?}");
        }
        for kind in [CredentialDead, CallerBug] {
            assert!(!kind.is_transient(), "{kind:?}");
        }
        assert!(!cognito(400, &typed("NotAuthorizedException")).is_transient());
        assert!(!cognito(400, &typed("InvalidParameterException")).is_transient());
        assert!(cognito(503, "").is_transient());
    }

    #[test]
    fn retry_after_reads_seconds_and_amz_milliseconds() {
        assert_eq!(hint(Some("2"), None), Some(2_000));
        assert_eq!(hint(Some(" 0 "), None), Some(0));
        assert_eq!(hint(None, Some("1500")), Some(1_500));
        assert_eq!(
            hint(Some("9"), Some("250")),
            Some(250),
            "the precise header wins"
        );
        assert_eq!(
            hint(Some("3"), Some("soon")),
            Some(3_000),
            "a bad amz hint falls back"
        );
        assert_eq!(hint(None, None), None);
    }

    #[test]
    fn huge_hints_are_capped_at_five_minutes() {
        assert_eq!(hint(Some("299"), None), Some(299_000));
        assert_eq!(hint(Some("300"), None), Some(300_000));
        assert_eq!(hint(Some("301"), None), Some(MAX_RETRY_AFTER));
        assert_eq!(hint(Some("86400"), None), Some(MAX_RETRY_AFTER));
        assert_eq!(
            hint(Some("99999999999999999999999999999"), None),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            hint(None, Some("18446744073709551616")),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(super::retry_after(&resp(400, "")), None);
    }

    #[test]
    fn garbage_hints_are_ignored() {
        for garbage in [
            "",
            " ",
            "-1",
            "+5",
            "1.5",
            "1e3",
            "5 s",
            "soon",
            "١٢",
            // An HTTP date is the driver's to turn into seconds (the shell uses Date.parse).
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "2015-10-21T07:28:30Z",
        ] {
            assert_eq!(hint(Some(garbage), None), None, "{garbage:?}");
            assert_eq!(hint(None, Some(garbage)), None, "{garbage:?}");
        }
    }

    #[test]
    fn errors_carry_the_retry_hint() {
        let mut r = resp(400, r#"{"__type":"TooManyRequestsException"}"#);
        r.retry_after = Some("7");
        assert_eq!(cognito_error(&r).retry_after, Some(7_000));
        let mut r = resp(503, "<html/>");
        r.amz_retry_after = Some("1200");
        assert_eq!(oauth_error(&r).retry_after, Some(1_200));
        assert_eq!(cognito(503, "").retry_after, None);
    }

    #[test]
    fn every_prefix_of_an_error_body_is_classified_without_panic() {
        let body = r#"{"__type":"com.amazonaws#NotAuthorizedException","message":"Refresh Token has been revoked é"}"#;
        for end in 0..=body.len() {
            let Some(prefix) = body.get(..end) else {
                continue;
            };
            let err = cognito(400, prefix);
            let expected = if end == body.len() {
                FailureKind::CredentialDead
            } else {
                FailureKind::BadResponse
            };
            assert_eq!(err.kind, expected, "{prefix:?}");
            let _ = oauth(400, prefix);
            let _ = hint(Some(prefix), Some(prefix));
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let seed = 0x5eed_c1a5;
        let mut rng = Rng::new(seed);
        for _ in 0..2_000 {
            let len = rng.up_to(64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let text = String::from_utf8_lossy(&bytes);
            let status = rng.up_to(700) as u16;
            let mut r = resp(status, &text);
            r.error_type = Some(&text);
            r.retry_after = Some(&text);
            r.amz_retry_after = Some(&text);
            let a = cognito_error(&r);
            let b = oauth_error(&r);
            for err in [a, b] {
                assert!(err.message.len() <= MAX_MESSAGE, "seed {seed}");
                assert!(
                    err.retry_after.unwrap_or(0) <= MAX_RETRY_AFTER,
                    "seed {seed}"
                );
            }
        }
    }
}
