//! Splitting, trimming and number reading for text delimited by ASCII bytes, and the one
//! decimal writer.
//!
//! Every delimiter the protocols use (`.` in a JWT, `:` and `#` in an AWS error name, `_` in a
//! pool id, `-` in a region, `,` in a tab message) is one ASCII byte, and an ASCII byte never
//! occurs inside a multi-byte UTF-8 sequence, so cutting a `str` at one always leaves whole
//! characters on both sides. Working on bytes keeps `str`'s char-pattern searchers and UTF-8
//! decoding loops out of the `.wasm` (about 2 KB for the handful of calls that used them).

use alloc::string::String;

/// `s` cut at its first `sep` byte, without it; `None` when there is none. `sep` must be ASCII.
pub fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == sep)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// What comes before the first `sep` byte of `s` (all of `s` when there is none).
pub fn before(s: &str, sep: u8) -> &str {
    split_once(s, sep).map_or(s, |(head, _)| head)
}

/// The pieces of `s` between `sep` bytes, as `str::split` gives them for an ASCII char: an empty
/// `s` is one empty piece, and a leading, trailing or doubled `sep` gives empty pieces.
pub fn split(s: &str, sep: u8) -> Split<'_> {
    Split { rest: Some(s), sep }
}

/// The iterator of [`split`].
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match split_once(s, self.sep) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

/// A non-empty run of ASCII digits as a number, saturating at `u64::MAX` (every caller bounds
/// what it reads afterwards, and "too large to count" is still large); `None` for anything
/// else, signs, decimals and spaces included. The engine's one number reader.
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
        Some(acc.saturating_mul(10).saturating_add(digit))
    })
}

/// Appends the decimal digits of `n`: what `n.to_string()` does, without pulling `core::fmt`
/// into the `.wasm`. The engine's one number writer.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        if let Some(slot) = digits.get_mut(len) {
            *slot = b'0' + (n % 10) as u8;
        }
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits.iter().take(len).rev() {
        out.push(char::from(*d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn split_gives_the_same_pieces_as_str_split() {
        for s in [
            "",
            ".",
            "a",
            "a.b",
            "a.b.c",
            ".a",
            "a.",
            "a..b",
            "é.ü.€",
            "..",
            "x.😀.y.",
        ] {
            assert_eq!(
                split(s, b'.').collect::<Vec<_>>(),
                s.split('.').collect::<Vec<_>>(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn random_text_splits_and_reads_as_str_does() {
        let pieces = [
            "",
            ".",
            ",",
            ":",
            "_",
            "-",
            "a",
            "7",
            "é",
            "€",
            "😀",
            " ",
            "\0",
            "99999999999999999999",
        ];
        let mut rng = crate::engine::rng::Rng::new(7);
        for _ in 0..5_000 {
            let len = rng.up_to(8);
            let s: alloc::string::String = (0..len)
                .map(|_| pieces[rng.up_to(pieces.len() as u64 - 1) as usize])
                .collect();
            for (sep, c) in [
                (b'.', '.'),
                (b',', ','),
                (b':', ':'),
                (b'_', '_'),
                (b'-', '-'),
                (0, '\0'),
            ] {
                assert_eq!(
                    split(&s, sep).collect::<Vec<_>>(),
                    s.split(c).collect::<Vec<_>>(),
                    "{s:?}"
                );
                assert_eq!(split_once(&s, sep), s.split_once(c), "{s:?}");
            }
            let expected = (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().unwrap_or(u64::MAX));
            assert_eq!(parse_u64(&s), expected, "{s:?}");
        }
    }

    #[test]
    fn push_u64_writes_what_to_string_writes() {
        for n in [0, 7, 10, 99, 1_700_000_000_000, u64::MAX] {
            let mut out = String::from("x");
            push_u64(&mut out, n);
            assert_eq!(out, alloc::format!("x{n}"));
            assert_eq!(parse_u64(&out[1..]), Some(n));
        }
    }

    #[test]
    fn split_once_cuts_at_the_first_separator_only() {
        assert_eq!(split_once("a:b:c", b':'), Some(("a", "b:c")));
        assert_eq!(split_once(":", b':'), Some(("", "")));
        assert_eq!(split_once("ä:ö", b':'), Some(("ä", "ö")));
        assert_eq!(split_once("abc", b':'), None);
        assert_eq!(before("Name:http://x", b':'), "Name");
        assert_eq!(before("Name", b':'), "Name");
    }

    #[test]
    fn parse_u64_reads_plain_digits_and_nothing_else() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), Some(u64::MAX));
        assert_eq!(parse_u64(&"9".repeat(400)), Some(u64::MAX));
        for bad in ["", "-1", "+1", " 1", "1 ", "1.5", "1e3", "١"] {
            assert_eq!(parse_u64(bad), None, "{bad:?}");
        }
    }
}
