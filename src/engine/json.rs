//! A small, defensive JSON reader and string writer for the bodies the core reads and writes.
//!
//! Why not serde_json: the core reads a handful of fields from token responses, error bodies and
//! JWT parts, and writes three small request bodies. A purpose-built reader keeps the `.wasm` small
//! (ARCHITECTURE.md, "Why ...?") and lets every failure be a typed [`JsonError`] with a byte
//! offset. Any byte string in gives a [`Value`] or an error: nesting is bounded by [`MAX_DEPTH`]
//! so hostile input cannot exhaust the stack, and nothing here panics.
//!
//! Numbers are kept as their validated source text ([`Value::Number`]); [`Value::as_u64`] and
//! [`Value::as_i64`] read the integral part, which is all the protocols need (`exp`, `iat`,
//! `ExpiresIn`) and avoids float parsing and formatting machinery in the `.wasm`.

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use core::fmt;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Objects keep their members in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number exactly as written (already checked against the JSON grammar).
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// What was wrong with a JSON text, and where (byte offset into the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    pub kind: JsonErrorKind,
    pub offset: usize,
}

/// The ways a JSON text can be unacceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The text ended inside a value (truncated body).
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here (an HTML page, say).
    UnexpectedByte(u8),
    /// A malformed `\` escape or `\u` sequence, or a lone surrogate.
    BadEscape,
    /// A control character inside a string.
    ControlCharacter,
    /// A number that does not follow the JSON grammar.
    BadNumber,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A complete value followed by more non-space text.
    TrailingCharacters,
}

impl JsonError {
    /// What is wrong, for people (the `Display` text, without the `fmt` machinery: see
    /// ARCHITECTURE.md, "Size traps").
    pub fn message(&self) -> &'static str {
        match self.kind {
            JsonErrorKind::UnexpectedEnd => "unexpected end of JSON",
            JsonErrorKind::UnexpectedByte(_) => "unexpected character in JSON",
            JsonErrorKind::BadEscape => "bad escape in JSON string",
            JsonErrorKind::ControlCharacter => "control character in JSON string",
            JsonErrorKind::BadNumber => "malformed JSON number",
            JsonErrorKind::TooDeep => "JSON nested too deeply",
            JsonErrorKind::TrailingCharacters => "trailing characters after JSON",
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Parses one JSON text (surrounding white space allowed).
pub fn parse(text: &str) -> Result<Value, JsonError> {
    parse_with(text, false)
}

/// [`parse`], except that an escaped lone surrogate (`"\ud800"`, which `JSON.stringify` writes
/// for a JavaScript string that has one) reads as U+FFFD instead of failing, as wasm-bindgen's
/// own string passing replaces it: for JSON a JavaScript shell wrote from arbitrary strings.
pub fn parse_from_js(text: &str) -> Result<Value, JsonError> {
    parse_with(text, true)
}

// Never inlined: inlined into both callers, its constant flag would make two copies of the reader.
#[inline(never)]
fn parse_with(text: &str, replace_lone_surrogates: bool) -> Result<Value, JsonError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        replace_lone_surrogates,
    };
    let value = reader.value(0)?;
    reader.skip_space();
    if reader.pos != reader.bytes.len() {
        return Err(reader.error(JsonErrorKind::TrailingCharacters));
    }
    Ok(value)
}

impl Value {
    /// The member `key` of an object (the last one, as `JSON.parse` would keep), or `None` for a
    /// missing member or a value that is not an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integral part of a non-negative number (`1700000000.5` reads as `1700000000`), or
    /// `None` for anything else: negative numbers, exponents, values past `u64::MAX`, non-numbers.
    pub fn as_u64(&self) -> Option<u64> {
        let Value::Number(text) = self else {
            return None;
        };
        let integral = super::text::before(text, b'.');
        if integral.starts_with('-') || text.bytes().any(|b| b == b'e' || b == b'E') {
            return None;
        }
        integral.bytes().try_fold(0u64, |acc, b| {
            acc.checked_mul(10)?
                .checked_add(u64::from(b.wrapping_sub(b'0')))
        })
    }

    /// The integral part of a number that fits an `i64`, or `None`.
    pub fn as_i64(&self) -> Option<i64> {
        let Value::Number(text) = self else {
            return None;
        };
        match text.strip_prefix('-') {
            Some(rest) => {
                let magnitude = Value::Number(rest.to_owned()).as_u64()?;
                0i64.checked_sub_unsigned(magnitude)
            }
            None => i64::try_from(self.as_u64()?).ok(),
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Appends `s` to `out` as a JSON string literal, quotes included.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    // Everything that needs escaping is ASCII, so the text between escapes is copied in whole
    // runs cut at ASCII bytes (character boundaries), without decoding UTF-8.
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let (escape, hex) = match b {
            b'"' => ("\\\"", false),
            b'\\' => ("\\\\", false),
            b'\n' => ("\\n", false),
            b'\r' => ("\\r", false),
            b'\t' => ("\\t", false),
            0..=0x1f => ("\\u00", true),
            _ => continue,
        };
        out.push_str(s.get(run..i).unwrap_or_default());
        out.push_str(escape);
        if hex {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

struct Reader<'a> {
    /// The input; `bytes` is the same text as bytes.
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Read an escaped lone surrogate as U+FFFD instead of failing ([`parse_from_js`]).
    replace_lone_surrogates: bool,
}

impl Reader<'_> {
    fn error(&self, kind: JsonErrorKind) -> JsonError {
        JsonError {
            kind,
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Result<u8, JsonError> {
        let b = self
            .peek()
            .ok_or(self.error(JsonErrorKind::UnexpectedEnd))?;
        self.pos += 1;
        Ok(b)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect_byte(&mut self, wanted: u8) -> Result<(), JsonError> {
        match self.next_byte()? {
            b if b == wanted => Ok(()),
            b => {
                self.pos -= 1;
                Err(self.error(JsonErrorKind::UnexpectedByte(b)))
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.skip_space();
        match self.peek() {
            None => Err(self.error(JsonErrorKind::UnexpectedEnd)),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b) => Err(self.error(JsonErrorKind::UnexpectedByte(b))),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        for wanted in word.bytes() {
            self.expect_byte(wanted)?;
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error(JsonErrorKind::TooDeep));
        }
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key = self.string()?;
            self.skip_space();
            self.expect_byte(b':')?;
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_space();
            match self.next_byte()? {
                b',' => continue,
                b'}' => return Ok(Value::Object(members)),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error(JsonErrorKind::TooDeep));
        }
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_space();
            match self.next_byte()? {
                b',' => continue,
                b']' => return Ok(Value::Array(items)),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
            }
        }
    }

    /// The error for the byte at `pos`, or for the end of input.
    fn unexpected(&self) -> JsonError {
        match self.peek() {
            Some(b) => self.error(JsonErrorKind::UnexpectedByte(b)),
            None => self.error(JsonErrorKind::UnexpectedEnd),
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the longest run of plain bytes at once; the input is a &str, so any run that
            // stops at an ASCII quote, backslash or control byte is valid UTF-8 on its own.
            let start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // (`str::get` cannot fail here; it only checks the ASCII boundaries.)
            out.push_str(self.text.get(start..self.pos).unwrap_or_default());
            match self.next_byte()? {
                b'"' => return Ok(out),
                b'\\' => self.escape(&mut out)?,
                _ => {
                    self.pos -= 1;
                    return Err(self.error(JsonErrorKind::ControlCharacter));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let c = match self.next_byte()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return Err(self.error(JsonErrorKind::BadEscape)),
        };
        out.push(c);
        Ok(())
    }

    /// After `\u`: four hex digits, and for a high surrogate the `\uXXXX` low half that must follow.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                let low_half_at = self.pos;
                match self.low_surrogate() {
                    Ok(second) => 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                    Err(e)
                        if e.kind == JsonErrorKind::BadEscape && self.replace_lone_surrogates =>
                    {
                        self.pos = low_half_at;
                        0xFFFD
                    }
                    Err(e) => return Err(e),
                }
            }
            0xDC00..=0xDFFF if self.replace_lone_surrogates => 0xFFFD,
            0xDC00..=0xDFFF => return Err(self.error(JsonErrorKind::BadEscape)),
            other => other,
        };
        char::from_u32(code).ok_or(self.error(JsonErrorKind::BadEscape))
    }

    /// After a high surrogate's `\uXXXX`: the `\uXXXX` low half that must follow.
    fn low_surrogate(&mut self) -> Result<u32, JsonError> {
        // A text cut here is truncated, not malformed: keep UnexpectedEnd.
        for wanted in [b'\\', b'u'] {
            self.expect_byte(wanted).map_err(|e| match e.kind {
                JsonErrorKind::UnexpectedEnd => e,
                _ => self.error(JsonErrorKind::BadEscape),
            })?;
        }
        let second = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&second) {
            return Err(self.error(JsonErrorKind::BadEscape));
        }
        Ok(second)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = match self.next_byte()? {
                b @ b'0'..=b'9' => b - b'0',
                b @ b'a'..=b'f' => b - b'a' + 10,
                b @ b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.error(JsonErrorKind::BadEscape)),
            };
            code = code * 16 + u32::from(digit);
        }
        Ok(code)
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error(JsonErrorKind::BadNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        // Only ASCII was consumed, so the slice is on character boundaries.
        let text = self.text.get(start..self.pos).unwrap_or_default();
        Ok(Value::Number(String::from(text)))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), JsonError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error(JsonErrorKind::BadNumber));
        }
        self.digits();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> JsonErrorKind {
        match parse(text) {
            Err(e) => e.kind,
            Ok(v) => panic!("{text:?} parsed as {v:?}"),
        }
    }

    #[test]
    fn reads_a_token_response() {
        let v = parse(
            r#" {"AuthenticationResult": {"AccessToken": "a.b.c", "ExpiresIn": 3600,
                "TokenType": "Bearer"}, "ChallengeParameters": {}} "#,
        )
        .unwrap();
        let result = v.get("AuthenticationResult").unwrap();
        assert_eq!(
            result.get("AccessToken").and_then(Value::as_str),
            Some("a.b.c")
        );
        assert_eq!(result.get("ExpiresIn").and_then(Value::as_u64), Some(3600));
        assert_eq!(v.get("ChallengeParameters"), Some(&Value::Object(vec![])));
        assert_eq!(v.get("missing"), None);
    }

    #[test]
    fn numbers_read_their_integral_part_only_when_it_fits() {
        let n = |t: &str| parse(t).unwrap();
        assert_eq!(n("1700000000.75").as_u64(), Some(1_700_000_000));
        assert_eq!(n("0").as_u64(), Some(0));
        assert_eq!(n("-5").as_u64(), None);
        assert_eq!(n("-5").as_i64(), Some(-5));
        assert_eq!(n("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("1e9").as_u64(), None);
        assert_eq!(n("\"12\"").as_u64(), None);
    }

    #[test]
    fn from_js_a_lone_surrogate_reads_as_the_replacement_character() {
        // What JSON.stringify writes for JavaScript strings with lone surrogates.
        for (text, expected) in [
            (r#""a\ud800b""#, "a\u{fffd}b"),
            (r#""\udc00""#, "\u{fffd}"),
            (r#""\ud800\ud800\udc00""#, "\u{fffd}\u{10000}"),
            (r#""\ud800\n""#, "\u{fffd}\n"),
            (r#""\ud83d\ude00""#, "\u{1f600}"),
        ] {
            assert_eq!(
                parse_from_js(text).unwrap().as_str(),
                Some(expected),
                "{text}"
            );
            if expected.contains('\u{fffd}') {
                assert_eq!(
                    parse(text).unwrap_err().kind,
                    JsonErrorKind::BadEscape,
                    "{text}"
                );
            }
        }
        // Truncated stays truncated.
        assert_eq!(
            parse_from_js(r#""\ud800\"#).unwrap_err().kind,
            JsonErrorKind::UnexpectedEnd
        );
    }

    #[test]
    fn strings_decode_escapes_and_surrogate_pairs() {
        let v = parse(r#""a\"b\\c\/d\n\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c/d\né😀"));
        assert_eq!(parse("\"é日本\"").unwrap().as_str(), Some("é日本"));
    }

    #[test]
    fn the_last_duplicate_key_wins_like_json_parse() {
        let v = parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_u64), Some(2));
    }

    #[test]
    fn malformed_input_is_a_typed_error() {
        assert_eq!(kind(""), JsonErrorKind::UnexpectedEnd);
        assert_eq!(
            kind(r#"{"AccessToken": "abc"#),
            JsonErrorKind::UnexpectedEnd
        );
        assert_eq!(
            kind("<html><body>502 Bad Gateway</body></html>"),
            JsonErrorKind::UnexpectedByte(b'<')
        );
        assert_eq!(kind(r#"{"a":1}x"#), JsonErrorKind::TrailingCharacters);
        assert_eq!(kind(r#""\x""#), JsonErrorKind::BadEscape);
        assert_eq!(kind(r#""\ud800""#), JsonErrorKind::BadEscape);
        assert_eq!(kind(r#""\udc00""#), JsonErrorKind::BadEscape);
        assert_eq!(kind(r#""\ud83d"#), JsonErrorKind::UnexpectedEnd);
        assert_eq!(kind(r#""\ud83d\"#), JsonErrorKind::UnexpectedEnd);
        assert_eq!(kind(r#""\ud83dx""#), JsonErrorKind::BadEscape);
        assert_eq!(kind("\"a\u{1}\""), JsonErrorKind::ControlCharacter);
        assert_eq!(kind("01"), JsonErrorKind::TrailingCharacters);
        assert_eq!(kind("-"), JsonErrorKind::BadNumber);
        assert_eq!(kind("1."), JsonErrorKind::BadNumber);
        assert_eq!(kind("[1,]"), JsonErrorKind::UnexpectedByte(b']'));
        assert_eq!(kind("{\"a\" 1}"), JsonErrorKind::UnexpectedByte(b'1'));
        assert_eq!(kind("{1:2}"), JsonErrorKind::UnexpectedByte(b'1'));
        assert_eq!(kind("tru"), JsonErrorKind::UnexpectedEnd);
        assert_eq!(kind("nul!"), JsonErrorKind::UnexpectedByte(b'!'));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(100_000);
        assert_eq!(kind(&deep), JsonErrorKind::TooDeep);
        let deep_objects = "{\"a\":".repeat(MAX_DEPTH + 1);
        assert_eq!(kind(&deep_objects), JsonErrorKind::TooDeep);
    }

    #[test]
    fn written_strings_read_back_unchanged() {
        for s in [
            "",
            "plain",
            "quote\" back\\ nl\n tab\t ctl\u{1}\u{1f}",
            "é😀/",
        ] {
            let mut out = String::new();
            write_string(&mut out, s);
            assert_eq!(parse(&out).unwrap().as_str(), Some(s), "{out}");
        }
    }

    #[test]
    fn every_prefix_of_a_document_is_handled_without_panic() {
        let doc = r#"{"a":[1,-2.5e+3,true,false,null,"s\u00e9\ud83d\ude00"],"b":{"c":{}}}"#;
        assert!(parse(doc).is_ok());
        for end in 0..doc.len() {
            if let Some(prefix) = doc.get(..end) {
                assert!(parse(prefix).is_err(), "prefix {prefix:?} parsed");
            }
        }
    }
}
