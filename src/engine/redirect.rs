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
}

/// Secrets: `Debug` names the fields without their values.
impl core::fmt::Debug for Pending {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Pending { .. }")
    }
}

/// The version tag that starts an encoded [`Pending`].
const PENDING_VERSION: &str = "pkce1";

impl Pending {
    /// The record as text: the version tag and the four fields, each on its own line (base64url
    /// secrets and a URL as the browser serialises it hold no line breaks).
    pub fn encode(&self) -> String {
        let mut out = String::from(PENDING_VERSION);
        for field in [&self.state, &self.verifier, &self.nonce, &self.redirect_uri] {
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
        };
        fields.next().is_none().then_some(pending)
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
    /// code is traded at an OAuth2 token endpoint).
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

    /// What to do with a callback: [`read_callback`], then the code exchange. Answers the nonce
    /// the ID token must carry ([`check_nonce`]) and the request to send, or why nothing may be
    /// sent.
    pub fn answer_callback(
        &self,
        callback: &Callback<'_>,
        pending: Option<&str>,
    ) -> Result<(String, HttpRequest), ProviderError> {
        let (pending, code) = read_callback(callback, pending)?;
        match self.code_exchange_request(code, &pending) {
            Ok(request) => Ok((pending.nonce, request)),
            Err(e) => {
                let mut err = bad_response("NotOAuth2", e.message());
                err.kind = FailureKind::CallerBug;
                Err(err)
            }
        }
    }
}

/// Reads a callback against the record `pending` (as [`Pending::encode`] wrote it; `None` when
/// the tab holds none). Answers the record and the code to exchange, or why not:
///
/// - `NoPendingSignIn` (bad response): this tab started no sign-in, or its record is unreadable,
///   so the callback is not ours to trust (a forged link, a reload after the sign-in finished);
/// - `StateMismatch` (bad response): the `state` is not the one this tab sent;
/// - the provider's `error`, classified by [`authorization_error`]: the user declined or must
///   interact (`access_denied`, `login_required`, ...), the provider is down, or the request was
///   wrong;
/// - `MissingCode` (bad response): neither a code nor an error.
pub fn read_callback<'a>(
    callback: &Callback<'a>,
    pending: Option<&str>,
) -> Result<(Pending, &'a str), ProviderError> {
    let Some(pending) = pending.and_then(Pending::decode) else {
        return Err(bad_response(
            "NoPendingSignIn",
            "no sign-in started in this tab",
        ));
    };
    if callback.state != Some(pending.state.as_str()) {
        return Err(bad_response("StateMismatch", "not this sign-in's state"));
    }
    if let Some(name) = callback.error {
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

/// Checks that the grant's ID token, if it has one, carries this sign-in's `nonce`
/// (`NonceMismatch`, a bad response, otherwise). An ID token that does not decode passes here:
/// installing the tokens refuses it with its own typed error.
pub fn check_nonce(grant: &TokenGrant, nonce: &str) -> Result<(), ProviderError> {
    let Some(id_token) = grant.id_token.as_deref() else {
        return Ok(());
    };
    match jwt::decode(id_token) {
        Ok(token) if token.claims.nonce.as_deref() != Some(nonce) => Err(bad_response(
            "NonceMismatch",
            "ID token not issued for this sign-in",
        )),
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
            "pkce1",
            "pkce2\na\nb\nc\nd",
            "pkce1\na\nb\nc",
            "pkce1\na\n\nc\nd",
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
            read_callback(&callback(Some("the-code"), Some(STATE)), Some(&text)).unwrap();
        assert_eq!((record, code), (pending(), "the-code"));
    }

    #[test]
    fn a_callback_this_tab_did_not_start_is_refused_before_anything_is_sent() {
        for record in [None, Some(""), Some("pkce9\nx")] {
            let err = read_callback(&callback(Some("code"), Some(STATE)), record).unwrap_err();
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
            let err = read_callback(&c, Some(&text)).unwrap_err();
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
            };
            let err = read_callback(&c, Some(&text)).unwrap_err();
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
            read_callback(&c, Some(&text)).unwrap_err().code.len(),
            256,
            "clipped"
        );
    }

    #[test]
    fn answering_a_callback_gives_the_nonce_and_the_exchange_or_sends_nothing() {
        let text = pending().encode();
        let (nonce, request) = oauth2()
            .answer_callback(&callback(Some("c0de"), Some(STATE)), Some(&text))
            .unwrap();
        assert_eq!(nonce, NONCE);
        assert_eq!(
            request,
            oauth2().code_exchange_request("c0de", &pending()).unwrap()
        );
        let err = oauth2()
            .answer_callback(&callback(Some("c0de"), Some("forged")), Some(&text))
            .unwrap_err();
        assert_eq!(err.code, "StateMismatch");
        let cognito = Provider::Cognito {
            endpoint: "https://cognito-idp.us-east-1.amazonaws.com/".into(),
            client_id: "abc".into(),
            rotation: false,
        };
        let err = cognito
            .answer_callback(&callback(Some("c0de"), Some(STATE)), Some(&text))
            .unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (FailureKind::CallerBug, "NotOAuth2")
        );
    }

    #[test]
    fn a_callback_without_code_or_error_is_a_bad_response() {
        let text = pending().encode();
        for code in [None, Some("")] {
            let err = read_callback(&callback(code, Some(STATE)), Some(&text)).unwrap_err();
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
        assert_eq!(check_nonce(&grant(Some(ours)), NONCE), Ok(()));
        let theirs = id_token(r#"{"exp":2000000000,"aud":"spa","nonce":"someone-elses"}"#);
        let none = id_token(r#"{"exp":2000000000,"aud":"spa"}"#);
        for token in [theirs, none] {
            let err = check_nonce(&grant(Some(token)), NONCE).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (FailureKind::BadResponse, "NonceMismatch")
            );
        }
        assert_eq!(
            check_nonce(&grant(None), NONCE),
            Ok(()),
            "no ID token, nothing to check"
        );
        assert_eq!(
            check_nonce(&grant(Some("not-a-jwt".into())), NONCE),
            Ok(()),
            "left to the token checks, which type the error"
        );
    }

    #[test]
    fn a_code_exchange_answer_reads_like_a_sign_in() {
        let body = r#"{"access_token":"opaque","expires_in":3600,"id_token":"x.y.z","refresh_token":"r1","token_type":"Bearer"}"#;
        let answer = oauth2()
            .parse_sign_in(0, &HttpResponse::new(200, body))
            .unwrap();
        assert!(
            matches!(answer, crate::engine::protocol::SignInAnswer::Tokens(g) if g.refresh_token.as_deref() == Some("r1"))
        );
    }
}
