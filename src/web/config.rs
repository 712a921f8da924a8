//! What a Rust app configures a [`Session`](super::Session) with: [`Config`], a builder over the
//! same options as the JavaScript `new Session({...})`, and checked the same way when the
//! session is made (`BAD_CONFIG`, naming the field). The storage key it derives is the
//! JavaScript shell's, so a Rust tab and a JavaScript tab of one app share one session.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::engine::config::ProviderOptions;
use crate::engine::machine::LoginReason;

use super::error::SessionError;

/// Where the session keeps its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// `sessionStorage` (the default): this tab only; survives reloads.
    #[default]
    Session,
    /// `localStorage`: shared by every tab of the origin, which then refresh under one Web
    /// Lock and follow each other through `storage` events and a `BroadcastChannel`.
    Local,
    /// Memory only: gone on reload.
    Memory,
}

/// Who issues the tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// An Amazon Cognito user pool, through its API (password sign-in, refresh).
    Cognito {
        /// The user pool id, `<region>_<id>`.
        user_pool_id: String,
        /// The Cognito API URL instead of the pool region's (an emulator, a proxy).
        endpoint: Option<String>,
        /// The app client uses refresh-token rotation (`GetTokensFromRefreshToken`).
        rotation: bool,
        /// Cognito's managed login `/logout` page, for `sign_out` with `redirect`.
        logout_endpoint: Option<String>,
    },
    /// An OAuth2 / OpenID Connect provider's token endpoint (also Cognito's `/oauth2/token`).
    OAuth2 {
        /// Where tokens are refreshed and codes traded.
        token_endpoint: String,
        /// The issuer every JWT's `iss` must name, when given.
        issuer: Option<String>,
        /// The login page, for [`Session::sign_in`](super::Session::sign_in) (PKCE).
        authorization_endpoint: Option<String>,
        /// RFC 7009 revocation, for `sign_out` with `revoke`.
        revocation_endpoint: Option<String>,
        /// OpenID Connect `end_session_endpoint`, for `sign_out` with `redirect`.
        end_session_endpoint: Option<String>,
    },
}

/// What happens when the session needs the user to sign in again (a dead refresh token). The
/// engine asks at most once per sign-in.
#[derive(Clone, Default)]
pub enum OnLoginRequired {
    /// Nothing: the app watches for [`SessionEvent::Expired`](super::SessionEvent::Expired).
    #[default]
    Nothing,
    /// Send the browser to this URL (absolute, or relative to the page).
    Navigate(String),
    /// Call this with the reason.
    Callback(Rc<dyn Fn(&LoginReason)>),
}

impl fmt::Debug for OnLoginRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnLoginRequired::Nothing => f.write_str("Nothing"),
            OnLoginRequired::Navigate(url) => f.debug_tuple("Navigate").field(url).finish(),
            OnLoginRequired::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

/// A session's configuration: start with [`Config::cognito`] or [`Config::oauth2`], then set
/// what differs from the defaults.
///
/// ```no_run
/// use cognito_session::web::{Config, Storage};
///
/// let config = Config::cognito("eu-west-1_AbC123", "3n4b5urk1ft4fl3mg5e62d9ado")
///     .storage(Storage::Local)
///     .allow_origin("https://api.example.com")
///     .login_url("/login");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The app client id.
    pub client_id: String,
    /// Who issues the tokens.
    pub provider: Provider,
    /// Where the record is kept.
    pub storage: Storage,
    /// Origins besides the page's own that [`Session::fetch`](super::Session::fetch) sends the
    /// token to, exactly (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// What to do when the user must sign in again.
    pub on_login_required: OnLoginRequired,
    /// Where the login page sends the browser back (default: this page, without its query).
    pub redirect_uri: Option<String>,
    /// The scope asked of the login page (default `openid`).
    pub scope: Option<String>,
    /// Where the provider's logout page sends the browser back.
    pub post_logout_redirect_uri: Option<String>,
}

impl Config {
    /// A Cognito user pool's app client (the regional endpoint follows from the pool id).
    pub fn cognito(user_pool_id: impl Into<String>, client_id: impl Into<String>) -> Config {
        Config::new(
            client_id.into(),
            Provider::Cognito {
                user_pool_id: user_pool_id.into(),
                endpoint: None,
                rotation: false,
                logout_endpoint: None,
            },
        )
    }

    /// An OAuth2 / OpenID Connect client refreshing at `token_endpoint`.
    pub fn oauth2(token_endpoint: impl Into<String>, client_id: impl Into<String>) -> Config {
        Config::new(
            client_id.into(),
            Provider::OAuth2 {
                token_endpoint: token_endpoint.into(),
                issuer: None,
                authorization_endpoint: None,
                revocation_endpoint: None,
                end_session_endpoint: None,
            },
        )
    }

    fn new(client_id: String, provider: Provider) -> Config {
        Config {
            client_id,
            provider,
            storage: Storage::default(),
            allowed_origins: Vec::new(),
            on_login_required: OnLoginRequired::Nothing,
            redirect_uri: None,
            scope: None,
            post_logout_redirect_uri: None,
        }
    }

    /// Where the record is kept (default [`Storage::Session`]).
    pub fn storage(mut self, storage: Storage) -> Config {
        self.storage = storage;
        self
    }

    /// Lets [`Session::fetch`](super::Session::fetch) send the token to `origin` too.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Config {
        self.allowed_origins.push(origin.into());
        self
    }

    /// Sends the browser to `url` when the user must sign in again.
    pub fn login_url(mut self, url: impl Into<String>) -> Config {
        self.on_login_required = OnLoginRequired::Navigate(url.into());
        self
    }

    /// Calls `callback` when the user must sign in again (instead of a login URL).
    pub fn on_login_required(mut self, callback: impl Fn(&LoginReason) + 'static) -> Config {
        self.on_login_required = OnLoginRequired::Callback(Rc::new(callback));
        self
    }

    /// Cognito: the API URL instead of the pool region's (an emulator, a proxy).
    pub fn endpoint(mut self, url: impl Into<String>) -> Config {
        if let Provider::Cognito { endpoint, .. } = &mut self.provider {
            *endpoint = Some(url.into());
        }
        self
    }

    /// Cognito: the app client rotates refresh tokens.
    pub fn rotation(mut self, on: bool) -> Config {
        if let Provider::Cognito { rotation, .. } = &mut self.provider {
            *rotation = on;
        }
        self
    }

    /// OAuth2: the issuer every JWT must name.
    pub fn issuer(mut self, url: impl Into<String>) -> Config {
        if let Provider::OAuth2 { issuer, .. } = &mut self.provider {
            *issuer = Some(url.into());
        }
        self
    }

    /// OAuth2: the login page, for [`Session::sign_in`](super::Session::sign_in).
    pub fn authorization_endpoint(mut self, url: impl Into<String>) -> Config {
        if let Provider::OAuth2 {
            authorization_endpoint,
            ..
        } = &mut self.provider
        {
            *authorization_endpoint = Some(url.into());
        }
        self
    }

    /// Where the login page sends the browser back (default: this page).
    pub fn redirect_uri(mut self, url: impl Into<String>) -> Config {
        self.redirect_uri = Some(url.into());
        self
    }

    /// The scope asked of the login page (default `openid`).
    pub fn scope(mut self, scope: impl Into<String>) -> Config {
        self.scope = Some(scope.into());
        self
    }

    /// Cognito: its managed login `/logout` page, for `sign_out_with` with `redirect` (needs
    /// [`Config::post_logout_redirect_uri`]).
    pub fn logout_endpoint(mut self, url: impl Into<String>) -> Config {
        if let Provider::Cognito {
            logout_endpoint, ..
        } = &mut self.provider
        {
            *logout_endpoint = Some(url.into());
        }
        self
    }

    /// OAuth2: the RFC 7009 revocation endpoint, for `sign_out_with` with `revoke`.
    pub fn revocation_endpoint(mut self, url: impl Into<String>) -> Config {
        if let Provider::OAuth2 {
            revocation_endpoint,
            ..
        } = &mut self.provider
        {
            *revocation_endpoint = Some(url.into());
        }
        self
    }

    /// OAuth2: the OpenID Connect `end_session_endpoint`, for `sign_out_with` with `redirect`.
    pub fn end_session_endpoint(mut self, url: impl Into<String>) -> Config {
        if let Provider::OAuth2 {
            end_session_endpoint,
            ..
        } = &mut self.provider
        {
            *end_session_endpoint = Some(url.into());
        }
        self
    }

    /// Where the provider's logout page sends the browser back.
    pub fn post_logout_redirect_uri(mut self, url: impl Into<String>) -> Config {
        self.post_logout_redirect_uri = Some(url.into());
        self
    }

    /// Validates the config as the JavaScript shell's `config.js` does, and derives the storage
    /// key: the same key for the same provider and client, whichever driver.
    pub(crate) fn check(&self) -> Result<Checked, SessionError> {
        let bad = |m: &str| Err(SessionError::bad_config(m));
        let id = &self.client_id;
        if id.is_empty()
            || id.len() > 256
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            return bad("clientId must be letters, digits, '-', '_' or '.'");
        }
        let urls = |name: &str, url: &Option<String>| match url {
            Some(u) if !super::http::is_http_url(u) => Err(SessionError::bad_config(format!(
                "{name} must be an absolute http(s) URL"
            ))),
            _ => Ok(()),
        };
        let namespace = match &self.provider {
            Provider::Cognito {
                user_pool_id,
                endpoint,
                logout_endpoint,
                ..
            } => {
                urls("endpoint", endpoint)?;
                urls("logoutEndpoint", logout_endpoint)?;
                if logout_endpoint.is_some() && self.post_logout_redirect_uri.is_none() {
                    return bad("logoutEndpoint needs postLogoutRedirectUri");
                }
                if self.redirect_uri.is_some() || self.scope.is_some() {
                    return bad("redirectUri and scope go with authorizationEndpoint");
                }
                user_pool_id.clone()
            }
            Provider::OAuth2 {
                token_endpoint,
                authorization_endpoint,
                revocation_endpoint,
                end_session_endpoint,
                ..
            } => {
                urls("tokenEndpoint", &Some(token_endpoint.clone()))?;
                urls("authorizationEndpoint", authorization_endpoint)?;
                urls("revocationEndpoint", revocation_endpoint)?;
                urls("endSessionEndpoint", end_session_endpoint)?;
                if authorization_endpoint.is_none()
                    && (self.redirect_uri.is_some() || self.scope.is_some())
                {
                    return bad("redirectUri and scope go with authorizationEndpoint");
                }
                token_endpoint.clone()
            }
        };
        urls("redirectUri", &self.redirect_uri)?;
        urls("postLogoutRedirectUri", &self.post_logout_redirect_uri)?;
        let scope = self.scope.clone().unwrap_or_else(|| String::from("openid"));
        let scope_ok = !scope.is_empty()
            && scope.split(' ').all(|t| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
            });
        if !scope_ok {
            return bad("scope must be scope names, one space apart");
        }
        let mut allowed_origins = Vec::new();
        for text in &self.allowed_origins {
            match super::http::parse_origin(text) {
                Some(origin) => allowed_origins.push(origin),
                None => {
                    return Err(SessionError::bad_config(format!(
                    "allowedOrigins: not an origin (scheme://host[:port], no path or wildcard): {text}"
                )))
                }
            }
        }
        if let OnLoginRequired::Navigate(url) = &self.on_login_required {
            if !super::http::is_http_url_on_page(url) {
                return bad("loginUrl must be a non-empty http(s) or relative URL");
            }
        }
        let key = format!("cognito-session:{namespace}:{id}");
        Ok(Checked {
            pending_key: format!("{key}:signIn"),
            key,
            allowed_origins,
            scope,
        })
    }

    /// The engine's view of the provider options (empty: not given).
    pub(crate) fn provider_options(&self) -> ProviderOptions<'_> {
        fn or_empty(s: &Option<String>) -> &str {
            s.as_deref().unwrap_or("")
        }
        match &self.provider {
            Provider::Cognito {
                user_pool_id,
                endpoint,
                rotation,
                ..
            } => ProviderOptions {
                client_id: &self.client_id,
                user_pool_id,
                endpoint: or_empty(endpoint),
                rotation: *rotation,
                ..ProviderOptions::default()
            },
            Provider::OAuth2 {
                token_endpoint,
                issuer,
                ..
            } => ProviderOptions {
                client_id: &self.client_id,
                token_endpoint,
                issuer: or_empty(issuer),
                ..ProviderOptions::default()
            },
        }
    }
}

/// What [`Config::check`] derives.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// The storage key (and `BroadcastChannel` and Web Lock name): the JavaScript shell's.
    pub key: String,
    /// The tab's redirect sign-in record's key in `sessionStorage`.
    pub pending_key: String,
    /// Normalised origins.
    pub allowed_origins: Vec<String>,
    pub scope: String,
}
