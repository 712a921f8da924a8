//! Sign-in through the provider's own login page: the OAuth2 authorization-code flow with PKCE
//! (RFC 7636, `S256`) and, for OpenID Connect, a `nonce`.
//!
//! The flow spans a page navigation, so it is three steps with a record kept in between:
//!
//! 1. [`Provider::authorization_url`] says where to send the browser. Its secrets (`state`, the
//!    PKCE verifier and its SHA-256 challenge, `nonce`) come from the shell, which draws them
//!    with WebCrypto; the core never draws randomness. [`Pending`] is what the tab keeps until
//!    the provider sends the browser back.
//! 2. [`read_callback`] reads what the provider redirected back with, against that record: a
//!    callback this tab did not start, or whose `state` is not the one it sent (a forged or
//!    replayed link), is refused before anything is sent; an `error` becomes a classified
//!    [`ProviderError`]; otherwise [`Provider::code_exchange_request`] trades the code for tokens.
//! 3. The token answer is read like any sign-in's ([`Provider::parse_sign_in`]), and
//!    [`check_nonce`] makes sure its ID token was issued for this very sign-in.

use alloc::{borrow::ToOwned, string::String};

use crate::engine::classify::{authorization_error, bad_response, FailureKind, ProviderError};
use crate::engine::http::HttpRequest;
use crate::engine::jwt;
use crate::engine::protocol::{form_request, push_form_pairs, ConfigError, Provider, TokenGrant};
use crate::engine::text;

/// What a tab remembers between sending the browser to the login page and its return.
#[derive(Clone, PartialEq, Eq)]
pub struct Pending {
    /// The `state` sent: the callback must carry it back unchanged.
    pub state: String,
    /// The PKCE code verifier whose challenge was sent; the code exchange proves it.
    pub verifier: String,
    /// The `nonce` sent: the ID token must carry it.
    pub nonce: String,
    /// The `redirect_uri` sent; the code exchange must name the same one.
    pub redirect_uri: String,
    /// The scopes asked for: with `openid`, the answer must carry an ID token (for its nonce).
    pub scope: String,
}

/// Secrets: `Debug` names the fields without their values.
impl core::fmt::Debug for Pending {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Pending { .. }")
    }
}

/// The version tag that starts an encoded [`Pending`] (`pkce1` had no scope: such a record, left
/// by a sign-in started before an upgrade, reads as none and the user signs in again).
const PENDING_VERSION: &str = "pkce2";

impl Pending {
    /// The record as text: the version tag and the five fields, each on its own line (base64url
    /// secrets, a URL as the browser serialises it and scope names hold no line breaks).
    pub fn encode(&self) -> String {
        let mut out = String::from(PENDING_VERSION);
        for field in [
            &self.state,
            &self.verifier,
            &self.nonce,
            &self.redirect_uri,
            &self.scope,
        ] {
            out.push('\n');
            out.push_str(field);
        }
        out
    }

    /// Reads [`encode`](Self::encode)'s text back; `None` for anything else (another version,
    /// a missing or empty field, trailing fields).
    pub fn decode(text: &str) -> Option<Pending> {
        let mut fields = text::split(text, b'\n');
        if fields.next()? != PENDING_VERSION {
            return None;
        }
        let mut next = || fields.next().filter(|f| !f.is_empty()).map(str::to_owned);
        let pending = Pending {
            state: next()?,
            verifier: next()?,
            nonce: next()?,
            redirect_uri: next()?,
            scope: next()?,
        };
        fields.next().is_none().then_some(pending)
    }

    /// Whether the sign-in asked for an ID token (the `openid` scope).
    pub fn wants_id_token(&self) -> bool {
        text::split(&self.scope, b' ').any(|s| s == "openid")
    }
}

/// What the provider redirected back with: the query parameters of the callback URL, decoded
/// (the shell reads them with `URLSearchParams`). Absent parameters are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Callback<'a> {
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    /// An RFC 6749 §4.1.2.1 error (`access_denied`, ...) instead of a code.
    pub error: Option<&'a str>,
    pub error_description: Option<&'a str>,
    /// The authorization server's issuer identifier (RFC 9207), when it sends one.
    pub iss: Option<&'a str>,
}

impl Provider {
    /// Where to send the browser to sign in: `authorization_endpoint` with the code-flow
    /// parameters (`response_type=code`, `client_id`, `redirect_uri`, `scope`, `state`, `nonce`,
    /// `code_challenge` with method `S256`) added to whatever query it already has.
    ///
    /// Extra parameters in the endpoint's query (`prompt`, Cognito's `identity_provider`) stay.
    /// One that repeats a parameter set here is not looked for: OAuth2 forbids repeated
    /// parameters, so a provider refuses the request (`invalid_request`), and one that read the
    /// app's copy first would fail the `state`, `redirect_uri` or verifier check later.
    ///
    /// The secrets are the shell's: 32 bytes from WebCrypto each, base64url (43 characters),
    /// the challenge the verifier's SHA-256. They are not checked here, and need not be: a
    /// record whose fields did not survive [`Pending::encode`] reads back as none, which refuses
    /// the return, and the provider refuses a verifier that does not match its challenge.
    ///
    /// Fails with [`ConfigError::RedirectNeedsTokenEndpoint`] for the Cognito user-pool API (the
    /// code is traded at an OAuth2 token endpoint), and with [`ConfigError::EndpointFragment`]
    /// for an endpoint with a `#fragment`.
    ///
    /// ```
    /// use cognito_session::engine::protocol::Provider;
    /// use cognito_session::engine::redirect::Pending;
    ///
    /// let provider = Provider::OAuth2 {
    ///     token_endpoint: "https://auth.example.com/oauth2/token".into(),
    ///     client_id: "spa".into(),
    /// };
    /// let pending = Pending {
    ///     state: "s".repeat(22),
    ///     verifier: "v".repeat(43),
    ///     nonce: "n".repeat(22),
    ///     redirect_uri: "https://app.example.com/".into(),
    ///     scope: "openid".into(),
    /// };
    /// let url = provider
    ///     .authorization_url("https://auth.example.com/oauth2/authorize", "openid", &pending, &"c".repeat(43))
    ///     .unwrap();
    /// assert!(url.starts_with("https://auth.example.com/oauth2/authorize?response_type=code&client_id=spa&"));
    /// assert!(url.contains("&redirect_uri=https%3A%2F%2Fapp.example.com%2F&"));
    /// assert!(url.ends_with("&code_challenge_method=S256"));
    /// ```
    pub fn authorization_url(
        &self,
        authorization_endpoint: &str,
        scope: &str,
        pending: &Pending,
        challenge: &str,
    ) -> Result<String, ConfigError> {
        let Provider::OAuth2 { client_id, .. } = self else {
            return Err(ConfigError::RedirectNeedsTokenEndpoint);
        };
        // RFC 6749 §3.1: the endpoint has no fragment; the parameters would land inside one.
        if authorization_endpoint.bytes().any(|b| b == b'#') {
            return Err(ConfigError::EndpointFragment);
        }
        let mut url = String::from(authorization_endpoint);
        url.push(if authorization_endpoint.bytes().any(|b| b == b'?') {
            '&'
        } else {
            '?'
        });
        url.push_str("response_type=code");
        push_form_pairs(
            &mut url,
            &[
                ("client_id", client_id),
                ("redirect_uri", &pending.redirect_uri),
                ("scope", scope),
                ("state", &pending.state),
                ("nonce", &pending.nonce),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        Ok(url)
    }

    /// The token-endpoint request that trades an authorization `code` for tokens, proving the
    /// PKCE verifier (`grant_type=authorization_code`). The answer is read with
    /// [`parse_sign_in`](Self::parse_sign_in).
    pub fn code_exchange_request(
        &self,
        code: &str,
        pending: &Pending,
    ) -> Result<HttpRequest, ConfigError> {
        let Provider::OAuth2 {
            token_endpoint,
            client_id,
        } = self
        else {
            return Err(ConfigError::RedirectNeedsTokenEndpoint);
        };
        let mut body = String::from("grant_type=authorization_code");
        push_form_pairs(
            &mut body,
            &[
                ("client_id", client_id),
                ("code", code),
                ("redirect_uri", &pending.redirect_uri),
                ("code_verifier", &pending.verifier),
            ],
        );
        Ok(form_request(token_endpoint, body))
    }

    /// What to do with this tab's own return (`pending`, from [`own_record`]): [`check_return`]
    /// against `issuer`, when known, then the code exchange. Answers the record (what the answer
    /// is checked against: [`check_nonce`]) and the request to send, or why nothing may be sent.
    pub fn answer_callback(
        &self,
        callback: &Callback<'_>,
        pending: Pending,
        issuer: Option<&str>,
    ) -> Result<(Pending, HttpRequest), ProviderError> {
        let (pending, code) = check_return(callback, pending, issuer)?;
        match self.code_exchange_request(code, &pending) {
            Ok(request) => Ok((pending, request)),
            Err(e) => {
                let mut err = bad_response("NotOAuth2", e.message());
                err.kind = FailureKind::CallerBug;
                Err(err)
            }
        }
    }
}

/// The tab's record, when `callback` is the return of the sign-in it holds: `pending` (as
/// [`Pending::encode`] wrote it; `None` when the tab holds none) reads, and the `state` is the
/// one it sent. Otherwise the return is not this tab's to trust, and must leave the record be
/// (a forged link would otherwise cancel a real sign-in under way):
///
/// - `NoPendingSignIn` (bad response): this tab started no sign-in, or its record is unreadable
///   (a forged link, a reload after the sign-in finished);
/// - `StateMismatch` (bad response): the `state` is not the one this tab sent.
pub fn own_record(
    callback: &Callback<'_>,
    pending: Option<&str>,
) -> Result<Pending, ProviderError> {
    let Some(pending) = pending.and_then(Pending::decode) else {
        return Err(bad_response(
            "NoPendingSignIn",
            "no sign-in started in this tab",
        ));
    };
    if callback.state != Some(pending.state.as_str()) {
        return Err(bad_response("StateMismatch", "not this sign-in's state"));
    }
    Ok(pending)
}

/// Reads a callback against the tab's record ([`own_record`], then [`check_return`]).
pub fn read_callback<'a>(
    callback: &Callback<'a>,
    pending: Option<&str>,
    issuer: Option<&str>,
) -> Result<(Pending, &'a str), ProviderError> {
    check_return(callback, own_record(callback, pending)?, issuer)
}

/// Reads this tab's own return (`pending` is its record, from [`own_record`]) against the
/// provider's `issuer`, when known. Answers the record and the code to exchange, or why not:
///
/// - `IssuerMismatch` (bad response): the return names another issuer than the configured one
///   (RFC 9207: a mix-up between authorization servers);
/// - the provider's `error`, classified by [`authorization_error`]: the user declined or must
///   interact (`access_denied`, `login_required`, ...), the provider is down, or the request was
///   wrong;
/// - `MissingCode` (bad response): neither a code nor an error.
pub fn check_return<'a>(
    callback: &Callback<'a>,
    pending: Pending,
    issuer: Option<&str>,
) -> Result<(Pending, &'a str), ProviderError> {
    if let (Some(expected), Some(named)) = (issuer, callback.iss) {
        if named != expected {
            return Err(bad_response(
                "IssuerMismatch",
                "the return names another issuer",
            ));
        }
    }
    // An empty `error` names no error (the wire never sends one; a hand-made link might).
    if let Some(name) = callback.error.filter(|e| !e.is_empty()) {
        return Err(authorization_error(
            name,
            callback.error_description.unwrap_or_default(),
        ));
    }
    match callback.code.filter(|c| !c.is_empty()) {
        Some(code) => Ok((pending, code)),
        None => Err(bad_response("MissingCode", "neither a code nor an error")),
    }
}

/// Checks the code exchange's answer against the sign-in it was for: an ID token when the
/// sign-in asked for `openid` (`MissingIdToken` otherwise: without it nothing shows the answer
/// was issued for this sign-in), and that it carries this sign-in's `nonce` (`NonceMismatch`),
/// both bad responses. An ID token that does not decode passes here: installing the tokens
/// refuses it with its own typed error.
pub fn check_nonce(grant: &TokenGrant, pending: &Pending) -> Result<(), ProviderError> {
    let Some(id_token) = grant.id_token.as_deref() else {
        if pending.wants_id_token() {
            return Err(bad_response(
                "MissingIdToken",
                "the sign-in asked for openid but no ID token came",
            ));
        }
        return Ok(());
    };
    match jwt::decode(id_token) {
        Ok(token) if token.claims.nonce.as_deref() != Some(pending.nonce.as_str()) => Err(
            bad_response("NonceMismatch", "ID token not issued for this sign-in"),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::base64url;
    use crate::engine::http::HttpResponse;
    use alloc::format;

    const STATE: &str = "st4te-0123456789abcdefXY";
    const VERIFIER: &str = "v3rifier-0123456789abcdefghijklmnopqrstuvwxyz";
    const CHALLENGE: &str = "ch4llenge-0123456789abcdefghijklmnopqrstuvwx";
    const NONCE: &str = "n0nce-0123456789abcdefXY";

    fn oauth2() -> Provider {
        Provider::OAuth2 {
            token_endpoint: "https://auth.example.com/oauth2/token".into(),
            client_id: "spa client".into(),
        }
    }

    fn pending() -> Pending {
        Pending {
            state: STATE.into(),
            verifier: VERIFIER.into(),
            nonce: NONCE.into(),
            redirect_uri: "https://app.example.com/cb?x=1".into(),
            scope: "openid".into(),
        }
    }

    fn callback(code: Option<&'static str>, state: Option<&'static str>) -> Callback<'static> {
        Callback {
            code,
            state,
            ..Callback::default()
        }
    }

    fn id_token(claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            base64url::encode(br#"{"alg":"RS256"}"#),
            base64url::encode(claims.as_bytes())
        )
    }

    fn grant(id_token: Option<String>) -> TokenGrant {
        TokenGrant {
            access_token: "opaque".into(),
            id_token,
            refresh_token: Some("r".into()),
            expires_in: Some(3600),
        }
    }

    #[test]
    fn the_authorization_url_carries_every_code_flow_parameter_form_encoded() {
        let url = oauth2()
            .authorization_url(
                "https://auth.example.com/oauth2/authorize",
                "openid offline_access",
                &pending(),
                CHALLENGE,
            )
            .unwrap();
        assert_eq!(
            url,
            format!(
                "https://auth.example.com/oauth2/authorize?response_type=code&client_id=spa+client\
                 &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&scope=openid+offline_access\
                 &state={STATE}&nonce={NONCE}&code_challenge={CHALLENGE}&code_challenge_method=S256"
            )
        );
    }

    #[test]
    fn an_endpoint_with_a_query_keeps_it() {
        let url = oauth2()
            .authorization_url(
                "https://idp.example/authorize?tenant=7",
                "openid",
                &pending(),
                CHALLENGE,
            )
            .unwrap();
        assert!(
            url.starts_with("https://idp.example/authorize?tenant=7&response_type=code&"),
            "{url}"
        );
    }

    #[test]
    fn the_cognito_api_cannot_do_a_redirect_sign_in() {
        let cognito = Provider::Cognito {
            endpoint: "https://cognito-idp.us-east-1.amazonaws.com/".into(),
            client_id: "abc".into(),
            rotation: false,
        };
        assert_eq!(
            cognito.authorization_url("https://x/authorize", "openid", &pending(), CHALLENGE),
            Err(ConfigError::RedirectNeedsTokenEndpoint)
        );
        assert_eq!(
            cognito.code_exchange_request("code", &pending()),
            Err(ConfigError::RedirectNeedsTokenEndpoint)
        );
    }

    #[test]
    fn the_code_exchange_proves_the_verifier_at_the_token_endpoint() {
        let request = oauth2()
            .code_exchange_request("c0de/+=", &pending())
            .unwrap();
        assert_eq!(request.url, "https://auth.example.com/oauth2/token");
        assert_eq!(
            request.body,
            format!(
                "grant_type=authorization_code&client_id=spa+client&code=c0de%2F%2B%3D\
                 &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&code_verifier={VERIFIER}"
            )
        );
        assert_eq!(
            request.headers,
            oauth2().refresh_request("r").headers,
            "the same form headers as a refresh"
        );
    }

    #[test]
    fn the_pending_record_round_trips_and_anything_else_reads_as_none() {
        let text = pending().encode();
        assert_eq!(Pending::decode(&text), Some(pending()));
        let mut extra = text.clone();
        extra.push_str("\nmore");
        for bad in [
            "",
            "pkce2",
            "pkce3\na\nb\nc\nd\ne",
            "pkce2\na\nb\nc\nd",
            "pkce2\na\n\nc\nd\ne",
            "pkce2\na\nb\nc\nd\n",
            extra.as_str(),
            "{\"state\":\"x\"}",
        ] {
            assert_eq!(Pending::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_callback_with_our_state_and_a_code_gives_the_code_to_exchange() {
        let text = pending().encode();
        let (record, code) =
            read_callback(&callback(Some("the-code"), Some(STATE)), Some(&text), None).unwrap();
        assert_eq!((record, code), (pending(), "the-code"));
    }

    #[test]
    fn a_callback_this_tab_did_not_start_is_refused_before_anything_is_sent() {
        for record in [None, Some(""), Some("pkce9\nx")] {
            let err =
                read_callback(&callback(Some("code"), Some(STATE)), record, None).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (FailureKind::BadResponse, "NoPendingSignIn")
            );
        }
    }

    #[test]
    fn a_state_that_is_not_ours_is_refused_even_with_an_error() {
        let text = pending().encode();
        let forged = [
            callback(Some("code"), Some("st4te-0123456789abcdefXZ")),
            callback(Some("code"), None),
            Callback {
                error: Some("access_denied"),
                state: Some("other"),
                ..Callback::default()
            },
        ];
        for c in forged {
            let err = read_callback(&c, Some(&text), None).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (FailureKind::BadResponse, "StateMismatch"),
                "{c:?}"
            );
        }
    }

    #[test]
    fn provider_errors_are_classified_by_name_and_keep_their_description() {
        let text = pending().encode();
        let cases = [
            ("access_denied", FailureKind::CredentialDead),
            ("login_required", FailureKind::CredentialDead),
            ("interaction_required", FailureKind::CredentialDead),
            ("something_new", FailureKind::CredentialDead),
            ("server_error", FailureKind::ServerError),
            ("temporarily_unavailable", FailureKind::ServerError),
            ("invalid_scope", FailureKind::CallerBug),
            ("unauthorized_client", FailureKind::CallerBug),
            ("unsupported_response_type", FailureKind::CallerBug),
        ];
        for (name, kind) in cases {
            let c = Callback {
                error: Some(name),
                error_description: Some("the user said no"),
                state: Some(STATE),
                code: Some("ignored"),
                iss: None,
            };
            let err = read_callback(&c, Some(&text), None).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str(), err.message.as_str()),
                (kind, name, "the user said no")
            );
        }
        let long = "x".repeat(1000);
        let c = Callback {
            error: Some(&long),
            state: Some(STATE),
            ..Callback::default()
        };
        assert_eq!(
            read_callback(&c, Some(&text), None).unwrap_err().code.len(),
            256,
            "clipped"
        );
    }

    #[test]
    fn answering_a_callback_gives_the_nonce_and_the_exchange_or_sends_nothing() {
        let text = pending().encode();
        let ours = callback(Some("c0de"), Some(STATE));
        let record = own_record(&ours, Some(&text)).unwrap();
        let (record, request) = oauth2().answer_callback(&ours, record, None).unwrap();
        assert_eq!(record, pending());
        assert_eq!(
            request,
            oauth2().code_exchange_request("c0de", &pending()).unwrap()
        );
        let err = own_record(&callback(Some("c0de"), Some("forged")), Some(&text)).unwrap_err();
        assert_eq!(err.code, "StateMismatch");
        let cognito = Provider::Cognito {
            endpoint: "https://cognito-idp.us-east-1.amazonaws.com/".into(),
            client_id: "abc".into(),
            rotation: false,
        };
        let err = cognito.answer_callback(&ours, pending(), None).unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::CallerBug, "NotOAuth2")
        );
    }

    #[test]
    fn an_empty_error_names_no_error() {
        // Found by the redirect_return fuzz target (fuzz/regressions/redirect_return/).
        let text = pending().encode();
        let with = |code| Callback {
            error: Some(""),
            ..callback(code, Some(STATE))
        };
        assert_eq!(
            read_callback(&with(Some("c0de")), Some(&text), None).map(|(_, code)| code),
            Ok("c0de")
        );
        let err = read_callback(&with(None), Some(&text), None).unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::BadResponse, "MissingCode")
        );
    }

    #[test]
    fn a_callback_without_code_or_error_is_a_bad_response() {
        let text = pending().encode();
        for code in [None, Some("")] {
            let err = read_callback(&callback(code, Some(STATE)), Some(&text), None).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (FailureKind::BadResponse, "MissingCode")
            );
        }
    }

    #[test]
    fn the_id_token_must_carry_this_sign_ins_nonce() {
        let ours = id_token(&format!(
            r#"{{"exp":2000000000,"aud":"spa","nonce":"{NONCE}"}}"#
        ));
        assert_eq!(check_nonce(&grant(Some(ours)), &pending()), Ok(()));
        let theirs = id_token(r#"{"exp":2000000000,"aud":"spa","nonce":"someone-elses"}"#);
        let none = id_token(r#"{"exp":2000000000,"aud":"spa"}"#);
        for token in [theirs, none] {
            let err = check_nonce(&grant(Some(token)), &pending()).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (FailureKind::BadResponse, "NonceMismatch")
            );
        }
        assert_eq!(
            check_nonce(&grant(Some("not-a-jwt".into())), &pending()),
            Ok(()),
            "left to the token checks, which type the error"
        );
    }

    #[test]
    fn a_sign_in_that_asked_for_openid_must_get_an_id_token() {
        let err = check_nonce(&grant(None), &pending()).unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::BadResponse, "MissingIdToken")
        );
        for scope in ["profile", "email openidx", "offline_access"] {
            let plain_oauth = Pending {
                scope: scope.into(),
                ..pending()
            };
            assert_eq!(
                check_nonce(&grant(None), &plain_oauth),
                Ok(()),
                "{scope}: no openid, no ID token expected"
            );
        }
        for scope in ["openid", "openid profile", "email openid offline_access"] {
            assert!(
                Pending {
                    scope: scope.into(),
                    ..pending()
                }
                .wants_id_token(),
                "{scope}"
            );
        }
    }

    #[test]
    fn a_return_naming_another_issuer_is_refused_before_anything_is_sent() {
        let text = pending().encode();
        let issuer = Some("https://auth.example.com");
        let with = |iss| Callback {
            iss,
            ..callback(Some("c0de"), Some(STATE))
        };
        let err =
            read_callback(&with(Some("https://evil.example")), Some(&text), issuer).unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::BadResponse, "IssuerMismatch")
        );
        // The same issuer passes; so does a return without `iss` (RFC 9207 is optional for the
        // server) and any `iss` when no issuer is configured.
        assert!(read_callback(&with(issuer), Some(&text), issuer).is_ok());
        assert!(read_callback(&with(None), Some(&text), issuer).is_ok());
        assert!(read_callback(&with(Some("https://evil.example")), Some(&text), None).is_ok());
        // A mix-up is caught on error returns too.
        let denied = Callback {
            error: Some("access_denied"),
            code: None,
            ..with(Some("https://evil.example"))
        };
        assert_eq!(
            read_callback(&denied, Some(&text), issuer)
                .unwrap_err()
                .code,
            "IssuerMismatch"
        );
    }

    #[test]
    fn only_the_tabs_own_return_owns_its_record() {
        let text = pending().encode();
        assert_eq!(
            own_record(&callback(Some("c"), Some(STATE)), Some(&text)),
            Ok(pending())
        );
        for (state, record) in [
            (Some("forged"), Some(text.as_str())),
            (Some(STATE), None),
            (None, Some(text.as_str())),
        ] {
            assert!(own_record(&callback(Some("c"), state), record).is_err());
        }
    }

    #[test]
    fn an_authorization_endpoint_with_a_fragment_is_refused() {
        let url = oauth2().authorization_url(
            "https://auth.example.com/authorize#x",
            "openid",
            &pending(),
            CHALLENGE,
        );
        assert_eq!(url, Err(ConfigError::EndpointFragment));
    }

    #[test]
    fn a_pkce1_record_from_before_the_scope_was_kept_reads_as_none() {
        let old = format!("pkce1\n{STATE}\n{VERIFIER}\n{NONCE}\nhttps://app.example.com/");
        assert_eq!(Pending::decode(&old), None);
    }

    #[test]
    fn a_code_exchange_answer_reads_like_a_sign_in() {
        let body = r#"{"access_token":"opaque","expires_in":3600,"id_token":"x.y.z","refresh_token":"r1","token_type":"Bearer"}"#;
        let answer = oauth2()
            .parse_sign_in(&HttpResponse::new(200, body))
            .unwrap();
        assert!(
            matches!(answer, crate::engine::protocol::SignInAnswer::Tokens(g) if g.refresh_token.as_deref() == Some("r1"))
        );
    }

    #[test]
    fn debug_output_names_the_record_and_none_of_its_secrets() {
        let p = pending();
        let text = alloc::format!("{p:?}");
        assert_eq!(text, "Pending { .. }");
        assert!(
            !text.contains(&p.verifier) && !text.contains(&p.state) && !text.contains(&p.nonce)
        );
    }
}
