//! `engine::jwt::decode` on any text, against an oracle written from the module's documented
//! rules with the `base64` crate and `serde_json`, and `Claims::check` with assorted
//! `Expected` against the documented comparison:
//!
//! - `decode` accepts exactly the tokens the oracle accepts (three non-empty base64url parts,
//!   header and payload JSON objects, `alg` a string other than `none`, `exp` a non-negative
//!   number, the typed claims of their type, at most `MAX_TOKEN_LEN` bytes), and reads the same
//!   `alg`, `kid`, `exp`, `iat`, `aud`, `client_id`, `iss`, `sub`, `nonce` and claims object;
//! - `check` with no expectations passes; with expectations taken from the token itself, from
//!   the simulations' issuer, and wrong ones, it answers what the documented rule answers.
#![no_main]

use cognito_session::engine::json::MAX_DEPTH;
use cognito_session::engine::jwt::{self, Claims, Expected, JwtError, TokenUse, MAX_TOKEN_LEN};
use cognito_session_fuzz::{base64url_oracle, issuer, text, to_serde};
use libfuzzer_sys::fuzz_target;
use serde_json::Value as J;

fuzz_target!(|data: &[u8]| {
    let Some(token) = text(data) else { return };
    let decoded = jwt::decode(token);
    match (&decoded, oracle(token)) {
        (Ok(ours), Some(theirs)) => {
            let c = &ours.claims;
            assert!(!ours.header.alg.eq_ignore_ascii_case("none"));
            assert_eq!(ours.header.alg, theirs.alg);
            assert_eq!(ours.header.kid, theirs.kid);
            assert_eq!((c.exp, c.iat), (theirs.exp, theirs.iat));
            assert_eq!(c.aud, theirs.aud);
            assert_eq!(c.token_use, theirs.token_use);
            assert_eq!(
                [&c.client_id, &c.iss, &c.sub, &c.username, &c.nonce],
                [
                    &theirs.client_id,
                    &theirs.iss,
                    &theirs.sub,
                    &theirs.username,
                    &theirs.nonce
                ]
            );
            assert_eq!(to_serde(&c.json), theirs.payload);
        }
        (Ok(_), None) => panic!("decoded a token the oracle refuses"),
        (Err(e), Some(_)) => panic!("refused a token the oracle accepts: {e:?}"),
        (Err(e), None) => {
            assert_eq!(*e == JwtError::Empty, token.is_empty());
            assert_eq!(*e == JwtError::TooLong, token.len() > MAX_TOKEN_LEN);
        }
    }
    if let Ok(token) = decoded {
        checks(&token.claims);
    }
});

fn checks(c: &Claims) {
    let sim = issuer();
    let clients = [
        None,
        c.client_id.as_deref(),
        c.aud.first().map(String::as_str),
        c.aud.last().map(String::as_str),
        Some(sim.client_id.as_str()),
        Some(""),
    ];
    let issuers = [
        None,
        c.iss.as_deref(),
        Some(sim.iss.as_str()),
        Some("https://other.example"),
    ];
    for token_use in [
        None,
        Some(TokenUse::Access),
        Some(TokenUse::Id),
        c.token_use,
    ] {
        for client_id in clients {
            for issuer in issuers {
                let expect = Expected {
                    token_use,
                    client_id,
                    issuer,
                };
                assert_eq!(c.check(&expect), rule(c, &expect), "{expect:?}");
            }
        }
    }
    assert_eq!(c.check(&Expected::default()), Ok(()));
}

/// `Claims::check` as documented: token_use, then the client (it must equal `client_id` and be
/// among `aud`, whichever the token has, and the token must name one), then the issuer.
fn rule(c: &Claims, e: &Expected) -> Result<(), JwtError> {
    if let Some(wanted) = e.token_use {
        if c.token_use != Some(wanted) {
            return Err(JwtError::WrongTokenUse);
        }
    }
    if let Some(client) = e.client_id {
        let names_one = c.client_id.is_some() || !c.aud.is_empty();
        let id_matches = c.client_id.as_deref().is_none_or(|id| id == client);
        let aud_matches = c.aud.is_empty() || c.aud.iter().any(|a| a == client);
        if !(names_one && id_matches && aud_matches) {
            return Err(JwtError::WrongClient);
        }
    }
    if let Some(issuer) = e.issuer {
        if c.iss.as_deref() != Some(issuer) {
            return Err(JwtError::WrongIssuer);
        }
    }
    Ok(())
}

struct Oracle {
    alg: String,
    kid: Option<String>,
    exp: u64,
    iat: Option<u64>,
    aud: Vec<String>,
    token_use: Option<TokenUse>,
    client_id: Option<String>,
    iss: Option<String>,
    sub: Option<String>,
    username: Option<String>,
    nonce: Option<String>,
    payload: J,
}

/// The documented decoding, from other parts.
fn oracle(token: &str) -> Option<Oracle> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return None;
    };
    let object = |part: &str| -> Option<J> {
        if part.is_empty() {
            return None;
        }
        let bytes = base64url_oracle(part)?;
        let text = String::from_utf8(bytes).ok()?;
        let value: J = serde_json::from_str(&text).ok()?;
        // The engine's reader refuses nesting past `json::MAX_DEPTH` (the `json` target checks
        // that it refuses nothing else).
        (value.is_object() && depth(&value) <= MAX_DEPTH).then_some(value)
    };
    let (header, payload) = (object(header)?, object(payload)?);
    if signature.is_empty() || base64url_oracle(signature).is_none() {
        return None;
    }
    let alg = string(&header, "alg").ok()??;
    if alg.eq_ignore_ascii_case("none") {
        return None;
    }
    let token_use = match string(&payload, "token_use").ok()?.as_deref() {
        None => None,
        Some("access") => Some(TokenUse::Access),
        Some("id") => Some(TokenUse::Id),
        Some(_) => return None,
    };
    let aud = match present(&payload, "aud") {
        None => Vec::new(),
        Some(J::String(one)) => vec![one.clone()],
        Some(J::Array(all)) => all
            .iter()
            .map(|a| a.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
        Some(_) => return None,
    };
    let username = match string(&payload, "username").ok()? {
        Some(name) => Some(name),
        None => string(&payload, "cognito:username").ok()?,
    };
    Some(Oracle {
        alg,
        kid: string(&header, "kid").ok()?,
        exp: seconds(&payload, "exp").ok()??,
        iat: seconds(&payload, "iat").ok()?,
        aud,
        token_use,
        client_id: string(&payload, "client_id").ok()?,
        iss: string(&payload, "iss").ok()?,
        sub: string(&payload, "sub").ok()?,
        username,
        nonce: string(&payload, "nonce").ok()?,
        payload,
    })
}

fn depth(v: &J) -> usize {
    match v {
        J::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        J::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A member that is there and not `null`.
fn present<'a>(v: &'a J, key: &str) -> Option<&'a J> {
    v.get(key).filter(|v| !v.is_null())
}

fn string(v: &J, key: &str) -> Result<Option<String>, ()> {
    match present(v, key) {
        None => Ok(None),
        Some(J::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// Seconds: the integral part of a non-negative number written without an exponent.
fn seconds(v: &J, key: &str) -> Result<Option<u64>, ()> {
    match present(v, key) {
        None => Ok(None),
        Some(J::Number(n)) => {
            let text = n.to_string();
            if text.starts_with('-') || text.contains(['e', 'E']) {
                return Err(());
            }
            let integral = text.split('.').next().unwrap_or_default();
            integral.parse::<u64>().map(Some).map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}
