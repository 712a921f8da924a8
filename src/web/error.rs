//! What the Rust API hands back: [`SessionError`] (the JavaScript errors' codes as an enum), the
//! secrets it hands out ([`AccessToken`], [`Tokens`]) with `Debug` that does not print them, and
//! [`SessionEvent`], the events a subscriber hears.
//!
//! Every error the engine decides arrives as an [`AppError`] (the code, `retryAt`, the message,
//! the provider's error name): this module only gives it Rust's shape. The wording is the
//! engine's ([`crate::engine::error`]), so a Rust and a JavaScript app show the same text.

use alloc::string::String;
use core::fmt;

use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::engine::error::{AppError, ErrorCode};
use crate::engine::machine::{Event, LoginReason};
use crate::engine::Millis;
use crate::wire::reason_name;

/// Why a call gave no token, no sign-in or no response. The variants are the JavaScript
/// errors' `code`s (`THROTTLED`, `UNAVAILABLE`, `SESSION_EXPIRED`, `NOT_SIGNED_IN`,
/// `BAD_CONFIG`, `BAD_RESPONSE`; [`SessionError::code`] gives the string), plus
/// [`SessionError::Fetch`] for the app's own request failing in the browser, where the JavaScript
/// `session.fetch` rejects with the browser's error.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionError {
    /// The provider is throttling: try again at `retry_at` (ms since the epoch); the session is
    /// fine and retries by itself.
    Throttled {
        /// When trying again can help, if known.
        retry_at: Option<Millis>,
        /// What happened, for people.
        message: String,
        /// The provider's error name when a sign-in was throttled.
        provider_code: Option<String>,
    },
    /// The provider or the network is failing (or the deadline passed while a refresh was under
    /// way): try again later; the session keeps trying.
    Unavailable {
        /// When trying again can help, if known.
        retry_at: Option<Millis>,
        /// What happened, for people.
        message: String,
        /// The provider's error name when a sign-in failed this way.
        provider_code: Option<String>,
    },
    /// The refresh token is dead: the user signs in again.
    SessionExpired {
        /// What happened, for people.
        message: String,
    },
    /// Nobody is signed in, or the provider refused the credentials of a sign-in.
    NotSignedIn {
        /// What happened, for people.
        message: String,
        /// The provider's error name when it refused a sign-in (`NotAuthorizedException`,
        /// `CodeMismatchException`, `access_denied`).
        provider_code: Option<String>,
    },
    /// A bug or misconfiguration in the app (a bad [`Config`](super::Config), a call the
    /// provider cannot serve, tokens handed in that cannot be used).
    BadConfig {
        /// What is wrong.
        message: String,
        /// The provider's error name when the provider refused the request as malformed.
        provider_code: Option<String>,
    },
    /// The provider's answer was unusable (not JSON, wrong types, too large, expired tokens);
    /// the refresh token was kept.
    BadResponse {
        /// What was wrong with it.
        message: String,
        /// The provider's error name, when its answer had one.
        provider_code: Option<String>,
    },
    /// [`Session::fetch`](super::Session::fetch) only: the browser's `fetch` of the app's request
    /// failed (network, CORS) or the request's `AbortSignal` aborted it. Holds what the browser
    /// rejected with (a `TypeError`, or the signal's reason).
    Fetch(JsValue),
}

impl SessionError {
    /// The code a JavaScript caller switches on: `"THROTTLED"`, `"UNAVAILABLE"`,
    /// `"SESSION_EXPIRED"`, `"NOT_SIGNED_IN"`, `"BAD_CONFIG"`, `"BAD_RESPONSE"`, or `"FETCH"`.
    pub fn code(&self) -> &'static str {
        let code = match self {
            SessionError::Throttled { .. } => ErrorCode::Throttled,
            SessionError::Unavailable { .. } => ErrorCode::Unavailable,
            SessionError::SessionExpired { .. } => ErrorCode::SessionExpired,
            SessionError::NotSignedIn { .. } => ErrorCode::NotSignedIn,
            SessionError::BadConfig { .. } => ErrorCode::BadConfig,
            SessionError::BadResponse { .. } => ErrorCode::BadResponse,
            SessionError::Fetch(_) => return "FETCH",
        };
        code.as_str()
    }

    /// When trying again can help (ms since the epoch), for the "retry later" errors.
    pub fn retry_at(&self) -> Option<Millis> {
        match self {
            SessionError::Throttled { retry_at, .. }
            | SessionError::Unavailable { retry_at, .. } => *retry_at,
            _ => None,
        }
    }

    /// The message for people (for [`SessionError::Fetch`], the browser's own, when it has one).
    pub fn message(&self) -> String {
        match self {
            SessionError::Throttled { message, .. }
            | SessionError::Unavailable { message, .. }
            | SessionError::SessionExpired { message }
            | SessionError::NotSignedIn { message, .. }
            | SessionError::BadConfig { message, .. }
            | SessionError::BadResponse { message, .. } => message.clone(),
            SessionError::Fetch(e) => super::http::cause("fetch failed", e),
        }
    }

    /// The provider's error name, when a provider answered a sign-in with one.
    pub fn provider_code(&self) -> Option<&str> {
        match self {
            SessionError::Throttled { provider_code, .. }
            | SessionError::Unavailable { provider_code, .. }
            | SessionError::NotSignedIn { provider_code, .. }
            | SessionError::BadConfig { provider_code, .. }
            | SessionError::BadResponse { provider_code, .. } => provider_code.as_deref(),
            SessionError::SessionExpired { .. } | SessionError::Fetch(_) => None,
        }
    }

    /// A `BAD_CONFIG` error saying `message`.
    pub(crate) fn bad_config(message: impl Into<String>) -> SessionError {
        SessionError::BadConfig {
            message: message.into(),
            provider_code: None,
        }
    }
}

impl From<AppError> for SessionError {
    fn from(e: AppError) -> SessionError {
        let AppError {
            code,
            retry_at,
            message,
            provider_code,
        } = e;
        match code {
            ErrorCode::Throttled => SessionError::Throttled {
                retry_at,
                message,
                provider_code,
            },
            ErrorCode::Unavailable => SessionError::Unavailable {
                retry_at,
                message,
                provider_code,
            },
            ErrorCode::SessionExpired => SessionError::SessionExpired { message },
            ErrorCode::NotSignedIn => SessionError::NotSignedIn {
                message,
                provider_code,
            },
            ErrorCode::BadConfig => SessionError::BadConfig {
                message,
                provider_code,
            },
            ErrorCode::BadResponse => SessionError::BadResponse {
                message,
                provider_code,
            },
        }
    }
}

impl From<&crate::engine::error::SessionError> for SessionError {
    fn from(e: &crate::engine::error::SessionError) -> SessionError {
        AppError::from(e).into()
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for SessionError {}

/// An access (or ID) token: what goes after `Bearer `. `Debug` does not print it, so a token in
/// a logged struct stays out of the log; [`AccessToken::as_str`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(pub(crate) String);

impl AccessToken {
    /// The token itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token itself, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Tokens obtained elsewhere, handed to [`Session::set_tokens`](super::Session::set_tokens) (the
/// engine checks them as it checks any provider's). `Debug` names which are there, not what they
/// are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    /// The access token (required).
    pub access_token: String,
    /// The ID token, if any.
    pub id_token: Option<String>,
    /// The refresh token, if any: without one the session ends when the access token does.
    pub refresh_token: Option<String>,
    /// The access token's lifetime in seconds from now, if known (else read from its `exp`).
    pub expires_in: Option<u64>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What a subscriber hears ([`Session::subscribe`](super::Session::subscribe)): the JavaScript
/// `Session`'s events, one variant each. Serialised (serde, `serde-wasm-bindgen`'s `to_value`)
/// it is the very object a JavaScript listener gets: `{type: "refreshed", expiresAt}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SessionEvent {
    /// Signed in (password, redirect, or tokens handed in).
    #[serde(rename_all = "camelCase")]
    SignedIn {
        /// Until when the new access token is valid, on the local clock (ms).
        expires_at: Millis,
    },
    /// The tokens were refreshed (here or in another tab).
    #[serde(rename_all = "camelCase")]
    Refreshed {
        /// Until when the new access token is valid, on the local clock (ms).
        expires_at: Millis,
    },
    /// A refresh was throttled; the next attempt goes no earlier than `retry_at`.
    #[serde(rename_all = "camelCase")]
    Throttled {
        /// The next attempt's earliest moment (ms since the epoch).
        retry_at: Millis,
    },
    /// A refresh failed for another passing reason; next attempt no earlier than `retry_at`.
    #[serde(rename_all = "camelCase")]
    RetryScheduled {
        /// The next attempt's earliest moment (ms since the epoch).
        retry_at: Millis,
    },
    /// The session ended: the user must sign in again. `reason` is `"refreshTokenDead"`,
    /// `"noRefreshToken"` or `"expiredElsewhere"`, as [`LoginReason`] names them.
    Expired {
        /// Why, as the JavaScript event names it.
        reason: &'static str,
    },
    /// Signed out (here or in another tab).
    SignedOut,
    /// A stored record could not be read and was discarded.
    StorageDiscarded {
        /// What was wrong with it.
        detail: String,
    },
    /// A token's signature did not check out and it was set aside (only with signature checks,
    /// which this driver does not turn on yet).
    TokenRejected {
        /// Why.
        detail: String,
    },
    /// Web storage failed, or holds a newer version's record, which is left alone: the session
    /// keeps its tokens in memory meanwhile.
    StorageUnavailable {
        /// Why.
        detail: String,
    },
    /// [`Session::fetch`](super::Session::fetch) sent a request without the token because its
    /// origin is not allowed ([`Config::allow_origin`](super::Config::allow_origin)); told once
    /// per origin.
    TokenWithheld {
        /// The origin the request went to.
        origin: String,
    },
    /// The [`Snapshot`](super::Snapshot) changed without another event saying so.
    Change,
}

impl SessionEvent {
    /// The event an engine [`Event`] is for the app.
    pub(crate) fn from_engine(event: &Event) -> SessionEvent {
        match event {
            Event::SignedIn { expires_at } => SessionEvent::SignedIn {
                expires_at: *expires_at,
            },
            Event::Refreshed { expires_at } => SessionEvent::Refreshed {
                expires_at: *expires_at,
            },
            Event::Throttled { retry_at } => SessionEvent::Throttled {
                retry_at: *retry_at,
            },
            Event::RetryScheduled { retry_at } => SessionEvent::RetryScheduled {
                retry_at: *retry_at,
            },
            Event::Expired { reason } => SessionEvent::Expired {
                reason: reason_name(reason),
            },
            Event::SignedOut => SessionEvent::SignedOut,
            Event::StorageDiscarded { error } => {
                let mut detail = String::new();
                error.describe(&mut detail);
                SessionEvent::StorageDiscarded { detail }
            }
            Event::TokenRejected { error } => {
                let mut detail = String::new();
                error.describe(&mut detail);
                SessionEvent::TokenRejected { detail }
            }
            Event::StorageUnavailable { error } => {
                let mut detail = String::new();
                error.describe(&mut detail);
                SessionEvent::StorageUnavailable { detail }
            }
        }
    }

    /// The event as the JavaScript object a listener of the JavaScript `Session` gets.
    pub fn to_js(&self) -> JsValue {
        // `None` as `null`, as the JavaScript object has it (serde-wasm-bindgen's default is
        // `undefined`).
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
        self.serialize(&serializer).unwrap_or(JsValue::NULL)
    }
}

/// The login reason's name, as [`SessionEvent::Expired`] and the JavaScript `onLoginRequired`
/// give it.
pub fn login_reason_name(reason: &LoginReason) -> &'static str {
    reason_name(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::error::SessionError as EngineError;
    use crate::engine::tokens::StorageError;

    #[test]
    fn secrets_are_not_in_debug_output() {
        let token = AccessToken(String::from("eyJhbGciOi.secret-access.sig"));
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
        let tokens = Tokens {
            access_token: String::from("secret-access"),
            id_token: Some(String::from("secret-id")),
            refresh_token: Some(String::from("secret-refresh")),
            expires_in: Some(3600),
        };
        let text = format!("{tokens:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("expires_in: Some(3600)"), "{text}");
        assert!(
            text.contains("refresh_token: Some(\"<redacted>\")"),
            "{text}"
        );
        let none = format!("{:?}", Tokens::default());
        assert!(none.contains("id_token: None"), "{none}");
    }

    #[test]
    fn every_engine_error_keeps_its_code_retry_moment_and_message() {
        let cases = [
            (EngineError::Throttled { retry_at: 7 }, "THROTTLED", Some(7)),
            (
                EngineError::Unavailable { retry_at: Some(9) },
                "UNAVAILABLE",
                Some(9),
            ),
            (
                EngineError::Unavailable { retry_at: None },
                "UNAVAILABLE",
                None,
            ),
            (EngineError::SessionExpired, "SESSION_EXPIRED", None),
            (EngineError::NotSignedIn, "NOT_SIGNED_IN", None),
            (
                EngineError::BadConfig {
                    detail: String::from("x"),
                },
                "BAD_CONFIG",
                None,
            ),
            (
                EngineError::BadResponse {
                    detail: String::from("MalformedBody"),
                },
                "BAD_RESPONSE",
                None,
            ),
        ];
        for (engine, code, retry_at) in cases {
            let e = SessionError::from(&engine);
            assert_eq!(e.code(), code, "{engine:?}");
            assert_eq!(e.code(), engine.code().as_str());
            assert_eq!(e.retry_at(), retry_at, "{engine:?}");
            assert_eq!(e.message(), engine.to_string(), "one wording: the engine's");
            assert_eq!(e.to_string(), format!("{code}: {engine}"));
        }
    }

    #[test]
    fn a_sign_in_failure_keeps_the_providers_error_name() {
        let e = SessionError::from(AppError {
            code: ErrorCode::NotSignedIn,
            retry_at: None,
            message: String::from("Incorrect username or password."),
            provider_code: Some(String::from("NotAuthorizedException")),
        });
        assert_eq!(e.code(), "NOT_SIGNED_IN");
        assert_eq!(e.provider_code(), Some("NotAuthorizedException"));
        assert_eq!(SessionError::bad_config("x").provider_code(), None);
    }

    #[test]
    fn engine_events_become_the_javascript_events() {
        assert_eq!(
            SessionEvent::from_engine(&Event::Refreshed { expires_at: 5 }),
            SessionEvent::Refreshed { expires_at: 5 }
        );
        assert_eq!(
            SessionEvent::from_engine(&Event::Expired {
                reason: LoginReason::RefreshTokenDead {
                    code: String::from("NotAuthorizedException")
                }
            }),
            SessionEvent::Expired {
                reason: "refreshTokenDead"
            }
        );
        let discarded = SessionEvent::from_engine(&Event::StorageDiscarded {
            error: StorageError::UnknownVersion,
        });
        assert!(
            matches!(&discarded, SessionEvent::StorageDiscarded { detail } if !detail.is_empty()),
            "{discarded:?}"
        );
    }
}
