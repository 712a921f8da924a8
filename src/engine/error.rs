//! The errors the app sees, and the one place that words them.
//!
//! [`SessionError`] is why a caller of the session gets no token: each variant answers the app's
//! question "what now?" (retry later, sign in again, fix my bug). [`AppError`] is any failure as
//! it reaches the app — a [`SessionError`], a refused or failed sign-in, a configuration the
//! provider cannot serve — with the stable [`ErrorCode`] it switches on, the moment retrying can
//! help, a message, and the provider's own error name when a provider answered. Which
//! [`FailureKind`] becomes which code for a sign-in is decided here, not in a driver.

use alloc::string::String;
use core::fmt;

use super::classify::{FailureKind, ProviderError};
use super::protocol::ConfigError;
use super::Millis;

/// The stable codes JavaScript callers switch on (`error.code`), one per answer to "what now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The provider is throttling: retry later; the session is fine.
    Throttled,
    /// The provider or the network is failing: retry later.
    Unavailable,
    /// The refresh token is dead: the user signs in again.
    SessionExpired,
    /// Nobody is signed in, or the credentials were refused.
    NotSignedIn,
    /// A bug or misconfiguration in the app.
    BadConfig,
    /// The provider's answer was unusable; the refresh token was kept.
    BadResponse,
}

impl ErrorCode {
    /// The code as JavaScript sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Throttled => "THROTTLED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::SessionExpired => "SESSION_EXPIRED",
            ErrorCode::NotSignedIn => "NOT_SIGNED_IN",
            ErrorCode::BadConfig => "BAD_CONFIG",
            ErrorCode::BadResponse => "BAD_RESPONSE",
        }
    }

    /// Whether a `retryAt` may go with this code: only "retry later" codes carry one.
    pub fn is_timed(self) -> bool {
        matches!(self, ErrorCode::Throttled | ErrorCode::Unavailable)
    }
}

/// Why a caller gets no token. Each answers the app's question "what now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// The provider is throttling refreshes; try again at `retry_at` (the session will too).
    Throttled { retry_at: Millis },
    /// The provider or the network failed, or the deadline passed while a refresh was under
    /// way; the session keeps trying (`retry_at` when a retry is scheduled).
    Unavailable { retry_at: Option<Millis> },
    /// The refresh token is dead: the user must sign in again.
    SessionExpired,
    /// Nobody is signed in.
    NotSignedIn,
    /// The provider refused the request as malformed, or tokens handed in were unusable: a bug
    /// or misconfiguration in the app, not the user's fault. `detail` names the cause.
    BadConfig { detail: String },
    /// The provider's answer was unusable (not JSON, wrong types, expired tokens, ...).
    BadResponse { detail: String },
}

impl SessionError {
    /// The stable code JavaScript callers switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            SessionError::Throttled { .. } => ErrorCode::Throttled,
            SessionError::Unavailable { .. } => ErrorCode::Unavailable,
            SessionError::SessionExpired => ErrorCode::SessionExpired,
            SessionError::NotSignedIn => ErrorCode::NotSignedIn,
            SessionError::BadConfig { .. } => ErrorCode::BadConfig,
            SessionError::BadResponse { .. } => ErrorCode::BadResponse,
        }
    }

    /// When asking again can help, if the session knows.
    pub fn retry_at(&self) -> Option<Millis> {
        match self {
            SessionError::Throttled { retry_at } => Some(*retry_at),
            SessionError::Unavailable { retry_at } => *retry_at,
            _ => None,
        }
    }

    /// Whether asking again later may succeed without the user signing in.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SessionError::Throttled { .. }
                | SessionError::Unavailable { .. }
                | SessionError::BadResponse { .. }
        )
    }

    /// Appends the message for people: the `Display` text, built with `push_str` so the `.wasm`
    /// needs no `fmt` machinery for it. The only place these words are written.
    pub fn describe(&self, out: &mut String) {
        let (message, detail) = match self {
            SessionError::Throttled { .. } => ("token refresh throttled by the provider", ""),
            SessionError::Unavailable { .. } => ("token refresh unavailable", ""),
            SessionError::SessionExpired => ("session expired: sign in again", ""),
            SessionError::NotSignedIn => ("not signed in", ""),
            SessionError::BadConfig { detail } => ("bad configuration or input: ", &**detail),
            SessionError::BadResponse { detail } => ("bad response from the provider: ", &**detail),
        };
        out.push_str(message);
        out.push_str(detail);
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.describe(&mut text);
        f.write_str(&text)
    }
}

/// A failure as it reaches the app: what a driver turns into a rejected promise (JavaScript)
/// or an `Err` (Rust).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub code: ErrorCode,
    /// When trying again can help (ms since the epoch); only with [`ErrorCode::is_timed`] codes.
    pub retry_at: Option<Millis>,
    pub message: String,
    /// The provider's error name (`NotAuthorizedException`, `invalid_grant`, `access_denied`)
    /// when a sign-in failed at the provider.
    pub provider_code: Option<String>,
}

impl AppError {
    /// A configuration or input the app got wrong.
    pub fn bad_config(message: &str) -> AppError {
        AppError {
            code: ErrorCode::BadConfig,
            retry_at: None,
            message: String::from(message),
            provider_code: None,
        }
    }

    /// A sign-in exchange that failed at `now`: a dead credential here means the user name,
    /// password or authorization code was refused (`NOT_SIGNED_IN`), not that a session ended;
    /// `retryAt` goes only with the retryable codes, so a refused password stays refused whatever
    /// a `Retry-After` header says.
    ///
    /// Cognito refuses what the user typed into a challenge with names the refresh never meets,
    /// which would otherwise read as the app's bug: a wrong or expired code
    /// (`CodeMismatchException`, `ExpiredCodeException`), a new password the pool's policy or
    /// history refuses (`InvalidPasswordException`, `PasswordHistoryPolicyViolationException`),
    /// an attribute another user already has (`AliasExistsException`). Those are `NOT_SIGNED_IN`
    /// too, and `providerCode` tells them apart: the same challenge can be answered again after
    /// all but `ExpiredCodeException`, whereas `NotAuthorizedException` ("Invalid session for the
    /// user") means starting the sign-in over.
    pub fn sign_in(now: Millis, e: &ProviderError) -> AppError {
        let code = match e.kind {
            FailureKind::Throttled => ErrorCode::Throttled,
            FailureKind::ServerError | FailureKind::Network => ErrorCode::Unavailable,
            FailureKind::CredentialDead => ErrorCode::NotSignedIn,
            FailureKind::CallerBug if USER_INPUT_REFUSED.contains(&&*e.code) => {
                ErrorCode::NotSignedIn
            }
            FailureKind::CallerBug => ErrorCode::BadConfig,
            FailureKind::BadResponse => ErrorCode::BadResponse,
        };
        let mut message = String::new();
        e.describe(&mut message);
        AppError {
            code,
            retry_at: e
                .retry_after
                .filter(|_| code.is_timed())
                .map(|d| now.saturating_add(d)),
            message,
            provider_code: Some(e.code.clone()),
        }
    }
}

impl AppError {
    /// A sign-out at the provider that failed with `e`, after the sign-out here (and in every
    /// tab) went through: the code says why, as for a sign-in ([`AppError::sign_in`]), the
    /// message says that the session is signed out here all the same, and there is no
    /// `retryAt`: the tokens the provider call needed are gone.
    pub fn signed_out_here(e: &ProviderError) -> AppError {
        let mut error = AppError::sign_in(0, e);
        error
            .message
            .insert_str(0, "signed out here, not at the provider: ");
        error.retry_at = None;
        error
    }
}

/// Cognito's names for a sign-in step refused over what the user typed (see [`AppError::sign_in`]).
const USER_INPUT_REFUSED: [&str; 5] = [
    "CodeMismatchException",
    "ExpiredCodeException",
    "InvalidPasswordException",
    "PasswordHistoryPolicyViolationException",
    "AliasExistsException",
];

impl From<&SessionError> for AppError {
    fn from(e: &SessionError) -> AppError {
        let mut message = String::new();
        e.describe(&mut message);
        AppError {
            code: e.code(),
            retry_at: e.retry_at(),
            message,
            provider_code: None,
        }
    }
}

impl From<ConfigError> for AppError {
    fn from(e: ConfigError) -> AppError {
        AppError::bad_config(e.message())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        f.write_str(": ")?;
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::classify::{bad_response, network_error};
    use alloc::string::ToString;

    fn provider_error(kind: FailureKind, retry_after: Option<Millis>) -> ProviderError {
        ProviderError {
            kind,
            code: String::from("SomeName"),
            message: String::from("what happened"),
            retry_after,
        }
    }

    #[test]
    fn a_sign_in_failure_maps_each_kind_to_the_code_that_says_what_to_do() {
        for (kind, code) in [
            (FailureKind::Throttled, ErrorCode::Throttled),
            (FailureKind::ServerError, ErrorCode::Unavailable),
            (FailureKind::Network, ErrorCode::Unavailable),
            (FailureKind::CredentialDead, ErrorCode::NotSignedIn),
            (FailureKind::CallerBug, ErrorCode::BadConfig),
            (FailureKind::BadResponse, ErrorCode::BadResponse),
        ] {
            let e = AppError::sign_in(1_000, &provider_error(kind, Some(2_000)));
            assert_eq!(e.code, code, "{kind:?}");
            assert_eq!(e.provider_code.as_deref(), Some("SomeName"));
            assert_eq!(e.message, "SomeName: what happened");
            // Only "retry later" codes say when: a refused password stays refused.
            let expected = code.is_timed().then_some(3_000);
            assert_eq!(e.retry_at, expected, "{kind:?}");
        }
    }

    #[test]
    fn a_challenge_answer_the_user_got_wrong_is_not_signed_in_and_other_refusals_stay_bugs() {
        use crate::engine::classify::cognito_error;
        use crate::engine::http::HttpResponse;
        let refused = |name: &str, message: &str| {
            let body = alloc::format!(r#"{{"__type":"{name}","message":"{message}"}}"#);
            AppError::sign_in(1_000, &cognito_error(&HttpResponse::new(400, &body)))
        };
        for (name, message) in [
            ("CodeMismatchException", "Invalid code received for user"),
            (
                "ExpiredCodeException",
                "Invalid code provided, please request a code again.",
            ),
            (
                "InvalidPasswordException",
                "Password does not conform to policy",
            ),
            (
                "PasswordHistoryPolicyViolationException",
                "password used before",
            ),
            (
                "AliasExistsException",
                "An account with the email already exists.",
            ),
            (
                "NotAuthorizedException",
                "Invalid session for the user, session is expired.",
            ),
        ] {
            let e = refused(name, message);
            assert_eq!(e.code, ErrorCode::NotSignedIn, "{name}");
            assert_eq!(e.provider_code.as_deref(), Some(name));
            assert!(e.message.ends_with(message), "{}", e.message);
        }
        for name in ["InvalidParameterException", "MFAMethodNotFoundException"] {
            assert_eq!(refused(name, "x").code, ErrorCode::BadConfig, "{name}");
        }
        // The same names from a 5xx are the provider's failure, not the user's.
        let body = r#"{"__type":"CodeMismatchException"}"#;
        let e = AppError::sign_in(1_000, &cognito_error(&HttpResponse::new(500, body)));
        assert_eq!(e.code, ErrorCode::Unavailable);
    }

    #[test]
    fn a_sign_in_failure_without_a_hint_has_no_retry_moment() {
        let e = AppError::sign_in(1_000, &network_error("offline"));
        assert_eq!((e.code, e.retry_at), (ErrorCode::Unavailable, None));
        let e = AppError::sign_in(1_000, &bad_response("NotJson", "body is not JSON"));
        assert_eq!(e.provider_code.as_deref(), Some("NotJson"));
    }

    #[test]
    fn session_errors_keep_their_code_retry_moment_and_words() {
        let cases = [
            (
                SessionError::Throttled { retry_at: 5 },
                "THROTTLED",
                Some(5),
                "token refresh throttled by the provider",
            ),
            (
                SessionError::Unavailable { retry_at: None },
                "UNAVAILABLE",
                None,
                "token refresh unavailable",
            ),
            (
                SessionError::SessionExpired,
                "SESSION_EXPIRED",
                None,
                "session expired: sign in again",
            ),
            (
                SessionError::NotSignedIn,
                "NOT_SIGNED_IN",
                None,
                "not signed in",
            ),
            (
                SessionError::BadConfig { detail: "x".into() },
                "BAD_CONFIG",
                None,
                "bad configuration or input: x",
            ),
            (
                SessionError::BadResponse { detail: "y".into() },
                "BAD_RESPONSE",
                None,
                "bad response from the provider: y",
            ),
        ];
        for (error, code, retry_at, message) in cases {
            let app = AppError::from(&error);
            assert_eq!(app.code.as_str(), code);
            assert_eq!(app.retry_at, retry_at);
            assert_eq!(app.message, message);
            assert_eq!(error.to_string(), message);
            assert_eq!(app.provider_code, None);
        }
    }

    #[test]
    fn a_config_error_is_bad_config_with_its_message() {
        let e = AppError::from(ConfigError::Unsupported);
        assert_eq!(e.code, ErrorCode::BadConfig);
        assert_eq!(e.message, ConfigError::Unsupported.message());
    }
}
