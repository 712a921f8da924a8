//! What the fuzz targets share: their input formats, the providers and token rules they run
//! the engine with, and the checks every answer must pass.
//!
//! # Input formats
//!
//! The seeds under `fuzz/corpus/<target>/` are real-shaped inputs (a Cognito `InitiateAuth`
//! answer, a storage record as `to_json` writes it, ...), written by `examples/seeds.rs`, so the
//! formats are text wherever the engine reads text:
//!
//! - the raw-text targets (`json`, `base64url`, `jwt`, `storage_record`, `sign_in_record`,
//!   `tab_message`) take the whole input as the text (inputs that are not UTF-8 are skipped: the
//!   engine only ever receives `&str`);
//! - the structured ones split it into fields at `\x1f` (unit separator, [`FIELD`]) and, for
//!   `wire`, into calls at `\x1e` (record separator, [`RECORD`]). A missing field, or one that is
//!   exactly `\x18` ([`ABSENT`]), is absent (`None`); numbers are decimal text, and text that is
//!   not a number still means one ([`Fields::num`]) so that every mutation reaches the engine;
//! - `state_machine` is a byte script ([`script`]), because its events are mostly numbers.

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use cognito_session::engine::classify::{ProviderError, MAX_RETRY_AFTER};
use cognito_session::engine::config::Config;
use cognito_session::engine::json::{self, Value};
use cognito_session::engine::protocol::Provider;
use cognito_session::engine::tokens::TokenRules;
use cognito_session::sim::mint::Issuer;

/// Separates the fields of a structured input.
pub const FIELD: char = '\x1f';
/// Separates the calls of a `wire` input.
pub const RECORD: char = '\x1e';
/// A field that is exactly this is absent.
pub const ABSENT: &str = "\x18";

/// The Cognito API endpoint the providers use.
pub const ENDPOINT: &str = "https://cognito-idp.us-east-1.amazonaws.com/";
/// The OAuth2 token endpoint the providers use.
pub const TOKEN_ENDPOINT: &str = "https://auth.example.com/oauth2/token";
/// The moment the targets start at (2023-11-14), unless the input says otherwise.
pub const T0: u64 = 1_700_000_000_000;
/// Longest message `classify` keeps from a body (its `MAX_MESSAGE`, private there).
pub const MAX_MESSAGE: usize = 256;

/// Whether the checks of findings already reported (each with its input under
/// `fuzz/regressions/<target>/`) run: only with `FUZZ_STRICT=1`. Without it they are skipped, so
/// that a long run goes on to find something new instead of stopping at a known crash; once the
/// engine is fixed, the exemption goes (and its regression input keeps the fix honest).
pub fn strict() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("FUZZ_STRICT").is_some_and(|v| v == "1"))
}

/// Base64url as `engine::base64url` documents it, by the `base64` crate: the URL-safe alphabet,
/// unused trailing bits allowed, padding optional but exactly the length the data needs when
/// present.
pub fn base64url_oracle(input: &str) -> Option<Vec<u8>> {
    const fn engine(padding: DecodePaddingMode) -> GeneralPurpose {
        GeneralPurpose::new(
            &URL_SAFE,
            GeneralPurposeConfig::new()
                .with_decode_allow_trailing_bits(true)
                .with_decode_padding_mode(padding),
        )
    }
    const PADDED: GeneralPurpose = engine(DecodePaddingMode::RequireCanonical);
    const UNPADDED: GeneralPurpose = engine(DecodePaddingMode::RequireNone);
    if input.contains('=') {
        PADDED.decode(input).ok()
    } else {
        UNPADDED.decode(input).ok()
    }
}

/// The input as text, or `None` when it is not UTF-8.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The fields of a structured input, in order.
pub struct Fields<'a> {
    parts: std::str::Split<'a, char>,
}

/// `s` split at [`FIELD`].
pub fn fields(s: &str) -> Fields<'_> {
    Fields {
        parts: s.split(FIELD),
    }
}

impl<'a> Fields<'a> {
    /// The next field; `None` when missing or [`ABSENT`].
    pub fn opt(&mut self) -> Option<&'a str> {
        self.parts.next().filter(|f| *f != ABSENT)
    }

    /// The next field, empty when absent.
    pub fn text(&mut self) -> &'a str {
        self.opt().unwrap_or_default()
    }

    /// The next field as a number: its decimal value, or a hash of its bytes when it is not a
    /// decimal number (so a mutated digit still gives a number); 0 when absent.
    pub fn num(&mut self) -> u64 {
        self.opt().map_or(0, number)
    }

    /// The next field as a JavaScript number: Rust's float syntax (`NaN`, `inf`, `-1e400`,
    /// `-0`, `1.5`), else a whole number as [`Fields::num`] reads it.
    pub fn float(&mut self) -> f64 {
        match self.opt() {
            None => 0.0,
            Some(f) => f.trim().parse::<f64>().unwrap_or_else(|_| number(f) as f64),
        }
    }
}

/// `s` as a decimal number, or an FNV-1a hash of its bytes.
pub fn number(s: &str) -> u64 {
    s.trim().parse::<u64>().unwrap_or_else(|_| {
        s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    })
}

/// The simulations' issuer (`sim::mint`): its tokens pass every provider's rules below.
pub fn issuer() -> Issuer {
    Issuer::default()
}

/// Cognito without rotation, with rotation, and an OAuth2 token endpoint, all for
/// [`issuer`]'s app client.
pub fn providers() -> [Provider; 3] {
    let client_id = issuer().client_id;
    [
        Provider::Cognito {
            endpoint: ENDPOINT.into(),
            client_id: client_id.clone(),
            rotation: false,
        },
        Provider::Cognito {
            endpoint: ENDPOINT.into(),
            client_id: client_id.clone(),
            rotation: true,
        },
        Provider::OAuth2 {
            token_endpoint: TOKEN_ENDPOINT.into(),
            client_id,
        },
    ]
}

/// The configuration a session with `provider` gets, with [`issuer`]'s `iss` required when
/// `with_issuer` (what `Config::from_options` does for OAuth2 with an `issuer` option; Cognito
/// sessions in the simulations set it too).
pub fn config(provider: Provider, with_issuer: bool) -> Config {
    let mut config = Config::new(provider);
    if with_issuer {
        config.rules.issuer = Some(issuer().iss);
    }
    config
}

/// The token rules of both providers, with and without an issuer: Cognito's (token_use
/// required, access tokens name the client, no opaque access tokens) and OAuth2's.
pub fn all_rules() -> Vec<TokenRules> {
    let [cognito, _, oauth] = providers();
    let mut rules = Vec::new();
    for provider in [cognito, oauth] {
        for with_issuer in [false, true] {
            rules.push(config(provider.clone(), with_issuer).rules);
        }
    }
    rules
}

/// What every classified failure must look like: a name, a message no longer than
/// `classify` keeps, a server hint no longer than it honours.
pub fn check_error(e: &ProviderError) {
    assert!(!e.code.is_empty(), "error without a code: {e:?}");
    assert!(e.message.len() <= MAX_MESSAGE, "message not clipped: {e:?}");
    assert!(
        e.retry_after.is_none_or(|r| r <= MAX_RETRY_AFTER),
        "retry-after past the cap: {e:?}"
    );
}

/// A token that can go in an `Authorization` header as it is.
pub fn header_safe(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

/// `value` as `serde_json` would hold it after parsing the same text (later duplicate keys win).
pub fn to_serde(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::Value::Number(
            serde_json::from_str(n).unwrap_or_else(|e| panic!("number {n:?} is not JSON: {e}")),
        ),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
        Value::Object(members) => {
            let mut map = serde_json::Map::new();
            for (k, v) in members {
                map.insert(k.clone(), to_serde(v));
            }
            serde_json::Value::Object(map)
        }
    }
}

/// `value` written back as JSON text (members in order, duplicates kept).
pub fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => json::write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(out, k);
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

/// How deep `value` nests arrays and objects (a scalar: 0).
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(members) => 1 + members.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

pub mod script;
