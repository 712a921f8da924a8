//! What a session is configured with, and the per-provider rules that follow from the provider.
//!
//! A driver hands over what the app said ([`ProviderOptions`]: the JavaScript `Session`'s
//! config, or the Rust API's); everything that follows from it — which endpoint, which token
//! checks a provider's tokens must pass — is decided here, so both drivers and the simulations
//! get the same answer.

use alloc::string::String;

use super::backoff::{BackoffPolicy, BudgetPolicy, RefusalPolicy};
use super::protocol::{ConfigError, Provider};
use super::tokens::TokenRules;
use super::verify::KeyBook;
use super::Millis;

/// Everything a session is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub provider: Provider,
    pub rules: TokenRules,
    pub backoff: BackoffPolicy,
    pub budget: BudgetPolicy,
    /// How old a token must be before an API's refusal of it forces a refresh.
    pub refusal: RefusalPolicy,
    /// A refresh request unanswered for this long counts as a network failure.
    pub request_timeout: Millis,
    /// Waiting this long for the cross-tab refresh lock counts as a network failure.
    pub lock_timeout: Millis,
    /// Where the keys that check token signatures come from; `None`: signatures are not
    /// checked ([`super::verify`]).
    pub keys: Option<KeyBook>,
}

/// The provider settings an app gives a driver. Empty means not given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProviderOptions<'a> {
    pub client_id: &'a str,
    /// A Cognito user pool id (`us-east-1_AbC123`); its region names the API endpoint.
    pub user_pool_id: &'a str,
    /// The Cognito API URL instead of the pool region's (an emulator, a proxy).
    pub endpoint: &'a str,
    /// An OAuth2 / OIDC token endpoint: refresh with the `refresh_token` grant there instead of
    /// the Cognito API.
    pub token_endpoint: &'a str,
    /// With `token_endpoint`: the issuer every JWT's `iss` must name.
    pub issuer: &'a str,
    /// Cognito app clients with refresh-token rotation (`GetTokensFromRefreshToken`).
    pub rotation: bool,
    /// Check token signatures (where the keys can be found: always for Cognito, with
    /// `jwks_uri` or `issuer` for OAuth2).
    pub verify_tokens: bool,
    /// The JWKS URL instead of the pool's or the issuer's discovery document's.
    pub jwks_uri: &'a str,
}

impl Config {
    /// Defaults for everything, with the token rules `provider` calls for: Cognito names the app
    /// client in every token (ID tokens' `aud`, access tokens' `client_id`), says which token is
    /// which (`token_use`) and never issues opaque access tokens. OAuth2 access tokens name the
    /// API they are for (RFC 9068), so only ID tokens are held to the client, and some providers
    /// issue opaque access tokens.
    pub fn new(provider: Provider) -> Config {
        let (client_id, cognito) = match &provider {
            Provider::Cognito { client_id, .. } => (client_id, true),
            Provider::OAuth2 { client_id, .. } => (client_id, false),
        };
        let rules = TokenRules {
            client_id: Some(client_id.clone()),
            access_names_client: cognito,
            require_token_use: cognito,
            allow_opaque_access: !cognito,
            ..TokenRules::default()
        };
        Config {
            provider,
            rules,
            backoff: BackoffPolicy::default(),
            budget: BudgetPolicy::default(),
            refusal: RefusalPolicy::default(),
            request_timeout: 15_000,
            lock_timeout: 30_000,
            keys: None,
        }
    }

    /// The configuration `options` describe: OAuth2 when a token endpoint is given (its JWTs held
    /// to `issuer` when one is given), otherwise Cognito at `endpoint` or, without one, at the
    /// regional endpoint of the user pool, which must be well formed either way. Cognito tokens
    /// are held to the pool's issuer, `https://cognito-idp.<region>.amazonaws.com/<pool>`, also
    /// behind an `endpoint` override (moto issues that too).
    ///
    /// With `verify_tokens`, signatures are checked with the keys at `jwks_uri`, else at the
    /// pool's `/.well-known/jwks.json` (under `endpoint` when given), else in the issuer's
    /// discovery document; an OAuth2 session with neither checks none.
    pub fn from_options(options: &ProviderOptions<'_>) -> Result<Config, ConfigError> {
        let client_id = String::from(options.client_id);
        let given = |s: &str| (!s.is_empty()).then(|| String::from(s));
        let (mut config, keys) = if !options.token_endpoint.is_empty() {
            let mut config = Config::new(Provider::OAuth2 {
                token_endpoint: String::from(options.token_endpoint),
                client_id,
            });
            config.rules.issuer = given(options.issuer);
            let keys = config
                .rules
                .issuer
                .as_deref()
                .map(|issuer| KeyBook::discover(under(issuer, "", "openid-configuration")));
            (config, keys)
        } else {
            // The pool id is checked even with an endpoint override: it also names the session's
            // storage, the issuer, and the API reads it from the tokens.
            let regional = Provider::cognito_endpoint_for_pool(options.user_pool_id)?;
            let mut issuer = regional.clone();
            issuer.push_str(options.user_pool_id);
            let endpoint = given(options.endpoint).unwrap_or(regional);
            let url = under(&endpoint, options.user_pool_id, "jwks.json");
            let mut config = Config::new(Provider::Cognito {
                endpoint,
                client_id,
                rotation: options.rotation,
            });
            // An emulator behind `endpoint` may issue its own (cognito-local does).
            config.rules.issuer = Some(given(options.issuer).unwrap_or(issuer));
            (config, Some(KeyBook::new(url)))
        };
        if options.verify_tokens {
            config.keys = given(options.jwks_uri).map(KeyBook::new).or(keys);
        }
        Ok(config)
    }
}

/// `base` + `/` + `dir` + `/.well-known/` + `name`, with one `/` after `base` (none more when
/// `dir` is empty).
fn under(base: &str, dir: &str, name: &str) -> String {
    let mut url = String::from(base.strip_suffix("/").unwrap_or(base));
    if !dir.is_empty() {
        url.push('/');
        url.push_str(dir);
    }
    url.push_str("/.well-known/");
    url.push_str(name);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cognito(pool: &str, endpoint: &str) -> ProviderOptions<'static> {
        ProviderOptions {
            client_id: "client",
            user_pool_id: Box::leak(pool.to_string().into_boxed_str()),
            endpoint: Box::leak(endpoint.to_string().into_boxed_str()),
            ..ProviderOptions::default()
        }
    }

    #[test]
    fn a_cognito_pool_gives_its_regional_endpoint_and_cognito_token_rules() {
        let config = Config::from_options(&cognito("eu-west-1_AbC123", "")).unwrap();
        assert_eq!(
            config.provider,
            Provider::Cognito {
                endpoint: "https://cognito-idp.eu-west-1.amazonaws.com/".into(),
                client_id: "client".into(),
                rotation: false,
            }
        );
        let r = &config.rules;
        assert_eq!(r.client_id.as_deref(), Some("client"));
        assert!(r.access_names_client && r.require_token_use && !r.allow_opaque_access);
        assert_eq!(
            r.issuer.as_deref(),
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123")
        );
        assert_eq!(config.keys, None, "verify_tokens was not asked for");
    }

    #[test]
    fn the_keys_come_from_the_pool_the_endpoint_the_issuers_discovery_or_jwks_uri() {
        let url = |options: &ProviderOptions| {
            let keys = Config::from_options(options).unwrap().keys?;
            Some((keys.url.clone(), keys.discovery.clone()))
        };
        let mut pool = cognito("eu-west-1_AbC123", "");
        pool.verify_tokens = true;
        let jwks =
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json";
        assert_eq!(url(&pool), Some((jwks.into(), None)));
        let mut moto = cognito("us-east-1_x", "http://127.0.0.1:9229/");
        moto.verify_tokens = true;
        assert_eq!(
            url(&moto),
            Some((
                "http://127.0.0.1:9229/us-east-1_x/.well-known/jwks.json".into(),
                None
            ))
        );
        // moto issues tokens with the real issuer, whatever its address; another emulator may
        // name its own.
        assert_eq!(
            Config::from_options(&moto).unwrap().rules.issuer.as_deref(),
            Some("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x")
        );
        let local = ProviderOptions {
            issuer: "http://localhost:9229/us-east-1_x",
            ..moto
        };
        assert_eq!(
            Config::from_options(&local)
                .unwrap()
                .rules
                .issuer
                .as_deref(),
            Some("http://localhost:9229/us-east-1_x")
        );
        let oauth = ProviderOptions {
            client_id: "spa",
            token_endpoint: "https://auth.example.com/token",
            issuer: "https://auth.example.com/",
            verify_tokens: true,
            ..ProviderOptions::default()
        };
        assert_eq!(
            url(&oauth),
            Some((
                String::new(),
                Some("https://auth.example.com/.well-known/openid-configuration".into())
            ))
        );
        let no_issuer = ProviderOptions {
            issuer: "",
            ..oauth
        };
        assert_eq!(url(&no_issuer), None, "nowhere to find keys");
        for options in [pool, moto, oauth, no_issuer] {
            let given = ProviderOptions {
                jwks_uri: "https://keys.example/jwks",
                ..options
            };
            assert_eq!(
                url(&given),
                Some(("https://keys.example/jwks".into(), None))
            );
            let off = ProviderOptions {
                verify_tokens: false,
                ..given
            };
            assert_eq!(url(&off), None);
        }
    }

    #[test]
    fn an_endpoint_override_wins_and_rotation_is_kept() {
        let mut options = cognito("us-east-1_x", "http://127.0.0.1:9229/");
        options.rotation = true;
        let config = Config::from_options(&options).unwrap();
        assert_eq!(
            config.provider,
            Provider::Cognito {
                endpoint: "http://127.0.0.1:9229/".into(),
                client_id: "client".into(),
                rotation: true,
            }
        );
    }

    #[test]
    fn a_bad_pool_is_a_config_error_with_or_without_an_endpoint() {
        for pool in [
            "",
            "nounderscore",
            "us-east-1_",
            "_abc",
            "https://evil.example/_x",
        ] {
            for endpoint in ["", "http://127.0.0.1:9229/"] {
                assert_eq!(
                    Config::from_options(&cognito(pool, endpoint)).map(|_| ()),
                    Err(ConfigError::BadUserPoolId),
                    "{pool:?} {endpoint:?}"
                );
            }
        }
    }

    #[test]
    fn a_token_endpoint_means_oauth2_rules_and_the_issuer_when_given() {
        let options = ProviderOptions {
            client_id: "spa",
            token_endpoint: "https://auth.example.com/token",
            issuer: "https://auth.example.com",
            ..ProviderOptions::default()
        };
        let config = Config::from_options(&options).unwrap();
        assert_eq!(
            config.provider,
            Provider::OAuth2 {
                token_endpoint: "https://auth.example.com/token".into(),
                client_id: "spa".into(),
            }
        );
        let r = &config.rules;
        assert_eq!(r.client_id.as_deref(), Some("spa"));
        assert!(!r.access_names_client && !r.require_token_use && r.allow_opaque_access);
        assert_eq!(r.issuer.as_deref(), Some("https://auth.example.com"));
        let without = Config::from_options(&ProviderOptions {
            issuer: "",
            ..options
        })
        .unwrap();
        assert_eq!(without.rules.issuer, None);
    }
}
