//! Signing out at the provider: after the sign-out here, which reaches every tab as it always
//! did, the requests that end the session at the provider, made with the tokens the session held
//! just before, and the provider's logout page.
//!
//! The app asks for any of three things ([`SignOut`]):
//! - `revoke`: the refresh token stops working at the provider: Cognito `RevokeToken` (which
//!   revokes the access tokens issued with it too), or RFC 7009 revocation at an OAuth2
//!   provider's revocation endpoint;
//! - `global`: Cognito `GlobalSignOut`: every session of the user ends, on every device. It
//!   revokes this session's refresh token as well, so `revoke` adds nothing to it. It needs an
//!   access token Cognito still accepts (an expired one is refused, `NotAuthorizedException`
//!   "Access Token has expired"): when the one held is about to expire, the captured refresh
//!   token buys a fresh one first. That refresh is part of the sign-out, not of the session:
//!   the session was already signed out here, so its tokens are never installed or stored, and
//!   a failure of it fails the sign-out;
//! - `redirect`: the browser goes to the provider's logout page, last (OpenID Connect
//!   `end_session_endpoint` with `id_token_hint`, or Cognito's `/logout`).
//!
//! The driver sends each request [`SessionMachine::sign_out_at_provider`] and
//! [`SessionMachine::sign_out_answer`] hand it, within [`Outgoing::timeout`], and feeds the
//! answer back. Options that cannot work are `BAD_CONFIG` before anything happens, here or at
//! the provider; a failure at the provider ends the sign-out with an error that says the session
//! was signed out here ([`AppError::signed_out_here`]). A later sign-out replaces one still
//! under way; the driver then hands over only the later one's answers.

use alloc::{string::String, vec::Vec};

use super::classify::{network_error, FailureKind, ProviderError};
use super::error::AppError;
use super::http::HttpResponse;
use super::machine::SessionMachine;
use super::protocol::{ConfigError, LogoutPage, Provider};
use super::sign_in::Outgoing;
use super::Millis;

/// What the app asked `signOut` for, and where the provider takes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignOut<'a> {
    pub revoke: bool,
    pub global: bool,
    pub redirect: bool,
    /// An OAuth2 provider's revocation endpoint (RFC 7009), if configured.
    pub revocation_endpoint: Option<&'a str>,
    /// The provider's logout page, if configured.
    pub logout_page: Option<LogoutPage<'a>>,
}

/// What the driver does next for a sign-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignOutStep {
    /// Send this request and hand its answer to [`SessionMachine::sign_out_answer`].
    Send(Outgoing),
    /// Send the browser to the provider's logout page at this URL: the sign-out is over.
    Navigate(String),
    /// The sign-out is over.
    Done,
}

/// A request a sign-out sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    /// A fresh access token for `GlobalSignOut`, from the captured refresh token.
    Refresh,
    GlobalSignOut,
    Revoke,
}

/// A sign-out at the provider under way: the requests left (the next one last), the tokens
/// captured before the sign-out here, and the logout page to end on.
#[derive(Debug, Default)]
pub(super) struct SigningOut {
    left: Vec<Request>,
    sent: Option<Request>,
    access_token: String,
    refresh_token: Option<String>,
    revocation_endpoint: Option<String>,
    logout_url: Option<String>,
}

impl SessionMachine {
    /// Signs out here and in every tab ([`SessionMachine::sign_out`]) and starts the sign-out
    /// at the provider that `request` asks for, with the tokens held until now: the first
    /// request to send, the logout page, or nothing more. `BAD_CONFIG`, with nothing done, when
    /// the provider cannot do what is asked (`global` at an OAuth2 provider, `revoke` there
    /// without a revocation endpoint, `redirect` without a logout page). Nothing is sent for
    /// tokens the session does not hold: `revoke` without a refresh token, either when signed
    /// out.
    pub fn sign_out_at_provider(
        &mut self,
        now: Millis,
        request: &SignOut<'_>,
    ) -> Result<SignOutStep, AppError> {
        let provider = &self.config().provider;
        let oauth2 = matches!(provider, Provider::OAuth2 { .. });
        if request.global && oauth2 {
            return Err(ConfigError::GlobalNeedsCognito.into());
        }
        if request.revoke && oauth2 && request.revocation_endpoint.is_none() {
            return Err(ConfigError::NoRevocationEndpoint.into());
        }
        let logout_url = match (request.redirect, &request.logout_page) {
            (false, _) => None,
            (true, Some(page)) => {
                Some(provider.logout_url(page, self.tokens().and_then(|t| t.id_token.as_deref())))
            }
            (true, None) => return Err(ConfigError::NoLogoutPage.into()),
        };
        let mut plan = SigningOut {
            logout_url,
            revocation_endpoint: request.revocation_endpoint.map(String::from),
            ..SigningOut::default()
        };
        if let Some(tokens) = self.tokens() {
            plan.refresh_token.clone_from(&tokens.refresh_token);
            if request.global {
                plan.left.push(Request::GlobalSignOut);
                match self.access_token(now) {
                    Some(access) => plan.access_token = String::from(access),
                    None => plan.left.push(Request::Refresh),
                }
            } else if request.revoke && plan.refresh_token.is_some() {
                plan.left.push(Request::Revoke);
            }
        }
        self.sign_out(now);
        self.signing_out = None;
        self.next_sign_out_step(plan)
    }

    /// The answer to the request the sign-out under way sent (`Err`: none came, and why): the
    /// next step, or the error that ends the sign-out. Without a request under way (the driver
    /// hands only the latest sign-out's answers over) it is over.
    pub fn sign_out_answer(
        &mut self,
        answer: Result<&HttpResponse<'_>, &str>,
    ) -> Result<SignOutStep, AppError> {
        let Some(mut plan) = self.signing_out.take() else {
            return Ok(SignOutStep::Done);
        };
        let Some(sent) = plan.sent.take() else {
            return Ok(SignOutStep::Done);
        };
        let provider = &self.config().provider;
        let answered = match answer {
            Err(why) => Err(network_error(why)),
            Ok(response) if sent == Request::Refresh => provider
                .parse_refresh(response)
                .map(|grant| plan.access_token = grant.access_token),
            Ok(response) => provider.parse_sign_out(response),
        };
        answered.map_err(|e| AppError::signed_out_here(&e))?;
        self.next_sign_out_step(plan)
    }

    /// The next request of sign-out `plan`, which stays under way until its answer, or its end.
    fn next_sign_out_step(&mut self, mut plan: SigningOut) -> Result<SignOutStep, AppError> {
        let Some(next) = plan.left.pop() else {
            return Ok(plan
                .logout_url
                .map_or(SignOutStep::Done, SignOutStep::Navigate));
        };
        let provider = &self.config().provider;
        let request = match (next, plan.refresh_token.as_deref()) {
            (Request::GlobalSignOut, _) => provider.global_sign_out_request(&plan.access_token)?,
            (Request::Refresh, Some(refresh_token)) => provider.refresh_request(refresh_token),
            (Request::Revoke, Some(refresh_token)) => {
                provider.revoke_request(refresh_token, plan.revocation_endpoint.as_deref())?
            }
            // The access token was about to expire and there is no refresh token: Cognito would
            // refuse GlobalSignOut.
            (_, None) => {
                return Err(AppError::signed_out_here(&ProviderError {
                    kind: FailureKind::CredentialDead,
                    code: String::from("NoAccessToken"),
                    message: String::from("no access token Cognito still accepts"),
                    retry_after: None,
                }))
            }
        };
        let timeout = self.config().request_timeout;
        plan.sent = Some(next);
        self.signing_out = Some(plan);
        Ok(SignOutStep::Send(Outgoing { request, timeout }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::base64url;
    use crate::engine::config::Config;
    use crate::engine::error::ErrorCode;
    use crate::engine::machine::{Action, Event};
    use crate::engine::protocol::TokenGrant;
    use crate::engine::tokens::Provenance;
    use crate::sim::mint::Issuer;
    use alloc::format;

    const T0: Millis = 1_700_000_000_000;
    const ENDPOINT: &str = "https://cognito-idp.us-east-1.amazonaws.com/";
    const REVOCATION: &str = "https://auth.example.com/revoke";
    const END_SESSION: LogoutPage<'static> = LogoutPage {
        endpoint: "https://auth.example.com/logout?ui=1",
        cognito: false,
        back: Some("https://app.example.com/bye"),
    };

    /// A Cognito session signed in at T0 with tokens for an hour and refresh token "rt".
    fn cognito() -> (SessionMachine, Issuer) {
        let issuer = Issuer::default();
        let config = Config::new(Provider::Cognito {
            endpoint: ENDPOINT.into(),
            client_id: issuer.client_id.clone(),
            rotation: false,
        });
        let mut m = SessionMachine::new(config, 1, T0);
        m.password_sign_in("alice", "pw").unwrap();
        let body = issuer.cognito_answer("alice", T0 / 1000, 3600, 1, Some("rt"));
        m.sign_in_answer(T0, Ok(&HttpResponse::new(200, &body)))
            .unwrap();
        drain(&mut m);
        (m, issuer)
    }

    /// An OAuth2 session at T0 with an opaque access token, an ID token and refresh token "r1".
    fn oauth2() -> SessionMachine {
        let config = Config::new(Provider::OAuth2 {
            token_endpoint: "https://auth.example.com/token".into(),
            client_id: "spa".into(),
        });
        let mut m = SessionMachine::new(config, 1, T0);
        let claims = format!(r#"{{"exp":{},"aud":"spa"}}"#, T0 / 1000 + 3600);
        let id_token = format!(
            "{}.{}.c2ln",
            base64url::encode(br#"{"alg":"RS256"}"#),
            base64url::encode(claims.as_bytes())
        );
        let grant = TokenGrant {
            access_token: "opaque".into(),
            id_token: Some(id_token),
            refresh_token: Some("r1".into()),
            expires_in: Some(3600),
        };
        m.set_tokens(T0, grant, Provenance::Fresh).unwrap();
        drain(&mut m);
        m
    }

    fn drain(m: &mut SessionMachine) -> Vec<Action> {
        core::iter::from_fn(|| m.poll_action()).collect()
    }

    /// A sign-out asking for the space-separated options in `what` (`"revoke redirect"`).
    fn asked(what: &str) -> SignOut<'static> {
        let has = |option| what.split(' ').any(|w| w == option);
        SignOut {
            revoke: has("revoke"),
            global: has("global"),
            redirect: has("redirect"),
            revocation_endpoint: Some(REVOCATION),
            logout_page: Some(END_SESSION),
        }
    }

    fn sent(step: Result<SignOutStep, AppError>) -> crate::engine::http::HttpRequest {
        match step {
            Ok(SignOutStep::Send(outgoing)) => outgoing.request,
            other => panic!("nothing sent: {other:?}"),
        }
    }

    fn target(request: &crate::engine::http::HttpRequest) -> &str {
        &request.headers[1].1
    }

    const OK: HttpResponse<'static> = HttpResponse::new(200, "{}");

    /// The local sign-out happened: no tokens, the record removed, the tabs told.
    fn signed_out_here(m: &mut SessionMachine) {
        assert!(!m.snapshot().signed_in);
        let actions = drain(m);
        assert!(
            actions.contains(&Action::Persist { record: None }),
            "{actions:?}"
        );
        assert!(actions
            .iter()
            .any(|a| matches!(a, Action::Broadcast { .. })));
        assert!(actions.contains(&Action::Emit {
            event: Event::SignedOut
        }));
    }

    #[test]
    fn a_plain_sign_out_is_local_only() {
        let (mut m, _) = cognito();
        assert_eq!(
            m.sign_out_at_provider(T0 + 1, &asked("")),
            Ok(SignOutStep::Done)
        );
        signed_out_here(&mut m);
        assert!(m.signing_out.is_none());
    }

    #[test]
    fn revoke_at_cognito_is_revoke_token_with_the_refresh_token_held_before() {
        let (mut m, issuer) = cognito();
        let request = sent(m.sign_out_at_provider(T0 + 1, &asked("revoke")));
        signed_out_here(&mut m);
        assert_eq!(
            target(&request),
            "AWSCognitoIdentityProviderService.RevokeToken"
        );
        assert_eq!(request.url, ENDPOINT);
        assert_eq!(
            request.body,
            format!(r#"{{"ClientId":"{}","Token":"rt"}}"#, issuer.client_id)
        );
        // Cognito answers 200 with an empty body.
        assert_eq!(
            m.sign_out_answer(Ok(&HttpResponse::new(200, ""))),
            Ok(SignOutStep::Done)
        );
        assert!(m.signing_out.is_none());
    }

    #[test]
    fn revoke_at_an_oauth2_provider_is_rfc_7009_then_the_logout_page() {
        let mut m = oauth2();
        let id_token = m.tokens().unwrap().id_token.clone().unwrap();
        let request = sent(m.sign_out_at_provider(T0 + 1, &asked("revoke redirect")));
        assert_eq!(request.url, REVOCATION);
        assert_eq!(
            request.body,
            "token_type_hint=refresh_token&token=r1&client_id=spa"
        );
        let Ok(SignOutStep::Navigate(url)) = m.sign_out_answer(Ok(&HttpResponse::new(200, "")))
        else {
            panic!("no logout page")
        };
        assert_eq!(
            url,
            format!(
                "https://auth.example.com/logout?ui=1&id_token_hint={id_token}\
                 &post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye&client_id=spa"
            )
        );
    }

    #[test]
    fn cognitos_logout_page_takes_client_id_and_logout_uri() {
        let (mut m, issuer) = cognito();
        let request = SignOut {
            redirect: true,
            logout_page: Some(LogoutPage {
                endpoint: "https://auth.example.com/logout",
                cognito: true,
                back: Some("https://app.example.com/"),
            }),
            ..SignOut::default()
        };
        assert_eq!(
            m.sign_out_at_provider(T0 + 1, &request),
            Ok(SignOutStep::Navigate(format!(
                "https://auth.example.com/logout?client_id={}&logout_uri=https%3A%2F%2Fapp.example.com%2F",
                issuer.client_id
            )))
        );
        signed_out_here(&mut m);
    }

    #[test]
    fn global_sign_out_uses_the_access_token_while_cognito_accepts_it() {
        let (mut m, _) = cognito();
        let access = m.tokens().unwrap().access_token.clone();
        let request = sent(m.sign_out_at_provider(T0 + 60_000, &asked("global revoke")));
        assert_eq!(
            target(&request),
            "AWSCognitoIdentityProviderService.GlobalSignOut"
        );
        assert_eq!(request.body, format!(r#"{{"AccessToken":"{access}"}}"#));
        // GlobalSignOut revoked the refresh token too: nothing else is sent.
        assert_eq!(m.sign_out_answer(Ok(&OK)), Ok(SignOutStep::Done));
    }

    #[test]
    fn global_sign_out_with_an_expiring_access_token_refreshes_first_and_installs_nothing() {
        let (mut m, issuer) = cognito();
        let later = T0 + 3_590_000;
        let request = sent(m.sign_out_at_provider(later, &asked("global")));
        signed_out_here(&mut m);
        assert_eq!(
            target(&request),
            "AWSCognitoIdentityProviderService.InitiateAuth"
        );
        assert!(
            request.body.contains(r#""REFRESH_TOKEN":"rt""#),
            "{}",
            request.body
        );
        let fresh = issuer.cognito_answer("alice", later / 1000, 3600, 2, None);
        let fresh_access = issuer.access_token("alice", later / 1000, later / 1000 + 3600, 2);
        let request = sent(m.sign_out_answer(Ok(&HttpResponse::new(200, &fresh))));
        assert_eq!(
            target(&request),
            "AWSCognitoIdentityProviderService.GlobalSignOut"
        );
        assert_eq!(
            request.body,
            format!(r#"{{"AccessToken":"{fresh_access}"}}"#)
        );
        assert!(
            !m.snapshot().signed_in,
            "the fresh tokens are not installed"
        );
        assert_eq!(drain(&mut m), []);
        assert_eq!(m.sign_out_answer(Ok(&OK)), Ok(SignOutStep::Done));
    }

    #[test]
    fn a_failure_at_the_provider_says_the_session_is_signed_out_here() {
        let (mut m, _) = cognito();
        sent(m.sign_out_at_provider(T0 + 1, &asked("revoke redirect")));
        let failed = HttpResponse {
            retry_after: Some("5"),
            ..HttpResponse::new(
                500,
                r#"{"__type":"InternalErrorException","message":"Internal error"}"#,
            )
        };
        let e = m.sign_out_answer(Ok(&failed)).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert_eq!(e.retry_at, None, "nothing left to retry with");
        assert_eq!(e.provider_code.as_deref(), Some("InternalErrorException"));
        assert!(
            e.message
                .starts_with("signed out here, not at the provider: InternalErrorException"),
            "{}",
            e.message
        );
        assert!(!m.snapshot().signed_in);
        // The sign-out is over: no logout page, and a late answer changes nothing.
        assert_eq!(m.sign_out_answer(Ok(&OK)), Ok(SignOutStep::Done));
        // No answer at all is UNAVAILABLE the same way.
        let (mut m, _) = cognito();
        sent(m.sign_out_at_provider(T0 + 1, &asked("global")));
        let e = m.sign_out_answer(Err("fetch failed")).unwrap_err();
        assert_eq!(
            (e.code, e.provider_code.as_deref()),
            (ErrorCode::Unavailable, Some("NetworkError"))
        );
        // A refresh token already dead: the refresh for GlobalSignOut says so.
        let (mut m, _) = cognito();
        sent(m.sign_out_at_provider(T0 + 3_590_000, &asked("global")));
        let dead =
            r#"{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}"#;
        let e = m
            .sign_out_answer(Ok(&HttpResponse::new(400, dead)))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotSignedIn);
    }

    #[test]
    fn what_the_provider_cannot_do_is_bad_config_and_nothing_happens() {
        let mut m = oauth2();
        let cases: [(SignOut<'static>, ConfigError); 3] = [
            (
                SignOut {
                    global: true,
                    ..asked("")
                },
                ConfigError::GlobalNeedsCognito,
            ),
            (
                SignOut {
                    revoke: true,
                    revocation_endpoint: None,
                    ..asked("")
                },
                ConfigError::NoRevocationEndpoint,
            ),
            (
                SignOut {
                    redirect: true,
                    logout_page: None,
                    ..asked("")
                },
                ConfigError::NoLogoutPage,
            ),
        ];
        for (request, why) in cases {
            let e = m.sign_out_at_provider(T0 + 1, &request).unwrap_err();
            assert_eq!(e, AppError::from(why));
            assert_eq!(e.code, ErrorCode::BadConfig);
            assert!(m.snapshot().signed_in, "{why:?}: still signed in");
            assert_eq!(drain(&mut m), []);
        }
    }

    #[test]
    fn signed_out_already_there_is_nothing_to_send_but_the_logout_page_still_opens() {
        let (mut m, _) = cognito();
        m.sign_out(T0 + 1);
        drain(&mut m);
        assert_eq!(
            m.sign_out_at_provider(T0 + 2, &asked("global revoke")),
            Ok(SignOutStep::Done)
        );
        assert!(matches!(
            m.sign_out_at_provider(T0 + 2, &asked("redirect")),
            Ok(SignOutStep::Navigate(url)) if !url.contains("id_token_hint")
        ));
    }

    #[test]
    fn a_later_sign_out_replaces_one_under_way() {
        let (mut m, _) = cognito();
        sent(m.sign_out_at_provider(T0 + 1, &asked("revoke")));
        assert!(m.signing_out.is_some());
        assert_eq!(
            m.sign_out_at_provider(T0 + 2, &asked("")),
            Ok(SignOutStep::Done)
        );
        assert!(m.signing_out.is_none());
        assert_eq!(m.sign_out_answer(Ok(&OK)), Ok(SignOutStep::Done));
    }
}
