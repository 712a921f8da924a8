//! The byte script the `state_machine` target plays: a header, then steps, each an opcode byte
//! ([`Op`], modulo their number) and the operands that opcode reads. Operands past the end of
//! the input read as 0, so every input is a script. [`Writer`] writes scripts for the seeds.
//!
//! Header: provider (byte: 0 Cognito, 1 Cognito with rotation, 2 OAuth2 held to an issuer, 3
//! OAuth2 without), provider clock skew (i16, units of 5 s: about ±45 h), jitter seed (byte).

/// A step of the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// u16: the clock moves on this many ms.
    Tick,
    /// u8: the clock jumps this many hours ahead (a laptop waking up).
    Jump,
    /// u16: the clock goes back this many seconds (NTP, a user fixing the time).
    Back,
    /// u16: a caller asks for a token, waiting up to this many × 10 ms.
    Request,
    /// The driver wakes up early (`handle_timeout` at `now`).
    Wake,
    /// The timer fires: the clock moves to `poll_timeout()` (if later) and `handle_timeout`.
    Fire,
    /// u8: the page becomes visible (odd) or hidden (even).
    Visibility,
    /// id, record: the refresh lock is granted.
    Lock,
    /// id, mint: the provider answers with tokens ([`Mint`]).
    Tokens,
    /// id, status index, error-name index, retry-after index: the provider answers with an
    /// error body such as Cognito and OAuth2 servers send.
    Error,
    /// id, u16 status, text body, optional texts error type / retry-after / x-amz-retry-after.
    Raw,
    /// id: the request failed without an answer.
    Failure,
    /// u8 choice (+ operands): another tab broadcasts.
    Tab,
    /// record: storage changed (another tab, or the start).
    Storage,
    /// u8 provenance (odd: fresh), mint: the app hands in tokens.
    SetTokens,
    /// u8 choice: an API refused a token (0 the current one, 1 an older one, else text).
    Refused,
    /// The app signs out.
    SignOut,
    /// mint: a password sign-in's answer arrives (`sign_in_answer`).
    SignIn,
}

impl Op {
    pub const ALL: [Op; 18] = [
        Op::Tick,
        Op::Jump,
        Op::Back,
        Op::Request,
        Op::Wake,
        Op::Fire,
        Op::Visibility,
        Op::Lock,
        Op::Tokens,
        Op::Error,
        Op::Raw,
        Op::Failure,
        Op::Tab,
        Op::Storage,
        Op::SetTokens,
        Op::Refused,
        Op::SignOut,
        Op::SignIn,
    ];
}

/// Which refresh id a step names (a byte): 0 the one in flight (else the last one seen), 1
/// the last one seen, 2 one past it, otherwise the byte itself.
pub const ID_CURRENT: u8 = 0;
pub const ID_LAST: u8 = 1;
pub const ID_NEXT: u8 = 2;

/// Which storage record a step reads (a byte, then its operands): 0 nothing, 1 what storage
/// holds, 2 a record another tab wrote ([`Mint`], u16 failures, u32 not-before offset s), 3 text,
/// 4 what storage holds with its `expiresAt` pushed a year ahead (tampering), 5 what storage holds
/// cut short (u16 length).
pub const RECORD_NONE: u8 = 0;
pub const RECORD_STORED: u8 = 1;
pub const RECORD_MINTED: u8 = 2;
pub const RECORD_TEXT: u8 = 3;
pub const RECORD_TAMPERED: u8 = 4;
pub const RECORD_TRUNCATED: u8 = 5;

/// Broadcasts ([`Op::Tab`]): 0 `R` + a record (record operands), 1 `B` + kind byte, u16
/// failures, u32 not-before offset s, 2 `O`, 3 `X`, otherwise text.
pub const TAB_RECORD: u8 = 0;
pub const TAB_BACKOFF: u8 = 1;
pub const TAB_SIGNED_OUT: u8 = 2;
pub const TAB_EXPIRED: u8 = 3;
pub const TAB_TEXT: u8 = 4;

/// Tokens minted for an answer, from 7 bytes: lifetime index ([`LIFETIMES`]), `iat` offset from
/// the provider's clock (i8, minutes), `expires_in` (0 absent, 1 the lifetime, 2 half of it, 3
/// a day, else 0), refresh token (0 none, 1 a new one, 2 `""`, 3 the one sent), ID token (0 none,
/// 1 yes, 2 for another client, 3 a copy of the access token), access token (0 right, 1 for
/// another client, 2 an ID token, 3 opaque text, 4 from another issuer), body shape (0 the
/// provider's own, 1 Cognito's, 2 OAuth2's, 3 a Cognito challenge).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mint {
    pub lifetime: u8,
    pub iat_minutes: i8,
    pub expires_in: u8,
    pub refresh: u8,
    pub id: u8,
    pub access: u8,
    pub shape: u8,
}

/// Token lifetimes, seconds.
pub const LIFETIMES: [u64; 8] = [3_600, 300, 60, 31, 30, 1, 0, 86_400];

/// Error answers ([`Op::Error`]): status, body, the `x-amzn-ErrorType` header.
pub const STATUSES: [u16; 8] = [400, 429, 500, 502, 503, 401, 403, 200];
pub const ERROR_NAMES: [&str; 24] = [
    "TooManyRequestsException",
    "LimitExceededException",
    "ThrottlingException",
    "InternalErrorException",
    "ServiceUnavailable",
    "NotAuthorizedException",
    "RefreshTokenReuseException",
    "UserNotFoundException",
    "PasswordResetRequiredException",
    "UserNotConfirmedException",
    "InvalidParameterException",
    "ResourceNotFoundException",
    "ForbiddenException",
    "invalid_grant",
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "temporarily_unavailable",
    "server_error",
    "slow_down",
    "SomethingNew",
    "",
];
pub const RETRY_AFTERS: [Option<&str>; 6] = [
    None,
    Some("3"),
    Some("86400"),
    Some("Wed, 21 Oct 2015 07:28:00 GMT"),
    Some("Fri, 31 Dec 9999 23:59:59 GMT"),
    Some("soon"),
];

/// Reads a script; past the end every read is 0.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }

    pub fn u8(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | u16::from(self.u8()) << 8
    }

    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | u32::from(self.u16()) << 16
    }

    pub fn op(&mut self) -> Op {
        Op::ALL[usize::from(self.u8()) % Op::ALL.len()]
    }

    /// u16 length, then that many bytes as text (invalid UTF-8 replaced, as a browser's
    /// `TextDecoder` does).
    pub fn text(&mut self) -> String {
        let n = usize::from(self.u16());
        String::from_utf8_lossy(self.bytes(n)).into_owned()
    }

    /// u8 length (255: absent), then that many bytes as text.
    pub fn short_text(&mut self) -> Option<String> {
        match self.u8() {
            255 => None,
            n => Some(String::from_utf8_lossy(self.bytes(usize::from(n))).into_owned()),
        }
    }

    pub fn mint(&mut self) -> Mint {
        Mint {
            lifetime: self.u8(),
            iat_minutes: self.u8() as i8,
            expires_in: self.u8(),
            refresh: self.u8(),
            id: self.u8(),
            access: self.u8(),
            shape: self.u8(),
        }
    }
}

/// Writes a script (the seeds).
#[derive(Default)]
pub struct Writer {
    pub out: Vec<u8>,
}

impl Writer {
    pub fn new(provider: u8, skew_5s: i16, seed: u8) -> Writer {
        let mut w = Writer::default();
        w.u8(provider).u16(skew_5s as u16).u8(seed);
        w
    }

    pub fn u8(&mut self, b: u8) -> &mut Writer {
        self.out.push(b);
        self
    }

    pub fn u16(&mut self, n: u16) -> &mut Writer {
        self.out.extend_from_slice(&n.to_le_bytes());
        self
    }

    pub fn u32(&mut self, n: u32) -> &mut Writer {
        self.out.extend_from_slice(&n.to_le_bytes());
        self
    }

    pub fn op(&mut self, op: Op) -> &mut Writer {
        self.u8(op as u8)
    }

    pub fn text(&mut self, s: &str) -> &mut Writer {
        let n = s.len().min(usize::from(u16::MAX));
        self.u16(n as u16);
        self.out.extend_from_slice(&s.as_bytes()[..n]);
        self
    }

    pub fn short_text(&mut self, s: Option<&str>) -> &mut Writer {
        match s {
            None => self.u8(255),
            Some(s) => {
                let n = s.len().min(254);
                self.u8(n as u8);
                self.out.extend_from_slice(&s.as_bytes()[..n]);
                self
            }
        }
    }

    pub fn mint(&mut self, m: Mint) -> &mut Writer {
        self.u8(m.lifetime)
            .u8(m.iat_minutes as u8)
            .u8(m.expires_in)
            .u8(m.refresh)
            .u8(m.id)
            .u8(m.access)
            .u8(m.shape)
    }
}
