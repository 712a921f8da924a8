//! The browser shell: runs the sans-IO [`core`](crate::core) inside a page and exposes it to
//! JavaScript as the `Session` class.
//!
//! It turns browser happenings into core events and performs the core's actions, holding no
//! policy of its own (see `driver` for the loop). Code map:
//!
//! - `api`: the exported `Session` class (camelCase via `js_name`);
//! - `driver`: the loop: `handle_*`, drain `poll_action`, re-arm one timer from `poll_timeout`;
//! - `config`: reads and validates the JS config object (`BAD_CONFIG` errors);
//! - `errors`: JS `Error` objects with a stable `code`;
//! - `events`: the event and snapshot objects listeners and `getSnapshot()` see;
//! - `http`: `fetch` for the core's refresh and sign-in requests;
//! - `store`: memory / `sessionStorage` / `localStorage`, falling back to memory on failure;
//! - `tabs`: Web Locks and BroadcastChannel for `localStorage` sessions;
//! - `origin`: which URLs `Session.fetch` may attach a token to;
//! - `promise`: continuations on JS promises (no async executor in the `.wasm`);
//! - `timer`: the one cancellable `setTimeout`;
//! - `env`: the only reader of `Date.now()` and `crypto.getRandomValues`.

mod api;
mod config;
mod driver;
mod env;
mod errors;
mod events;
mod http;
pub mod origin;
mod promise;
mod store;
mod tabs;
mod timer;

pub use api::JsSession;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** What `error.code` holds on every error the session throws or rejects with. */
export type SessionErrorCode =
  | "THROTTLED"        // the provider is throttling refreshes; see retryAt
  | "UNAVAILABLE"      // provider or network failing, or the deadline passed; retryAt if known
  | "SESSION_EXPIRED"  // the refresh token is dead: sign in again
  | "NOT_SIGNED_IN"    // nobody is signed in (or sign-in credentials were refused)
  | "BAD_CONFIG"       // a bug or misconfiguration in the app
  | "BAD_RESPONSE";    // the provider's answer was unusable

export interface SessionError extends Error {
  code: SessionErrorCode;
  /** When trying again can help, in ms since the epoch. */
  retryAt?: number;
  /** The provider's own error name (sign-in errors), e.g. "NotAuthorizedException". */
  providerCode?: string;
}

export type LoginReason = "refreshTokenDead" | "noRefreshToken" | "expiredElsewhere";

export interface SessionConfig {
  /** Cognito user pool id, e.g. "us-east-1_AbC123" (the region is read from it). */
  userPoolId?: string;
  /** The app client id (a public client: no secret). */
  clientId: string;
  /** Must match the region in userPoolId when given. */
  region?: string;
  /** Cognito API endpoint override (emulator, proxy). */
  endpoint?: string;
  /** OAuth2 / OIDC token endpoint: use the refresh_token grant instead of the Cognito API. */
  tokenEndpoint?: string;
  /** Cognito app clients with refresh-token rotation: refresh with GetTokensFromRefreshToken. */
  rotation?: boolean;
  /** "session" (default): survives reloads, one tab. "local": shared by all tabs, which
   * coordinate refreshes; readable by any script on the origin. "memory": gone on reload. */
  storage?: "session" | "local" | "memory";
  /** Where to send the browser when the session expires (unless onLoginRequired is given). */
  loginUrl?: string;
  /** Called once when the user must sign in again. */
  onLoginRequired?: (reason: LoginReason) => void;
  /** Origins besides the page's own that Session.fetch attaches the token to. */
  allowedOrigins?: string[];
  /** Refused: a client secret must never reach a browser. */
  clientSecret?: never;
}

export type SessionEvent =
  | { type: "signedIn"; expiresAt: number }
  | { type: "refreshed"; expiresAt: number }
  | { type: "throttled"; retryAt: number }
  | { type: "retryScheduled"; retryAt: number }
  | { type: "expired"; reason: LoginReason }
  | { type: "signedOut" }
  | { type: "storageDiscarded"; detail: string }
  | { type: "storageUnavailable"; detail: string }
  | { type: "change" };

export interface SessionSnapshot {
  readonly signedIn: boolean;
  readonly expiresAt: number | null;
  readonly refreshing: boolean;
  readonly retryAt: number | null;
  readonly expired: boolean;
}

export interface TokenOptions {
  /** How long the caller waits at most, in ms (default 10000). */
  deadlineMs?: number;
}

export interface Tokens {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  /** Seconds the access token stays valid: needed only for opaque (non-JWT) OAuth2 tokens. */
  expiresIn?: number;
}

export type SignInResult =
  | { status: "signedIn" }
  | { status: "challenge"; challengeName: string; session?: string };
"#;

/// The `.wasm`'s allocator: talc instead of std's dlmalloc, about 7 KB smaller (the numbers are
/// in Cargo.toml). The shell is wasm32-only, so native builds keep the system allocator.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen]
extern "C" {
    /// `globalThis.window`: `undefined` outside a page (a worker), hence the `Option`.
    #[wasm_bindgen(thread_local_v2, js_namespace = globalThis, js_name = window)]
    static WINDOW: Option<web_sys::Window>;
}

/// The page's `window`, `None` outside a page. (One import, where `web_sys::window()` probes
/// four globals through `js_sys::global`.)
pub(crate) fn window() -> Option<web_sys::Window> {
    WINDOW.with(Clone::clone)
}
