//! Request builders and response parsers for the token providers the session talks to.
//!
//! Two protocols: the Cognito user-pool API (JSON 1.1: `InitiateAuth` with `REFRESH_TOKEN_AUTH`,
//! `USER_PASSWORD_AUTH` or `USER_SRP_AUTH`, `RespondToAuthChallenge` (challenges are
//! [`challenge`]'s), and `GetTokensFromRefreshToken` for clients with refresh-token rotation),
//! and the OAuth2 / OIDC token endpoint (`grant_type=refresh_token`, form-encoded).
//! Builders produce an [`HttpRequest`] the shell sends as a `POST`; parsers turn the
//! [`HttpResponse`] the shell got back into a [`TokenGrant`] or a classified
//! [`ProviderError`].
//!
//! Parsers trust nothing: a body over [`MAX_BODY`] is refused unread, and HTML, truncated JSON,
//! missing or mistyped fields all become a `BadResponse` error whose code names what was wrong.
//! Tokens are extracted as strings and checked to be non-empty and sendable; decoding the JWTs
//! is the session's job, not this module's.

use alloc::{borrow::ToOwned, string::String, vec};
use core::fmt;

use crate::engine::challenge;
use crate::engine::classify::{self, bad_response, ProviderError};
use crate::engine::error::AppError;
use crate::engine::http::{HttpRequest, HttpResponse, MAX_BODY};
use crate::engine::json::{self, Value};
use crate::engine::text;

/// Where and how the session gets tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// Cognito user-pool API (JSON 1.1). `rotation` → GetTokensFromRefreshToken.
    Cognito {
        /// The API root, `https://cognito-idp.{region}.amazonaws.com/` (see
        /// [`Provider::cognito_endpoint_for_pool`]) or an override (emulator, proxy).
        endpoint: String,
        /// The app client id.
        client_id: String,
        /// Refresh with `GetTokensFromRefreshToken` (app clients with refresh-token rotation,
        /// which refuse `REFRESH_TOKEN_AUTH`) instead of `InitiateAuth`.
        rotation: bool,
    },
    /// An OAuth2 / OIDC token endpoint (refresh_token grant, form-encoded).
    OAuth2 {
        /// The full token endpoint URL, e.g. `https://auth.example.com/oauth2/token`.
        token_endpoint: String,
        /// The public client's id.
        client_id: String,
    },
}

/// The tokens a provider handed out. Strings are as received (not decoded), never empty.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The access token: non-empty visible ASCII, so it can go in an `Authorization` header.
    pub access_token: String,
    /// The ID token, if the provider sent one (non-empty visible ASCII).
    pub id_token: Option<String>,
    /// A new refresh token, if the provider sent one. `None` on a classic Cognito refresh: keep
    /// the old one. With rotation, store this one (the old one dies after the grace period).
    pub refresh_token: Option<String>,
    /// The access token's lifetime in seconds, as the provider stated it.
    pub expires_in: Option<u64>,
}

/// Tokens are secrets: `Debug` shows which are present, not their values.
impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |t: &Option<String>| if t.is_some() { "<redacted>" } else { "None" };
        f.debug_struct("TokenGrant")
            .field("access_token", &"<redacted>")
            .field("id_token", &shown(&self.id_token))
            .field("refresh_token", &shown(&self.refresh_token))
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What a password sign-in produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInAnswer {
    /// Signed in. The grant always carries a refresh token.
    Tokens(TokenGrant),
    /// Cognito wants another step first, named here (`NEW_PASSWORD_REQUIRED`, `SMS_MFA`, ...),
    /// to be answered with `RespondToAuthChallenge` ([`Provider::challenge_response_request`]).
    Challenge(String),
}

/// The provider's logout page, where `signOut({redirect: true})` sends the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogoutPage<'a> {
    /// Its address (OpenID Connect `end_session_endpoint`, or Cognito's `https://<domain>/logout`).
    pub endpoint: &'a str,
    /// Cognito's managed login `/logout` (`client_id`, `logout_uri`), not OpenID Connect's.
    pub cognito: bool,
    /// Where the provider sends the browser back (`post_logout_redirect_uri`, `logout_uri`).
    pub back: Option<&'a str>,
}

/// A configuration that cannot work, found before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// The user pool id is not `<region>_<id>` (for example `us-east-1_AbC123`).
    BadUserPoolId,
    /// The provider cannot do this: password and SRP sign-in and challenges need the Cognito
    /// user-pool API.
    Unsupported,
    /// Sign-in through the provider's login page trades the code at an OAuth2 token endpoint,
    /// which the Cognito user-pool API is not.
    RedirectNeedsTokenEndpoint,
    /// The authorization endpoint has a `#fragment` (RFC 6749 §3.1 forbids one).
    EndpointFragment,
    /// The SRP public value `A` is not 1 to 1024 lowercase hex digits.
    BadSrpA,
    /// Signing out everywhere is Cognito's `GlobalSignOut`, which an OAuth2 provider lacks.
    GlobalNeedsCognito,
    /// Revoking at an OAuth2 provider needs its revocation endpoint (RFC 7009).
    NoRevocationEndpoint,
    /// Going to the provider's logout page needs its address.
    NoLogoutPage,
}

impl ConfigError {
    /// What is wrong, for people (the `Display` text, without the `fmt` machinery).
    pub fn message(&self) -> &'static str {
        match self {
            ConfigError::BadUserPoolId => {
                "userPoolId is not <region>_<id>, such as us-east-1_AbC123"
            }
            ConfigError::Unsupported => {
                "signing in with a password or answering a challenge needs the Cognito user-pool API, not an OAuth2 token endpoint"
            }
            ConfigError::RedirectNeedsTokenEndpoint => "redirect sign-in needs tokenEndpoint",
            ConfigError::EndpointFragment => "authorizationEndpoint must not have a #fragment",
            ConfigError::BadSrpA => "SRP_A must be lowercase hex",
            ConfigError::GlobalNeedsCognito => "signOut({global}) needs userPoolId",
            ConfigError::NoRevocationEndpoint => "signOut({revoke}) needs revocationEndpoint",
            ConfigError::NoLogoutPage => "signOut({redirect}) needs a logout endpoint",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for ConfigError {}

const AMZ_JSON: &str = "application/x-amz-json-1.1";
const FORM: &str = "application/x-www-form-urlencoded";
const INITIATE_AUTH: &str = "AWSCognitoIdentityProviderService.InitiateAuth";
const GET_TOKENS: &str = "AWSCognitoIdentityProviderService.GetTokensFromRefreshToken";
const RESPOND_TO_CHALLENGE: &str = "AWSCognitoIdentityProviderService.RespondToAuthChallenge";
const GLOBAL_SIGN_OUT: &str = "AWSCognitoIdentityProviderService.GlobalSignOut";
const REVOKE_TOKEN: &str = "AWSCognitoIdentityProviderService.RevokeToken";

/// Longest user pool id Cognito issues.
const MAX_POOL_ID: usize = 55;

/// Which members of a token response hold what.
struct Fields {
    access: &'static str,
    id: &'static str,
    refresh: &'static str,
    expires_in: &'static str,
    token_type: &'static str,
}

const COGNITO_FIELDS: Fields = Fields {
    access: "AccessToken",
    id: "IdToken",
    refresh: "RefreshToken",
    expires_in: "ExpiresIn",
    token_type: "TokenType",
};

const OAUTH_FIELDS: Fields = Fields {
    access: "access_token",
    id: "id_token",
    refresh: "refresh_token",
    expires_in: "expires_in",
    token_type: "token_type",
};

impl Provider {
    /// The Cognito API endpoint for a user pool, from the region its id starts with:
    /// `us-east-1_AbC` → `https://cognito-idp.us-east-1.amazonaws.com/` (China regions, `cn-*`,
    /// use `amazonaws.com.cn`).
    ///
    /// ```
    /// use cognito_session::engine::protocol::Provider;
    ///
    /// assert_eq!(
    ///     Provider::cognito_endpoint_for_pool("eu-west-1_AbC123").unwrap(),
    ///     "https://cognito-idp.eu-west-1.amazonaws.com/"
    /// );
    /// assert!(Provider::cognito_endpoint_for_pool("https://evil.example/_x").is_err());
    /// ```
    pub fn cognito_endpoint_for_pool(user_pool_id: &str) -> Result<String, ConfigError> {
        let (region, id) =
            text::split_once(user_pool_id, b'_').ok_or(ConfigError::BadUserPoolId)?;
        if user_pool_id.len() > MAX_POOL_ID
            || !plausible_region(region)
            || id.is_empty()
            || !id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(ConfigError::BadUserPoolId);
        }
        let mut url = String::from("https://cognito-idp.");
        url.push_str(region);
        url.push_str(if region.starts_with("cn-") {
            ".amazonaws.com.cn/"
        } else {
            ".amazonaws.com/"
        });
        Ok(url)
    }

    /// The request that trades `refresh_token` for fresh tokens.
    ///
    /// Cognito: `InitiateAuth` with `REFRESH_TOKEN_AUTH`, or `GetTokensFromRefreshToken` when
    /// `rotation` is on. OAuth2: `grant_type=refresh_token&client_id=..&refresh_token=..`.
    pub fn refresh_request(&self, refresh_token: &str) -> HttpRequest {
        match self {
            Provider::Cognito {
                endpoint,
                client_id,
                rotation: false,
            } => {
                let mut body = client_id_member(client_id);
                body.push_str(
                    ",\"AuthFlow\":\"REFRESH_TOKEN_AUTH\",\"AuthParameters\":{\"REFRESH_TOKEN\":",
                );
                json::write_string(&mut body, refresh_token);
                body.push_str("}}");
                cognito_request(endpoint, INITIATE_AUTH, body)
            }
            Provider::Cognito {
                endpoint,
                client_id,
                rotation: true,
            } => {
                let mut body = client_id_member(client_id);
                body.push_str(",\"RefreshToken\":");
                json::write_string(&mut body, refresh_token);
                body.push('}');
                cognito_request(endpoint, GET_TOKENS, body)
            }
            Provider::OAuth2 {
                token_endpoint,
                client_id,
            } => {
                let mut body = String::from("grant_type=refresh_token");
                push_form_pairs(
                    &mut body,
                    &[("client_id", client_id), ("refresh_token", refresh_token)],
                );
                form_request(token_endpoint, body)
            }
        }
    }

    /// The Cognito `InitiateAuth` request for `USER_PASSWORD_AUTH` sign-in.
    ///
    /// Fails with [`ConfigError::Unsupported`] for an OAuth2 provider, which signs users in
    /// through its own login page instead.
    pub fn password_sign_in_request(
        &self,
        username: &str,
        password: &str,
    ) -> Result<HttpRequest, ConfigError> {
        self.user_sign_in("USER_PASSWORD_AUTH", username, "PASSWORD", password)
    }

    /// The Cognito `InitiateAuth` request that starts a `USER_SRP_AUTH` sign-in with the
    /// client's SRP public value `srp_a` (lowercase hex, as the SRP entry computes it); Cognito
    /// answers with a `PASSWORD_VERIFIER` challenge. `srp_a` that is not 1 to 1024 lowercase hex
    /// digits is refused ([`ConfigError::BadSrpA`]), as is an OAuth2 provider.
    pub fn srp_sign_in_request(
        &self,
        username: &str,
        srp_a: &str,
    ) -> Result<HttpRequest, ConfigError> {
        if srp_a.is_empty()
            || srp_a.len() > 1024
            || !srp_a
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(ConfigError::BadSrpA);
        }
        self.user_sign_in("USER_SRP_AUTH", username, "SRP_A", srp_a)
    }

    /// `InitiateAuth` with `flow` and `AuthParameters` `{USERNAME, <key>: value}`.
    fn user_sign_in(
        &self,
        flow: &str,
        username: &str,
        key: &str,
        value: &str,
    ) -> Result<HttpRequest, ConfigError> {
        let (endpoint, client_id) = self.cognito()?;
        let mut body = client_id_member(client_id);
        body.push_str(",\"AuthFlow\":\"");
        body.push_str(flow);
        body.push_str("\",\"AuthParameters\":{\"USERNAME\":");
        json::write_string(&mut body, username);
        body.push_str(",\"");
        body.push_str(key);
        body.push_str("\":");
        json::write_string(&mut body, value);
        body.push_str("}}");
        Ok(cognito_request(endpoint, INITIATE_AUTH, body))
    }

    /// The Cognito `RespondToAuthChallenge` request that answers challenge `name` of sign-in
    /// `session` with `responses`, the `ChallengeResponses` object as JSON
    /// ([`challenge::response_body`] checks it). `BAD_CONFIG` for an OAuth2 provider, or when
    /// they do not fit.
    pub fn challenge_response_request(
        &self,
        name: &str,
        session: &str,
        responses: &str,
    ) -> Result<HttpRequest, AppError> {
        let (endpoint, client_id) = self.cognito()?;
        let body = challenge::response_body(client_id, name, session, responses)?;
        Ok(cognito_request(endpoint, RESPOND_TO_CHALLENGE, body))
    }

    /// Cognito `GlobalSignOut` with `access_token`, which must be one Cognito still accepts:
    /// every session of the user ends, on every device ([`ConfigError::GlobalNeedsCognito`]
    /// for an OAuth2 provider).
    pub fn global_sign_out_request(&self, access_token: &str) -> Result<HttpRequest, ConfigError> {
        let Provider::Cognito { endpoint, .. } = self else {
            return Err(ConfigError::GlobalNeedsCognito);
        };
        let mut body = String::from("{\"AccessToken\":");
        json::write_string(&mut body, access_token);
        body.push('}');
        Ok(cognito_request(endpoint, GLOBAL_SIGN_OUT, body))
    }

    /// The request that revokes `refresh_token`: Cognito `RevokeToken` (which also revokes the
    /// access tokens issued with it), or RFC 7009 revocation at an OAuth2 provider's
    /// `revocation_endpoint` (`token`, `token_type_hint=refresh_token`, `client_id`;
    /// [`ConfigError::NoRevocationEndpoint`] without one).
    pub fn revoke_request(
        &self,
        refresh_token: &str,
        revocation_endpoint: Option<&str>,
    ) -> Result<HttpRequest, ConfigError> {
        match self {
            Provider::Cognito {
                endpoint,
                client_id,
                ..
            } => {
                let mut body = client_id_member(client_id);
                body.push_str(",\"Token\":");
                json::write_string(&mut body, refresh_token);
                body.push('}');
                Ok(cognito_request(endpoint, REVOKE_TOKEN, body))
            }
            Provider::OAuth2 { client_id, .. } => {
                let endpoint = revocation_endpoint.ok_or(ConfigError::NoRevocationEndpoint)?;
                let mut body = String::from("token_type_hint=refresh_token");
                push_form_pairs(
                    &mut body,
                    &[("token", refresh_token), ("client_id", client_id)],
                );
                Ok(form_request(endpoint, body))
            }
        }
    }

    /// Where the browser goes to sign out at the provider's own login page: `page.endpoint`
    /// with, for OpenID Connect RP-Initiated Logout 1.0, `id_token_hint` (when there is an ID
    /// token), `post_logout_redirect_uri` (when configured) and `client_id`; for Cognito's
    /// managed login `/logout`, `client_id` and `logout_uri`. The endpoint's own query is kept.
    pub fn logout_url(&self, page: &LogoutPage<'_>, id_token: Option<&str>) -> String {
        let client_id = match self {
            Provider::Cognito { client_id, .. } | Provider::OAuth2 { client_id, .. } => client_id,
        };
        let back = page.back.unwrap_or_default();
        let pairs: [(&str, &str); 3] = if page.cognito {
            [("client_id", client_id), ("logout_uri", back), ("", "")]
        } else {
            [
                ("id_token_hint", id_token.unwrap_or_default()),
                ("post_logout_redirect_uri", back),
                ("client_id", client_id),
            ]
        };
        let mut url = String::from(page.endpoint);
        let mut separator = if page.endpoint.bytes().any(|b| b == b'?') {
            '&'
        } else {
            '?'
        };
        for (name, value) in pairs {
            if !value.is_empty() {
                url.push(separator);
                separator = '&';
                url.push_str(name);
                url.push('=');
                push_form_encoded(&mut url, value);
            }
        }
        url
    }

    /// Reads the answer to a sign-out request ([`Self::global_sign_out_request`],
    /// [`Self::revoke_request`]): any 2xx is done, whatever its body (Cognito's is `{}`, RFC
    /// 7009's empty); anything else is classified.
    pub fn parse_sign_out(&self, resp: &HttpResponse) -> Result<(), ProviderError> {
        if (200..=299).contains(&resp.status) {
            Ok(())
        } else {
            Err(self.classify(resp))
        }
    }

    /// The Cognito API's endpoint and the app client id; [`ConfigError::Unsupported`] for an
    /// OAuth2 provider, which signs users in through its own login page instead.
    fn cognito(&self) -> Result<(&str, &str), ConfigError> {
        match self {
            Provider::Cognito {
                endpoint,
                client_id,
                ..
            } => Ok((endpoint, client_id)),
            Provider::OAuth2 { .. } => Err(ConfigError::Unsupported),
        }
    }

    /// Reads the answer to [`refresh_request`](Self::refresh_request).
    ///
    /// A non-2xx answer is classified ([`classify`](Self::classify)); a 2xx answer must carry
    /// an access token (Cognito: in `AuthenticationResult`). A Cognito challenge in answer to a
    /// refresh is a bad response.
    pub fn parse_refresh(&self, resp: &HttpResponse) -> Result<TokenGrant, ProviderError> {
        let body = self.success_body(resp)?;
        match self {
            Provider::Cognito { .. } => {
                if challenge::read(&body)?.is_some() {
                    return Err(bad_response(
                        "UnexpectedChallenge",
                        "Cognito answered a refresh with a challenge",
                    ));
                }
                read_grant(authentication_result(&body)?, &COGNITO_FIELDS)
            }
            Provider::OAuth2 { .. } => read_grant(&body, &OAUTH_FIELDS),
        }
    }

    /// Reads the answer to [`password_sign_in_request`](Self::password_sign_in_request) (or,
    /// for OAuth2, any token response such as an authorization-code exchange).
    ///
    /// Tokens must include a refresh token (`MissingRefreshToken` otherwise): a sign-in that
    /// cannot be refreshed is not one the session can keep.
    pub fn parse_sign_in(&self, resp: &HttpResponse) -> Result<SignInAnswer, ProviderError> {
        let body = self.success_body(resp)?;
        let grant = match self {
            Provider::Cognito { .. } => {
                if let Some(name) = challenge::read(&body)? {
                    return Ok(SignInAnswer::Challenge(String::from(name)));
                }
                read_grant(authentication_result(&body)?, &COGNITO_FIELDS)?
            }
            Provider::OAuth2 { .. } => read_grant(&body, &OAUTH_FIELDS)?,
        };
        if grant.refresh_token.is_none() {
            return Err(bad_response(
                "MissingRefreshToken",
                "sign-in answer has no refresh token",
            ));
        }
        Ok(SignInAnswer::Tokens(grant))
    }

    /// Classifies a failed answer with the rules of this provider's protocol
    /// ([`classify::cognito_error`] or [`classify::oauth_error`]).
    pub fn classify(&self, resp: &HttpResponse) -> ProviderError {
        match self {
            Provider::Cognito { .. } => classify::cognito_error(resp),
            Provider::OAuth2 { .. } => classify::oauth_error(resp),
        }
    }

    /// The parsed body of a 2xx answer that is a JSON object, or the error to report instead.
    fn success_body(&self, resp: &HttpResponse) -> Result<Value, ProviderError> {
        if resp.body.len() > MAX_BODY {
            let mut err = bad_response("BodyTooLarge", "response body is larger than 64 KiB");
            err.retry_after = classify::retry_after(resp);
            return Err(err);
        }
        if !(200..=299).contains(&resp.status) {
            return Err(self.classify(resp));
        }
        let body =
            json::parse(resp.body).map_err(|e| bad_response("MalformedBody", e.message()))?;
        if !matches!(body, Value::Object(_)) {
            return Err(bad_response(
                "NotAnObject",
                "token response is not a JSON object",
            ));
        }
        Ok(body)
    }
}

/// Cognito's `AuthenticationResult` object.
fn authentication_result(body: &Value) -> Result<&Value, ProviderError> {
    match body.get("AuthenticationResult") {
        Some(result @ Value::Object(_)) => Ok(result),
        _ => Err(bad_response(
            "MissingAuthenticationResult",
            "answer has no AuthenticationResult object",
        )),
    }
}

/// The tokens in a token-response object whose members are named by `fields`.
fn read_grant(v: &Value, fields: &Fields) -> Result<TokenGrant, ProviderError> {
    match v.get(fields.token_type) {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => {
            return Err(bad_response("BadTokenType", "token type is not Bearer"));
        }
    }
    let access_token = token_member(v, fields.access, header_safe, "BadAccessToken")?
        .ok_or_else(|| bad_response("MissingAccessToken", "token response has no access token"))?;
    let id_token = token_member(v, fields.id, header_safe, "BadIdToken")?;
    let refresh_token = token_member(v, fields.refresh, |_| true, "BadRefreshToken")?;
    let bad_expires_in = || {
        bad_response(
            "BadExpiresIn",
            "expires_in is not a whole number of seconds",
        )
    };
    let expires_in = match v.get(fields.expires_in) {
        None | Some(Value::Null) => None,
        Some(n @ Value::Number(_)) => Some(n.as_u64().ok_or_else(bad_expires_in)?),
        // Some servers (older Azure AD among them) send the lifetime as a string of digits.
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => Some(
            Value::Number(s.clone())
                .as_u64()
                .ok_or_else(bad_expires_in)?,
        ),
        Some(_) => return Err(bad_expires_in()),
    };
    Ok(TokenGrant {
        access_token,
        id_token,
        refresh_token,
        expires_in,
    })
}

/// A token member: absent, `null` and `""` all read as "not sent"; a string that fails `check`
/// or a value of another type is a bad response with `code`.
fn token_member(
    v: &Value,
    key: &str,
    check: fn(&str) -> bool,
    code: &'static str,
) -> Result<Option<String>, ProviderError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if check(s) => Ok(Some(s.clone())),
        Some(_) => {
            let mut message = String::from(key);
            message.push_str(" is not a well-formed token string");
            Err(bad_response(code, &message))
        }
    }
}

/// A token that can be sent in an HTTP header as is: visible ASCII only, no spaces or controls.
fn header_safe(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_graphic())
}

fn client_id_member(client_id: &str) -> String {
    let mut body = String::from("{\"ClientId\":");
    json::write_string(&mut body, client_id);
    body
}

/// A form-encoded `POST` to an OAuth2 token endpoint that asks for JSON back.
pub(crate) fn form_request(token_endpoint: &str, body: String) -> HttpRequest {
    HttpRequest {
        url: token_endpoint.to_owned(),
        headers: vec![
            ("Content-Type", FORM.to_owned()),
            ("Accept", "application/json".to_owned()),
        ],
        body,
    }
}

fn cognito_request(endpoint: &str, target: &'static str, body: String) -> HttpRequest {
    HttpRequest {
        url: endpoint.to_owned(),
        headers: vec![
            ("Content-Type", AMZ_JSON.to_owned()),
            ("X-Amz-Target", target.to_owned()),
        ],
        body,
    }
}

/// AWS region names: lowercase words joined by `-`, ending in a number (`us-east-1`,
/// `us-gov-west-1`, `ap-southeast-5`).
fn plausible_region(region: &str) -> bool {
    // Split at the last `-` (by byte: str's reverse char searcher costs ~1 KB of wasm).
    let Some(dash) = region.bytes().rposition(|b| b == b'-') else {
        return false;
    };
    let (words, number) = (
        region.get(..dash).unwrap_or_default(),
        region.get(dash + 1..).unwrap_or_default(),
    );
    region.len() <= 32
        && (1..=3).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && text::split(words, b'-').count() >= 2
        && text::split(words, b'-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Appends `&name=value` for each pair, the values form-encoded ([`push_form_encoded`]): the
/// rest of a form body or of a query that `out` has started.
pub(crate) fn push_form_pairs(out: &mut String, pairs: &[(&str, &str)]) {
    for (name, value) in pairs {
        out.push('&');
        out.push_str(name);
        out.push('=');
        push_form_encoded(out, value);
    }
}

/// Appends `s` encoded as an `application/x-www-form-urlencoded` value (WHATWG URL standard):
/// ASCII letters, digits and `*-._` as they are, space as `+`, every other byte of the UTF-8
/// encoding as `%XX` with upper-case hex.
fn push_form_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let hex = |n: u8| char::from(HEX.get(usize::from(n & 0xf)).copied().unwrap_or(b'0'));
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(hex(b >> 4));
                out.push(hex(b));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::classify::FailureKind;
    use crate::engine::rng::Rng;

    const ENDPOINT: &str = "https://cognito-idp.us-east-1.amazonaws.com/";
    const TOKEN_ENDPOINT: &str = "https://auth.example.com/oauth2/token";

    /// A classic Cognito refresh answer, as moto and Cognito send it.
    const COGNITO_REFRESHED: &str = r#"{"AuthenticationResult":{"AccessToken":"eyJ.acc.sig","ExpiresIn":3600,"IdToken":"eyJ.id.sig","TokenType":"Bearer"},"ChallengeParameters":{}}"#;
    const OAUTH_REFRESHED: &str = r#"{"access_token":"eyJ.acc.sig","id_token":"eyJ.id.sig","refresh_token":"new-refresh","token_type":"Bearer","expires_in":300,"scope":"openid"}"#;

    fn cognito() -> Provider {
        Provider::Cognito {
            endpoint: ENDPOINT.into(),
            client_id: "client123".into(),
            rotation: false,
        }
    }

    fn rotating() -> Provider {
        Provider::Cognito {
            endpoint: ENDPOINT.into(),
            client_id: "client123".into(),
            rotation: true,
        }
    }

    fn oauth() -> Provider {
        Provider::OAuth2 {
            token_endpoint: TOKEN_ENDPOINT.into(),
            client_id: "spa client".into(),
        }
    }

    fn refresh(p: &Provider, status: u16, body: &str) -> Result<TokenGrant, ProviderError> {
        p.parse_refresh(&HttpResponse::new(status, body))
    }

    fn sign_in(p: &Provider, status: u16, body: &str) -> Result<SignInAnswer, ProviderError> {
        p.parse_sign_in(&HttpResponse::new(status, body))
    }

    /// The error code of a refresh answer that must fail as a bad response.
    fn bad_refresh(p: &Provider, body: &str) -> String {
        match refresh(p, 200, body) {
            Err(e) => {
                assert_eq!(e.kind, FailureKind::BadResponse, "{body}: {e}");
                e.code
            }
            Ok(g) => panic!("{body} parsed as {g:?}"),
        }
    }

    fn grant(
        access: &str,
        id: Option<&str>,
        refresh: Option<&str>,
        expires_in: Option<u64>,
    ) -> TokenGrant {
        TokenGrant {
            access_token: access.into(),
            id_token: id.map(Into::into),
            refresh_token: refresh.map(Into::into),
            expires_in,
        }
    }

    /// Decodes a form value (test oracle for the encoder).
    fn form_decode(s: &str) -> String {
        let mut bytes = Vec::new();
        let mut it = s.bytes();
        while let Some(b) = it.next() {
            match b {
                b'+' => bytes.push(b' '),
                b'%' => {
                    let hi = char::from(it.next().unwrap()).to_digit(16).unwrap();
                    let lo = char::from(it.next().unwrap()).to_digit(16).unwrap();
                    bytes.push((hi * 16 + lo) as u8);
                }
                b => bytes.push(b),
            }
        }
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_user_pool_id_maps_to_its_regional_endpoint() {
        for (pool, url) in [
            (
                "us-east-1_AbC",
                "https://cognito-idp.us-east-1.amazonaws.com/",
            ),
            (
                "eu-central-1_a1B2c3D4e",
                "https://cognito-idp.eu-central-1.amazonaws.com/",
            ),
            (
                "us-gov-west-1_X",
                "https://cognito-idp.us-gov-west-1.amazonaws.com/",
            ),
            (
                "ap-southeast-5_9",
                "https://cognito-idp.ap-southeast-5.amazonaws.com/",
            ),
            (
                "cn-north-1_abc",
                "https://cognito-idp.cn-north-1.amazonaws.com.cn/",
            ),
        ] {
            assert_eq!(
                Provider::cognito_endpoint_for_pool(pool).as_deref(),
                Ok(url)
            );
        }
    }

    #[test]
    fn a_malformed_user_pool_id_is_refused() {
        let too_long = ["us-east-1_", &"a".repeat(MAX_POOL_ID - 9)].concat();
        for pool in [
            "",
            "_",
            "us-east-1",
            "_AbC",
            "us-east-1_",
            "US-EAST-1_AbC",
            "useast1_AbC",
            "us-east_AbC",
            "east-1_AbC",
            "us--east-1_AbC",
            "-us-east-1_AbC",
            "us-east-1234_AbC",
            "us-east-x_AbC",
            "us-east-1_Ab_C",
            "us-east-1_Ab-C",
            "us-east-1_AbC ",
            " us-east-1_AbC",
            "us-east-1_AbC/../x",
            "evil.example/us-east-1_AbC",
            "evil.example#us-east-1_AbC",
            "us-east-1_AbCé",
            too_long.as_str(),
        ] {
            assert_eq!(
                Provider::cognito_endpoint_for_pool(pool),
                Err(ConfigError::BadUserPoolId),
                "{pool:?}"
            );
        }
        assert!(Provider::cognito_endpoint_for_pool(&too_long[..MAX_POOL_ID]).is_ok());
    }

    #[test]
    fn a_classic_cognito_refresh_is_initiate_auth_with_refresh_token_auth() {
        assert_eq!(
            cognito().refresh_request("rt-1"),
            HttpRequest {
                url: ENDPOINT.into(),
                headers: vec![
                    ("Content-Type", "application/x-amz-json-1.1".into()),
                    ("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth".into()),
                ],
                body: r#"{"ClientId":"client123","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{"REFRESH_TOKEN":"rt-1"}}"#.into(),
            }
        );
    }

    #[test]
    fn a_rotating_cognito_refresh_is_get_tokens_from_refresh_token() {
        assert_eq!(
            rotating().refresh_request("rt-1"),
            HttpRequest {
                url: ENDPOINT.into(),
                headers: vec![
                    ("Content-Type", "application/x-amz-json-1.1".into()),
                    (
                        "X-Amz-Target",
                        "AWSCognitoIdentityProviderService.GetTokensFromRefreshToken".into()
                    ),
                ],
                body: r#"{"ClientId":"client123","RefreshToken":"rt-1"}"#.into(),
            }
        );
    }

    #[test]
    fn a_password_sign_in_is_initiate_auth_with_user_password_auth_even_with_rotation() {
        for p in [cognito(), rotating()] {
            assert_eq!(
                p.password_sign_in_request("alice", "pw"),
                Ok(HttpRequest {
                    url: ENDPOINT.into(),
                    headers: vec![
                        ("Content-Type", "application/x-amz-json-1.1".into()),
                        ("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth".into()),
                    ],
                    body: r#"{"ClientId":"client123","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"alice","PASSWORD":"pw"}}"#.into(),
                })
            );
        }
    }

    #[test]
    fn an_oauth2_provider_has_no_password_sign_in() {
        assert_eq!(
            oauth().password_sign_in_request("alice", "pw"),
            Err(ConfigError::Unsupported)
        );
        assert!(ConfigError::Unsupported.to_string().contains("Cognito"));
        assert!(ConfigError::BadUserPoolId
            .to_string()
            .contains("us-east-1_"));
    }

    #[test]
    fn every_value_in_a_cognito_body_is_json_escaped() {
        let p = Provider::Cognito {
            endpoint: ENDPOINT.into(),
            client_id: "id\"},\"AuthFlow\":\"X".into(),
            rotation: false,
        };
        let req = p.refresh_request("a\"b\\c\nd\u{1}é😀");
        assert_eq!(
            req.body,
            "{\"ClientId\":\"id\\\"},\\\"AuthFlow\\\":\\\"X\",\"AuthFlow\":\"REFRESH_TOKEN_AUTH\",\
             \"AuthParameters\":{\"REFRESH_TOKEN\":\"a\\\"b\\\\c\\nd\\u0001é😀\"}}"
        );
        let v = json::parse(&req.body).unwrap();
        assert_eq!(
            v.get("ClientId").and_then(Value::as_str),
            Some("id\"},\"AuthFlow\":\"X")
        );
        assert_eq!(
            v.get("AuthFlow").and_then(Value::as_str),
            Some("REFRESH_TOKEN_AUTH")
        );

        let req = p.password_sign_in_request("ü\"ser", "p\"w\\\t").unwrap();
        let v = json::parse(&req.body).unwrap();
        let params = v.get("AuthParameters").unwrap();
        assert_eq!(
            params.get("USERNAME").and_then(Value::as_str),
            Some("ü\"ser")
        );
        assert_eq!(
            params.get("PASSWORD").and_then(Value::as_str),
            Some("p\"w\\\t")
        );
        assert!(
            req.body.ends_with(r#""PASSWORD":"p\"w\\\t"}}"#),
            "{}",
            req.body
        );

        let req = rotating().refresh_request("\"é");
        assert_eq!(req.body, r#"{"ClientId":"client123","RefreshToken":"\"é"}"#);
    }

    #[test]
    fn an_oauth2_refresh_is_a_form_encoded_refresh_token_grant() {
        assert_eq!(
            oauth().refresh_request("a&b=c+d %e"),
            HttpRequest {
                url: TOKEN_ENDPOINT.into(),
                headers: vec![
                    ("Content-Type", "application/x-www-form-urlencoded".into()),
                    ("Accept", "application/json".into()),
                ],
                body:
                    "grant_type=refresh_token&client_id=spa+client&refresh_token=a%26b%3Dc%2Bd+%25e"
                        .into(),
            }
        );
    }

    #[test]
    fn form_encoding_escapes_everything_but_letters_digits_and_star_dash_dot_underscore() {
        let encode = |s: &str| {
            let mut out = String::new();
            push_form_encoded(&mut out, s);
            out
        };
        assert_eq!(encode("AZaz09*-._"), "AZaz09*-._");
        assert_eq!(
            encode("~!'()/?#[]@:;,$\"<>\\^`{|}"),
            "%7E%21%27%28%29%2F%3F%23%5B%5D%40%3A%3B%2C%24%22%3C%3E%5C%5E%60%7B%7C%7D"
        );
        assert_eq!(encode("é😀"), "%C3%A9%F0%9F%98%80");
        assert_eq!(encode("\n\u{0}\u{7f}"), "%0A%00%7F");
        assert_eq!(encode(""), "");
        let mut rng = Rng::new(0xf0f0);
        for _ in 0..500 {
            let s: String = (0..rng.up_to(20))
                .filter_map(|_| char::from_u32(rng.up_to(0x1_0000) as u32))
                .collect();
            let e = encode(&s);
            assert!(
                e.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b)),
                "{e}"
            );
            assert_eq!(form_decode(&e), s);
        }
    }

    #[test]
    fn a_classic_cognito_refresh_answer_keeps_the_old_refresh_token() {
        assert_eq!(
            refresh(&cognito(), 200, COGNITO_REFRESHED),
            Ok(grant("eyJ.acc.sig", Some("eyJ.id.sig"), None, Some(3600)))
        );
    }

    #[test]
    fn a_rotating_cognito_refresh_answer_carries_the_new_refresh_token() {
        let body = r#"{"AuthenticationResult":{"AccessToken":"a.b.c","ExpiresIn":300,"IdToken":"i.d.t","RefreshToken":"r.e.f.r.sh","TokenType":"Bearer"}}"#;
        assert_eq!(
            refresh(&rotating(), 200, body),
            Ok(grant("a.b.c", Some("i.d.t"), Some("r.e.f.r.sh"), Some(300)))
        );
    }

    #[test]
    fn an_oauth2_refresh_answer_reads_every_token_field() {
        assert_eq!(
            refresh(&oauth(), 200, OAUTH_REFRESHED),
            Ok(grant(
                "eyJ.acc.sig",
                Some("eyJ.id.sig"),
                Some("new-refresh"),
                Some(300)
            ))
        );
        assert_eq!(
            refresh(&oauth(), 200, r#"{"access_token":"t"}"#),
            Ok(grant("t", None, None, None))
        );
        for ty in ["bearer", "BEARER", "Bearer"] {
            let body = ["{\"access_token\":\"t\",\"token_type\":\"", ty, "\"}"].concat();
            assert!(refresh(&oauth(), 200, &body).is_ok(), "{ty}");
        }
        let body = r#"{"access_token":"t","expires_in":"3599","id_token":null,"refresh_token":""}"#;
        assert_eq!(
            refresh(&oauth(), 201, body),
            Ok(grant("t", None, None, Some(3599)))
        );
    }

    #[test]
    fn a_token_type_other_than_bearer_is_refused() {
        for ty in [
            r#""DPoP""#,
            r#""mac""#,
            r#""""#,
            "1",
            "true",
            r#"["Bearer"]"#,
        ] {
            let body = ["{\"access_token\":\"t\",\"token_type\":", ty, "}"].concat();
            assert_eq!(bad_refresh(&oauth(), &body), "BadTokenType", "{ty}");
            let body = [
                "{\"AuthenticationResult\":{\"AccessToken\":\"t\",\"TokenType\":",
                ty,
                "}}",
            ]
            .concat();
            assert_eq!(bad_refresh(&cognito(), &body), "BadTokenType", "{ty}");
        }
    }

    #[test]
    fn a_challenge_in_answer_to_a_refresh_is_a_bad_response() {
        let body = r#"{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":{}}"#;
        assert_eq!(bad_refresh(&cognito(), body), "UnexpectedChallenge");
        assert_eq!(bad_refresh(&rotating(), body), "UnexpectedChallenge");
        let both = r#"{"ChallengeName":"SMS_MFA","Session":"s","AuthenticationResult":{"AccessToken":"t"}}"#;
        assert_eq!(bad_refresh(&cognito(), both), "UnexpectedChallenge");
        let malformed = r#"{"ChallengeName":"SMS_MFA","AuthenticationResult":{"AccessToken":"t"}}"#;
        assert_eq!(bad_refresh(&cognito(), malformed), "BadChallenge");
        let no_challenge = r#"{"ChallengeName":null,"AuthenticationResult":{"AccessToken":"t"}}"#;
        assert!(refresh(&cognito(), 200, no_challenge).is_ok());
    }

    #[test]
    fn a_challenge_in_answer_to_a_sign_in_is_surfaced_by_name() {
        let body = r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"AYABe...","ChallengeParameters":{"USER_ID_FOR_SRP":"alice"}}"#;
        assert_eq!(
            sign_in(&cognito(), 200, body),
            Ok(SignInAnswer::Challenge("NEW_PASSWORD_REQUIRED".into()))
        );
        // A challenge cannot be answered without its Session (challenge::tests has the rest).
        for body in [
            r#"{"ChallengeName":"SMS_MFA"}"#,
            r#"{"ChallengeName":"SMS_MFA","Session":5}"#,
            r#"{"ChallengeName":["SMS_MFA"]}"#,
        ] {
            let err = sign_in(&cognito(), 200, body).unwrap_err();
            assert_eq!(err.code, "BadChallenge", "{body}");
        }
    }

    #[test]
    fn an_srp_sign_in_is_initiate_auth_with_user_srp_auth_and_a_hex_srp_a() {
        let req = cognito().srp_sign_in_request("alice", "0a1b2c").unwrap();
        assert_eq!(
            req.headers[1],
            (
                "X-Amz-Target",
                "AWSCognitoIdentityProviderService.InitiateAuth".into()
            )
        );
        assert_eq!(
            req.body,
            r#"{"ClientId":"client123","AuthFlow":"USER_SRP_AUTH","AuthParameters":{"USERNAME":"alice","SRP_A":"0a1b2c"}}"#
        );
        let longest = "f".repeat(1024);
        assert!(cognito().srp_sign_in_request("alice", &longest).is_ok());
        for bad in ["", "0A1B", "0x12", "12 34", "g1", &"f".repeat(1025)] {
            assert_eq!(
                cognito().srp_sign_in_request("alice", bad),
                Err(ConfigError::BadSrpA),
                "{bad:?}"
            );
        }
        assert_eq!(
            oauth().srp_sign_in_request("alice", "0a"),
            Err(ConfigError::Unsupported)
        );
    }

    #[test]
    fn a_challenge_answer_is_respond_to_auth_challenge_with_client_name_session_and_responses() {
        let responses = r#"{"USERNAME":"alice","SOFTWARE_TOKEN_MFA_CODE":"123456"}"#;
        let req = cognito()
            .challenge_response_request("SOFTWARE_TOKEN_MFA", "AYAB\"x", responses)
            .unwrap();
        assert_eq!(req.url, ENDPOINT);
        assert_eq!(
            req.headers,
            vec![
                ("Content-Type", "application/x-amz-json-1.1".into()),
                (
                    "X-Amz-Target",
                    "AWSCognitoIdentityProviderService.RespondToAuthChallenge".into()
                ),
            ]
        );
        assert_eq!(
            req.body,
            r#"{"ClientId":"client123","ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"AYAB\"x","ChallengeResponses":{"USERNAME":"alice","SOFTWARE_TOKEN_MFA_CODE":"123456"}}"#
        );
        let e = oauth()
            .challenge_response_request("SOFTWARE_TOKEN_MFA", "s", responses)
            .unwrap_err();
        assert_eq!(e.message, ConfigError::Unsupported.message());
    }

    #[test]
    fn a_sign_in_yields_tokens_only_with_a_refresh_token() {
        let body = r#"{"AuthenticationResult":{"AccessToken":"a.b.c","ExpiresIn":3600,"IdToken":"i.d.t","RefreshToken":"r.t","TokenType":"Bearer"},"ChallengeParameters":{}}"#;
        assert_eq!(
            sign_in(&cognito(), 200, body),
            Ok(SignInAnswer::Tokens(grant(
                "a.b.c",
                Some("i.d.t"),
                Some("r.t"),
                Some(3600)
            )))
        );
        let err = sign_in(&cognito(), 200, COGNITO_REFRESHED).unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::BadResponse, "MissingRefreshToken")
        );
        assert!(matches!(
            sign_in(&oauth(), 200, OAUTH_REFRESHED),
            Ok(SignInAnswer::Tokens(_))
        ));
        let err = sign_in(&oauth(), 200, r#"{"access_token":"t"}"#).unwrap_err();
        assert_eq!(err.code, "MissingRefreshToken");
    }

    #[test]
    fn wrong_types_and_missing_fields_name_what_was_wrong() {
        let cognito_cases = [
            (r#"{}"#, "MissingAuthenticationResult"),
            (
                r#"{"AuthenticationResult":null}"#,
                "MissingAuthenticationResult",
            ),
            (
                r#"{"AuthenticationResult":"a.b.c"}"#,
                "MissingAuthenticationResult",
            ),
            (
                r#"{"AuthenticationResult":[{"AccessToken":"t"}]}"#,
                "MissingAuthenticationResult",
            ),
            (r#"{"ChallengeName":7}"#, "BadChallenge"),
            (r#"{"AuthenticationResult":{}}"#, "MissingAccessToken"),
            (
                r#"{"AuthenticationResult":{"AccessToken":null}}"#,
                "MissingAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":""}}"#,
                "MissingAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":12}}"#,
                "BadAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":["t"]}}"#,
                "BadAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":{"t":1}}}"#,
                "BadAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"a b"}}"#,
                "BadAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"a\nb"}}"#,
                "BadAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"tökén"}}"#,
                "BadAccessToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","IdToken":5}}"#,
                "BadIdToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","IdToken":"a\r\nX: y"}}"#,
                "BadIdToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","RefreshToken":true}}"#,
                "BadRefreshToken",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","ExpiresIn":"soon"}}"#,
                "BadExpiresIn",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","ExpiresIn":-1}}"#,
                "BadExpiresIn",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","ExpiresIn":1e3}}"#,
                "BadExpiresIn",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","ExpiresIn":18446744073709551616}}"#,
                "BadExpiresIn",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","ExpiresIn":""}}"#,
                "BadExpiresIn",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","ExpiresIn":true}}"#,
                "BadExpiresIn",
            ),
            (
                r#"{"AuthenticationResult":{"AccessToken":"t","ExpiresIn":{}}}"#,
                "BadExpiresIn",
            ),
            ("[]", "NotAnObject"),
            (r#""a.b.c""#, "NotAnObject"),
            ("3600", "NotAnObject"),
            ("null", "NotAnObject"),
        ];
        for (body, code) in cognito_cases {
            assert_eq!(bad_refresh(&cognito(), body), code, "{body}");
        }
        let oauth_cases = [
            (r#"{}"#, "MissingAccessToken"),
            (r#"{"access_token":""}"#, "MissingAccessToken"),
            (r#"{"AccessToken":"t"}"#, "MissingAccessToken"),
            (r#"{"access_token":42}"#, "BadAccessToken"),
            (r#"{"access_token":"t","id_token":{}}"#, "BadIdToken"),
            (
                r#"{"access_token":"t","refresh_token":1}"#,
                "BadRefreshToken",
            ),
            (
                r#"{"access_token":"t","expires_in":"3600s"}"#,
                "BadExpiresIn",
            ),
            (r#"{"access_token":"t","expires_in":-5}"#, "BadExpiresIn"),
            (r#"[{"access_token":"t"}]"#, "NotAnObject"),
        ];
        for (body, code) in oauth_cases {
            assert_eq!(bad_refresh(&oauth(), body), code, "{body}");
        }
    }

    #[test]
    fn a_fractional_lifetime_reads_as_its_whole_seconds() {
        let body = r#"{"access_token":"t","expires_in":3599.9}"#;
        assert_eq!(
            refresh(&oauth(), 200, body).map(|g| g.expires_in),
            Ok(Some(3599))
        );
    }

    #[test]
    fn html_truncated_and_empty_success_bodies_are_malformed() {
        for p in [cognito(), rotating(), oauth()] {
            for body in [
                "<html><body>Welcome to nginx!</body></html>",
                r#"{"AuthenticationResult":{"AccessToken":"a.b"#,
                "",
                "   ",
                "\u{feff}{}",
                r#"{"access_token":"t"} trailing"#,
            ] {
                assert_eq!(bad_refresh(&p, body), "MalformedBody", "{body:?}");
            }
        }
        let err = refresh(&oauth(), 200, "{\"access_token\":").unwrap_err();
        assert_eq!(err.message, "unexpected end of JSON");
    }

    #[test]
    fn a_body_over_64_kib_is_refused_unread() {
        let megabyte = [
            r#"{"access_token":"t","pad":""#,
            &"x".repeat(1 << 20),
            "\"}",
        ]
        .concat();
        for p in [cognito(), oauth()] {
            for status in [200, 400, 503] {
                let err = refresh(&p, status, &megabyte).unwrap_err();
                assert_eq!(
                    (err.kind, err.code.as_str()),
                    (FailureKind::BadResponse, "BodyTooLarge")
                );
                let err = sign_in(&p, status, &megabyte).unwrap_err();
                assert_eq!(err.code, "BodyTooLarge");
            }
        }
        let resp = HttpResponse {
            retry_after: Some("3"),
            ..HttpResponse::new(429, &megabyte)
        };
        assert_eq!(
            oauth().parse_refresh(&resp).unwrap_err().retry_after,
            Some(3_000)
        );

        let padded = [r#"{"access_token":"t"}"#, &" ".repeat(MAX_BODY - 20)].concat();
        assert_eq!(padded.len(), MAX_BODY);
        assert!(
            refresh(&oauth(), 200, &padded).is_ok(),
            "exactly MAX_BODY is read"
        );
        let over = [padded.as_str(), " "].concat();
        assert_eq!(bad_refresh(&oauth(), &over), "BodyTooLarge");
    }

    #[test]
    fn an_error_status_is_classified_by_the_providers_rules() {
        let revoked =
            r#"{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}"#;
        for p in [cognito(), rotating()] {
            let err = refresh(&p, 400, revoked).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (FailureKind::CredentialDead, "NotAuthorizedException")
            );
            assert_eq!(err.message, "Refresh Token has been revoked");
            let throttled = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
            assert_eq!(
                refresh(&p, 400, throttled).unwrap_err().kind,
                FailureKind::Throttled
            );
            assert_eq!(
                sign_in(&p, 400, r#"{"__type":"UserNotFoundException"}"#)
                    .unwrap_err()
                    .kind,
                FailureKind::CredentialDead
            );
            assert_eq!(
                refresh(&p, 500, "<html>500</html>").unwrap_err().kind,
                FailureKind::ServerError
            );
        }
        let dead = r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#;
        assert_eq!(
            refresh(&oauth(), 400, dead).unwrap_err().kind,
            FailureKind::CredentialDead
        );
        assert_eq!(
            refresh(&oauth(), 400, revoked).unwrap_err().kind,
            FailureKind::BadResponse
        );
        assert_eq!(
            refresh(&oauth(), 429, "").unwrap_err().kind,
            FailureKind::Throttled
        );

        let header_only = HttpResponse {
            error_type: Some("NotAuthorizedException:http://internal.amazon.com/coral/x/"),
            ..HttpResponse::new(400, "")
        };
        assert_eq!(
            cognito().classify(&header_only).kind,
            FailureKind::CredentialDead
        );
        assert_eq!(
            oauth().classify(&header_only).kind,
            FailureKind::BadResponse
        );
    }

    #[test]
    fn every_prefix_of_a_good_answer_is_a_bad_response() {
        let sign_in_body = r#"{"AuthenticationResult":{"AccessToken":"a.b.c","ExpiresIn":3600,"IdToken":"i.d.t","RefreshToken":"r.t","TokenType":"Bearer"},"ChallengeParameters":{}}"#;
        let challenge = r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"s"}"#;
        for (p, body) in [
            (cognito(), COGNITO_REFRESHED),
            (oauth(), OAUTH_REFRESHED),
            (cognito(), sign_in_body),
            (cognito(), challenge),
        ] {
            for end in 0..body.len() {
                let prefix = &body[..end];
                let err = refresh(&p, 200, prefix).unwrap_err();
                assert_eq!(err.kind, FailureKind::BadResponse, "{prefix}");
                assert_eq!(
                    sign_in(&p, 200, prefix).unwrap_err().kind,
                    FailureKind::BadResponse
                );
            }
        }
    }

    #[test]
    fn mangled_answers_never_panic_and_never_yield_an_unsendable_token() {
        let seed = 0xC0FFEE;
        let mut rng = Rng::new(seed);
        let alphabet =
            b"{}[]\":,0123456789-.eE truefalsnul\\u\"AccessTokenaccess_token\x01\xc3\xa9";
        for round in 0..3_000 {
            let base = if round % 2 == 0 {
                COGNITO_REFRESHED
            } else {
                OAUTH_REFRESHED
            };
            let mut bytes = base.as_bytes().to_vec();
            for _ in 0..=rng.up_to(4) {
                let at = rng.up_to(bytes.len() as u64 - 1) as usize;
                let with = alphabet[rng.up_to(alphabet.len() as u64 - 1) as usize];
                match rng.up_to(2) {
                    0 => bytes[at] = with,
                    1 => bytes.insert(at, with),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let random: Vec<u8> = (0..rng.up_to(40)).map(|_| rng.next_u64() as u8).collect();
            let noise = String::from_utf8_lossy(&random);
            for body in [&*text, &*noise] {
                for p in [cognito(), rotating(), oauth()] {
                    let status = [200, 400, 429, 503][rng.up_to(3) as usize];
                    if let Ok(g) = refresh(&p, status, body) {
                        assert!(
                            !g.access_token.is_empty() && header_safe(&g.access_token),
                            "seed {seed}"
                        );
                        assert!(g.id_token.as_deref() != Some(""), "seed {seed}");
                        assert!(g.refresh_token.as_deref() != Some(""), "seed {seed}");
                    }
                    let _ = sign_in(&p, status, body);
                }
            }
        }
    }

    #[test]
    fn a_built_request_and_its_answer_round_trip() {
        let refresh_token = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.r&e=f+r %e\"s\\h/é";
        // Cognito: the request body carries the token; a moto-style answer comes back.
        for p in [cognito(), rotating()] {
            let req = p.refresh_request(refresh_token);
            assert_eq!(req.url, ENDPOINT);
            let v = json::parse(&req.body).unwrap();
            assert_eq!(v.get("ClientId").and_then(Value::as_str), Some("client123"));
            let sent = v
                .get("RefreshToken")
                .or_else(|| v.get("AuthParameters").and_then(|a| a.get("REFRESH_TOKEN")))
                .and_then(Value::as_str);
            assert_eq!(sent, Some(refresh_token));

            let mut answer = String::from(
                r#"{"AuthenticationResult":{"AccessToken":"new.access.token","ExpiresIn":3600,"IdToken":"new.id.token","TokenType":"Bearer""#,
            );
            if matches!(p, Provider::Cognito { rotation: true, .. }) {
                answer.push_str(",\"RefreshToken\":");
                json::write_string(&mut answer, "rotated\"token");
            }
            answer.push_str("},\"ChallengeParameters\":{}}");
            let got = p.parse_refresh(&HttpResponse::new(200, &answer)).unwrap();
            assert_eq!(got.access_token, "new.access.token");
            assert_eq!(got.id_token.as_deref(), Some("new.id.token"));
            assert_eq!(got.expires_in, Some(3600));
            let rotated = matches!(p, Provider::Cognito { rotation: true, .. });
            assert_eq!(
                got.refresh_token.as_deref(),
                rotated.then_some("rotated\"token")
            );
        }
        // OAuth2: the form body decodes back to what was given.
        let req = oauth().refresh_request(refresh_token);
        let fields: Vec<(String, String)> = req
            .body
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (form_decode(k), form_decode(v))
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("grant_type".to_owned(), "refresh_token".to_owned()),
                ("client_id".to_owned(), "spa client".to_owned()),
                ("refresh_token".to_owned(), refresh_token.to_owned()),
            ]
        );
        let got = oauth()
            .parse_refresh(&HttpResponse::new(200, OAUTH_REFRESHED))
            .unwrap();
        assert_eq!(
            got,
            grant(
                "eyJ.acc.sig",
                Some("eyJ.id.sig"),
                Some("new-refresh"),
                Some(300)
            )
        );
        // Password sign-in: built, answered, parsed.
        let req = cognito()
            .password_sign_in_request("alice@example.com", "s3cret \"pw\"")
            .unwrap();
        let v = json::parse(&req.body).unwrap();
        assert_eq!(
            v.get("AuthParameters")
                .and_then(|a| a.get("PASSWORD"))
                .and_then(Value::as_str),
            Some("s3cret \"pw\"")
        );
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let g = grant(
            "secret-access",
            Some("secret-id"),
            Some("secret-refresh"),
            Some(60),
        );
        let shown = format!("{g:?} {:?}", SignInAnswer::Tokens(g.clone()));
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("expires_in: Some(60)"), "{shown}");
        let none = format!("{:?}", grant("x", None, None, None));
        assert!(none.contains("id_token: \"None\""), "{none}");
    }
}
