//! Base64url (RFC 4648 §5): decoding the parts of a JWT, encoding PKCE values.
//!
//! Hand-written so the core stays dependency-free and every failure is a typed [`Base64Error`].
//! The alphabet is `A–Z a–z 0–9 - _`; the standard alphabet's `+` and `/`, white space and any
//! other byte are refused. `=` padding is optional, but when present it must sit at the end and
//! have exactly the length the data needs.
//!
//! Choice: the unused low bits of the last symbol (2 or 4 bits) are not required to be zero, so
//! `Zh` decodes like the canonical `Zg`. Browsers' `atob` and most JWT libraries do the same; a
//! signature check, not this decoder, is what makes a token trustworthy.

use alloc::{string::String, vec::Vec};
use core::fmt;

/// Why a text is not base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base64Error {
    /// A byte outside the URL-safe alphabet (including `+`, `/` and white space) at this byte
    /// offset of the input.
    InvalidByte { offset: usize },
    /// A length no encoding produces: one symbol left over after the last full group of four.
    InvalidLength,
    /// `=` not at the end, or the wrong number of `=` for the data before it.
    BadPadding,
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Base64Error::InvalidByte { .. } => "invalid base64url character",
            Base64Error::InvalidLength => "impossible base64url length",
            Base64Error::BadPadding => "bad base64url padding",
        })
    }
}

impl core::error::Error for Base64Error {}

/// Decodes base64url text, padded or not.
pub fn decode(input: &str) -> Result<Vec<u8>, Base64Error> {
    let bytes = input.as_bytes();
    let data = match bytes.iter().position(|&b| b == b'=') {
        None => bytes,
        Some(at) => {
            // `at` came from `position`, so this always splits; `split_at` would still link its
            // panic path into the wasm.
            let (data, pad) = bytes.split_at_checked(at).unwrap_or((bytes, &[]));
            let needed = match at % 4 {
                2 => 2,
                3 => 1,
                _ => 0,
            };
            if pad.len() != needed || pad.iter().any(|&b| b != b'=') {
                return Err(Base64Error::BadPadding);
            }
            data
        }
    };
    if data.len() % 4 == 1 {
        return Err(Base64Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (offset, &b) in data.iter().enumerate() {
        let v = value(b).ok_or(Base64Error::InvalidByte { offset })?;
        acc = ((acc << 6) | u32::from(v)) & 0x3fff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// Encodes `bytes` as unpadded base64url (the form JWTs and PKCE use).
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let (a, b, c) = match *chunk {
            [a, b, c] => (a, b, c),
            [a, b] => (a, b, 0),
            [a] => (a, 0, 0),
            _ => (0, 0, 0),
        };
        let group = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
        for i in 0..=chunk.len() {
            out.push(symbol((group >> (18 - 6 * i)) as u8));
        }
    }
    out
}

/// The 6-bit value of an alphabet byte.
fn value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// The alphabet symbol for the low six bits of `v`.
fn symbol(v: u8) -> char {
    let v = v & 63;
    char::from(match v {
        0..=25 => b'A' + v,
        26..=51 => b'a' + (v - 26),
        52..=61 => b'0' + (v - 52),
        62 => b'-',
        _ => b'_',
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::Rng;

    const RFC_4648: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn encodes_the_rfc_4648_vectors_without_padding() {
        for (plain, encoded) in RFC_4648 {
            assert_eq!(encode(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn decodes_the_rfc_4648_vectors_with_or_without_padding() {
        for (plain, encoded) in RFC_4648 {
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
            let padded = format!("{encoded}{}", "=".repeat((4 - encoded.len() % 4) % 4));
            assert_eq!(decode(&padded).unwrap(), plain.as_bytes(), "{padded}");
        }
    }

    #[test]
    fn uses_dash_and_underscore_where_standard_base64_uses_plus_and_slash() {
        // Standard base64 of these bytes is "+/8" and "+/+/".
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode("-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
    }

    #[test]
    fn refuses_the_standard_alphabet() {
        assert_eq!(decode("+_8"), Err(Base64Error::InvalidByte { offset: 0 }));
        assert_eq!(decode("-/8="), Err(Base64Error::InvalidByte { offset: 1 }));
    }

    #[test]
    fn refuses_white_space_and_foreign_bytes_with_their_offset() {
        assert_eq!(
            decode("Zm9v Yg"),
            Err(Base64Error::InvalidByte { offset: 4 })
        );
        assert_eq!(
            decode("Zm9v\nYg"),
            Err(Base64Error::InvalidByte { offset: 4 })
        );
        assert_eq!(decode(" Zm8"), Err(Base64Error::InvalidByte { offset: 0 }));
        assert_eq!(
            decode("Zm9vYg\t"),
            Err(Base64Error::InvalidByte { offset: 6 })
        );
        assert_eq!(decode("Zm.v"), Err(Base64Error::InvalidByte { offset: 2 }));
        assert_eq!(decode("Zmé"), Err(Base64Error::InvalidByte { offset: 2 }));
        assert_eq!(decode("Zm\0v"), Err(Base64Error::InvalidByte { offset: 2 }));
    }

    #[test]
    fn refuses_lengths_no_encoder_produces() {
        for bad in ["Z", "Zm9vY", "Zm9vYmFyZ", "Z===", "Zm9vY==="] {
            let err = decode(bad).unwrap_err();
            assert!(
                matches!(err, Base64Error::InvalidLength | Base64Error::BadPadding),
                "{bad}: {err:?}"
            );
        }
        assert_eq!(decode("Z"), Err(Base64Error::InvalidLength));
        assert_eq!(decode("Zm9vY"), Err(Base64Error::InvalidLength));
    }

    #[test]
    fn refuses_padding_that_is_misplaced_or_miscounted() {
        for bad in [
            "=", "==", "====", "Zg=", "Zg===", "Zm8==", "Zm9v=", "Zm9v====", "Zg==Zg==", "Z=g=",
            "Zg=x", "Zm8=\n",
        ] {
            assert_eq!(decode(bad), Err(Base64Error::BadPadding), "{bad:?}");
        }
    }

    #[test]
    fn tolerates_non_zero_unused_bits_in_the_last_symbol() {
        assert_eq!(decode("Zh").unwrap(), b"f");
        assert_eq!(decode("Zm9").unwrap(), b"fo");
        assert_eq!(decode("Zm_").unwrap(), decode("Zm8").unwrap());
    }

    #[test]
    fn random_byte_strings_survive_a_round_trip() {
        let mut rng = Rng::new(0x5eed);
        for _ in 0..2_000 {
            let len = rng.up_to(70) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.up_to(255) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(text.len(), (len * 4).div_ceil(3));
            assert!(text.bytes().all(|b| value(b).is_some()), "{text}");
            assert_eq!(decode(&text).unwrap(), bytes, "{text}");
        }
    }

    #[test]
    fn random_text_never_panics_and_decodes_to_the_expected_length() {
        const PALETTE: &[u8] = b"AZaz09-_=+/ .\n\0\xc3";
        let mut rng = Rng::new(42);
        for _ in 0..5_000 {
            let len = rng.up_to(24) as usize;
            let raw: Vec<u8> = (0..len)
                .map(|_| {
                    let i = rng.up_to(PALETTE.len() as u64 - 1) as usize;
                    PALETTE[i]
                })
                .collect();
            let text = String::from_utf8_lossy(&raw);
            if let Ok(bytes) = decode(&text) {
                let data = text.trim_end_matches('=').len();
                assert_eq!(bytes.len(), data * 3 / 4, "{text:?}");
            }
        }
    }
}
