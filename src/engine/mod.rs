//! The sans-IO core: everything cognito-session decides, with no I/O.
//!
//! Contract: deterministic. Nothing in this module reads a clock, draws randomness, sleeps,
//! spawns, or touches the network, storage or the page. Time is a [`Millis`] argument, randomness
//! comes from a seeded [`rng::Rng`] the caller owns, and every input is untrusted bytes that
//! yield a value or a typed error, never a panic. Nothing here imports a browser binding
//! crate.
//!
//! Map:
//! - [`machine`]: the session state machine (events in, actions out) with single-flight refresh.
//! - [`tokens`]: the token set, its expiry under clock skew, the jittered proactive refresh moment.
//! - [`backoff`]: when to retry (jittered backoff proportional to how long failures have lasted),
//!   the retry budget, `Retry-After`.
//! - [`config`]: what a session is configured with, and the token rules each provider calls for.
//! - [`error`]: the errors the app sees ([`error::SessionError`], [`error::AppError`]), worded once.
//! - [`classify`]: provider failures sorted into throttled / server / network / dead credential /
//!   caller bug / bad response.
//! - [`http`]: the request the driver sends and the parts of the answer the parsers read.
//! - [`protocol`]: request builders and response parsers for Cognito and OAuth2 token endpoints.
//! - [`redirect`]: sign-in through the provider's login page (authorization code with PKCE).
//! - [`sign_in`]: signing in with a password or through the login page, request to tokens.
//! - [`challenge`]: Cognito's sign-in challenges: reading one, and the answers the session knows.
//! - [`sign_out`]: signing out at the provider: revocation, global sign-out, the logout page.
//! - [`jwt`], [`json`], [`base64url`]: defensive decoders for what those protocols carry.
//! - [`retry`]: the retry books: failure streak, shared not-before moment, budget, last failure.
//! - [`rng`]: the small seeded random source the state machine draws jitter from.
//! - [`tabs`]: the messages the tabs of one session send each other, and their text form.
//! - [`verify`]: token signatures: the `alg` allow-list, key selection, when the key set is
//!   fetched.
//! - [`text`]: splitting and trimming at ASCII delimiters, byte by byte.

pub mod backoff;
pub mod base64url;
pub mod challenge;
pub mod classify;
pub mod config;
pub mod error;
pub mod http;
pub mod json;
pub mod jwt;
pub mod machine;
pub mod protocol;
pub mod redirect;
pub mod retry;
pub mod rng;
pub mod sign_in;
pub mod sign_out;
pub mod tabs;
pub mod text;
pub mod tokens;
pub mod verify;

/// A moment or a duration in milliseconds. Moments are milliseconds since the Unix epoch on the
/// local clock (the browser's `Date.now()`); the core never assumes that clock agrees with the
/// provider's.
pub type Millis = u64;
