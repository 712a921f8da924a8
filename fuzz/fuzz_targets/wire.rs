//! The wire: `wire::Call::decode` and `wire::Dispatcher::call` with any operation numbers, any
//! numbers (NaN, infinities, negatives, fractions, past 2^53) and any strings, on a session
//! built from any options.
//!
//! Input: records split at `\x1e`. The first is the options, `client_id \x1f user_pool_id \x1f
//! endpoint \x1f token_endpoint \x1f issuer \x1f rotation \x1f seed \x1f now`; each further one
//! a call, `op \x1f now \x1f n \x1f m \x1f a \x1f b \x1f c \x1f d \x1f texts` (see the crate doc:
//! numbers are Rust float syntax, `\x18` is `undefined`). Each call goes to two copies of the
//! session: `call` with the values, `call_with_texts` with `a` to `d` as the JSON array the shell
//! sends (or, when `texts` is given, that text instead). After each call the actions are drained
//! with `PollAction`, as the shell's drive does.
//!
//! Checks: every reply is JSON (the engine's reader and serde_json agree on it), an array whose
//! first element is a one-letter tag from `SHAPES` followed by exactly that shape's fields; an
//! error reply carries `[code, message, retryAt|null, providerCode|null]`; a call `decode`
//! refuses is answered `BAD_CONFIG`, and so is every call to a session whose options cannot work,
//! and every texts argument that is not a JSON array of at most four strings or nulls; the
//! strings arriving as JSON change no answer.
#![no_main]

use cognito_session::engine::config::ProviderOptions;
use cognito_session::engine::json::{self, Value};
use cognito_session::wire::{Call, Dispatcher, Op, RawArgs, SHAPES};
use cognito_session_fuzz::{fields, text, to_serde, RECORD};
use libfuzzer_sys::fuzz_target;

const ERROR_CODES: [&str; 6] = [
    "NOT_SIGNED_IN",
    "SESSION_EXPIRED",
    "THROTTLED",
    "UNAVAILABLE",
    "BAD_RESPONSE",
    "BAD_CONFIG",
];

fuzz_target!(|data: &[u8]| {
    let Some(input) = text(data) else { return };
    let mut records = input.split(RECORD);
    let mut o = fields(records.next().unwrap_or_default());
    let options = ProviderOptions {
        client_id: o.text(),
        user_pool_id: o.text(),
        endpoint: o.text(),
        token_endpoint: o.text(),
        issuer: o.text(),
        rotation: o.num() % 2 == 1,
        verify_tokens: o.num() % 2 == 1,
        jwks_uri: o.text(),
    };
    let seed = o.num();
    let start = o.float();
    // The same session twice: called with the arguments as values (`call`), and as the shell
    // calls it, with the strings as one JSON array (`call_with_texts`).
    let mut direct = Dispatcher::new(&options, seed, start);
    let mut shell = Dispatcher::new(&options, seed, start);
    let working = direct.machine().is_some();

    for record in records.take(256) {
        let mut f = fields(record);
        let op = f.num() as u32;
        let now = f.float();
        let (n, m) = (f.float(), f.float());
        let strings = [f.opt(), f.opt(), f.opt(), f.opt()];
        let texts = match f.opt() {
            // The strings as `JSON.stringify` writes them.
            None if strings.iter().all(Option::is_none) => None,
            None => Some(js_array(&strings)),
            // Any text in their place.
            Some(raw) => Some(raw.to_owned()),
        };
        let via_shell = shell.call_with_texts(op, now, n, m, texts.as_deref());
        let Some([a, b, c, d]) = texts
            .as_deref()
            .map_or(Some([None, None, None, None]), read_texts)
        else {
            // Not an array of up to four strings or nulls: refused, nothing done.
            let reply = via_shell.expect("malformed texts answered nothing");
            check(&reply);
            assert_eq!(error_code(&reply).as_deref(), Some("BAD_CONFIG"), "{reply}");
            continue;
        };
        let raw = RawArgs {
            n,
            m,
            a: a.as_deref(),
            b: b.as_deref(),
            c: c.as_deref(),
            d: d.as_deref(),
        };
        let decoded = Call::decode(op, raw);
        let reply = direct.call(op, now, raw);
        assert_eq!(
            via_shell, reply,
            "the JSON array of strings changed the answer"
        );
        if let Some(reply) = &reply {
            check(reply);
        }
        match (&decoded, working) {
            (Err(e), _) => {
                let reply = reply.expect("a refused call answered nothing");
                assert_eq!(
                    error_code(&reply).as_deref(),
                    Some("BAD_CONFIG"),
                    "{e:?}: {reply}"
                );
            }
            (Ok(_), false) => {
                let reply = reply.expect("a session without options answered nothing");
                assert_eq!(error_code(&reply).as_deref(), Some("BAD_CONFIG"), "{reply}");
            }
            (Ok(_), true) => {}
        }
        // (A session without options answers every call, `PollAction` too, with its error.)
        for _ in 0..if working { 1_000 } else { 0 } {
            let poll = Op::PollAction as u32;
            let action = direct.call(poll, now, RawArgs::default());
            assert_eq!(shell.call_with_texts(poll, now, 0.0, 0.0, None), action);
            match action {
                Some(action) => check(&action),
                None => break,
            }
        }
    }
});

/// `[a, b, c, d]` as `JSON.stringify` writes it (`null` for absent).
fn js_array(strings: &[Option<&str>; 4]) -> String {
    let mut out = String::from("[");
    for (i, s) in strings.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match s {
            Some(s) => json::write_string(&mut out, s),
            None => out.push_str("null"),
        }
    }
    out.push(']');
    out
}

/// The strings of a texts argument as `call_with_texts` documents it: a JSON array (read as a
/// JavaScript shell wrote it) of at most four strings or `null`s; `None` for anything else.
fn read_texts(texts: &str) -> Option<[Option<String>; 4]> {
    let Ok(Value::Array(items)) = json::parse_from_js(texts) else {
        return None;
    };
    if items.len() > 4 {
        return None;
    }
    let mut out = [None, None, None, None];
    for (slot, item) in out.iter_mut().zip(items) {
        *slot = match item {
            Value::Null => None,
            Value::String(s) => Some(s),
            _ => return None,
        };
    }
    Some(out)
}

/// The reply is `[tag, ...fields]` for a tag of `SHAPES`.
fn check(reply: &str) {
    let value = json::parse(reply).unwrap_or_else(|e| panic!("reply is not JSON ({e:?}): {reply}"));
    let oracle: serde_json::Value =
        serde_json::from_str(reply).unwrap_or_else(|e| panic!("serde_json refuses ({e}): {reply}"));
    assert_eq!(to_serde(&value), oracle);
    let Value::Array(items) = &value else {
        panic!("reply is not an array: {reply}")
    };
    let tag = match items.first() {
        Some(Value::String(tag)) if tag.chars().count() == 1 => tag.chars().next().unwrap(),
        _ => panic!("reply does not start with a tag: {reply}"),
    };
    let Some((_, _, shape)) = SHAPES.iter().find(|(t, _, _)| *t == tag) else {
        panic!("unknown tag {tag:?}: {reply}")
    };
    assert_eq!(
        items.len(),
        1 + shape.len(),
        "not the shape {shape:?}: {reply}"
    );
    if let Some(error) = shape.iter().position(|f| *f == "error") {
        check_error(&items[1 + error], reply);
    }
}

fn check_error(error: &Value, reply: &str) {
    let Value::Array(parts) = error else {
        panic!("error is not an array: {reply}")
    };
    match &parts[..] {
        [Value::String(code), Value::String(_), retry_at, provider_code]
            if ERROR_CODES.contains(&code.as_str())
                && matches!(retry_at, Value::Null | Value::Number(_))
                && matches!(provider_code, Value::Null | Value::String(_)) => {}
        _ => panic!("malformed error: {reply}"),
    }
}

/// The code of an error reply.
fn error_code(reply: &str) -> Option<String> {
    let value = json::parse(reply).ok()?;
    let Value::Array(items) = value else {
        return None;
    };
    match &items[..] {
        [Value::String(tag), Value::Array(error)] if tag == "e" => {
            error.first()?.as_str().map(String::from)
        }
        _ => None,
    }
}
