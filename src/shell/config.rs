//! Reads and validates the plain JS object given to `new Session(config)`.
//!
//! Read with `Reflect` rather than serde (a fraction of the .wasm size for a dozen fields).
//! Every bad value is refused with a `BAD_CONFIG` error naming the field, and unknown fields are
//! refused too: a typo such as `alowedOrigins` would otherwise silently keep tokens from an API.

use super::errors::bad_config;
use super::origin;
use crate::core::protocol::Provider;
use crate::core::session::Config;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// Where the session keeps its tokens between page loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageMode {
    /// Nowhere: gone on reload. Each tab is its own session.
    Memory,
    /// `sessionStorage` (default): survives a reload, stays in its tab.
    Session,
    /// `localStorage`: shared by every tab of the origin, which then coordinate refreshes.
    Local,
}

/// The validated configuration.
pub struct ShellConfig {
    pub core: Config,
    pub storage: StorageMode,
    /// Namespaces storage, the broadcast channel and the lock: `cognito-session:<pool or token
    /// endpoint>:<client id>`.
    pub key: String,
    pub login_url: Option<String>,
    pub on_login_required: Option<Function>,
    /// Origins (`scheme://host[:port]`) besides the page's own that `fetch` attaches tokens to.
    pub allowed_origins: Vec<String>,
}

const KNOWN: [&str; 11] = [
    "userPoolId",
    "clientId",
    "endpoint",
    "tokenEndpoint",
    "rotation",
    "storage",
    "loginUrl",
    "onLoginRequired",
    "allowedOrigins",
    "clientSecret",
    "region",
];

/// Validates `value` (the argument of `new Session`).
pub fn read(value: &JsValue) -> Result<ShellConfig, JsValue> {
    if !value.is_object() || value.is_function() {
        return Err(bad_config("config must be an object"));
    }
    let obj: &Object = value.unchecked_ref();
    for key in Object::keys(obj).iter() {
        let known = key.as_string().is_some_and(|k| KNOWN.contains(&k.as_str()));
        if !known {
            let mut msg = String::from("unknown config field ");
            msg.push_str(&key.as_string().unwrap_or_default());
            return Err(bad_config(&msg));
        }
    }
    if !get(obj, "clientSecret")?.is_undefined() {
        return Err(bad_config(
            "clientSecret: never ship a client secret to a browser; use an app client without a secret",
        ));
    }
    let client_id = string(obj, "clientId")?.ok_or_else(|| bad_config("clientId is required"))?;
    if !plain_id(&client_id) {
        return Err(bad_config(
            "clientId must be letters, digits, '-', '_' or '.'",
        ));
    }
    let pool = string(obj, "userPoolId")?;
    let region = string(obj, "region")?;
    let endpoint = string(obj, "endpoint")?;
    let token_endpoint = string(obj, "tokenEndpoint")?;
    let rotation = boolean(obj, "rotation")?;

    let (provider, namespace) = match (token_endpoint, pool) {
        (Some(token_endpoint), _) => {
            if endpoint.is_some() || rotation.is_some() || region.is_some() {
                return Err(bad_config(
                    "tokenEndpoint (OAuth2) cannot be combined with endpoint, region or rotation (Cognito API)",
                ));
            }
            check_url("tokenEndpoint", &token_endpoint)?;
            let provider = Provider::OAuth2 {
                token_endpoint: token_endpoint.clone(),
                client_id: client_id.clone(),
            };
            (provider, token_endpoint)
        }
        (None, Some(pool)) => {
            let derived = Provider::cognito_endpoint_for_pool(&pool)
                .map_err(|e| bad_config(&prefixed("userPoolId: ", e.message())))?;
            if let Some(region) = &region {
                if !pool.starts_with(region.as_str())
                    || pool.as_bytes().get(region.len()) != Some(&b'_')
                {
                    return Err(bad_config("region does not match the region in userPoolId"));
                }
            }
            let endpoint = match endpoint {
                Some(url) => {
                    check_url("endpoint", &url)?;
                    url
                }
                None => derived,
            };
            let provider = Provider::Cognito {
                endpoint,
                client_id: client_id.clone(),
                rotation: rotation.unwrap_or(false),
            };
            (provider, pool)
        }
        (None, None) => {
            return Err(bad_config(
                "userPoolId (Cognito) or tokenEndpoint (OAuth2) is required",
            ))
        }
    };

    let oauth = matches!(provider, Provider::OAuth2 { .. });
    let mut core = Config::new(provider);
    // Cognito names the app client in every token. OAuth2 access tokens name the API they are
    // for in `aud` (RFC 9068), so the client check would refuse good tokens there; and some
    // OAuth2 providers issue opaque access tokens, while Cognito's are always JWTs.
    core.rules.client_id = (!oauth).then(|| client_id.clone());
    core.rules.allow_opaque_access = oauth;
    core.rules.require_token_use = !oauth;

    let storage = match string(obj, "storage")?.as_deref() {
        None | Some("session") => StorageMode::Session,
        Some("local") => StorageMode::Local,
        Some("memory") => StorageMode::Memory,
        Some(_) => {
            return Err(bad_config(
                "storage must be \"session\", \"local\" or \"memory\"",
            ))
        }
    };

    let login_url = string(obj, "loginUrl")?;
    if login_url
        .as_deref()
        .is_some_and(|u| u.is_empty() || dangerous_scheme(u))
    {
        return Err(bad_config(
            "loginUrl must be a non-empty http(s) or relative URL",
        ));
    }
    let on_login_required = match get(obj, "onLoginRequired")? {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(
            v.dyn_into::<Function>()
                .map_err(|_| bad_config("onLoginRequired must be a function"))?,
        ),
    };

    let mut allowed_origins = Vec::new();
    let list = get(obj, "allowedOrigins")?;
    if !list.is_undefined() && !list.is_null() {
        if !Array::is_array(&list) {
            return Err(bad_config("allowedOrigins must be an array of origins"));
        }
        for item in Array::from(&list).iter() {
            let text = item
                .as_string()
                .ok_or_else(|| bad_config("allowedOrigins must hold strings"))?;
            let normalized = origin::parse_origin(&text).ok_or_else(|| {
                bad_config(&prefixed(
                    "allowedOrigins: not an origin (scheme://host[:port], no path or wildcard): ",
                    &text,
                ))
            })?;
            allowed_origins.push(normalized);
        }
    }

    let mut key = String::from("cognito-session:");
    key.push_str(&namespace);
    key.push(':');
    key.push_str(&client_id);
    Ok(ShellConfig {
        core,
        storage,
        key,
        login_url,
        on_login_required,
        allowed_origins,
    })
}

fn prefixed(prefix: &str, text: &str) -> String {
    let mut s = String::from(prefix);
    s.push_str(text);
    s
}

fn get(obj: &Object, name: &str) -> Result<JsValue, JsValue> {
    // A getter that throws is a bad config, not a crash.
    Reflect::get(obj, &JsValue::from_str(name)).map_err(|_| bad_config(name))
}

/// An optional string field: absent/`undefined`/`null` is `None`; another type or `""` is an
/// error.
fn string(obj: &Object, name: &str) -> Result<Option<String>, JsValue> {
    let value = get(obj, name)?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_string() {
        Some(s) if !s.is_empty() => Ok(Some(s)),
        _ => Err(bad_config(&prefixed(name, " must be a non-empty string"))),
    }
}

fn boolean(obj: &Object, name: &str) -> Result<Option<bool>, JsValue> {
    let value = get(obj, name)?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_bool()
        .map(Some)
        .ok_or_else(|| bad_config(&prefixed(name, " must be true or false")))
}

/// Cognito app client ids are alphanumeric; OAuth2 client ids vary, but anything outside this
/// set would also corrupt storage keys and log lines.
fn plain_id(id: &str) -> bool {
    id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// An absolute `http:` or `https:` URL.
fn check_url(name: &str, url: &str) -> Result<(), JsValue> {
    let ok = web_sys::Url::new(url)
        .map(|u| matches!(u.protocol().as_str(), "http:" | "https:"))
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(bad_config(&prefixed(
            name,
            " must be an absolute http(s) URL",
        )))
    }
}

/// `javascript:`, `data:` and similar in a login URL would run code on redirect. The URL is
/// resolved as the browser would (against the page), so spaces, tabs or case tricks do not hide
/// the scheme.
fn dangerous_scheme(url: &str) -> bool {
    let base = super::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_else(|| String::from("http://localhost/"));
    match web_sys::Url::new_with_base(url, &base) {
        Ok(u) => !matches!(u.protocol().as_str(), "http:" | "https:"),
        Err(_) => true,
    }
}
