//! Decodes a compact JWS (`header.payload.signature`) into typed header and claims.
//!
//! Decoding is not verifying: nothing here checks the signature ([`super::verify`] decides how,
//! the shell's WebCrypto checks it). The session reads a token's timing and audience to decide
//! when to refresh and whether the token is meant for this app; the API that receives the access
//! token must verify it all the same. What
//! this module guarantees is that any string, however hostile, yields a [`Jwt`] or a typed
//! [`JwtError`]: length is capped at [`MAX_TOKEN_LEN`] before any work, `alg: none` is refused,
//! and a token without a numeric `exp` is an error, so a token with unknown expiry can never pass
//! for a valid one. [`Claims::check`] then compares the claims with what the app expects (Cognito
//! access tokens name the app client in `client_id`, ID tokens in `aud`).
//!
//! Claims whose value is JSON `null` count as absent; a claim present with another type than the
//! protocol's is [`JwtError::WrongType`].

use alloc::{borrow::ToOwned, string::String, vec, vec::Vec};
use core::fmt;

use super::base64url;
use super::json::{self, JsonError, Value};

/// Longest token accepted, in bytes (16 KiB). Cognito tokens are 1–4 KiB even with many groups.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A decoded, unverified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwt {
    pub header: Header,
    pub claims: Claims,
}

/// The JOSE header fields the session needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Signature algorithm (`RS256` for Cognito); never `none` in any letter case.
    pub alg: String,
    /// Key id (which of the issuer's JWKS keys signed it).
    pub kid: Option<String>,
}

/// The claims the session reads, plus the whole claims object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Expiry, seconds since the Unix epoch (integral part of the number). Always present.
    pub exp: u64,
    /// Issued-at, seconds since the Unix epoch.
    pub iat: Option<u64>,
    /// Cognito's `token_use`.
    pub token_use: Option<TokenUse>,
    /// The app client, as Cognito access tokens carry it.
    pub client_id: Option<String>,
    /// Audiences (a single string in the token becomes one entry); Cognito ID tokens carry the
    /// app client id here.
    pub aud: Vec<String>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    /// `username` (access tokens), else `cognito:username` (ID tokens).
    pub username: Option<String>,
    /// The OpenID Connect `nonce` of the sign-in the ID token answers.
    pub nonce: Option<String>,
    /// The whole decoded claims object, for custom claims (`cognito:groups`, `email`, ...).
    pub json: Value,
}

/// What a Cognito token is for (its `token_use` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// `"access"`: sent to APIs.
    Access,
    /// `"id"`: describes the user to the app.
    Id,
}

/// What [`Claims::check`] compares the claims with; `None` fields are not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expected<'a> {
    pub token_use: Option<TokenUse>,
    /// The app client id: must equal `client_id` and be among `aud`, whichever the token has.
    pub client_id: Option<&'a str>,
    /// The exact `iss`, e.g. `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`.
    pub issuer: Option<&'a str>,
}

/// One of the three dot-separated parts of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Header,
    Payload,
    Signature,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        }
    }
}

/// Why a string is not an acceptable token. All variants but the last three mean the provider
/// (or whatever stood in for it) sent something that is not a usable JWT; the last three, from
/// [`Claims::check`], mean the token is well formed but meant for someone else, which is a
/// configuration mistake or an attack, never a reason to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    /// The token is the empty string.
    Empty,
    /// Longer than [`MAX_TOKEN_LEN`]; nothing else was looked at.
    TooLong,
    /// Not exactly three `.`-separated parts (`null`, `Bearer x`, an HTML page, ...).
    NotThreeParts,
    /// One of the parts is empty (an unsigned token has an empty signature).
    EmptyPart {
        part: Part,
    },
    BadBase64 {
        part: Part,
    },
    NotUtf8 {
        part: Part,
    },
    BadJson {
        part: Part,
        error: JsonError,
    },
    NotAnObject {
        part: Part,
    },
    /// The header has no `alg`.
    MissingAlg,
    /// `alg` is `none`: an unsigned token.
    AlgNone,
    /// No `exp` claim: the token's lifetime is unknown.
    MissingExp,
    /// The named header field or claim has the wrong JSON type (or a negative or non-integral
    /// number where seconds are expected).
    WrongType {
        claim: &'static str,
    },
    /// `token_use` is a string other than `access` or `id`.
    UnknownTokenUse,
    /// `token_use` is absent or not the expected one (an ID token where an access token belongs).
    WrongTokenUse,
    /// Issued to another app client, or names no client at all.
    WrongClient,
    /// Issued by another issuer, or names none.
    WrongIssuer,
}

impl JwtError {
    /// Appends what is wrong, for people: the `Display` text, built with `push_str` so that the
    /// `.wasm` needs no `fmt` machinery for it.
    pub fn describe(&self, out: &mut String) {
        let (part, what) = match *self {
            JwtError::Empty => (None, "token is empty"),
            JwtError::TooLong => (None, "token is longer than 16 KiB"),
            JwtError::NotThreeParts => (None, "token is not three dot-separated parts"),
            JwtError::EmptyPart { part } => (Some(part), " is empty"),
            JwtError::BadBase64 { part } => (Some(part), " is not base64url"),
            JwtError::NotUtf8 { part } => (Some(part), " is not UTF-8"),
            JwtError::BadJson { part, .. } => (Some(part), " is not JSON: "),
            JwtError::NotAnObject { part } => (Some(part), " is not a JSON object"),
            JwtError::MissingAlg => (None, "JWT header has no alg"),
            JwtError::AlgNone => (None, "JWT is unsigned (alg none)"),
            JwtError::MissingExp => (None, "JWT has no exp claim"),
            JwtError::WrongType { .. } => (None, "JWT claim has the wrong type: "),
            JwtError::UnknownTokenUse => (None, "JWT token_use is neither access nor id"),
            JwtError::WrongTokenUse => (None, "JWT token_use is not the expected one"),
            JwtError::WrongClient => (None, "JWT is for another app client"),
            JwtError::WrongIssuer => (None, "JWT is from another issuer"),
        };
        if let Some(part) = part {
            out.push_str("JWT ");
            out.push_str(part.name());
        }
        out.push_str(what);
        match self {
            JwtError::BadJson { error, .. } => out.push_str(error.message()),
            JwtError::WrongType { claim } => out.push_str(claim),
            _ => {}
        }
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.describe(&mut text);
        f.write_str(&text)
    }
}

impl core::error::Error for JwtError {}

/// Decodes `token` without verifying its signature. The signature part must be non-empty
/// base64url; its bytes are not kept.
pub fn decode(token: &str) -> Result<Jwt, JwtError> {
    if token.is_empty() {
        return Err(JwtError::Empty);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::TooLong);
    }
    let mut parts = super::text::split(token, b'.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::NotThreeParts);
    };
    let header = read_header(&object(header, Part::Header)?)?;
    let claims = read_claims(object(payload, Part::Payload)?)?;
    if signature.is_empty() {
        return Err(JwtError::EmptyPart {
            part: Part::Signature,
        });
    }
    base64url::decode(signature).map_err(|_| JwtError::BadBase64 {
        part: Part::Signature,
    })?;
    Ok(Jwt { header, claims })
}

impl Claims {
    /// Checks the claims against what the app expects: `token_use`, the app client (`client_id`
    /// for access tokens, `aud` for ID tokens; both when both are present), and the issuer.
    /// Expiry is not checked here: that needs the clock and skew (see `tokens`).
    pub fn check(&self, expect: &Expected) -> Result<(), JwtError> {
        if expect.token_use.is_some() && expect.token_use != self.token_use {
            return Err(JwtError::WrongTokenUse);
        }
        if let Some(client) = expect.client_id {
            let named = self.client_id.is_some() || !self.aud.is_empty();
            let id_ok = self.client_id.iter().all(|c| c == client);
            let aud_ok = self.aud.is_empty() || self.aud.iter().any(|a| a == client);
            if !(named && id_ok && aud_ok) {
                return Err(JwtError::WrongClient);
            }
        }
        if expect.issuer.is_some() && expect.issuer != self.iss.as_deref() {
            return Err(JwtError::WrongIssuer);
        }
        Ok(())
    }
}

/// base64url → UTF-8 → JSON object.
fn object(text: &str, part: Part) -> Result<Value, JwtError> {
    if text.is_empty() {
        return Err(JwtError::EmptyPart { part });
    }
    let bytes = base64url::decode(text).map_err(|_| JwtError::BadBase64 { part })?;
    let text = String::from_utf8(bytes).map_err(|_| JwtError::NotUtf8 { part })?;
    match json::parse(&text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(JwtError::NotAnObject { part }),
        Err(error) => Err(JwtError::BadJson { part, error }),
    }
}

fn read_header(h: &Value) -> Result<Header, JwtError> {
    let alg = string(h, "alg")?.ok_or(JwtError::MissingAlg)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(JwtError::AlgNone);
    }
    Ok(Header {
        alg,
        kid: string(h, "kid")?,
    })
}

fn read_claims(c: Value) -> Result<Claims, JwtError> {
    let token_use = match string(&c, "token_use")?.as_deref() {
        None => None,
        Some("access") => Some(TokenUse::Access),
        Some("id") => Some(TokenUse::Id),
        Some(_) => return Err(JwtError::UnknownTokenUse),
    };
    let aud = match present(&c, "aud") {
        None => Vec::new(),
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(all)) => all
            .iter()
            .map(|a| a.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or(JwtError::WrongType { claim: "aud" })?,
        Some(_) => return Err(JwtError::WrongType { claim: "aud" }),
    };
    let username = match string(&c, "username")? {
        Some(name) => Some(name),
        None => string(&c, "cognito:username")?,
    };
    Ok(Claims {
        exp: seconds(&c, "exp")?.ok_or(JwtError::MissingExp)?,
        iat: seconds(&c, "iat")?,
        token_use,
        client_id: string(&c, "client_id")?,
        aud,
        iss: string(&c, "iss")?,
        sub: string(&c, "sub")?,
        username,
        nonce: string(&c, "nonce")?,
        json: c,
    })
}

/// The member `claim`, unless absent or `null`.
fn present<'v>(obj: &'v Value, claim: &str) -> Option<&'v Value> {
    // `matches!`, not `!=`: the derived, recursive `Value` equality costs ~300 B of wasm.
    obj.get(claim).filter(|v| !matches!(v, Value::Null))
}

fn string(obj: &Value, claim: &'static str) -> Result<Option<String>, JwtError> {
    present(obj, claim)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or(JwtError::WrongType { claim })
        })
        .transpose()
}

fn seconds(obj: &Value, claim: &'static str) -> Result<Option<u64>, JwtError> {
    present(obj, claim)
        .map(|v| v.as_u64().ok_or(JwtError::WrongType { claim }))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI";
    const CLIENT: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
    const HEADER: &str = r#"{"kid":"k6Fv0pQzB0rTm3+Ax1cWqZ9hN2yLkS8dE4uJ7oI5gHc=","alg":"RS256"}"#;
    const ACCESS: &str = r#"{"sub":"94f8e4a8-2071-70d2-5b6e-9c1f2e7d3a44","cognito:groups":["admin","eu"],
        "iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI","version":2,
        "client_id":"3n4b5urk1ft4fl3mg5e62d9ado","origin_jti":"5c1e0a3b-8d7f-4e2a-9b6c-1f0d3e2a7b8c",
        "event_id":"0b9a8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d","token_use":"access",
        "scope":"aws.cognito.signin.user.admin openid email","auth_time":1700000000,
        "exp":1700003600,"iat":1700000000,"jti":"a1b2c3d4-e5f6-4789-abcd-ef0123456789",
        "username":"alice"}"#;
    const ID: &str = r#"{"sub":"94f8e4a8-2071-70d2-5b6e-9c1f2e7d3a44","email_verified":true,
        "iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI",
        "cognito:username":"alice","origin_jti":"5c1e0a3b-8d7f-4e2a-9b6c-1f0d3e2a7b8c",
        "aud":"3n4b5urk1ft4fl3mg5e62d9ado","event_id":"0b9a8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
        "token_use":"id","auth_time":1700000000,"exp":1700003600,"iat":1700000000,
        "jti":"b2c3d4e5-f6a7-4890-bcde-f01234567890","email":"alice@example.com",
        "custom:tenant":"acme"}"#;

    fn b64(text: &str) -> String {
        base64url::encode(text.as_bytes())
    }

    /// A token with this header and payload JSON and a 256-byte stand-in signature.
    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64(header),
            b64(payload),
            base64url::encode(&[7; 256])
        )
    }

    fn claims(payload: &str) -> Result<Claims, JwtError> {
        decode(&token(HEADER, payload)).map(|jwt| jwt.claims)
    }

    fn err(token: &str) -> JwtError {
        match decode(token) {
            Err(e) => e,
            Ok(jwt) => panic!("{token:?} decoded as {jwt:?}"),
        }
    }

    #[test]
    fn decodes_a_cognito_access_token() {
        let jwt = decode(&token(HEADER, ACCESS)).unwrap();
        assert_eq!(jwt.header.alg, "RS256");
        assert_eq!(
            jwt.header.kid.as_deref(),
            Some("k6Fv0pQzB0rTm3+Ax1cWqZ9hN2yLkS8dE4uJ7oI5gHc=")
        );
        let c = jwt.claims;
        assert_eq!(c.exp, 1_700_003_600);
        assert_eq!(c.iat, Some(1_700_000_000));
        assert_eq!(c.token_use, Some(TokenUse::Access));
        assert_eq!(c.client_id.as_deref(), Some(CLIENT));
        assert!(c.aud.is_empty());
        assert_eq!(c.iss.as_deref(), Some(ISS));
        assert_eq!(
            c.sub.as_deref(),
            Some("94f8e4a8-2071-70d2-5b6e-9c1f2e7d3a44")
        );
        assert_eq!(c.username.as_deref(), Some("alice"));
    }

    #[test]
    fn decodes_a_cognito_id_token_with_its_username_and_audience() {
        let c = claims(ID).unwrap();
        assert_eq!(c.token_use, Some(TokenUse::Id));
        assert_eq!(c.aud, [CLIENT]);
        assert_eq!(c.client_id, None);
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert_eq!(c.exp, 1_700_003_600);
    }

    #[test]
    fn custom_claims_stay_readable_through_the_json_object() {
        let c = claims(ID).unwrap();
        assert_eq!(
            c.json.get("custom:tenant").and_then(Value::as_str),
            Some("acme")
        );
        assert_eq!(
            c.json.get("email_verified").and_then(Value::as_bool),
            Some(true)
        );
        let access = claims(ACCESS).unwrap();
        let groups = access.json.get("cognito:groups");
        assert!(matches!(groups, Some(Value::Array(g)) if g.len() == 2));
    }

    #[test]
    fn username_prefers_username_over_cognito_username() {
        let c = claims(r#"{"exp":1,"username":"a","cognito:username":"b"}"#).unwrap();
        assert_eq!(c.username.as_deref(), Some("a"));
    }

    #[test]
    fn a_fractional_exp_reads_as_its_whole_seconds() {
        assert_eq!(
            claims(r#"{"exp":1700000000.5}"#).unwrap().exp,
            1_700_000_000
        );
    }

    #[test]
    fn aud_may_be_an_array_of_strings() {
        let c = claims(r#"{"exp":1,"aud":["other",  "3n4b5urk1ft4fl3mg5e62d9ado"]}"#).unwrap();
        assert_eq!(c.aud, ["other", CLIENT]);
        assert_eq!(
            claims(r#"{"exp":1,"aud":[]}"#).unwrap().aud,
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_token_without_a_numeric_exp_is_refused() {
        assert_eq!(claims(r#"{"sub":"x"}"#), Err(JwtError::MissingExp));
        assert_eq!(claims(r#"{"exp":null}"#), Err(JwtError::MissingExp));
        let wrong = Err(JwtError::WrongType { claim: "exp" });
        for exp in [
            r#""1700000000""#,
            "-1",
            "-1700000000",
            "1.7e9",
            "18446744073709551616",
            "true",
            "[1700000000]",
            "{}",
        ] {
            assert_eq!(claims(&format!(r#"{{"exp":{exp}}}"#)), wrong, "exp {exp}");
        }
        assert_eq!(claims(r#"{"exp":0}"#).unwrap().exp, 0);
    }

    #[test]
    fn claims_of_the_wrong_type_are_refused_by_name() {
        for (payload, claim) in [
            (r#"{"exp":1,"iat":"now"}"#, "iat"),
            (r#"{"exp":1,"iat":-5}"#, "iat"),
            (r#"{"exp":1,"iss":7}"#, "iss"),
            (r#"{"exp":1,"sub":{}}"#, "sub"),
            (r#"{"exp":1,"client_id":["a"]}"#, "client_id"),
            (r#"{"exp":1,"aud":5}"#, "aud"),
            (r#"{"exp":1,"aud":["a",5]}"#, "aud"),
            (r#"{"exp":1,"aud":{"a":1}}"#, "aud"),
            (r#"{"exp":1,"username":true}"#, "username"),
            (r#"{"exp":1,"cognito:username":1}"#, "cognito:username"),
            (r#"{"exp":1,"token_use":1}"#, "token_use"),
        ] {
            assert_eq!(
                claims(payload),
                Err(JwtError::WrongType { claim }),
                "{payload}"
            );
        }
        let kid = token(r#"{"alg":"RS256","kid":42}"#, ACCESS);
        assert_eq!(err(&kid), JwtError::WrongType { claim: "kid" });
        let alg = token(r#"{"alg":256}"#, ACCESS);
        assert_eq!(err(&alg), JwtError::WrongType { claim: "alg" });
    }

    #[test]
    fn null_optional_claims_count_as_absent() {
        let c = claims(r#"{"exp":1,"iat":null,"aud":null,"token_use":null,"username":null}"#);
        let c = c.unwrap();
        assert_eq!((c.iat, c.token_use, c.username), (None, None, None));
        assert!(c.aud.is_empty());
    }

    #[test]
    fn token_use_other_than_access_or_id_is_refused() {
        for t in ["refresh", "Access", "ID", ""] {
            let payload = format!(r#"{{"exp":1,"token_use":"{t}"}}"#);
            assert_eq!(claims(&payload), Err(JwtError::UnknownTokenUse), "{t}");
        }
    }

    #[test]
    fn unsigned_tokens_are_refused_in_any_letter_case() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            assert_eq!(err(&token(&header, ACCESS)), JwtError::AlgNone);
            let unsigned = format!("{}.{}.", b64(&header), b64(ACCESS));
            assert_eq!(err(&unsigned), JwtError::AlgNone);
        }
        assert_eq!(
            err(&token(r#"{"typ":"JWT"}"#, ACCESS)),
            JwtError::MissingAlg
        );
    }

    #[test]
    fn anything_but_three_parts_is_refused() {
        let (h, p) = (b64(HEADER), b64(ACCESS));
        assert_eq!(err(&format!("{h}.{p}")), JwtError::NotThreeParts);
        assert_eq!(err(&format!("{h}.{p}.c2ln.c2ln")), JwtError::NotThreeParts);
        assert_eq!(err("...."), JwtError::NotThreeParts);
        for s in [
            "null",
            "undefined",
            "Bearer x",
            "[object Object]",
            "true",
            " ",
        ] {
            assert_eq!(err(s), JwtError::NotThreeParts, "{s}");
        }
        assert_eq!(err(""), JwtError::Empty);
    }

    #[test]
    fn empty_parts_are_refused_by_name() {
        let (h, p) = (b64(HEADER), b64(ACCESS));
        let empty = |part| JwtError::EmptyPart { part };
        assert_eq!(err(".."), empty(Part::Header));
        assert_eq!(err(&format!(".{p}.c2ln")), empty(Part::Header));
        assert_eq!(err(&format!("{h}..c2ln")), empty(Part::Payload));
        assert_eq!(err(&format!("{h}.{p}.")), empty(Part::Signature));
    }

    #[test]
    fn parts_that_are_not_base64url_json_objects_are_refused_by_part() {
        let (h, p) = (b64(HEADER), b64(ACCESS));
        let bad64 = |part| JwtError::BadBase64 { part };
        assert_eq!(err(&format!("Bearer {h}.{p}.c2ln")), bad64(Part::Header));
        assert_eq!(err(&format!("{h}.{p}.c2ln=x")), bad64(Part::Signature));
        assert_eq!(err(&format!("{h}.{p}.c+ln")), bad64(Part::Signature));
        assert_eq!(err(&format!("{h}.{p}!.c2ln")), bad64(Part::Payload));
        let not_utf8 = base64url::encode(&[0xff, 0xfe, b'{']);
        assert_eq!(
            err(&format!("{h}.{not_utf8}.c2ln")),
            JwtError::NotUtf8 {
                part: Part::Payload
            }
        );
        for (text, part) in [
            ("[1,2]", Part::Header),
            ("\"s\"", Part::Payload),
            ("null", Part::Payload),
        ] {
            let t = if part == Part::Header {
                token(text, ACCESS)
            } else {
                token(HEADER, text)
            };
            assert_eq!(err(&t), JwtError::NotAnObject { part }, "{text}");
        }
        assert!(matches!(
            err(&token(HEADER, r#"{"exp":1"#)),
            JwtError::BadJson {
                part: Part::Payload,
                ..
            }
        ));
    }

    #[test]
    fn an_html_page_is_not_a_token() {
        assert_eq!(
            err("<!doctype html><html><body>502 Bad Gateway</body></html>"),
            JwtError::NotThreeParts
        );
        let dotted = "<html><body><p>Service unavailable. Try again later.</p></body></html>";
        assert_eq!(err(dotted), JwtError::BadBase64 { part: Part::Header });
    }

    #[test]
    fn tokens_past_16_kib_are_refused_before_any_work() {
        let big = token(
            HEADER,
            &format!(r#"{{"exp":1,"pad":"{}"}}"#, "x".repeat(20_000)),
        );
        assert_eq!(err(&big), JwtError::TooLong);
        assert_eq!(err(&"a".repeat(MAX_TOKEN_LEN + 1)), JwtError::TooLong);
        assert_eq!(err(&"a".repeat(MAX_TOKEN_LEN)), JwtError::NotThreeParts);
        let fits = token(
            HEADER,
            &format!(r#"{{"exp":1,"pad":"{}"}}"#, "x".repeat(11_000)),
        );
        assert!(fits.len() <= MAX_TOKEN_LEN && decode(&fits).is_ok());
    }

    #[test]
    fn every_prefix_of_a_token_is_an_error_or_the_same_token() {
        let full = token(HEADER, ACCESS);
        let whole = decode(&full).unwrap();
        let signing_input = full.rfind('.').unwrap();
        for end in 0..full.len() {
            match decode(&full[..end]) {
                Ok(jwt) => {
                    assert!(end >= signing_input + 2, "prefix of {end} bytes decoded");
                    assert_eq!(jwt, whole);
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn random_input_never_panics() {
        const PALETTE: &[char] = &[
            'e', 'y', 'J', '0', '9', '-', '_', '.', '=', '+', ' ', 'é', '\0',
        ];
        let mut rng = Rng::new(0xC0FFEE);
        for _ in 0..3_000 {
            let len = rng.up_to(80) as usize;
            let s: String = (0..len)
                .map(|_| PALETTE[rng.up_to(PALETTE.len() as u64 - 1) as usize])
                .collect();
            if let Err(e) = decode(&s) {
                assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn randomly_mutated_tokens_never_panic_and_keep_a_numeric_exp() {
        let mut rng = Rng::new(2024);
        let payloads = [
            ACCESS,
            ID,
            r#"{"exp":1700000000.5,"aud":["a","b"],"n":[{"x":null}]}"#,
        ];
        for i in 0..6_000 {
            let mut bytes = token(HEADER, payloads[i % payloads.len()]).into_bytes();
            for _ in 0..=rng.up_to(3) {
                let at = rng.up_to(bytes.len() as u64 - 1) as usize;
                bytes[at] = rng.up_to(127) as u8;
            }
            let s = String::from_utf8(bytes).unwrap();
            match decode(&s) {
                Ok(jwt) => assert_eq!(
                    jwt.claims.json.get("exp").and_then(Value::as_u64),
                    Some(jwt.claims.exp)
                ),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
        let mut rng = Rng::new(7);
        for _ in 0..2_000 {
            let raw: Vec<u8> = (0..rng.up_to(200)).map(|_| rng.up_to(255) as u8).collect();
            let _ = decode(&String::from_utf8_lossy(&raw));
            let json: Vec<u8> = (0..rng.up_to(60))
                .map(|_| b"{}[]\":,1e-.aexp "[rng.up_to(15) as usize])
                .collect();
            let t = token(HEADER, &String::from_utf8_lossy(&json));
            let _ = decode(&t);
        }
    }

    #[test]
    fn check_accepts_tokens_meant_for_this_client_and_issuer() {
        let access = Expected {
            token_use: Some(TokenUse::Access),
            client_id: Some(CLIENT),
            issuer: Some(ISS),
        };
        assert_eq!(claims(ACCESS).unwrap().check(&access), Ok(()));
        let id = Expected {
            token_use: Some(TokenUse::Id),
            ..access
        };
        assert_eq!(claims(ID).unwrap().check(&id), Ok(()));
        let multi = claims(r#"{"exp":1,"aud":["x","3n4b5urk1ft4fl3mg5e62d9ado"]}"#).unwrap();
        assert_eq!(
            multi.check(&Expected {
                client_id: Some(CLIENT),
                ..Expected::default()
            }),
            Ok(())
        );
        let bare = claims(r#"{"exp":1}"#).unwrap();
        assert_eq!(bare.check(&Expected::default()), Ok(()));
    }

    #[test]
    fn check_refuses_the_other_kind_of_token() {
        let want_access = Expected {
            token_use: Some(TokenUse::Access),
            ..Expected::default()
        };
        assert_eq!(
            claims(ID).unwrap().check(&want_access),
            Err(JwtError::WrongTokenUse)
        );
        let none = claims(r#"{"exp":1}"#).unwrap();
        assert_eq!(none.check(&want_access), Err(JwtError::WrongTokenUse));
    }

    #[test]
    fn check_refuses_tokens_for_another_client_or_for_no_client() {
        let want = Expected {
            client_id: Some(CLIENT),
            ..Expected::default()
        };
        for payload in [
            r#"{"exp":1,"client_id":"someone-else"}"#,
            r#"{"exp":1,"aud":"someone-else"}"#,
            r#"{"exp":1,"aud":["a","b"]}"#,
            r#"{"exp":1,"client_id":"3n4b5urk1ft4fl3mg5e62d9ado","aud":"someone-else"}"#,
            r#"{"exp":1,"client_id":"someone-else","aud":"3n4b5urk1ft4fl3mg5e62d9ado"}"#,
            r#"{"exp":1}"#,
        ] {
            assert_eq!(
                claims(payload).unwrap().check(&want),
                Err(JwtError::WrongClient),
                "{payload}"
            );
        }
    }

    #[test]
    fn check_refuses_another_or_a_missing_issuer() {
        let c = claims(ACCESS).unwrap();
        for issuer in [
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI/",
            "",
        ] {
            let want = Expected {
                issuer: Some(issuer),
                ..Expected::default()
            };
            assert_eq!(c.check(&want), Err(JwtError::WrongIssuer), "{issuer}");
        }
        let anonymous = claims(r#"{"exp":1}"#).unwrap();
        let want = Expected {
            issuer: Some(ISS),
            ..Expected::default()
        };
        assert_eq!(anonymous.check(&want), Err(JwtError::WrongIssuer));
    }

    #[test]
    fn every_error_says_what_went_wrong() {
        let json_error = json::parse("{").unwrap_err();
        let all = [
            JwtError::Empty,
            JwtError::TooLong,
            JwtError::NotThreeParts,
            JwtError::EmptyPart {
                part: Part::Signature,
            },
            JwtError::BadBase64 { part: Part::Header },
            JwtError::NotUtf8 {
                part: Part::Payload,
            },
            JwtError::BadJson {
                part: Part::Payload,
                error: json_error,
            },
            JwtError::NotAnObject { part: Part::Header },
            JwtError::MissingAlg,
            JwtError::AlgNone,
            JwtError::MissingExp,
            JwtError::WrongType { claim: "exp" },
            JwtError::UnknownTokenUse,
            JwtError::WrongTokenUse,
            JwtError::WrongClient,
            JwtError::WrongIssuer,
        ];
        let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(texts[4], "JWT header is not base64url");
        assert_eq!(texts[6], "JWT payload is not JSON: unexpected end of JSON");
        assert_eq!(texts[11], "JWT claim has the wrong type: exp");
        for (i, t) in texts.iter().enumerate() {
            assert!(!texts[..i].contains(t), "duplicate message {t}");
        }
    }
}
