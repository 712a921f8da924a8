//! `engine::json::parse` on any text, against `serde_json` (with `arbitrary_precision`, so numbers
//! compare as written) as the oracle:
//!
//! - whatever `parse` accepts, serde_json accepts as the same value (later duplicate keys win in
//!   both), and nesting is at most `MAX_DEPTH`;
//! - whatever serde_json accepts within `MAX_DEPTH`, `parse` accepts (an error is only
//!   `TooDeep` past it);
//! - a parsed value written back (`write_string` for strings) parses to the same value;
//! - `write_string` of the input itself reads back as that string;
//! - the number readers agree with the number's text (`as_u64`: the integral part of a
//!   non-negative number without exponent; `as_i64` the same with a sign);
//! - `parse_from_js` reads what `JSON.parse` then wasm-bindgen would: the text with every escaped
//!   lone surrogate made U+FFFD, as serde_json reads that (and equals `parse` where it succeeds).
#![no_main]

use cognito_session::engine::json::{self, JsonErrorKind, Value, MAX_DEPTH};
use cognito_session_fuzz::{depth, text, to_serde, write_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };

    let mut quoted = String::new();
    json::write_string(&mut quoted, input);
    assert_eq!(
        json::parse(&quoted),
        Ok(Value::String(input.to_owned())),
        "write_string does not read back: {quoted:?}"
    );

    let ours = json::parse(input);
    from_js(input, &ours);
    let theirs = serde_json::from_str::<serde_json::Value>(input);
    match (&ours, &theirs) {
        (Ok(value), Ok(oracle)) => {
            assert!(depth(value) <= MAX_DEPTH, "nested past MAX_DEPTH");
            assert_eq!(
                &to_serde(value),
                oracle,
                "parsed differently from serde_json"
            );
            let mut written = String::new();
            write_json(&mut written, value);
            assert_eq!(json::parse(&written).as_ref(), Ok(value), "no round trip");
            numbers(value);
        }
        (Ok(value), Err(e)) => panic!("accepted what serde_json refuses ({e}): {value:?}"),
        // (serde_json drops earlier duplicate keys, so its depth can be lower than the text's.)
        (Err(e), Ok(oracle)) => assert!(
            e.kind == JsonErrorKind::TooDeep,
            "refused what serde_json accepts ({e:?}, depth {})",
            serde_depth(oracle)
        ),
        (Err(e), Err(_)) => assert!(e.offset <= input.len(), "error offset past the end: {e:?}"),
    }
});

/// `parse_from_js` against the same oracle, on the text with its escaped lone surrogates
/// replaced by `\ufffd` (what a JavaScript string with one becomes in wasm).
fn from_js(input: &str, strict: &Result<Value, json::JsonError>) {
    let ours = json::parse_from_js(input);
    if let Ok(value) = strict {
        assert_eq!(ours.as_ref(), Ok(value), "parse_from_js differs from parse");
    }
    let replaced = replace_lone_surrogates(input);
    match (ours, serde_json::from_str::<serde_json::Value>(&replaced)) {
        (Ok(value), Ok(oracle)) => assert_eq!(to_serde(&value), oracle, "{replaced}"),
        (Ok(value), Err(e)) => panic!("parse_from_js accepted what JS refuses ({e}): {value:?}"),
        (Err(e), Ok(_)) => assert_eq!(
            e.kind,
            JsonErrorKind::TooDeep,
            "parse_from_js refused {replaced}"
        ),
        (Err(_), Err(_)) => {}
    }
}

/// Every `\uXXXX` escape inside a string that is a surrogate without its other half, as
/// `\ufffd`.
fn replace_lone_surrogates(text: &str) -> String {
    let b = text.as_bytes();
    let hex = |at: usize| -> Option<u32> {
        let digits = b.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16)
            .ok()
            .filter(|_| digits.iter().all(u8::is_ascii_hexdigit))
    };
    let escape_at = |at: usize| -> Option<u32> {
        (b.get(at) == Some(&b'\\') && b.get(at + 1) == Some(&b'u')).then(|| hex(at + 2))?
    };
    let mut out = String::with_capacity(text.len());
    let (mut i, mut in_string) = (0, false);
    while i < b.len() {
        if !in_string {
            in_string = b[i] == b'"';
        } else if b[i] == b'"' {
            in_string = false;
        } else if b[i] == b'\\' {
            match escape_at(i) {
                Some(0xD800..=0xDBFF) => {
                    if matches!(escape_at(i + 6), Some(0xDC00..=0xDFFF)) {
                        out.push_str(&text[i..i + 12]);
                        i += 12;
                    } else {
                        out.push_str("\\ufffd");
                        i += 6;
                    }
                    continue;
                }
                Some(0xDC00..=0xDFFF) => {
                    out.push_str("\\ufffd");
                    i += 6;
                    continue;
                }
                _ => {
                    // Any other escape: copy the backslash and what it escapes.
                    out.push('\\');
                    i += 1;
                    if let Some(c) = text[i..].chars().next() {
                        out.push(c);
                        i += c.len_utf8();
                    }
                    continue;
                }
            }
        }
        let c = text[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn numbers(value: &Value) {
    match value {
        Value::Number(n) => {
            let integral = n.split('.').next().unwrap_or_default();
            let exponent = n.contains(['e', 'E']);
            let expect_u64 = if exponent || integral.starts_with('-') {
                None
            } else {
                integral.parse::<u64>().ok()
            };
            assert_eq!(value.as_u64(), expect_u64, "as_u64 of {n}");
            let expect_i64 = if exponent {
                None
            } else {
                integral.parse::<i64>().ok()
            };
            // `-0` reads as 0 both ways.
            assert_eq!(value.as_i64(), expect_i64, "as_i64 of {n}");
        }
        Value::Array(items) => items.iter().for_each(numbers),
        Value::Object(members) => {
            for (k, v) in members {
                numbers(v);
                // `get` answers the last member of that name.
                let last = members
                    .iter()
                    .rev()
                    .find(|(name, _)| name == k)
                    .map(|(_, v)| v);
                assert_eq!(value.get(k), last);
            }
        }
        _ => {}
    }
}

fn serde_depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(serde_depth).max().unwrap_or(0),
        serde_json::Value::Object(members) => {
            1 + members.values().map(serde_depth).max().unwrap_or(0)
        }
        _ => 0,
    }
}
