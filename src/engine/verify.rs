//! Token signatures: which algorithms a token may name, which key of the issuer's key set (its
//! JWKS) checks it, and when that key set is fetched again.
//!
//! The signature itself is checked by the driver with WebCrypto: [`Check`] is what it verifies
//! (the signed text, the signature, the algorithm) and [`Key::jwk`] the key it imports, a JWK
//! holding only the public parameters, so the browser parses the key and the engine never does
//! big-number work. Everything else is decided here:
//!
//! - the allow-list ([`Alg`]): RS256 and ES256. `none` never; HMAC (`HS256`...) never either, since
//!   a forged token naming it asks for the public key to be used as a shared secret;
//! - the key: the one whose `kid` the token names, of the algorithm's key type, not marked for
//!   encryption; a token without `kid` only when the set has one key of that type;
//! - when to fetch ([`KeyBook::need`]): a set is used for its HTTP cache lifetime held to 1 h to
//!   24 h ([`KEYS_MIN_LIFE`], [`KEYS_MAX_LIFE`]); a `kid` the set lacks (a key rotation) makes it
//!   fetched again at once, and then at most once per [`UNKNOWN_KID_WINDOW`] (5 min) across the
//!   tabs (the moment travels with the stored set), so tokens naming made-up keys cannot drive
//!   fetches.
//!   Failed fetches back off under the session's refresh policy (the machine's retry books).

use alloc::string::String;
use alloc::vec::Vec;

use super::json::{self, write_string, Value};
use super::jwt;
use super::text::push_u64;
use super::Millis;

/// The shortest a key set is used before it is fetched again, whatever its `Cache-Control`.
pub const KEYS_MIN_LIFE: Millis = 3_600_000;
/// The longest a key set is used before it is fetched again.
pub const KEYS_MAX_LIFE: Millis = 86_400_000;
/// A token naming a key the set lacks makes it fetched again at most once in this long.
pub const UNKNOWN_KID_WINDOW: Millis = 300_000;
/// Keys read from one set; a longer list is cut (providers publish two or three).
pub const MAX_KEYS: usize = 16;
/// Longest key set (or stored record) read, in bytes.
pub const MAX_KEYS_LEN: usize = 64 * 1024;

/// A signature algorithm the session accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Cognito, most providers).
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// The allow-list: `None` for every other name (`none`, `HS256`, `RS512`, ...).
    pub fn from_name(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

/// Why a token's signature does not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// Not a JWT the checks can read.
    Malformed,
    /// Its `alg` is not on the allow-list.
    Alg,
    /// The key set has no key it names, even fetched again.
    UnknownKey,
    /// The signature does not match.
    Signature,
}

impl VerifyError {
    /// Appends what is wrong, for people.
    pub fn describe(self, out: &mut String) {
        out.push_str(match self {
            VerifyError::Malformed => "unreadable JWT",
            VerifyError::Alg => "JWT alg not allowed",
            VerifyError::UnknownKey => "JWT key not in the key set",
            VerifyError::Signature => "bad JWT signature",
        });
    }
}

/// What the driver verifies for one token: `signature` (base64url) over `input` (the token up to
/// its last `.`) with the key the set holds for `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub alg: Alg,
    pub kid: Option<String>,
    pub input: String,
    pub signature: String,
}

impl Check {
    /// The check for `token`, or why it cannot pass whatever the keys.
    pub fn of(token: &str) -> Result<Check, VerifyError> {
        let header = jwt::decode(token)
            .map_err(|e| match e {
                jwt::JwtError::AlgNone => VerifyError::Alg,
                _ => VerifyError::Malformed,
            })?
            .header;
        let alg = Alg::from_name(&header.alg).ok_or(VerifyError::Alg)?;
        let dot = token.bytes().rposition(|b| b == b'.').unwrap_or(0);
        Ok(Check {
            alg,
            kid: header.kid,
            input: String::from(token.get(..dot).unwrap_or_default()),
            signature: String::from(token.get(dot + 1..).unwrap_or_default()),
        })
    }
}

/// One public key of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub kid: Option<String>,
    pub alg: Alg,
    /// The key as a JWK with only its public parameters (`kty`, `n`, `e` or `kty`, `crv`, `x`,
    /// `y`), for WebCrypto's `importKey("jwk", ...)`.
    pub jwk: String,
}

/// The usable keys of a JWKS document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    pub keys: Vec<Key>,
}

impl KeySet {
    /// Reads `{"keys": [...]}`: RSA keys and P-256 EC keys for signatures; other keys (other
    /// types or curves, `use: enc`, an `alg` that is not their type's) are skipped. `None` when
    /// the text is no key set at all.
    pub fn parse(text: &str) -> Option<KeySet> {
        if text.len() > MAX_KEYS_LEN {
            return None;
        }
        KeySet::read(&json::parse(text).ok()?)
    }

    /// [`KeySet::parse`] of a parsed document.
    fn read(doc: &Value) -> Option<KeySet> {
        let Some(Value::Array(items)) = doc.get("keys") else {
            return None;
        };
        let keys = items.iter().filter_map(key).take(MAX_KEYS).collect();
        Some(KeySet { keys })
    }

    /// The key that checks `check`: the one with its `kid` and algorithm, or, for a token
    /// without `kid`, the only key of its algorithm.
    pub fn find(&self, check: &Check) -> Option<&Key> {
        let mut of_alg = self.keys.iter().filter(|k| k.alg == check.alg);
        match &check.kid {
            Some(kid) => of_alg.find(|k| k.kid.as_deref() == Some(kid.as_str())),
            None => of_alg.next().filter(|_| of_alg.next().is_none()),
        }
    }
}

fn key(v: &Value) -> Option<Key> {
    let s = |name| v.get(name).and_then(Value::as_str);
    if s("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let (alg, names): (Alg, &[&str]) = match (s("kty")?, s("crv")) {
        ("RSA", _) => (Alg::Rs256, &["kty", "n", "e"]),
        ("EC", Some("P-256")) => (Alg::Es256, &["kty", "crv", "x", "y"]),
        _ => return None,
    };
    if s("alg").is_some_and(|a| a != alg.name()) {
        return None;
    }
    let mut jwk = String::from("{");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            jwk.push(',');
        }
        write_string(&mut jwk, name);
        jwk.push(':');
        write_string(&mut jwk, s(name)?);
    }
    jwk.push('}');
    Some(Key {
        kid: s("kid").map(String::from),
        alg,
        jwk,
    })
}

/// What [`KeyBook::need`] says about a set of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The set is fresh and has every key: verify now.
    Use,
    /// Fetch the set first (none yet, past its lifetime, or, `unknown`, a key it lacks and no
    /// fetch for a missing key in the last [`UNKNOWN_KID_WINDOW`]). `stale_ok`: the set held has
    /// every key, so a failed fetch may fall back on it.
    Fetch { stale_ok: bool, unknown: bool },
    /// A key the set lacks, and a fetch for a missing key was made less than
    /// [`UNKNOWN_KID_WINDOW`] ago.
    Unknown,
}

/// The session's key set, where it comes from, and when it was fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBook {
    /// The JWKS URL (empty until the discovery document names it).
    pub url: String,
    /// The OpenID Connect discovery document that names the JWKS URL, when the app gave none.
    pub discovery: Option<String>,
    set: KeySet,
    /// The key-set document as fetched (what the record stores); empty when adopted.
    body: String,
    /// When the set was fetched (by this tab or, through storage, another); 0: never.
    fetched_at: Millis,
    /// Until when it is used without fetching it again.
    fresh_until: Millis,
    /// When a fetch for a key the set lacked last brought a set (by any tab); 0: never.
    refetched_at: Millis,
    /// A fetch for a key the set lacks is under way: its set, when it comes, starts the window
    /// (a failed one does not: failures back off instead).
    refetching: bool,
}

impl KeyBook {
    /// No keys yet, to be fetched from `url`.
    #[inline(never)]
    pub fn new(url: String) -> KeyBook {
        KeyBook {
            url,
            discovery: None,
            set: KeySet::default(),
            body: String::new(),
            fetched_at: 0,
            fresh_until: 0,
            refetched_at: 0,
            refetching: false,
        }
    }

    /// No keys yet, to be fetched from the URL the discovery document at `discovery` names.
    pub fn discover(discovery: String) -> KeyBook {
        KeyBook {
            discovery: Some(discovery),
            ..KeyBook::new(String::new())
        }
    }

    /// Where the next fetch goes: the key set, or the discovery document that names it.
    pub fn fetch_url(&self) -> &str {
        match &self.discovery {
            Some(doc) if self.url.is_empty() => doc,
            _ => &self.url,
        }
    }

    /// Where the keys come from as the app configured it: the discovery document or the URL.
    fn source(&self) -> &str {
        self.discovery.as_deref().unwrap_or(&self.url)
    }

    /// Reads the discovery document's `jwks_uri` (an http(s) URL). Returns whether it did.
    pub fn take_discovery(&mut self, body: &str) -> bool {
        let doc = json::parse(body).ok();
        let uri = doc.as_ref().and_then(|d| d.get("jwks_uri")?.as_str());
        match uri {
            Some(uri) if uri.starts_with("https://") || uri.starts_with("http://") => {
                self.url = String::from(uri);
                true
            }
            _ => false,
        }
    }

    /// The keys held.
    pub fn set(&self) -> &KeySet {
        &self.set
    }

    /// Whether `checks` can be verified at `now` with the set held.
    pub fn need(&self, now: Millis, checks: &[Check]) -> Need {
        let all_known = checks.iter().all(|c| self.set.find(c).is_some());
        let fresh = now < self.fresh_until && now >= self.fetched_at;
        if fresh && all_known {
            return Need::Use;
        }
        if fresh && now < self.refetched_at.saturating_add(UNKNOWN_KID_WINDOW) {
            return Need::Unknown;
        }
        Need::Fetch {
            stale_ok: all_known && self.fetched_at > 0,
            unknown: fresh,
        }
    }

    /// A fetch for a key the set lacks starts.
    pub fn refetching(&mut self) {
        self.refetching = true;
    }

    /// A fetched key set: `body`, with its `Cache-Control: max-age` (seconds) when given.
    /// Returns false, keeping what was held, when `body` is no key set.
    pub fn take(&mut self, now: Millis, body: &str, max_age: Option<u64>) -> bool {
        let Some(set) = KeySet::parse(body) else {
            return false;
        };
        let life = max_age
            .map_or(KEYS_MIN_LIFE, |s| s.saturating_mul(1_000))
            .clamp(KEYS_MIN_LIFE, KEYS_MAX_LIFE);
        self.set = set;
        self.body = String::from(body);
        if core::mem::take(&mut self.refetching) {
            self.refetched_at = now;
        }
        self.fetched_at = now;
        self.fresh_until = now.saturating_add(life);
        true
    }

    /// The storage record: `{"src", "url", "at", "until", "re", "keys"}` (`src`: the configured
    /// source, `re`: the last fetch for a missing key, `keys`: the key-set document as fetched).
    pub fn record(&self) -> String {
        let mut out = String::from("{\"src\":");
        write_string(&mut out, self.source());
        out.push_str(",\"url\":");
        write_string(&mut out, &self.url);
        out.push_str(",\"at\":");
        push_u64(&mut out, self.fetched_at);
        out.push_str(",\"until\":");
        push_u64(&mut out, self.fresh_until);
        out.push_str(",\"re\":");
        push_u64(&mut out, self.refetched_at);
        out.push_str(",\"keys\":");
        out.push_str(&self.body);
        out.push('}');
        out
    }

    /// Takes in a record another tab stored, when it is for our source and fetched later than
    /// ours (but not in the future of `now`). Returns whether it was taken.
    pub fn adopt(&mut self, now: Millis, record: &str) -> bool {
        if record.len() > MAX_KEYS_LEN + 4_096 {
            return false;
        }
        let Ok(doc) = json::parse(record) else {
            return false;
        };
        let text = |name| doc.get(name).and_then(Value::as_str);
        let number = |name| doc.get(name).and_then(Value::as_u64);
        let (Some(url), Some(at), Some(until), Some(set)) = (
            text("url").filter(|u| !u.is_empty()),
            number("at"),
            number("until"),
            doc.get("keys").and_then(KeySet::read),
        ) else {
            return false;
        };
        if text("src") != Some(self.source()) || at <= self.fetched_at || at > now {
            return false;
        }
        self.set = set;
        self.body = String::new();
        self.url = String::from(url);
        self.fetched_at = at;
        self.fresh_until = until.min(at.saturating_add(KEYS_MAX_LIFE));
        self.refetched_at = self.refetched_at.max(number("re").unwrap_or(0).min(now));
        true
    }

    /// The local clock was set back by `back`.
    pub fn clock_set_back(&mut self, back: Millis) {
        self.fetched_at = self.fetched_at.saturating_sub(back);
        self.fresh_until = self.fresh_until.saturating_sub(back);
        self.refetched_at = self.refetched_at.saturating_sub(back);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::base64url;

    const RSA: &str = r#"{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}"#;
    const EC: &str = r#"{"kty":"EC","kid":"e1","crv":"P-256","x":"AA","y":"AQ"}"#;

    fn token(header: &str) -> String {
        let mut t = base64url::encode(header.as_bytes());
        t.push('.');
        t.push_str(&base64url::encode(br#"{"exp":2000000000}"#));
        t.push_str(".c2ln");
        t
    }

    fn set(keys: &[&str]) -> String {
        let mut out = String::from("{\"keys\":[");
        out.push_str(&keys.join(","));
        out.push_str("]}");
        out
    }

    #[test]
    fn only_rs256_and_es256_are_allowed() {
        for (alg, ok) in [
            ("RS256", true),
            ("ES256", true),
            ("none", false),
            ("NONE", false),
            ("HS256", false),
            ("HS512", false),
            ("RS512", false),
            ("PS256", false),
            ("rs256", false),
        ] {
            let header = format!(r#"{{"alg":"{alg}","kid":"k1"}}"#);
            assert_eq!(
                Check::of(&token(&header)).is_ok(),
                ok,
                "{alg} allowed: {}",
                !ok
            );
        }
        assert_eq!(
            Check::of(&token(r#"{"alg":"HS256","kid":"k1"}"#)),
            Err(VerifyError::Alg)
        );
        assert_eq!(Check::of("x.y"), Err(VerifyError::Malformed));
    }

    #[test]
    fn a_check_is_the_signed_text_and_the_signature() {
        let t = token(r#"{"alg":"RS256","kid":"k1"}"#);
        let c = Check::of(&t).unwrap();
        assert_eq!(c.signature, "c2ln");
        assert_eq!(format!("{}.{}", c.input, c.signature), t);
        assert_eq!(c.kid.as_deref(), Some("k1"));
    }

    #[test]
    fn keys_are_found_by_kid_and_type_and_unusable_ones_skipped() {
        let text = set(&[
            RSA,
            EC,
            r#"{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}"#,
            r#"{"kty":"RSA","kid":"hs","alg":"HS256","n":"AQAB","e":"AQAB"}"#,
            r#"{"kty":"EC","kid":"p384","crv":"P-384","x":"AA","y":"AQ"}"#,
            r#"{"kty":"oct","kid":"sym","k":"AA"}"#,
            r#"{"kty":"RSA","kid":"no-n","e":"AQAB"}"#,
        ]);
        let keys = KeySet::parse(&text).unwrap();
        assert_eq!(keys.keys.len(), 2);
        assert_eq!(keys.keys[0].jwk, r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#);
        assert_eq!(
            keys.keys[1].jwk,
            r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AQ"}"#
        );
        let check = |h: &str| Check::of(&token(h)).unwrap();
        let rs = check(r#"{"alg":"RS256","kid":"k1"}"#);
        assert_eq!(keys.find(&rs).map(|k| k.alg), Some(Alg::Rs256));
        // The EC key's kid with RS256: not the RSA key, not the EC key.
        assert_eq!(keys.find(&check(r#"{"alg":"RS256","kid":"e1"}"#)), None);
        assert!(keys.find(&check(r#"{"alg":"ES256","kid":"e1"}"#)).is_some());
        for skipped in ["enc", "hs", "p384", "sym", "other"] {
            let h = format!(r#"{{"alg":"RS256","kid":"{skipped}"}}"#);
            assert_eq!(keys.find(&check(&h)), None, "{skipped}");
        }
        // No kid: only when one key of the type is there.
        assert!(keys.find(&check(r#"{"alg":"RS256"}"#)).is_some());
        let two = KeySet::parse(&set(&[RSA, &RSA.replace("k1", "k2")])).unwrap();
        assert_eq!(two.find(&check(r#"{"alg":"RS256"}"#)), None);
        for bad in ["", "[]", "{}", r#"{"keys":{}}"#, "<html>"] {
            assert_eq!(KeySet::parse(bad), None, "{bad}");
        }
    }

    const T0: Millis = 1_700_000_000_000;

    fn book() -> KeyBook {
        let mut book = KeyBook::new("https://idp.example/keys".into());
        assert!(book.take(T0, &set(&[RSA]), Some(7_200)));
        book
    }

    #[test]
    fn a_set_is_used_for_its_cache_lifetime_held_to_one_hour_to_a_day() {
        let known = [Check::of(&token(r#"{"alg":"RS256","kid":"k1"}"#)).unwrap()];
        let empty = KeyBook::new("u".into());
        assert_eq!(
            empty.need(T0, &known),
            Need::Fetch {
                stale_ok: false,
                unknown: false
            }
        );
        let b = book();
        assert_eq!(b.need(T0 + 7_199_999, &known), Need::Use);
        assert_eq!(
            b.need(T0 + 7_200_000, &known),
            Need::Fetch {
                stale_ok: true,
                unknown: false
            }
        );
        for (age, life) in [
            (None, KEYS_MIN_LIFE),
            (Some(0), KEYS_MIN_LIFE),
            (Some(60), KEYS_MIN_LIFE),
            (Some(10 * 86_400), KEYS_MAX_LIFE),
        ] {
            let mut b = KeyBook::new("u".into());
            b.take(T0, &set(&[RSA]), age);
            assert_eq!(b.need(T0 + life - 1, &known), Need::Use, "{age:?}");
            assert!(
                matches!(b.need(T0 + life, &known), Need::Fetch { .. }),
                "{age:?}"
            );
        }
    }

    #[test]
    fn an_unknown_kid_fetches_again_at_once_then_at_most_once_per_window() {
        let unknown = [Check::of(&token(r#"{"alg":"RS256","kid":"new"}"#)).unwrap()];
        let mut b = book();
        // Fetched a second ago, but never for a missing key: a rotation is fetched at once.
        let refetch = Need::Fetch {
            stale_ok: false,
            unknown: true,
        };
        assert_eq!(b.need(T0 + 1_000, &unknown), refetch);
        b.refetching();
        // A failed fetch does not start the window (failures back off instead).
        assert_eq!(b.need(T0 + 1_001, &unknown), refetch);
        assert!(b.take(T0 + 1_000, &set(&[RSA]), None));
        assert_eq!(b.need(T0 + 1_001, &unknown), Need::Unknown);
        assert_eq!(
            b.need(T0 + 1_000 + UNKNOWN_KID_WINDOW - 1, &unknown),
            Need::Unknown
        );
        assert_eq!(b.need(T0 + 1_000 + UNKNOWN_KID_WINDOW, &unknown), refetch);
        // The window travels with the stored set.
        let mut other = KeyBook::new(b.url.clone());
        assert!(other.adopt(T0 + 2_000, &b.record()));
        assert_eq!(other.need(T0 + 2_000, &unknown), Need::Unknown);
    }

    #[test]
    fn a_stored_set_is_taken_only_when_newer_for_the_same_url() {
        let a = book();
        let record = a.record();
        let mut b = KeyBook::new(a.url.clone());
        assert!(b.adopt(T0 + 10, &record));
        assert_eq!((b.set(), b.need(T0 + 10, &[])), (a.set(), Need::Use));
        assert!(!b.adopt(T0 + 10, &record), "the same fetch again");
        let mut other = KeyBook::new("https://elsewhere/keys".into());
        assert!(!other.adopt(T0 + 10, &record));
        let mut early = KeyBook::new(a.url.clone());
        assert!(!early.adopt(T0 - 1, &record), "fetched in the future");
        for junk in ["", "{", "[]", r#"{"url":"x"}"#] {
            assert!(!KeyBook::new(a.url.clone()).adopt(T0, junk), "{junk}");
        }
    }

    #[test]
    fn the_discovery_document_names_the_key_set_and_travels_with_it() {
        let mut a =
            KeyBook::discover("https://idp.example/.well-known/openid-configuration".into());
        assert_eq!(
            a.fetch_url(),
            "https://idp.example/.well-known/openid-configuration"
        );
        for bad in [
            "{}",
            r#"{"jwks_uri":"javascript:x"}"#,
            r#"{"jwks_uri":1}"#,
            "<",
        ] {
            assert!(!a.take_discovery(bad), "{bad}");
        }
        assert!(a.take_discovery(r#"{"jwks_uri":"https://idp.example/jwks"}"#));
        assert_eq!(a.fetch_url(), "https://idp.example/jwks");
        assert!(a.take(T0, &set(&[RSA]), None));
        let mut b = KeyBook::discover(a.discovery.clone().unwrap());
        assert!(b.adopt(T0, &a.record()));
        assert_eq!((b.set(), b.fetch_url()), (a.set(), a.fetch_url()));
        let mut direct = KeyBook::new("https://idp.example/jwks".into());
        assert!(!direct.adopt(T0, &a.record()), "another source");
    }
}
