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
        }
    }

    /// The configuration `options` describe: OAuth2 when a token endpoint is given (its JWTs held
    /// to `issuer` when one is given), otherwise Cognito at `endpoint` or, without one, at the
    /// regional endpoint of the user pool, which must be well formed either way.
    pub fn from_options(options: &ProviderOptions<'_>) -> Result<Config, ConfigError> {
        let client_id = String::from(options.client_id);
        if !options.token_endpoint.is_empty() {
            let mut config = Config::new(Provider::OAuth2 {
                token_endpoint: String::from(options.token_endpoint),
                client_id,
            });
            config.rules.issuer =
                (!options.issuer.is_empty()).then(|| String::from(options.issuer));
            return Ok(config);
        }
        // The pool id is checked even with an endpoint override: it also names the session's
        // storage, and the API reads it from the tokens.
        let regional = Provider::cognito_endpoint_for_pool(options.user_pool_id)?;
        let endpoint = if options.endpoint.is_empty() {
            regional
        } else {
            String::from(options.endpoint)
        };
        Ok(Config::new(Provider::Cognito {
            endpoint,
            client_id,
            rotation: options.rotation,
        }))
    }
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
        assert_eq!(r.issuer, None);
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
