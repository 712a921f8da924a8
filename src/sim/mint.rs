//! Mints unsigned tokens shaped like Cognito's, and the provider answers that carry them.
//!
//! The signature part is a fixed placeholder, and the header names the issuer's `kid` (RS256):
//! simulations that check signatures (`crate::sim::key_fleet`) play WebCrypto by matching the
//! `kid` with the key the session picked, so simulated tokens need only the claims and the `kid`
//! to be right.

use crate::engine::base64url;
use crate::engine::json;

/// Who the simulated tokens are issued by and to.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// `iss`: `https://cognito-idp.{region}.amazonaws.com/{poolId}`.
    pub iss: String,
    pub client_id: String,
    /// The key the tokens name in their header.
    pub kid: String,
}

impl Default for Issuer {
    fn default() -> Self {
        Issuer {
            iss: String::from("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Sim"),
            client_id: String::from("simclient"),
            kid: String::from("sim"),
        }
    }
}

impl Issuer {
    /// An access token for `sub`, issued at `iat` and expiring at `exp` (seconds, provider clock).
    /// `serial` makes each token distinct (`jti`).
    pub fn access_token(&self, sub: &str, iat: u64, exp: u64, serial: u64) -> String {
        let mut claims = self.common_claims(sub, iat, exp, serial);
        claims.push_str(
            ",\"token_use\":\"access\",\"scope\":\"aws.cognito.signin.user.admin\",\"client_id\":",
        );
        json::write_string(&mut claims, &self.client_id);
        claims.push_str(",\"username\":");
        json::write_string(&mut claims, sub);
        claims.push('}');
        seal(&self.kid, &claims)
    }

    /// An ID token for `sub` (same timing rules as [`Issuer::access_token`]).
    pub fn id_token(&self, sub: &str, iat: u64, exp: u64, serial: u64) -> String {
        let mut claims = self.common_claims(sub, iat, exp, serial);
        claims.push_str(",\"token_use\":\"id\",\"aud\":");
        json::write_string(&mut claims, &self.client_id);
        claims.push_str(",\"cognito:username\":");
        json::write_string(&mut claims, sub);
        claims.push('}');
        seal(&self.kid, &claims)
    }

    /// The body of Cognito's successful `InitiateAuth` answer. `refresh_token` is present for
    /// sign-ins and rotating refreshes, absent for classic `REFRESH_TOKEN_AUTH`.
    pub fn cognito_answer(
        &self,
        sub: &str,
        iat: u64,
        lifetime: u64,
        serial: u64,
        refresh_token: Option<&str>,
    ) -> String {
        let exp = iat.saturating_add(lifetime);
        let mut body = String::from("{\"AuthenticationResult\":{\"AccessToken\":");
        json::write_string(&mut body, &self.access_token(sub, iat, exp, serial));
        body.push_str(",\"IdToken\":");
        json::write_string(&mut body, &self.id_token(sub, iat, exp, serial));
        if let Some(refresh) = refresh_token {
            body.push_str(",\"RefreshToken\":");
            json::write_string(&mut body, refresh);
        }
        body.push_str(",\"ExpiresIn\":");
        body.push_str(&lifetime.to_string());
        body.push_str(",\"TokenType\":\"Bearer\"},\"ChallengeParameters\":{}}");
        body
    }

    fn common_claims(&self, sub: &str, iat: u64, exp: u64, serial: u64) -> String {
        let mut claims = String::from("{\"sub\":");
        json::write_string(&mut claims, sub);
        claims.push_str(",\"iss\":");
        json::write_string(&mut claims, &self.iss);
        claims.push_str(&format!(
            ",\"iat\":{iat},\"auth_time\":{iat},\"exp\":{exp},\"jti\":\"{serial}\""
        ));
        claims
    }
}

fn seal(kid: &str, claims: &str) -> String {
    let mut header = String::from("{\"kid\":");
    json::write_string(&mut header, kid);
    header.push_str(",\"alg\":\"RS256\"}");
    let header = base64url::encode(header.as_bytes());
    let mut token = header;
    token.push('.');
    token.push_str(&base64url::encode(claims.as_bytes()));
    token.push_str(".c2ln");
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::jwt::{self, Expected, TokenUse};

    #[test]
    fn minted_tokens_decode_with_the_claims_they_were_given() {
        let issuer = Issuer::default();
        let access = jwt::decode(&issuer.access_token("alice", 1_000, 4_600, 1)).unwrap();
        assert_eq!((access.claims.iat, access.claims.exp), (Some(1_000), 4_600));
        assert_eq!(access.claims.token_use, Some(TokenUse::Access));
        let expect = Expected {
            token_use: Some(TokenUse::Access),
            client_id: Some("simclient"),
            issuer: Some(&issuer.iss),
        };
        access.claims.check(&expect).unwrap();
        let id = jwt::decode(&issuer.id_token("alice", 1_000, 4_600, 1)).unwrap();
        assert_eq!(id.claims.aud, vec![String::from("simclient")]);
        assert_eq!(id.claims.username.as_deref(), Some("alice"));
    }
}
