//! The token set: what is held, until when it may be handed out, when to refresh it, and how it
//! is written to and read back from storage.
//!
//! Expiry is kept on the *local* clock ([`TokenSet::expires_at`]), because that is the clock the
//! session runs on. The provider's clock and the browser's often disagree, so a token that just
//! arrived from the provider is timed by its own lifetime (`exp - iat`, and `expires_in`) counted
//! from the moment it arrived, and bounded by `exp` plus the largest clock skew tolerated: a
//! browser whose clock is minutes off still refreshes once an hour, not in a loop, and a token
//! that is already expired when it arrives is refused instead of handed out.

use super::backoff::FORCED_COUNTED;
use super::json::{self, Value};
use super::jwt::{self, Expected, JwtError, TokenUse};
use super::protocol::TokenGrant;
use super::rng::Rng;
use super::text::push_u64;
use super::Millis;
use alloc::string::String;
use core::fmt;

/// What a received or stored token must satisfy, and the session's timing margins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRules {
    /// The app client id the tokens must be issued to (`client_id` / `aud`), when known.
    pub client_id: Option<String>,
    /// Whether access tokens name the app client too. Cognito's do (`client_id`); OAuth2 access
    /// tokens name the API they are for in `aud` (RFC 9068), so with this off only ID tokens,
    /// whose `aud` is always the client (OpenID Connect Core §3.1.3.7), are held to `client_id`.
    pub access_names_client: bool,
    /// The issuer (`iss`) the tokens must come from, when known.
    pub issuer: Option<String>,
    /// Require the `token_use` claim (`access` / `id`) that Cognito puts in its tokens. OAuth2 /
    /// OIDC providers do not send it, so their sessions turn this off.
    pub require_token_use: bool,
    /// Accept access tokens that are not JWTs (some OAuth2 providers issue opaque ones); their
    /// expiry then comes from `expires_in` alone. Cognito access tokens are always JWTs.
    pub allow_opaque_access: bool,
    /// The largest disagreement between the local and the provider's clock that is tolerated.
    pub max_clock_skew: Millis,
    /// A token is handed out only while it stays valid at least this long, so it cannot expire
    /// while the request that carries it is in flight.
    pub min_validity: Millis,
    /// The longest window before expiry in which the proactive refresh moment is drawn.
    pub refresh_window: Millis,
}

impl Default for TokenRules {
    fn default() -> Self {
        TokenRules {
            client_id: None,
            access_names_client: true,
            issuer: None,
            require_token_use: true,
            allow_opaque_access: false,
            max_clock_skew: 5 * 60_000,
            min_validity: 30_000,
            refresh_window: 10 * 60_000,
        }
    }
}

/// The tokens of one signed-in session.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    /// Local-clock moment after which the access (and ID) token must not be used.
    pub expires_at: Millis,
    /// How long the access token was valid for when issued (bounds the refresh window).
    pub lifetime: Millis,
}

// Tokens are credentials: never print them.
impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .field("lifetime", &self.lifetime)
            .field("has_id_token", &self.id_token.is_some())
            .field("has_refresh_token", &self.refresh_token.is_some())
            .finish()
    }
}

/// Why a token set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The access token is missing or empty.
    MissingAccessToken,
    /// The access or ID token is not an acceptable JWT.
    BadToken { which: TokenUse, error: JwtError },
    /// The token was already expired (or about to be) when it arrived.
    ExpiredOnArrival,
    /// An opaque access token with no `expires_in`: its expiry cannot be known.
    UnknownExpiry,
}

impl TokenError {
    /// Appends what is wrong, for people: the `Display` text, built with `push_str` so that the
    /// `.wasm` needs no `fmt` machinery for it.
    pub fn describe(&self, out: &mut String) {
        match self {
            TokenError::MissingAccessToken => out.push_str("no access token"),
            TokenError::BadToken { which, error } => {
                out.push_str(match which {
                    TokenUse::Access => "bad access token: ",
                    TokenUse::Id => "bad ID token: ",
                });
                error.describe(out);
            }
            TokenError::ExpiredOnArrival => out.push_str("token already expired when it arrived"),
            TokenError::UnknownExpiry => out.push_str("opaque access token without expires_in"),
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.describe(&mut text);
        f.write_str(&text)
    }
}

/// Where a token set came from, which decides how far its `exp` is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Just issued by the provider in answer to our request: timed from its arrival.
    Fresh,
    /// Handed in by the app or read back from storage: its age is unknown, so its `exp` is read
    /// on the local clock as is.
    External,
}

impl TokenSet {
    /// Checks and times the tokens of `grant`. A grant without a refresh token keeps
    /// `previous_refresh` (Cognito's `REFRESH_TOKEN_AUTH` never returns a new one).
    pub fn from_grant(
        now: Millis,
        grant: TokenGrant,
        previous_refresh: Option<String>,
        provenance: Provenance,
        rules: &TokenRules,
    ) -> Result<TokenSet, TokenError> {
        if grant.access_token.is_empty() {
            return Err(TokenError::MissingAccessToken);
        }
        let expires_in = grant.expires_in.map(|s| s.saturating_mul(1_000));
        let access = match jwt::decode(&grant.access_token) {
            Ok(token) => Some(token.claims),
            Err(_) if rules.allow_opaque_access && !looks_like_jwt(&grant.access_token) => None,
            Err(error) => return Err(bad(TokenUse::Access, error)),
        };
        let (mut expires_at, mut lifetime) = match &access {
            Some(claims) => {
                check(claims, TokenUse::Access, rules)?;
                claim_timing(now, claims.exp, claims.iat, expires_in, provenance, rules)
            }
            None => {
                let lifetime = expires_in.ok_or(TokenError::UnknownExpiry)?;
                (now.saturating_add(lifetime), lifetime)
            }
        };
        if let Some(id_token) = grant.id_token.as_deref().filter(|t| !t.is_empty()) {
            let claims = jwt::decode(id_token)
                .map_err(|e| bad(TokenUse::Id, e))?
                .claims;
            check(&claims, TokenUse::Id, rules)?;
            let (id_expires_at, id_lifetime) =
                claim_timing(now, claims.exp, claims.iat, None, provenance, rules);
            expires_at = expires_at.min(id_expires_at);
            lifetime = lifetime.min(id_lifetime);
        }
        if provenance == Provenance::Fresh && expires_at <= now.saturating_add(rules.min_validity) {
            return Err(TokenError::ExpiredOnArrival);
        }
        Ok(TokenSet {
            access_token: grant.access_token,
            id_token: grant.id_token.filter(|t| !t.is_empty()),
            refresh_token: grant
                .refresh_token
                .filter(|t| !t.is_empty())
                .or(previous_refresh),
            expires_at,
            lifetime,
        })
    }

    /// Whether the access token may be handed out at `now`: it stays valid for at least
    /// `min_validity` more.
    pub fn usable_at(&self, now: Millis, rules: &TokenRules) -> bool {
        now.saturating_add(rules.min_validity) < self.expires_at
    }

    /// Whether the expiry could have been worked out on the local clock as it reads at `now`.
    /// No token has more left than its whole lifetime: timed from its arrival, it had exactly
    /// that when it arrived; read from its `exp`, at most that plus the tolerated clock skew.
    /// An expiry further off was worked out on a clock that has since been set back (a record
    /// written before the jump), by more than the token's age, so it says nothing about when the
    /// token really expires.
    pub fn expiry_credible_at(&self, now: Millis, rules: &TokenRules) -> bool {
        self.expires_at
            <= now
                .saturating_add(self.lifetime)
                .saturating_add(rules.max_clock_skew)
    }

    /// The proactive refresh moment: uniform in a window that ends `min_validity` before expiry
    /// and is `min(lifetime / 3, refresh_window)` long. Sessions that signed in together draw
    /// different moments, so they do not all refresh together an hour later.
    ///
    /// The window never reaches back past the middle of the time the token can be handed out
    /// (`lifetime - min_validity`), so a short-lived token is not refreshed the moment it arrives.
    pub fn refresh_moment(&self, rules: &TokenRules, rng: &mut Rng) -> Millis {
        let usable_for = self.lifetime.saturating_sub(rules.min_validity);
        let window = (self.lifetime / 3)
            .min(rules.refresh_window)
            .min(usable_for / 2);
        let latest = self.expires_at.saturating_sub(rules.min_validity);
        latest.saturating_sub(rng.up_to(window))
    }

    /// The token set as a storage record (see [`Stored`]).
    pub fn to_stored(&self, retry: RetryState) -> Stored {
        Stored {
            tokens: self.clone(),
            retry,
            forced: 0,
        }
    }
}

/// A refresh-retry state shared with other tabs through storage and broadcasts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryState {
    /// No refresh may be sent before this moment (0: no restriction).
    pub not_before: Millis,
    /// Consecutive failed refreshes.
    pub failures: u32,
}

/// What is kept in storage: the tokens and the shared retry state.
///
/// Written as one JSON object with a version field. Reading it back re-checks the access token:
/// tampered or corrupted storage yields a [`StorageError`] (the shell discards the record and
/// says so), never a token the session would hand out unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub tokens: TokenSet,
    pub retry: RetryState,
    /// Refreshes in a row that an API's refusals forced
    /// ([`RefusalPolicy`](super::backoff::RefusalPolicy)). A record without it (written before
    /// it existed) or with anything but a number reads as 0; a larger number than
    /// [`FORCED_COUNTED`] as that.
    pub forced: u32,
}

/// Why a storage record was unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    NotJson(json::JsonError),
    /// A version this code does not write.
    UnknownVersion,
    /// A later version than this code writes: another tab runs a newer release of the library.
    /// Its record is left alone (see [`SessionMachine`](super::machine::SessionMachine)).
    NewerVersion,
    /// A field is missing or has the wrong type.
    BadField(&'static str),
    /// The stored tokens no longer pass the checks a fresh token passes.
    BadTokens(TokenError),
}

impl StorageError {
    /// Appends what is wrong, for people: the `Display` text, built with `push_str` so that the
    /// `.wasm` needs no `fmt` machinery for it.
    pub fn describe(&self, out: &mut String) {
        match self {
            StorageError::NotJson(e) => {
                out.push_str("stored session is not JSON: ");
                out.push_str(e.message());
            }
            StorageError::UnknownVersion => out.push_str("stored session has an unknown version"),
            StorageError::NewerVersion => {
                out.push_str("stored session is from a newer version: left alone")
            }
            StorageError::BadField(name) => {
                out.push_str("stored session field ");
                out.push_str(name);
                out.push_str(" is missing or wrong");
            }
            StorageError::BadTokens(e) => {
                out.push_str("stored tokens rejected: ");
                e.describe(out);
            }
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.describe(&mut text);
        f.write_str(&text)
    }
}

const STORAGE_VERSION: u64 = 1;

impl Stored {
    /// The JSON text kept in storage.
    pub fn to_json(&self) -> String {
        Stored::write(&self.tokens, self.retry, self.forced)
    }

    /// The JSON text of a record of `t`, `retry` and `forced`, without a copy of the tokens.
    pub fn write(t: &TokenSet, retry: RetryState, forced: u32) -> String {
        let mut out = String::with_capacity(t.access_token.len() + 2_048);
        out.push_str("{\"v\":1,\"access\":");
        json::write_string(&mut out, &t.access_token);
        for (key, value) in [("id", &t.id_token), ("refresh", &t.refresh_token)] {
            if let Some(value) = value {
                out.push_str(",\"");
                out.push_str(key);
                out.push_str("\":");
                json::write_string(&mut out, value);
            }
        }
        for (key, value) in [
            ("expiresAt", t.expires_at),
            ("lifetime", t.lifetime),
            ("notBefore", retry.not_before),
            ("failures", u64::from(retry.failures)),
            ("forced", u64::from(forced)),
        ] {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            push_u64(&mut out, value);
        }
        out.push('}');
        out
    }

    /// Reads a record written by [`Stored::to_json`], re-checking its tokens against `rules`
    /// (the expiry is never extended past what the access token's own `exp` allows).
    pub fn from_json(text: &str, rules: &TokenRules) -> Result<Stored, StorageError> {
        let value = json::parse(text).map_err(StorageError::NotJson)?;
        match value.get("v").and_then(Value::as_u64) {
            Some(STORAGE_VERSION) => {}
            Some(v) if v > STORAGE_VERSION => return Err(StorageError::NewerVersion),
            _ => return Err(StorageError::UnknownVersion),
        }
        let string = |key: &'static str| -> Result<Option<String>, StorageError> {
            match value.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(StorageError::BadField(key)),
            }
        };
        let number = |key: &'static str| {
            value
                .get(key)
                .and_then(Value::as_u64)
                .ok_or(StorageError::BadField(key))
        };
        let access = string("access")?.ok_or(StorageError::BadField("access"))?;
        let grant = TokenGrant {
            access_token: access,
            id_token: string("id")?,
            refresh_token: string("refresh")?,
            expires_in: None,
        };
        let stored_expiry = number("expiresAt")?;
        let lifetime = number("lifetime")?;
        let retry = RetryState {
            not_before: number("notBefore")?,
            failures: u32::try_from(number("failures")?)
                .map_err(|_| StorageError::BadField("failures"))?,
        };
        // Re-check the tokens as if handed in from outside; `now` only matters for fresh ones.
        // An opaque access token states no expiry: the stored one is all there is (a token lifetime
        // of 1 s stands in for it here), but the ID token, if any, passes its checks all the same.
        let opaque = rules.allow_opaque_access && !looks_like_jwt(&grant.access_token);
        let grant = TokenGrant {
            expires_in: opaque.then_some(1),
            ..grant
        };
        let mut tokens = TokenSet::from_grant(0, grant, None, Provenance::External, rules)
            .map_err(StorageError::BadTokens)?;
        // The stored expiry was computed on arrival (skew-corrected); the tokens' own `exp` plus
        // the tolerated skew bounds it, so an edited `expiresAt` cannot revive an expired token:
        // the access token's, or with an opaque one the ID token's (none: the stored expiry).
        let claimed = if opaque {
            let id = tokens.id_token.as_deref().and_then(|t| jwt::decode(t).ok());
            id.map_or(Millis::MAX, |t| t.claims.exp.saturating_mul(1_000))
        } else {
            tokens.expires_at
        };
        tokens.expires_at = stored_expiry.min(claimed.saturating_add(rules.max_clock_skew));
        tokens.lifetime = lifetime;
        let forced = number("forced").unwrap_or(0).min(u64::from(FORCED_COUNTED)) as u32;
        Ok(Stored {
            tokens,
            retry,
            forced,
        })
    }
}

fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

fn bad(which: TokenUse, error: JwtError) -> TokenError {
    TokenError::BadToken { which, error }
}

fn check(claims: &jwt::Claims, use_: TokenUse, rules: &TokenRules) -> Result<(), TokenError> {
    claims
        .check(&Expected {
            token_use: rules.require_token_use.then_some(use_),
            client_id: rules
                .client_id
                .as_deref()
                .filter(|_| use_ == TokenUse::Id || rules.access_names_client),
            issuer: rules.issuer.as_deref(),
        })
        .map_err(|e| bad(use_, e))
}

/// `(expires_at, lifetime)` on the local clock for a token with these claims.
fn claim_timing(
    now: Millis,
    exp: u64,
    iat: Option<u64>,
    expires_in: Option<Millis>,
    provenance: Provenance,
    rules: &TokenRules,
) -> (Millis, Millis) {
    let exp_ms = exp.saturating_mul(1_000);
    let claimed_lifetime = iat
        .filter(|iat| *iat < exp)
        .map(|iat| (exp - iat).saturating_mul(1_000));
    let lifetime = match (claimed_lifetime, expires_in) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match provenance {
        Provenance::Fresh => {
            let relative = lifetime.map_or(exp_ms, |l| now.saturating_add(l));
            let expires_at = relative.min(exp_ms.saturating_add(rules.max_clock_skew));
            (
                expires_at,
                lifetime.unwrap_or(expires_at.saturating_sub(now)),
            )
        }
        Provenance::External => (exp_ms, lifetime.unwrap_or(exp_ms.saturating_sub(now))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::mint::Issuer;

    const T0: Millis = 1_700_000_000_000;

    fn rules(issuer: &Issuer) -> TokenRules {
        TokenRules {
            client_id: Some(issuer.client_id.clone()),
            issuer: Some(issuer.iss.clone()),
            ..TokenRules::default()
        }
    }

    /// A grant whose tokens were issued at `iat_s` on the provider's clock, valid `lifetime_s`.
    fn grant(issuer: &Issuer, iat_s: u64, lifetime_s: u64) -> TokenGrant {
        let exp = iat_s + lifetime_s;
        TokenGrant {
            access_token: issuer.access_token("alice", iat_s, exp, 1),
            id_token: Some(issuer.id_token("alice", iat_s, exp, 1)),
            refresh_token: Some("rt-1".into()),
            expires_in: Some(lifetime_s),
        }
    }

    /// The tokens of a `lifetime_s` grant issued and received at `T0`, clocks agreeing.
    fn fresh(issuer: &Issuer, r: &TokenRules, lifetime_s: u64) -> TokenSet {
        TokenSet::from_grant(
            T0,
            grant(issuer, T0 / 1_000, lifetime_s),
            None,
            Provenance::Fresh,
            r,
        )
        .unwrap()
    }

    #[test]
    fn a_fresh_token_is_timed_from_its_arrival_when_the_clocks_agree() {
        let issuer = Issuer::default();
        let tokens = TokenSet::from_grant(
            T0,
            grant(&issuer, T0 / 1_000, 3_600),
            None,
            Provenance::Fresh,
            &rules(&issuer),
        )
        .unwrap();
        assert_eq!(tokens.expires_at, T0 + 3_600_000);
        assert_eq!(tokens.lifetime, 3_600_000);
        assert_eq!(tokens.refresh_token.as_deref(), Some("rt-1"));
    }

    #[test]
    fn a_browser_clock_behind_the_provider_still_uses_the_full_lifetime() {
        let issuer = Issuer::default();
        // The provider's clock is 4 minutes ahead of ours.
        let provider_now = (T0 + 4 * 60_000) / 1_000;
        let tokens = TokenSet::from_grant(
            T0,
            grant(&issuer, provider_now, 3_600),
            None,
            Provenance::Fresh,
            &rules(&issuer),
        )
        .unwrap();
        assert_eq!(tokens.expires_at, T0 + 3_600_000);
    }

    #[test]
    fn a_browser_clock_ahead_of_the_provider_is_bounded_by_exp_plus_the_tolerated_skew() {
        let issuer = Issuer::default();
        // Our clock is 4 minutes ahead: timed from arrival, bounded by exp + 5 min.
        let provider_now = (T0 - 4 * 60_000) / 1_000;
        let tokens = TokenSet::from_grant(
            T0,
            grant(&issuer, provider_now, 3_600),
            None,
            Provenance::Fresh,
            &rules(&issuer),
        )
        .unwrap();
        assert_eq!(tokens.expires_at, T0 + 3_600_000);
        // 20 minutes ahead: the token's own exp (+5 min) wins, so it is never used past it.
        let provider_now = (T0 - 20 * 60_000) / 1_000;
        let tokens = TokenSet::from_grant(
            T0,
            grant(&issuer, provider_now, 3_600),
            None,
            Provenance::Fresh,
            &rules(&issuer),
        )
        .unwrap();
        assert_eq!(
            tokens.expires_at,
            (provider_now + 3_600) * 1_000 + 5 * 60_000
        );
    }

    #[test]
    fn a_fresh_token_that_is_already_expired_is_refused() {
        let issuer = Issuer::default();
        let two_hours_ago = (T0 - 2 * 3_600_000) / 1_000;
        let refused = TokenSet::from_grant(
            T0,
            grant(&issuer, two_hours_ago, 3_600),
            None,
            Provenance::Fresh,
            &rules(&issuer),
        );
        assert_eq!(refused, Err(TokenError::ExpiredOnArrival));
        // Handed in from outside, an expired token is kept (its refresh token can renew it).
        let kept = TokenSet::from_grant(
            T0,
            grant(&issuer, two_hours_ago, 3_600),
            None,
            Provenance::External,
            &rules(&issuer),
        )
        .unwrap();
        assert!(!kept.usable_at(T0, &rules(&issuer)));
    }

    #[test]
    fn a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
        let issuer = Issuer::default();
        let mut g = grant(&issuer, T0 / 1_000, 3_600);
        g.refresh_token = None;
        let tokens = TokenSet::from_grant(
            T0,
            g,
            Some("rt-old".into()),
            Provenance::Fresh,
            &rules(&issuer),
        )
        .unwrap();
        assert_eq!(tokens.refresh_token.as_deref(), Some("rt-old"));
        let mut rotated = grant(&issuer, T0 / 1_000, 3_600);
        rotated.refresh_token = Some("rt-new".into());
        let tokens = TokenSet::from_grant(
            T0,
            rotated,
            Some("rt-old".into()),
            Provenance::Fresh,
            &rules(&issuer),
        )
        .unwrap();
        assert_eq!(tokens.refresh_token.as_deref(), Some("rt-new"));
    }

    #[test]
    fn oauth2_rules_hold_the_id_token_to_the_client_and_leave_the_access_token_to_its_api() {
        let app = Issuer::default();
        let api = Issuer {
            client_id: "https://api.example.com".into(),
            ..Issuer::default()
        };
        let oauth2 = TokenRules {
            client_id: Some(app.client_id.clone()),
            access_names_client: false,
            require_token_use: false,
            allow_opaque_access: true,
            ..TokenRules::default()
        };
        let (iat, exp) = (T0 / 1_000, T0 / 1_000 + 3_600);
        let for_api = TokenGrant {
            access_token: api.access_token("alice", iat, exp, 1),
            id_token: Some(app.id_token("alice", iat, exp, 1)),
            refresh_token: Some("rt".into()),
            expires_in: Some(3_600),
        };
        assert!(
            TokenSet::from_grant(T0, for_api.clone(), None, Provenance::Fresh, &oauth2).is_ok()
        );
        let foreign_id = TokenGrant {
            id_token: Some(api.id_token("alice", iat, exp, 1)),
            ..for_api
        };
        assert_eq!(
            TokenSet::from_grant(T0, foreign_id, None, Provenance::Fresh, &oauth2).err(),
            Some(TokenError::BadToken {
                which: TokenUse::Id,
                error: JwtError::WrongClient
            })
        );
    }

    #[test]
    fn tokens_for_another_client_or_issuer_or_of_the_wrong_use_are_refused() {
        let issuer = Issuer::default();
        let other = Issuer {
            client_id: "someone-else".into(),
            ..Issuer::default()
        };
        let g = grant(&other, T0 / 1_000, 3_600);
        assert!(matches!(
            TokenSet::from_grant(T0, g, None, Provenance::Fresh, &rules(&issuer)),
            Err(TokenError::BadToken {
                which: TokenUse::Access,
                ..
            })
        ));
        let mut swapped = grant(&issuer, T0 / 1_000, 3_600);
        core::mem::swap(
            &mut swapped.access_token,
            swapped.id_token.as_mut().unwrap(),
        );
        assert!(matches!(
            TokenSet::from_grant(T0, swapped, None, Provenance::Fresh, &rules(&issuer)),
            Err(TokenError::BadToken {
                which: TokenUse::Access,
                ..
            })
        ));
        let mut garbage = grant(&issuer, T0 / 1_000, 3_600);
        garbage.access_token = "<html>".into();
        assert!(
            TokenSet::from_grant(T0, garbage, None, Provenance::Fresh, &rules(&issuer)).is_err()
        );
    }

    #[test]
    fn oauth2_tokens_without_token_use_pass_only_when_it_is_not_required() {
        let issuer = Issuer::default();
        // An OIDC provider's access token: the Cognito-only token_use claim is absent.
        let iat = T0 / 1_000;
        let claims = format!(
            "{{\"sub\":\"a\",\"iss\":\"{}\",\"client_id\":\"simclient\",\"iat\":{iat},\"exp\":{}}}",
            issuer.iss,
            iat + 600
        );
        let token = [
            crate::engine::base64url::encode(br#"{"alg":"RS256"}"#),
            crate::engine::base64url::encode(claims.as_bytes()),
            "c2ln".into(),
        ]
        .join(".");
        let g = TokenGrant {
            access_token: token,
            id_token: None,
            refresh_token: Some("rt".into()),
            expires_in: Some(600),
        };
        assert!(
            TokenSet::from_grant(T0, g.clone(), None, Provenance::Fresh, &rules(&issuer)).is_err()
        );
        let oauth = TokenRules {
            require_token_use: false,
            ..rules(&issuer)
        };
        let tokens = TokenSet::from_grant(T0, g, None, Provenance::Fresh, &oauth).unwrap();
        assert_eq!(tokens.expires_at, T0 + 600_000);
    }

    #[test]
    fn opaque_access_tokens_need_permission_and_expires_in() {
        let issuer = Issuer::default();
        let opaque = TokenGrant {
            access_token: "opaque-token-value".into(),
            id_token: None,
            refresh_token: Some("rt".into()),
            expires_in: Some(600),
        };
        assert!(
            TokenSet::from_grant(T0, opaque.clone(), None, Provenance::Fresh, &rules(&issuer))
                .is_err()
        );
        let lenient = TokenRules {
            allow_opaque_access: true,
            ..rules(&issuer)
        };
        let tokens =
            TokenSet::from_grant(T0, opaque.clone(), None, Provenance::Fresh, &lenient).unwrap();
        assert_eq!(tokens.expires_at, T0 + 600_000);
        let no_expiry = TokenGrant {
            expires_in: None,
            ..opaque
        };
        assert_eq!(
            TokenSet::from_grant(T0, no_expiry, None, Provenance::Fresh, &lenient),
            Err(TokenError::UnknownExpiry)
        );
    }

    #[test]
    fn a_token_is_handed_out_only_while_it_stays_valid_for_min_validity() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let tokens = fresh(&issuer, &r, 3_600);
        assert!(tokens.usable_at(T0, &r));
        assert!(tokens.usable_at(tokens.expires_at - r.min_validity - 1, &r));
        assert!(!tokens.usable_at(tokens.expires_at - r.min_validity, &r));
        assert!(!tokens.usable_at(u64::MAX, &r));
    }

    #[test]
    fn an_expiry_further_off_than_the_lifetime_is_not_credible() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let tokens = fresh(&issuer, &r, 3_600);
        assert!(tokens.expiry_credible_at(T0, &r));
        assert!(tokens.expiry_credible_at(T0 - r.max_clock_skew, &r));
        // The clock went back more than the token's age plus the tolerated skew.
        assert!(!tokens.expiry_credible_at(T0 - r.max_clock_skew - 1, &r));
        assert!(!tokens.expiry_credible_at(0, &r));
        assert!(tokens.expiry_credible_at(u64::MAX, &r));
        // Read by its exp, a token issued by a clock a little ahead of ours is credible.
        let iat = (T0 + 4 * 60_000) / 1_000;
        let external = TokenSet::from_grant(
            T0,
            grant(&issuer, iat, 3_600),
            None,
            Provenance::External,
            &r,
        )
        .unwrap();
        assert!(external.expiry_credible_at(T0, &r));
    }

    #[test]
    fn refresh_moments_spread_over_a_window_before_expiry() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let tokens = fresh(&issuer, &r, 3_600);
        let latest = tokens.expires_at - r.min_validity;
        let earliest = latest - r.refresh_window;
        let mut rng = Rng::new(5);
        let moments: Vec<Millis> = (0..2_000)
            .map(|_| tokens.refresh_moment(&r, &mut rng))
            .collect();
        assert!(moments.iter().all(|m| (earliest..=latest).contains(m)));
        let first_half = moments
            .iter()
            .filter(|m| **m < earliest + r.refresh_window / 2)
            .count();
        assert!((800..1_200).contains(&first_half), "{first_half}");
        // A 40-second token (usable 10 s) refreshes in the second half of its usable time.
        let brief = fresh(&issuer, &r, 40);
        for _ in 0..1_000 {
            let m = brief.refresh_moment(&r, &mut rng);
            assert!((T0 + 5_000..=T0 + 10_000).contains(&m), "{m}");
        }
        // A five-minute token refreshes in the last third of its life, never before it was issued.
        let short = fresh(&issuer, &r, 300);
        for _ in 0..1_000 {
            let m = short.refresh_moment(&r, &mut rng);
            assert!(m >= T0 + 200_000 - r.min_validity && m <= short.expires_at - r.min_validity);
        }
    }

    #[test]
    fn storage_records_read_back_unchanged() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let tokens = fresh(&issuer, &r, 3_600);
        let stored = tokens.to_stored(RetryState {
            not_before: T0 + 5,
            failures: 3,
        });
        assert_eq!(Stored::from_json(&stored.to_json(), &r), Ok(stored));
    }

    #[test]
    fn the_forced_refresh_count_reads_back_and_a_record_without_it_reads_as_zero() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let mut stored = fresh(&issuer, &r, 3_600).to_stored(RetryState::default());
        stored.forced = 7;
        let text = stored.to_json();
        assert!(text.ends_with(",\"forced\":7}"), "{text}");
        assert_eq!(Stored::from_json(&text, &r), Ok(stored.clone()));
        // Written before the field existed, or tampered with: 0, or at most FORCED_COUNTED.
        for (field, forced) in [
            ("", 0),
            (",\"forced\":null", 0),
            (",\"forced\":\"9\"", 0),
            (",\"forced\":-1", 0),
            (",\"forced\":32", 32),
            (",\"forced\":33", FORCED_COUNTED),
            (",\"forced\":18446744073709551615", FORCED_COUNTED),
        ] {
            let edited = text.replace(",\"forced\":7", field);
            let read = Stored::from_json(&edited, &r).unwrap();
            assert_eq!(read.forced, forced, "{field}");
            assert_eq!(read.tokens, stored.tokens);
        }
    }

    #[test]
    fn tampered_or_corrupt_storage_is_an_error_not_a_token() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let tokens = fresh(&issuer, &r, 3_600);
        let good = tokens.to_stored(RetryState::default()).to_json();
        assert!(matches!(
            Stored::from_json("", &r),
            Err(StorageError::NotJson(_))
        ));
        for (text, error) in [
            ("{\"v\":2}", StorageError::NewerVersion),
            ("{\"v\":9007199254740993}", StorageError::NewerVersion),
            ("{\"v\":0}", StorageError::UnknownVersion),
            ("{\"v\":\"2\"}", StorageError::UnknownVersion),
            ("{\"v\":99999999999999999999}", StorageError::UnknownVersion),
            ("{}", StorageError::UnknownVersion),
        ] {
            assert_eq!(Stored::from_json(text, &r).err(), Some(error), "{text}");
        }
        assert!(matches!(
            Stored::from_json(&good.replace("\"failures\":0", "\"failures\":\"0\""), &r),
            Err(StorageError::BadField("failures"))
        ));
        let forged = good.replace(&tokens.access_token, "forged.token.here");
        assert!(matches!(
            Stored::from_json(&forged, &r),
            Err(StorageError::BadTokens(_))
        ));
        // An edited expiry cannot keep a token alive past its own exp.
        let extended = good.replace(&tokens.expires_at.to_string(), "99999999999999");
        let read = Stored::from_json(&extended, &r).unwrap();
        assert_eq!(read.tokens.expires_at, T0 + 3_600_000 + r.max_clock_skew);
        for end in 0..good.len() {
            assert!(Stored::from_json(&good[..end], &r).is_err());
        }
    }

    #[test]
    fn a_stored_opaque_access_token_brings_no_unchecked_or_revived_id_token() {
        // Found by the storage_record fuzz target (fuzz/regressions/storage_record/): with an
        // opaque access token the ID token went unchecked and `expiresAt` was trusted as written.
        let rules = TokenRules {
            client_id: Some("simclient".into()),
            access_names_client: false,
            require_token_use: false,
            allow_opaque_access: true,
            ..TokenRules::default()
        };
        let unchecked = r#"{"v":1,"access":"e","id":"eyJhbGciOiJSUiJ9.eyJleHAiOjJ9.2n","expiresAt":9,"lifetime":0,"notBefore":0,"failures":0}"#;
        assert!(
            matches!(
                Stored::from_json(unchecked, &rules),
                Err(StorageError::BadTokens(_))
            ),
            "an ID token that fails its checks is refused"
        );
        let revived = r#"{"v":1,"access":"2YotnFZFEjr1zCsicMWpAA","id":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vY29nbml0by1pZHAudXMtZWFzdC0xLmFtYXpvbmF3cy5jb20vdXMtZWFzdC0xX1NpbSIsImF1ZCI6InNpbWNsaWVudCIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ.c2ln","refresh":"rt-1","expiresAt":1900000000000,"lifetime":3600000,"notBefore":0,"failures":0}"#;
        let stored = Stored::from_json(revived, &rules).unwrap();
        assert_eq!(
            stored.tokens.expires_at,
            1_700_003_600_000 + rules.max_clock_skew,
            "the ID token's exp bounds the stored expiry"
        );
        // Without an ID token nothing but the stored expiry states one.
        let alone = r#"{"v":1,"access":"2YotnFZFEjr1zCsicMWpAA","refresh":"rt-1","expiresAt":1900000000000,"lifetime":3600000,"notBefore":0,"failures":0}"#;
        assert_eq!(
            Stored::from_json(alone, &rules).unwrap().tokens.expires_at,
            1_900_000_000_000
        );
    }

    #[test]
    fn an_edited_expiry_cannot_revive_a_stored_jwt_access_token_where_opaque_ones_are_allowed() {
        let issuer = Issuer::default();
        let r = TokenRules {
            allow_opaque_access: true,
            ..rules(&issuer)
        };
        let mut tokens = fresh(&issuer, &r, 3_600);
        tokens.id_token = None;
        let good = tokens.to_stored(RetryState::default()).to_json();
        let extended = good.replace(&tokens.expires_at.to_string(), "99999999999999");
        let read = Stored::from_json(&extended, &r).unwrap();
        assert_eq!(read.tokens.expires_at, T0 + 3_600_000 + r.max_clock_skew);
    }

    #[test]
    fn tokens_print_without_their_secrets_and_errors_say_what_is_wrong() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let tokens = fresh(&issuer, &r, 3_600);
        let shown = alloc::format!("{tokens:?}");
        assert!(
            shown.starts_with("TokenSet {") && shown.contains("has_refresh_token: true"),
            "{shown}"
        );
        assert!(
            !shown.contains(&tokens.access_token) && !shown.contains("rt-1"),
            "{shown}"
        );

        let error = TokenError::ExpiredOnArrival;
        assert_eq!(error.to_string(), "token already expired when it arrived");
        let error = Stored::from_json("{\"v\":0}", &r).unwrap_err();
        assert_eq!(error.to_string(), "stored session has an unknown version");
        let error = Stored::from_json("{\"v\":2}", &r).unwrap_err();
        assert_eq!(
            error.to_string(),
            "stored session is from a newer version: left alone"
        );
        let mut text = String::new();
        StorageError::BadField("failures").describe(&mut text);
        assert_eq!(text, "stored session field failures is missing or wrong");
    }

    #[test]
    fn the_lifetime_is_read_from_iat_and_exp_when_expires_in_is_missing_and_never_as_zero() {
        let issuer = Issuer::default();
        let r = rules(&issuer);
        let no_expires_in = TokenGrant {
            expires_in: None,
            ..grant(&issuer, T0 / 1_000, 3_600)
        };
        let tokens = TokenSet::from_grant(T0, no_expires_in, None, Provenance::Fresh, &r).unwrap();
        assert_eq!(tokens.lifetime, 3_600_000);
        assert_eq!(tokens.expires_at, T0 + 3_600_000);

        // iat == exp states no lifetime (not a lifetime of 0, which would expire the token on
        // arrival): expires_in times it, bounded by its exp.
        let exp = T0 / 1_000 + 60;
        let same = TokenGrant {
            access_token: issuer.access_token("alice", exp, exp, 1),
            id_token: Some(issuer.id_token("alice", exp, exp, 1)),
            refresh_token: Some("rt-1".into()),
            expires_in: Some(3_600),
        };
        let tokens = TokenSet::from_grant(T0, same, None, Provenance::Fresh, &r)
            .expect("taken, as one timed by expires_in");
        assert!(
            tokens.expires_at > T0 && tokens.expires_at <= exp * 1_000 + r.max_clock_skew,
            "{}",
            tokens.expires_at - T0
        );
    }
}
