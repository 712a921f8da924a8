//! Signing in: with a password (Cognito `USER_PASSWORD_AUTH`, or `USER_SRP_AUTH` for the SRP
//! entry), through Cognito's challenges, or through the provider's login page (the
//! authorization-code flow with PKCE), from the request to send to the tokens installed in the
//! session.
//!
//! A sign-in step is one exchange the driver performs for the session: it asks for the request
//! ([`SessionMachine::password_sign_in`], [`SessionMachine::srp_sign_in`],
//! [`SessionMachine::challenge_response`] or, on the page the provider sent the browser back to,
//! [`SessionMachine::redirect_return`]), sends it within [`Outgoing::timeout`], and hands the
//! answer to [`SessionMachine::sign_in_answer`]: tokens, the next challenge, or an error. Between
//! a redirect sign-in's request and its answer the session remembers the `nonce` the ID token
//! must carry.
//! Every failure is an [`AppError`] with the code that tells the app what to do.

use alloc::string::String;

use super::classify;
use super::error::AppError;
use super::http::{HttpRequest, HttpResponse};
use super::machine::SessionMachine;
use super::protocol::SignInAnswer;
use super::redirect::{check_nonce, own_record, Callback, Pending};
use super::tokens::Provenance;
use super::Millis;

/// A request the driver sends for a sign-in, giving up after `timeout` ms (then the answer is
/// "no answer").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub request: HttpRequest,
    pub timeout: Millis,
}

/// Where to send the browser to sign in, and the record the tab keeps until it comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub url: String,
    /// [`Pending`], encoded: the driver keeps it in the tab's own storage.
    pub record: String,
}

/// The secrets of one redirect sign-in, drawn by the driver (WebCrypto: 32 random bytes each,
/// base64url); `challenge` is the SHA-256 of `verifier`, base64url.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secrets<'a> {
    pub state: &'a str,
    pub verifier: &'a str,
    pub challenge: &'a str,
    pub nonce: &'a str,
}

/// Secrets: `Debug` says they are there, not what they are.
impl core::fmt::Debug for Secrets<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// Why a return from the login page sends nothing, and whether it used up the tab's record: a
/// return that is not this tab's sign-in (a forged or replayed link) leaves the record be, so it
/// cannot cancel a real sign-in under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub error: AppError,
    pub record_used: bool,
}

/// How a sign-in step ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIn {
    /// The tokens are installed: the session is signed in.
    Tokens,
    /// Cognito wants another step first, named here (`NEW_PASSWORD_REQUIRED`, `SMS_MFA`, ...),
    /// answered with [`SessionMachine::challenge_response`]. The shell reads the rest of the
    /// challenge (`Session`, parameters) from the answer the engine approved.
    Challenge(String),
}

impl SessionMachine {
    /// The password sign-in request (Cognito `USER_PASSWORD_AUTH`; an OAuth2 provider's is
    /// `BAD_CONFIG`). Starts a new sign-in: a redirect sign-in left unanswered no longer counts.
    pub fn password_sign_in(
        &mut self,
        username: &str,
        password: &str,
    ) -> Result<Outgoing, AppError> {
        let request = self
            .config()
            .provider
            .password_sign_in_request(username, password)?;
        Ok(self.step(request))
    }

    /// The request that starts an SRP sign-in (Cognito `USER_SRP_AUTH`) with the client's public
    /// value `srp_a` (lowercase hex), for the SRP entry; Cognito answers with a
    /// `PASSWORD_VERIFIER` challenge. Starts a new sign-in, as [`Self::password_sign_in`] does.
    pub fn srp_sign_in(&mut self, username: &str, srp_a: &str) -> Result<Outgoing, AppError> {
        let request = self
            .config()
            .provider
            .srp_sign_in_request(username, srp_a)?;
        Ok(self.step(request))
    }

    /// The request that answers challenge `name` of sign-in `session` (Cognito
    /// `RespondToAuthChallenge`) with `responses`, the `ChallengeResponses` object as JSON.
    /// `BAD_CONFIG`, with nothing to send, when they do not fit
    /// ([`challenge::response_body`](super::challenge::response_body)).
    pub fn challenge_response(
        &mut self,
        name: &str,
        session: &str,
        responses: &str,
    ) -> Result<Outgoing, AppError> {
        let request = self
            .config()
            .provider
            .challenge_response_request(name, session, responses)?;
        Ok(self.step(request))
    }

    /// A Cognito sign-in step about to be sent: no redirect sign-in's nonce applies to its answer.
    fn step(&mut self, request: HttpRequest) -> Outgoing {
        self.exchanging = None;
        Outgoing {
            request,
            timeout: self.config().request_timeout,
        }
    }

    /// Where to send the browser to sign in through the provider's login page at `endpoint`, and
    /// the record to keep until it comes back to `redirect_uri` (OAuth2 only).
    pub fn authorize(
        &self,
        endpoint: &str,
        redirect_uri: &str,
        scope: &str,
        secrets: Secrets<'_>,
    ) -> Result<Authorization, AppError> {
        let pending = Pending {
            state: String::from(secrets.state),
            verifier: String::from(secrets.verifier),
            nonce: String::from(secrets.nonce),
            redirect_uri: String::from(redirect_uri),
            scope: String::from(scope),
        };
        let url = self.config().provider.authorization_url(
            endpoint,
            scope,
            &pending,
            secrets.challenge,
        )?;
        Ok(Authorization {
            url,
            record: pending.encode(),
        })
    }

    /// The browser came back with `callback`; `record` is what the tab kept from
    /// [`SessionMachine::authorize`] (`None`: nothing). Answers the code exchange to send, or why
    /// nothing may be sent: a return this tab did not start or a forged `state` (the record is
    /// not used up), another issuer than the configured one, the provider's error such as
    /// `access_denied`.
    pub fn redirect_return(
        &mut self,
        now: Millis,
        callback: &Callback<'_>,
        record: Option<&str>,
    ) -> Result<Outgoing, Refused> {
        let refused = |e, record_used| Refused {
            error: AppError::sign_in(now, &e),
            record_used,
        };
        let pending = own_record(callback, record).map_err(|e| refused(e, false))?;
        let config = self.config();
        let issuer = config.rules.issuer.as_deref();
        let (pending, request) = config
            .provider
            .answer_callback(callback, pending, issuer)
            .map_err(|e| refused(e, true))?;
        let timeout = config.request_timeout;
        self.exchanging = Some(pending);
        Ok(Outgoing { request, timeout })
    }

    /// The provider's answer to the sign-in request (`Err`: none came, and why). With tokens, the
    /// session is signed in; after a redirect return, the answer is checked against that sign-in
    /// ([`check_nonce`]: an ID token when it asked for `openid`, with its nonce).
    pub fn sign_in_answer(
        &mut self,
        now: Millis,
        answer: Result<&HttpResponse<'_>, &str>,
    ) -> Result<SignedIn, AppError> {
        let exchanged = self.exchanging.take();
        let parsed = match answer {
            Ok(response) => self.config().provider.parse_sign_in(response),
            Err(why) => Err(classify::network_error(why)),
        };
        let parsed = parsed.and_then(|answer| match (&answer, &exchanged) {
            (SignInAnswer::Tokens(grant), Some(pending)) => {
                check_nonce(grant, pending).map(|()| answer)
            }
            _ => Ok(answer),
        });
        match parsed.map_err(|e| AppError::sign_in(now, &e))? {
            SignInAnswer::Tokens(grant) => {
                self.set_tokens(now, grant, Provenance::Fresh)
                    .map_err(|e| AppError::from(&e))?;
                Ok(SignedIn::Tokens)
            }
            SignInAnswer::Challenge(name) => Ok(SignedIn::Challenge(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::base64url;
    use crate::engine::config::Config;
    use crate::engine::error::ErrorCode;
    use crate::engine::machine::{Action, Event};
    use crate::engine::protocol::Provider;
    use crate::sim::mint::Issuer;
    use alloc::format;

    const T0: Millis = 1_700_000_000_000;
    const STATE: &str = "st4te-0123456789abcdefXY";
    const NONCE: &str = "n0nce-0123456789abcdefXY";
    const SECRETS: Secrets<'static> = Secrets {
        state: STATE,
        verifier: "v3rifier-0123456789abcdefghijklmnopqrstuvwxyz",
        challenge: "ch4llenge-0123456789abcdefghijklmnopqrstuvwx",
        nonce: NONCE,
    };
    const AUTHORIZE: &str = "https://auth.example.com/authorize";
    const BACK: &str = "https://app.example.com/";

    fn cognito() -> (SessionMachine, Issuer) {
        let issuer = Issuer::default();
        let config = Config::new(Provider::Cognito {
            endpoint: "https://cognito-idp.us-east-1.amazonaws.com/".into(),
            client_id: issuer.client_id.clone(),
            rotation: false,
        });
        (SessionMachine::new(config, 1, T0), issuer)
    }

    fn oauth2() -> SessionMachine {
        let config = Config::new(Provider::OAuth2 {
            token_endpoint: "https://auth.example.com/token".into(),
            client_id: "spa".into(),
        });
        SessionMachine::new(config, 1, T0)
    }

    /// A code-exchange answer whose ID token carries `nonce`.
    fn exchange_answer(nonce: &str) -> alloc::string::String {
        let claims = format!(
            r#"{{"exp":{},"aud":"spa","nonce":"{nonce}"}}"#,
            T0 / 1000 + 3600
        );
        let id_token = format!(
            "{}.{}.c2ln",
            base64url::encode(br#"{"alg":"RS256"}"#),
            base64url::encode(claims.as_bytes())
        );
        format!(
            r#"{{"access_token":"opaque","expires_in":3600,"id_token":"{id_token}","refresh_token":"r1","token_type":"Bearer"}}"#
        )
    }

    fn returned(m: &mut SessionMachine, state: &str) -> Result<Outgoing, Refused> {
        returned_with(m, state, None)
    }

    /// A sign-in started, then the browser back with a code, `state` and `iss`.
    fn returned_with(
        m: &mut SessionMachine,
        state: &str,
        iss: Option<&str>,
    ) -> Result<Outgoing, Refused> {
        let record = m
            .authorize(AUTHORIZE, BACK, "openid", SECRETS)
            .unwrap()
            .record;
        let callback = Callback {
            code: Some("c0de"),
            state: Some(state),
            iss,
            ..Callback::default()
        };
        m.redirect_return(T0, &callback, Some(&record))
    }

    #[test]
    fn a_password_sign_in_sends_the_request_and_installs_the_answer() {
        let (mut m, issuer) = cognito();
        let out = m.password_sign_in("alice", "pw").unwrap();
        assert_eq!(out.timeout, m.config().request_timeout);
        assert!(out.request.body.contains("USER_PASSWORD_AUTH"));
        let body = issuer.cognito_answer("alice", T0 / 1000, 3600, 1, Some("rt"));
        let answer = m.sign_in_answer(T0, Ok(&HttpResponse::new(200, &body)));
        assert_eq!(answer, Ok(SignedIn::Tokens));
        assert!(m.snapshot().signed_in);
        let actions: alloc::vec::Vec<Action> = core::iter::from_fn(|| m.poll_action()).collect();
        assert!(actions
            .iter()
            .any(|a| matches!(a, Action::Persist { record: Some(_) })));
        assert!(actions.iter().any(|a| matches!(
            a,
            Action::Emit {
                event: Event::SignedIn { .. }
            }
        )));
    }

    #[test]
    fn a_refused_password_is_not_signed_in_and_never_timed() {
        let (mut m, _) = cognito();
        m.password_sign_in("alice", "wrong").unwrap();
        let body =
            r#"{"__type":"NotAuthorizedException","message":"Incorrect username or password."}"#;
        let response = HttpResponse {
            retry_after: Some("30"),
            ..HttpResponse::new(400, body)
        };
        let e = m.sign_in_answer(T0, Ok(&response)).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotSignedIn);
        assert_eq!(e.provider_code.as_deref(), Some("NotAuthorizedException"));
        assert_eq!(e.retry_at, None);
        assert!(!m.snapshot().signed_in);
    }

    #[test]
    fn no_answer_is_unavailable_and_a_challenge_is_handed_back() {
        let (mut m, _) = cognito();
        let e = m.sign_in_answer(T0, Err("fetch failed")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unavailable);
        m.password_sign_in("alice", "pw").unwrap();
        let body = r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"AYAB","ChallengeParameters":{}}"#;
        assert_eq!(
            m.sign_in_answer(T0, Ok(&HttpResponse::new(200, body))),
            Ok(SignedIn::Challenge("NEW_PASSWORD_REQUIRED".into()))
        );
        assert!(!m.snapshot().signed_in);
    }

    fn challenge_in(m: &mut SessionMachine, body: &str) -> alloc::string::String {
        match m.sign_in_answer(T0, Ok(&HttpResponse::new(200, body))) {
            Ok(SignedIn::Challenge(name)) => name,
            other => panic!("not a challenge: {other:?}"),
        }
    }

    #[test]
    fn a_new_password_then_a_totp_code_sign_the_user_in_step_by_step() {
        let (mut m, issuer) = cognito();
        m.password_sign_in("alice@example.com", "temporary")
            .unwrap();
        let name = challenge_in(
            &mut m,
            r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"S1","ChallengeParameters":{"USER_ID_FOR_SRP":"id-7","requiredAttributes":"[]"}}"#,
        );
        assert_eq!(name, "NEW_PASSWORD_REQUIRED");
        assert!(!m.snapshot().signed_in);
        let responses = r#"{"USERNAME":"id-7","NEW_PASSWORD":"N3w!"}"#;
        let out = m.challenge_response(&name, "S1", responses).unwrap();
        assert_eq!(out.timeout, m.config().request_timeout);
        let body = crate::engine::json::parse(&out.request.body).unwrap();
        assert_eq!(
            body.get("ChallengeResponses").unwrap(),
            &crate::engine::json::parse(responses).unwrap()
        );
        let name = challenge_in(
            &mut m,
            r#"{"ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"S2","ChallengeParameters":{}}"#,
        );
        let code = |c| format!(r#"{{"USERNAME":"id-7","SOFTWARE_TOKEN_MFA_CODE":"{c}"}}"#);
        let out = m.challenge_response(&name, "S2", &code("000000")).unwrap();
        assert!(out.request.body.contains(r#""Session":"S2""#));
        // A wrong code: the user's mistake, and the same challenge can be answered again.
        let wrong =
            r#"{"__type":"CodeMismatchException","message":"Invalid code received for user"}"#;
        let e = m
            .sign_in_answer(T0, Ok(&HttpResponse::new(400, wrong)))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotSignedIn);
        assert_eq!(e.provider_code.as_deref(), Some("CodeMismatchException"));
        m.challenge_response(&name, "S2", &code("123456")).unwrap();
        let body = issuer.cognito_answer("alice", T0 / 1000, 3600, 1, Some("rt"));
        assert_eq!(
            m.sign_in_answer(T0, Ok(&HttpResponse::new(200, &body))),
            Ok(SignedIn::Tokens)
        );
        assert!(m.snapshot().signed_in);
    }

    #[test]
    fn an_srp_sign_in_hands_back_the_password_verifier_challenge() {
        let (mut m, _) = cognito();
        let out = m.srp_sign_in("alice", "abcdef0123").unwrap();
        assert!(out.request.body.contains(r#""AuthFlow":"USER_SRP_AUTH""#));
        let name = challenge_in(
            &mut m,
            r#"{"ChallengeName":"PASSWORD_VERIFIER","Session":"S","ChallengeParameters":{"SALT":"a1","SRP_B":"b2","SECRET_BLOCK":"c3","USER_ID_FOR_SRP":"alice-id","USERNAME":"alice"}}"#,
        );
        assert_eq!(name, "PASSWORD_VERIFIER");
        assert_eq!(
            m.srp_sign_in("alice", "ABC").unwrap_err().code,
            ErrorCode::BadConfig
        );
    }

    #[test]
    fn an_answer_that_does_not_fit_sends_nothing() {
        let (mut m, _) = cognito();
        m.password_sign_in("alice", "pw").unwrap();
        let name = challenge_in(
            &mut m,
            r#"{"ChallengeName":"SMS_MFA","Session":"S","ChallengeParameters":{"CODE_DELIVERY_DESTINATION":"+*******1234"}}"#,
        );
        for responses in [r#"{"USERNAME":"alice","SMS_MFA_CODE":1}"#, "null", ""] {
            let e = m.challenge_response(&name, "S", responses).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadConfig, "{responses}");
        }
        assert!(m
            .challenge_response(&name, "S", r#"{"USERNAME":"alice","SMS_MFA_CODE":"1"}"#)
            .is_ok());
    }

    #[test]
    fn an_oauth2_provider_has_no_password_sign_in_and_cognito_no_login_page() {
        let e = oauth2().password_sign_in("a", "b").unwrap_err();
        assert_eq!(e.code, ErrorCode::BadConfig);
        let (cognito, _) = cognito();
        let e = cognito
            .authorize(AUTHORIZE, BACK, "openid", SECRETS)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadConfig);
    }

    #[test]
    fn a_redirect_sign_in_completes_with_an_id_token_for_this_nonce() {
        let mut m = oauth2();
        let out = returned(&mut m, STATE).unwrap();
        assert!(out.request.body.contains("grant_type=authorization_code"));
        let body = exchange_answer(NONCE);
        assert_eq!(
            m.sign_in_answer(T0, Ok(&HttpResponse::new(200, &body))),
            Ok(SignedIn::Tokens)
        );
        assert!(m.snapshot().signed_in);
    }

    #[test]
    fn an_id_token_for_another_nonce_is_refused_and_nothing_is_installed() {
        let mut m = oauth2();
        returned(&mut m, STATE).unwrap();
        let body = exchange_answer("someone-elses");
        let e = m
            .sign_in_answer(T0, Ok(&HttpResponse::new(200, &body)))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadResponse);
        assert_eq!(e.provider_code.as_deref(), Some("NonceMismatch"));
        assert!(!m.snapshot().signed_in);
    }

    #[test]
    fn the_nonce_is_used_up_by_the_answer_it_was_for() {
        let mut m = oauth2();
        returned(&mut m, STATE).unwrap();
        assert!(m.sign_in_answer(T0, Err("offline")).is_err());
        // The next answer is not held to a sign-in that already ended.
        let body = exchange_answer("any");
        assert_eq!(
            m.sign_in_answer(T0, Ok(&HttpResponse::new(200, &body))),
            Ok(SignedIn::Tokens)
        );
    }

    #[test]
    fn a_forged_state_sends_nothing_and_remembers_nothing() {
        let mut m = oauth2();
        let refused = returned(&mut m, "forged").unwrap_err();
        assert!(
            !refused.record_used,
            "a forged return leaves the record of the real sign-in"
        );
        let e = refused.error;
        assert_eq!(e.code, ErrorCode::BadResponse);
        assert_eq!(e.provider_code.as_deref(), Some("StateMismatch"));
        assert_eq!(m.exchanging, None);
    }

    #[test]
    fn a_return_for_another_issuer_uses_up_the_record_and_sends_nothing() {
        let config = Config::from_options(&crate::engine::config::ProviderOptions {
            client_id: "spa",
            token_endpoint: "https://auth.example.com/token",
            issuer: "https://auth.example.com",
            ..Default::default()
        })
        .unwrap();
        let mut m = SessionMachine::new(config, 1, T0);
        let refused = returned_with(&mut m, STATE, Some("https://evil.example")).unwrap_err();
        assert!(refused.record_used);
        assert_eq!(
            refused.error.provider_code.as_deref(),
            Some("IssuerMismatch")
        );
        assert_eq!(m.exchanging, None);
    }

    #[test]
    fn a_code_exchange_without_an_id_token_for_an_openid_sign_in_is_refused() {
        let mut m = oauth2();
        returned(&mut m, STATE).unwrap();
        let body = r#"{"access_token":"opaque","expires_in":3600,"refresh_token":"r1","token_type":"Bearer"}"#;
        let e = m
            .sign_in_answer(T0, Ok(&HttpResponse::new(200, body)))
            .unwrap_err();
        assert_eq!(e.provider_code.as_deref(), Some("MissingIdToken"));
        assert!(!m.snapshot().signed_in);
    }

    #[test]
    fn a_declined_sign_in_says_so_with_the_providers_name() {
        let mut m = oauth2();
        let record = m
            .authorize(AUTHORIZE, BACK, "openid", SECRETS)
            .unwrap()
            .record;
        let callback = Callback {
            state: Some(STATE),
            error: Some("access_denied"),
            ..Callback::default()
        };
        let refused = m.redirect_return(T0, &callback, Some(&record)).unwrap_err();
        assert!(refused.record_used, "the sign-in it was for is over");
        assert_eq!(refused.error.code, ErrorCode::NotSignedIn);
        assert_eq!(
            refused.error.provider_code.as_deref(),
            Some("access_denied")
        );
    }

    #[test]
    fn debug_output_says_the_secrets_are_there_and_not_what_they_are() {
        let text = alloc::format!("{SECRETS:?}");
        assert_eq!(text, "Secrets(<redacted>)");
        for secret in [
            SECRETS.state,
            SECRETS.verifier,
            SECRETS.challenge,
            SECRETS.nonce,
        ] {
            assert!(!text.contains(secret));
        }
    }
}
