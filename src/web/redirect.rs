//! Sign-in through the provider's login page, the browser's half (as the JavaScript shell's
//! `redirect.js`): drawing the PKCE verifier, `state` and `nonce` with WebCrypto (web-sys
//! `Crypto`, `SubtleCrypto` for the S256 challenge), writing them as base64url without padding
//! (the `base64` crate), keeping the tab's sign-in record in `sessionStorage` across the redirect
//! (under the JavaScript shell's key, so either driver completes the other's sign-in), and
//! reading the return from the address bar (web-sys `Location`, `Url`, `History`). What the URL
//! and the code exchange are, and whether a return is this tab's, is the engine's call
//! ([`crate::engine::sign_in`]).

use alloc::string::String;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::engine::redirect::Callback;
use crate::engine::sign_in::Secrets;

use super::error::SessionError;

/// The query parameters a provider's redirect back carries (RFC 6749 §4.1.2, RFC 9207, OIDC
/// session management): removed from the address bar once read, so a reload or a shared link
/// does not carry the code.
const CALLBACK_PARAMS: [&str; 7] = [
    "code",
    "state",
    "error",
    "error_description",
    "error_uri",
    "iss",
    "session_state",
];

/// Fills `bytes` from WebCrypto.
pub(crate) fn random_bytes(bytes: &mut [u8]) -> Result<(), SessionError> {
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or_else(no_crypto)?;
    crypto
        .get_random_values_with_u8_array(bytes)
        .map(|_| ())
        .map_err(|_| no_crypto())
}

fn no_crypto() -> SessionError {
    SessionError::bad_config("signIn needs WebCrypto: an https or localhost page")
}

/// 32 random bytes as base64url (43 characters): a PKCE verifier, state or nonce.
fn random_secret() -> Result<String, SessionError> {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The PKCE S256 challenge of `verifier`: its SHA-256 (WebCrypto), base64url.
async fn challenge_of(verifier: &str) -> Result<String, SessionError> {
    let subtle = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or_else(no_crypto)?
        .subtle();
    let digest = subtle
        .digest_with_str_and_u8_array("SHA-256", verifier.as_bytes())
        .map_err(|_| no_crypto())?;
    let digest = JsFuture::from(digest).await.map_err(|_| no_crypto())?;
    let bytes = Uint8Array::new(&ArrayBuffer::from(digest)).to_vec();
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The secrets of one redirect sign-in, owned.
pub(crate) struct Drawn {
    state: String,
    verifier: String,
    challenge: String,
    nonce: String,
}

impl Drawn {
    /// Draws them.
    pub async fn new() -> Result<Drawn, SessionError> {
        let verifier = random_secret()?;
        Ok(Drawn {
            state: random_secret()?,
            challenge: challenge_of(&verifier).await?,
            verifier,
            nonce: random_secret()?,
        })
    }

    /// As the engine takes them.
    pub fn secrets(&self) -> Secrets<'_> {
        Secrets {
            state: &self.state,
            verifier: &self.verifier,
            challenge: &self.challenge,
            nonce: &self.nonce,
        }
    }
}

/// `sessionStorage`: where a redirect sign-in's record waits for the browser to come back.
fn tab_storage() -> Result<web_sys::Storage, SessionError> {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .ok_or_else(|| {
            SessionError::bad_config("sign-in through the login page needs sessionStorage")
        })
}

/// Keeps the tab's sign-in record under `key`.
pub(crate) fn keep_record(key: &str, record: &str) -> Result<(), SessionError> {
    tab_storage()?.set_item(key, record).map_err(|_| {
        SessionError::bad_config("sign-in through the login page needs sessionStorage")
    })
}

/// Removes the tab's sign-in record (storage refusing: it stays, its state matching nothing).
pub(crate) fn drop_record(key: &str) {
    if let Ok(area) = tab_storage() {
        let _ = area.remove_item(key);
    }
}

/// `endpoint` with `params` added to its query.
pub(crate) fn with_params(endpoint: &str, params: &[(&str, &str)]) -> Result<String, SessionError> {
    if params.is_empty() {
        return Ok(String::from(endpoint));
    }
    let url = web_sys::Url::new(endpoint)
        .map_err(|_| SessionError::bad_config("authorizationEndpoint must be a URL"))?;
    let query = url.search_params();
    for (name, value) in params {
        query.append(name, value);
    }
    Ok(url.href())
}

/// This page's address without its query, the default redirect URI.
pub(crate) fn this_page() -> String {
    web_sys::window()
        .map(|w| {
            let l = w.location();
            let mut out = l.origin().unwrap_or_default();
            out.push_str(&l.pathname().unwrap_or_default());
            out
        })
        .unwrap_or_default()
}

/// The return's parameters read from the address bar.
pub(crate) struct Return {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    description: Option<String>,
    iss: Option<String>,
    /// The tab's sign-in record, if any.
    pub record: Option<String>,
}

impl Return {
    /// This page load as a return from the provider, or `None` when it is none (no `state` with
    /// a `code` or an `error`). The parameters leave the address bar.
    pub fn read(pending_key: &str) -> Option<Return> {
        let window = web_sys::window()?;
        let url = web_sys::Url::new(&window.location().href().ok()?).ok()?;
        let q = url.search_params();
        let out = Return {
            code: q.get("code"),
            state: q.get("state"),
            error: q.get("error"),
            description: q.get("error_description"),
            iss: q.get("iss"),
            record: tab_storage()
                .ok()
                .and_then(|area| area.get_item(pending_key).ok().flatten()),
        };
        if out.state.is_none() || (out.code.is_none() && out.error.is_none()) {
            return None;
        }
        for name in CALLBACK_PARAMS {
            q.delete(name);
        }
        if let Ok(history) = window.history() {
            let state = history.state().unwrap_or(JsValue::NULL);
            // Refused: the address bar keeps a code whose record is used up.
            let _ = history.replace_state_with_url(&state, "", Some(&url.href()));
        }
        Some(out)
    }

    /// As the engine takes it.
    pub fn callback(&self) -> Callback<'_> {
        fn given(s: &Option<String>) -> Option<&str> {
            s.as_deref().filter(|s| !s.is_empty())
        }
        Callback {
            code: self.code.as_deref(),
            state: self.state.as_deref(),
            error: given(&self.error),
            error_description: given(&self.description),
            iss: given(&self.iss),
        }
    }
}
