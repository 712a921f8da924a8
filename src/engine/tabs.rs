//! The messages the tabs of one session send each other over a broadcast channel, and their
//! text form: a one-letter tag and a payload. `R` carries a new storage record, `B` a backoff
//! (`B` + kind letter + `failures,notBefore`), `O` a sign-out and `X` an expired session.
//! Storage events carry the record too; messages add what storage cannot say (the failure kind)
//! and arrive sooner. A `B` message's moment is the sender's reading of the local clock, decoded
//! as written; the retry books hold it to the policy's window when they adopt it
//! ([`super::retry::RetryBook::longest_hold`]), since the clock may have gone back since it was sent.

use alloc::string::String;

use super::classify::FailureKind;
use super::text::{self, push_u64};
use super::tokens::RetryState;

/// The messages tabs of one session send each other. Encoded as a one-letter tag and a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage<'a> {
    /// A new storage record (after a refresh or sign-in).
    Record(&'a str),
    /// Refreshes are backing off until `retry.not_before`.
    RetryLater {
        retry: RetryState,
        kind: FailureKind,
    },
    SignedOut,
    Expired,
}

impl<'a> TabMessage<'a> {
    /// The message as text, for a broadcast.
    pub fn encode(&self) -> String {
        match self {
            TabMessage::Record(record) => {
                let mut out = String::from("R");
                out.push_str(record);
                out
            }
            TabMessage::RetryLater { retry, kind } => {
                let mut out = String::from("B");
                out.push(kind_letter(*kind));
                push_u64(&mut out, u64::from(retry.failures));
                out.push(',');
                push_u64(&mut out, retry.not_before);
                out
            }
            TabMessage::SignedOut => String::from("O"),
            TabMessage::Expired => String::from("X"),
        }
    }

    /// Reads a broadcast; `None` for anything this code did not write.
    pub fn decode(message: &'a str) -> Option<TabMessage<'a>> {
        // The tags and kind letters are ASCII, so cutting one byte off leaves whole characters.
        let tag = *message.as_bytes().first()?;
        let rest = message.get(1..)?;
        match tag {
            b'R' => Some(TabMessage::Record(rest)),
            b'B' => {
                let kind = letter_kind(*rest.as_bytes().first()?)?;
                let (failures, not_before) = text::split_once(rest.get(1..)?, b',')?;
                Some(TabMessage::RetryLater {
                    retry: RetryState {
                        failures: u32::try_from(text::parse_u64(failures)?).ok()?,
                        not_before: text::parse_u64(not_before)?,
                    },
                    kind,
                })
            }
            b'O' if rest.is_empty() => Some(TabMessage::SignedOut),
            b'X' if rest.is_empty() => Some(TabMessage::Expired),
            _ => None,
        }
    }
}

const KIND_LETTERS: [(FailureKind, u8); 6] = [
    (FailureKind::Throttled, b't'),
    (FailureKind::ServerError, b's'),
    (FailureKind::Network, b'n'),
    (FailureKind::CredentialDead, b'd'),
    (FailureKind::CallerBug, b'c'),
    (FailureKind::BadResponse, b'b'),
];

fn kind_letter(kind: FailureKind) -> char {
    char::from(
        KIND_LETTERS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(b's', |(_, c)| *c),
    )
}

fn letter_kind(letter: u8) -> Option<FailureKind> {
    KIND_LETTERS
        .iter()
        .find(|(_, c)| *c == letter)
        .map(|(k, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_reads_back_as_written() {
        let retry = RetryState {
            not_before: 1_700_000_000_000,
            failures: 3,
        };
        for (kind, _) in KIND_LETTERS {
            let m = TabMessage::RetryLater { retry, kind };
            assert_eq!(TabMessage::decode(&m.encode()), Some(m));
        }
        for m in [
            TabMessage::Record(r#"{"v":1}"#),
            TabMessage::SignedOut,
            TabMessage::Expired,
        ] {
            assert_eq!(TabMessage::decode(&m.encode()), Some(m.clone()));
        }
        assert_eq!(
            TabMessage::RetryLater {
                retry,
                kind: FailureKind::Throttled
            }
            .encode(),
            "Bt3,1700000000000"
        );
    }

    #[test]
    fn anything_else_is_not_a_message() {
        for bad in [
            "",
            "Z",
            "Ox",
            "Xx",
            "B",
            "Bq1,2",
            "Bt",
            "Bt1",
            "Bt1,",
            "Bt,2",
            "Bt-1,2",
            "Bt4294967296,2",
            "Btx,2",
            "é",
        ] {
            assert_eq!(TabMessage::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_moment_is_decoded_as_written_however_far_off() {
        // Holding it to a window is the retry books' job, at the moment they adopt it.
        assert_eq!(
            TabMessage::decode("Bt1,18446744073709551615"),
            Some(TabMessage::RetryLater {
                retry: RetryState {
                    not_before: u64::MAX,
                    failures: 1
                },
                kind: FailureKind::Throttled
            })
        );
    }
}
