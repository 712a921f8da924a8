//! `engine::classify`: `cognito_error`, `oauth_error` and `retry_after` over any status, body
//! and headers.
//!
//! Input: `status \x1f body \x1f x-amzn-ErrorType \x1f retry-after \x1f x-amz-retry-after` (see
//! the crate doc).
//!
//! Checks: every error is well formed and carries `retry_after`'s hint; the hint is
//! `x-amz-retry-after` (ms) when that is a number, else `retry-after` seconds when that is one,
//! else none (an HTTP date is the shell's to read), at most `MAX_RETRY_AFTER`; an answer that
//! names no error is classified by its status alone (429 throttled, 5xx server error, else a bad
//! response named `HTTP <status>`); a named one keeps its name as the code, and a name the
//! provider's protocol knows decides the kind whatever the status.
#![no_main]

use cognito_session::engine::classify::{
    cognito_error, oauth_error, retry_after, FailureKind, ProviderError, MAX_RETRY_AFTER,
};
use cognito_session::engine::http::HttpResponse;
use cognito_session::engine::json::{self, Value};
use cognito_session_fuzz::{check_error, fields, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let mut f = fields(input);
    let status = f.num() as u16;
    let body = f.text();
    let (error_type, retry_after_header, amz_retry_after) = (f.opt(), f.opt(), f.opt());
    let resp = HttpResponse {
        status,
        error_type,
        retry_after: retry_after_header,
        amz_retry_after,
        body,
    };

    let hint = retry_after(&resp);
    let amz = amz_retry_after.and_then(|v| digits(v.trim_ascii()));
    let seconds = retry_after_header.and_then(|v| digits(v.trim_ascii()));
    let expected = amz.or(seconds.map(|s| s.saturating_mul(1000)));
    assert_eq!(hint, expected.map(|h| h.min(MAX_RETRY_AFTER)));

    let cognito = cognito_error(&resp);
    let oauth = oauth_error(&resp);
    for e in [&cognito, &oauth] {
        check_error(e);
        assert_eq!(e.retry_after, hint);
        unnamed_by_status(&resp, e);
    }
    // A body that names a known error decides the kind whatever the status.
    let parsed = json::parse(body).ok();
    let member = |key| {
        parsed
            .as_ref()
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
    };
    if let Some(kind) = member("error").and_then(|n| oauth_kind(n.trim_ascii())) {
        assert_eq!(oauth.kind, kind, "{body}");
    }
    if let Some(kind) = member("__type").and_then(|n| cognito_kind(aws_name(n))) {
        assert_eq!(cognito.kind, kind, "{body}");
    }
});

/// A run of ASCII digits, saturating (`text::parse_u64`'s documented reading).
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

fn unnamed_by_status(resp: &HttpResponse, e: &ProviderError) {
    if !e.code.starts_with("HTTP ") {
        return;
    }
    assert_eq!(e.code, format!("HTTP {}", resp.status));
    let kind = match resp.status {
        429 => FailureKind::Throttled,
        500..=599 => FailureKind::ServerError,
        _ => FailureKind::BadResponse,
    };
    assert_eq!(e.kind, kind);
}

/// `namespace#Name:uri` → `Name`, trimmed (the documented reading of `__type`).
fn aws_name(raw: &str) -> &str {
    let before_uri = raw.split(':').next().unwrap_or_default();
    before_uri
        .rsplit('#')
        .next()
        .unwrap_or_default()
        .trim_ascii()
}

/// The OAuth2 error names `classify` documents.
fn oauth_kind(name: &str) -> Option<FailureKind> {
    Some(match name {
        "invalid_grant" => FailureKind::CredentialDead,
        "invalid_request"
        | "invalid_client"
        | "unauthorized_client"
        | "unsupported_grant_type"
        | "invalid_scope" => FailureKind::CallerBug,
        "temporarily_unavailable" | "server_error" => FailureKind::ServerError,
        "slow_down" => FailureKind::Throttled,
        _ => return None,
    })
}

/// A few Cognito names per kind, as `classify` documents them.
fn cognito_kind(name: &str) -> Option<FailureKind> {
    Some(match name {
        "TooManyRequestsException" | "LimitExceededException" => FailureKind::Throttled,
        "InternalErrorException" => FailureKind::ServerError,
        "NotAuthorizedException" | "RefreshTokenReuseException" | "UserNotFoundException" => {
            FailureKind::CredentialDead
        }
        "InvalidParameterException" | "ResourceNotFoundException" => FailureKind::CallerBug,
        _ => return None,
    })
}
