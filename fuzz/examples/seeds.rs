//! Writes the seed corpora, `fuzz/corpus/<target>/<name>`: real-shaped inputs in each target's
//! format (see `src/lib.rs`). Run by `scripts/fuzz.sh seeds`; the output is committed.
//!
//! Usage: `cargo run --manifest-path fuzz/Cargo.toml --example seeds -- fuzz/corpus`

use std::fs;
use std::path::PathBuf;

use cognito_session::engine::base64url;
use cognito_session::engine::protocol::TokenGrant;
use cognito_session::engine::redirect::Pending;
use cognito_session::engine::tabs::TabMessage;
use cognito_session::engine::tokens::{Provenance, RetryState, TokenSet};
use cognito_session::sim::mint::Issuer;
use cognito_session::wire::Op as WireOp;
use cognito_session_fuzz::script::{
    Mint, Op, Writer, ID_CURRENT, ID_NEXT, RECORD_MINTED, RECORD_NONE, RECORD_STORED,
    RECORD_TAMPERED, RECORD_TEXT, RECORD_TRUNCATED, TAB_BACKOFF, TAB_EXPIRED, TAB_RECORD,
    TAB_SIGNED_OUT,
};
use cognito_session_fuzz::{all_rules, issuer, ABSENT, FIELD, RECORD, T0};

const S0: u64 = T0 / 1_000;

struct Corpus {
    root: PathBuf,
    target: &'static str,
}

impl Corpus {
    fn put(&self, name: &str, data: impl AsRef<[u8]>) {
        let dir = self.root.join(self.target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), data).unwrap();
    }
}

/// Fields joined by the unit separator.
fn join(parts: &[&str]) -> String {
    parts.join(&FIELD.to_string())
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let t = |target| Corpus {
        root: root.clone(),
        target,
    };
    let sim = issuer();
    json(&t("json"), &sim);
    base64url(&t("base64url"), &sim);
    jwt(&t("jwt"), &sim);
    token_response(&t("token_response"), &sim);
    error_body(&t("error_body"));
    storage_record(&t("storage_record"), &sim);
    sign_in_record(&t("sign_in_record"));
    redirect_return(&t("redirect_return"));
    tab_message(&t("tab_message"), &sim);
    wire(&t("wire"), &sim);
    state_machine(&t("state_machine"));
    println!("seeds written under {}", root.display());
}

fn cognito_sign_in(sim: &Issuer) -> String {
    sim.cognito_answer("alice", S0, 3_600, 1, Some("rt-1"))
}

fn oauth_answer(sim: &Issuer) -> String {
    format!(
        r#"{{"access_token":"{}","id_token":"{}","refresh_token":"rt-2","token_type":"Bearer","expires_in":3600,"scope":"openid email"}}"#,
        sim.access_token("alice", S0, S0 + 3_600, 2),
        sim.id_token("alice", S0, S0 + 3_600, 2)
    )
}

const CHALLENGE: &str = r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","ChallengeParameters":{"USER_ID_FOR_SRP":"alice","requiredAttributes":"[]"},"Session":"AYABeEXAMPLE"}"#;
const THROTTLED: &str = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
const REVOKED: &str =
    r#"{"__type":"NotAuthorizedException","message":"Refresh Token has been revoked"}"#;
const HTML: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";

fn json(c: &Corpus, sim: &Issuer) {
    c.put("cognito-initiate-auth", cognito_sign_in(sim));
    c.put(
        "cognito-refresh",
        sim.cognito_answer("alice", S0, 3_600, 3, None),
    );
    c.put("oauth2-token", oauth_answer(sim));
    c.put("cognito-challenge", CHALLENGE);
    c.put("cognito-error", THROTTLED);
    c.put(
        "oauth2-error",
        r#"{"error":"invalid_grant","error_description":"Refresh token is expired"}"#,
    );
    c.put("jwt-claims", r#"{"sub":"alice","iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Sim","iat":1700000000,"exp":1700003600.5,"aud":["simclient","api"],"cognito:groups":["admin"],"email_verified":true,"nonce":null}"#);
    c.put(
        "numbers",
        "[0,-0,1.5e3,-2E-7,18446744073709551615,18446744073709551616,-9223372036854775808,1e400]",
    );
    c.put(
        "escapes",
        r#"{"s":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","dup":1,"dup":{"dup":[]}}"#,
    );
    c.put("nested", format!("{}{}", "[".repeat(64), "]".repeat(64)));
    c.put("too-deep", format!("{}{}", "[".repeat(65), "]".repeat(65)));
    c.put("spaces", " \t\r\n{ \"a\" : [ true , false , null ] } \n");
}

fn base64url(c: &Corpus, sim: &Issuer) {
    let token = sim.access_token("alice", S0, S0 + 3_600, 1);
    for (i, part) in token.split('.').enumerate() {
        c.put(&format!("jwt-part-{i}"), part);
    }
    c.put("rfc4648", "Zm9vYmFy");
    c.put("padded", "Zm9vYg==");
    c.put("trailing-bits", "Zh");
    c.put(
        "pkce-verifier",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    );
    c.put("standard-alphabet", "a+b/c=");
}

/// A token from `claims` JSON with the simulations' header.
fn token_with(claims: &str) -> String {
    format!(
        "{}.{}.c2ln",
        base64url::encode(br#"{"kid":"sim","alg":"RS256"}"#),
        base64url::encode(claims.as_bytes())
    )
}

fn jwt(c: &Corpus, sim: &Issuer) {
    c.put("access", sim.access_token("alice", S0, S0 + 3_600, 1));
    c.put("id", sim.id_token("alice", S0, S0 + 3_600, 1));
    c.put(
        "expired",
        sim.access_token("alice", S0 - 7_200, S0 - 3_600, 2),
    );
    c.put(
        "alg-none",
        format!(
            "{}.{}.c2ln",
            base64url::encode(br#"{"alg":"NoNe"}"#),
            base64url::encode(br#"{"exp":1700003600}"#)
        ),
    );
    c.put("aud-array-nonce", token_with(r#"{"sub":"u","aud":["simclient","api"],"exp":1700003600,"iat":1700000000,"nonce":"n0nce","iss":"https://auth.example.com"}"#));
    c.put(
        "wrong-types",
        token_with(r#"{"exp":"1700003600","token_use":"refresh","aud":7}"#),
    );
    c.put("fraction-exp", token_with(r#"{"exp":1700003600.75,"client_id":"simclient","token_use":"access","username":"bob"}"#));
    c.put("not-a-token", "Bearer eyJhbGciOiJSUzI1NiJ9");
}

fn token_response(c: &Corpus, sim: &Issuer) {
    let put = |name: &str, status: &str, body: &str, error_type: &str, retry: &str, amz: &str| {
        c.put(name, join(&[status, body, error_type, retry, amz]));
    };
    put(
        "cognito-sign-in",
        "200",
        &cognito_sign_in(sim),
        ABSENT,
        ABSENT,
        ABSENT,
    );
    put(
        "cognito-refresh",
        "200",
        &sim.cognito_answer("alice", S0, 3_600, 3, None),
        ABSENT,
        ABSENT,
        ABSENT,
    );
    put(
        "cognito-rotation",
        "200",
        &sim.cognito_answer("alice", S0, 300, 4, Some("rt-rotated")),
        ABSENT,
        ABSENT,
        ABSENT,
    );
    put("oauth2", "200", &oauth_answer(sim), ABSENT, ABSENT, ABSENT);
    put(
        "oauth2-opaque-string-expiry",
        "200",
        r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"bearer","expires_in":"3600","refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA"}"#,
        ABSENT,
        ABSENT,
        ABSENT,
    );
    put("challenge", "200", CHALLENGE, ABSENT, ABSENT, ABSENT);
    put(
        "throttled",
        "400",
        THROTTLED,
        "TooManyRequestsException:http://internal.amazon.com/coral/com.amazonaws.cognito/",
        ABSENT,
        ABSENT,
    );
    put(
        "revoked",
        "400",
        REVOKED,
        "NotAuthorizedException:",
        ABSENT,
        ABSENT,
    );
    put(
        "invalid-grant",
        "400",
        r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        ABSENT,
        ABSENT,
        ABSENT,
    );
    put("429-retry-after", "429", "", ABSENT, "3", ABSENT);
    put("bad-gateway", "502", HTML, ABSENT, ABSENT, ABSENT);
    put("html-ok", "200", HTML, ABSENT, ABSENT, ABSENT);
    put(
        "truncated",
        "200",
        r#"{"AuthenticationResult":{"AccessToken":"ey"#,
        ABSENT,
        ABSENT,
        ABSENT,
    );
    put(
        "wrong-types",
        "200",
        r#"{"AuthenticationResult":{"AccessToken":12345,"ExpiresIn":"soon"}}"#,
        ABSENT,
        ABSENT,
        ABSENT,
    );
    c.put(
        "too-large",
        join(&["200", "{}", ABSENT, ABSENT, ABSENT, "66000"]),
    );
}

fn error_body(c: &Corpus) {
    let cognito = [
        "TooManyRequestsException",
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "SlowDown",
        "InternalErrorException",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "NotAuthorizedException",
        "RefreshTokenReuseException",
        "UserNotFoundException",
        "PasswordResetRequiredException",
        "UserNotConfirmedException",
        "InvalidParameterException",
        "ResourceNotFoundException",
        "ForbiddenException",
    ];
    for name in cognito {
        let body = format!(
            r#"{{"__type":"com.amazonaws.cognito.identity.idp.model#{name}","message":"{name} happened"}}"#
        );
        c.put(
            &format!("cognito-{name}"),
            join(&["400", &body, ABSENT, ABSENT, ABSENT]),
        );
    }
    for name in [
        "invalid_grant",
        "invalid_request",
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "temporarily_unavailable",
        "server_error",
        "slow_down",
    ] {
        let body = format!(r#"{{"error":" {name} ","error_description":"{name}"}}"#);
        c.put(
            &format!("oauth2-{name}"),
            join(&["400", &body, ABSENT, ABSENT, ABSENT]),
        );
    }
    c.put(
        "header-only",
        join(&[
            "400",
            "",
            "ThrottlingException:http://internal.amazon.com/",
            ABSENT,
            ABSENT,
        ]),
    );
    c.put(
        "retry-after-date",
        join(&["503", HTML, ABSENT, "Wed, 21 Oct 2015 07:28:00 GMT", ABSENT]),
    );
    c.put(
        "retry-after-seconds",
        join(&["429", "", ABSENT, " 120 ", ABSENT]),
    );
    c.put(
        "amz-retry-after",
        join(&["400", THROTTLED, ABSENT, "120", " 2500 "]),
    );
    c.put(
        "huge-retry-after",
        join(&["503", "", ABSENT, "99999999999999999999999", ABSENT]),
    );
}

/// Tokens for `sim`'s client, issued at `S0`, as a session stores them.
fn stored(sim: &Issuer, id: bool, retry: RetryState) -> String {
    let grant = TokenGrant {
        access_token: sim.access_token("alice", S0, S0 + 3_600, 1),
        id_token: id.then(|| sim.id_token("alice", S0, S0 + 3_600, 1)),
        refresh_token: Some("rt-1".into()),
        expires_in: Some(3_600),
    };
    let rules = &all_rules()[1];
    let tokens = TokenSet::from_grant(T0, grant, None, Provenance::Fresh, rules).unwrap();
    tokens.to_stored(retry).to_json()
}

fn storage_record(c: &Corpus, sim: &Issuer) {
    c.put("cognito", stored(sim, true, RetryState::default()));
    c.put("access-only", stored(sim, false, RetryState::default()));
    c.put(
        "backing-off",
        stored(
            sim,
            true,
            RetryState {
                not_before: T0 + 30_000,
                failures: 3,
            },
        ),
    );
    let tampered = stored(sim, true, RetryState::default())
        .replace("\"expiresAt\":1700003600000", "\"expiresAt\":1900000000000");
    c.put("tampered-expiry", tampered);
    c.put(
        "oauth2-opaque",
        r#"{"v":1,"access":"2YotnFZFEjr1zCsicMWpAA","refresh":"tGzv3JOkF0XG5Qx2TlKWIA","expiresAt":1700003600000,"lifetime":3600000,"notBefore":0,"failures":0}"#,
    );
    c.put(
        "version-2",
        r#"{"v":2,"access":"x","expiresAt":1,"lifetime":1,"notBefore":0,"failures":0}"#,
    );
    c.put("failures-overflow", r#"{"v":1,"access":"a.b.c","expiresAt":1,"lifetime":1,"notBefore":0,"failures":4294967296}"#);
}

fn pending() -> Pending {
    Pending {
        state: "st4te-0123456789abcdefXYZ_-012345678901234".into(),
        verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        nonce: "n0nce-0123456789abcdefXYZ_-01234567890123".into(),
        redirect_uri: "https://app.example.com/callback?from=login".into(),
        scope: "openid email profile".into(),
    }
}

fn sign_in_record(c: &Corpus) {
    let p = pending();
    c.put("pkce2", p.encode());
    c.put(
        "no-openid",
        Pending {
            scope: "email".into(),
            ..pending()
        }
        .encode(),
    );
    c.put(
        "pkce1",
        "pkce1\nstate\nverifier\nnonce\nhttps://app.example.com/",
    );
    c.put("trailing-field", format!("{}\nextra", p.encode()));
    c.put(
        "empty-field",
        "pkce2\nstate\n\nnonce\nhttps://app.example.com/\nopenid",
    );
    c.put(
        "fields",
        join(&[&p.state, &p.verifier, &p.nonce, &p.redirect_uri, &p.scope]),
    );
}

fn redirect_return(c: &Corpus) {
    let p = pending();
    let record = p.encode();
    let iss = "https://auth.example.com";
    let put = |name: &str, fields: &[&str]| c.put(name, join(fields));
    let (code, state) = ("SplxlOBeZQQYbYS6WxSbIA", p.state.as_str());
    put(
        "good",
        &[code, state, ABSENT, ABSENT, ABSENT, &record, ABSENT, "1"],
    );
    put(
        "wrong-nonce",
        &[code, state, ABSENT, ABSENT, ABSENT, &record, ABSENT, "0"],
    );
    put(
        "iss-matches",
        &[code, state, ABSENT, ABSENT, iss, &record, iss, "1"],
    );
    put(
        "iss-mismatch",
        &[
            code,
            state,
            ABSENT,
            ABSENT,
            "https://evil.example",
            &record,
            iss,
            "1",
        ],
    );
    put(
        "state-mismatch",
        &[code, "forged", ABSENT, ABSENT, ABSENT, &record, ABSENT, "1"],
    );
    put(
        "access-denied",
        &[
            ABSENT,
            state,
            "access_denied",
            "The user denied the request",
            ABSENT,
            &record,
            ABSENT,
            "1",
        ],
    );
    put(
        "server-error",
        &[
            ABSENT,
            state,
            "temporarily_unavailable",
            ABSENT,
            ABSENT,
            &record,
            ABSENT,
            "1",
        ],
    );
    put(
        "no-record",
        &[code, state, ABSENT, ABSENT, ABSENT, ABSENT, ABSENT, "1"],
    );
    put(
        "no-code",
        &[ABSENT, state, ABSENT, ABSENT, ABSENT, &record, ABSENT, "1"],
    );
    put(
        "empty-code",
        &["", state, ABSENT, ABSENT, ABSENT, &record, ABSENT, "1"],
    );
}

fn tab_message(c: &Corpus, sim: &Issuer) {
    c.put(
        "record",
        TabMessage::Record(&stored(sim, true, RetryState::default())).encode(),
    );
    c.put("backoff", "Bt3,1700000060000");
    c.put("backoff-dead", "Bd0,0");
    c.put("signed-out", "O");
    c.put("expired", "X");
    c.put("saturating", "Bs99999999999,99999999999999999999999");
    c.put("fields", join(&["4", "7", "1700000090000"]));
}

/// One wire call: `op, now, n, m, a, b, c, d` (absent strings: [`ABSENT`]).
fn call(op: WireOp, now: u64, n: &str, m: &str, strings: [&str; 4]) -> String {
    let (op, now) = ((op as u32).to_string(), now.to_string());
    let mut parts = vec![op.as_str(), now.as_str(), n, m];
    parts.extend(strings);
    join(&parts)
}

fn wire(c: &Corpus, sim: &Issuer) {
    use WireOp::*;
    let t0 = T0.to_string();
    let cognito_options = join(&[
        "simclient",
        "us-east-1_Sim",
        ABSENT,
        ABSENT,
        ABSENT,
        "0",
        "7",
        &t0,
    ]);
    let oauth_options = join(&[
        "simclient",
        ABSENT,
        ABSENT,
        "https://auth.example.com/oauth2/token",
        &sim.iss,
        "0",
        "7",
        &t0,
    ]);
    let program = |options: &str, calls: &[String]| {
        let mut out = options.to_owned();
        for call in calls {
            out.push(RECORD);
            out.push_str(call);
        }
        out
    };
    let x = ABSENT;
    let access = sim.access_token("alice", S0, S0 + 3_600, 1);
    let id = sim.id_token("alice", S0, S0 + 3_600, 1);
    let later = T0 + 3_590_000;
    let refreshed = sim.cognito_answer("alice", later / 1_000, 3_600, 2, None);
    // Tokens handed in, a caller, then (as the hour ends) a caller that waits for the refresh:
    // waiter 1, refresh 2.
    c.put(
        "refresh-cycle",
        program(
            &cognito_options,
            &[
                call(SetTokens, T0, "3600", "0", [&access, &id, "rt-1", x]),
                call(RequestToken, T0 + 1_000, "30000", "0", [x; 4]),
                call(Token, T0 + 1_000, "0", "0", [x; 4]),
                call(RequestToken, later, "30000", "0", [x; 4]),
                call(RefreshLock, later, "2", "0", [x; 4]),
                call(
                    RefreshAnswer,
                    later + 200,
                    "2",
                    "200",
                    [&refreshed, x, x, x],
                ),
                call(Snapshot, later + 200, "0", "0", [x; 4]),
                call(PollTimeout, later + 200, "0", "0", [x; 4]),
                call(Token, later + 200, "0", "0", [x; 4]),
            ],
        ),
    );
    c.put(
        "throttled-then-revoked",
        program(
            &cognito_options,
            &[
                call(SetTokens, T0, "3600", "0", [&access, x, "rt-1", x]),
                call(RequestToken, later, "60000", "0", [x; 4]),
                call(RefreshLock, later, "2", "0", [x; 4]),
                call(
                    RefreshAnswer,
                    later + 100,
                    "2",
                    "400",
                    [THROTTLED, "TooManyRequestsException:", "3", x],
                ),
                call(Timeout, later + 20_000, "0", "0", [x; 4]),
                call(RefreshLock, later + 20_000, "3", "0", [x; 4]),
                call(
                    RefreshAnswer,
                    later + 20_100,
                    "3",
                    "400",
                    [REVOKED, "NotAuthorizedException:", x, x],
                ),
                call(RequestToken, later + 20_200, "0", "0", [x; 4]),
            ],
        ),
    );
    c.put(
        "tabs-and-storage",
        program(
            &cognito_options,
            &[
                call(
                    Storage,
                    T0,
                    "0",
                    "0",
                    [&stored(sim, true, RetryState::default()), x, x, x],
                ),
                call(
                    TabMessage,
                    T0 + 10,
                    "0",
                    "0",
                    ["Bt3,1700000060000", x, x, x],
                ),
                call(Visibility, T0 + 20, "0", "0", [x; 4]),
                call(TokenRefused, T0 + 40_000, "0", "0", [&access, x, x, x]),
                call(TabMessage, T0 + 40_010, "0", "0", ["X", x, x, x]),
                call(SignOut, T0 + 40_020, "0", "0", [x; 4]),
            ],
        ),
    );
    c.put(
        "password-sign-in",
        program(
            &cognito_options,
            &[
                call(
                    SignInRequest,
                    T0,
                    "0",
                    "0",
                    ["alice", "correct horse", x, x],
                ),
                call(
                    SignInAnswer,
                    T0 + 300,
                    "0",
                    "200",
                    [&cognito_sign_in(sim), x, x, x],
                ),
                call(SignInAnswer, T0 + 400, "0", "200", [CHALLENGE, x, x, x]),
                call(
                    SignInAnswer,
                    T0 + 500,
                    "0",
                    "0",
                    ["Failed to fetch", x, x, x],
                ),
                call(Token, T0 + 600, "0", "0", [x; 4]),
            ],
        ),
    );
    let p = pending();
    let secrets = format!(
        "{}\0{}\0{}\0{}",
        p.state, p.verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", p.nonce
    );
    c.put(
        "redirect-sign-in",
        program(
            &oauth_options,
            &[
                call(
                    Authorize,
                    T0,
                    "0",
                    "0",
                    [
                        "https://auth.example.com/authorize?prompt=login",
                        &p.redirect_uri,
                        &p.scope,
                        &secrets,
                    ],
                ),
                call(
                    RedirectReturn,
                    T0 + 5_000,
                    "0",
                    "0",
                    [
                        "SplxlOBeZQQYbYS6WxSbIA",
                        &p.state,
                        &format!("\0\0{}", sim.iss),
                        &p.encode(),
                    ],
                ),
                call(
                    SignInAnswer,
                    T0 + 5_300,
                    "0",
                    "200",
                    [&oauth_answer(sim), x, x, x],
                ),
                call(
                    RedirectReturn,
                    T0 + 6_000,
                    "0",
                    "0",
                    [x, "forged", "access_denied\0denied\0", &p.encode()],
                ),
            ],
        ),
    );
    let (request, refresh_answer, set_tokens) = (
        (RequestToken as u32).to_string(),
        (RefreshAnswer as u32).to_string(),
        (SetTokens as u32).to_string(),
    );
    c.put(
        "odd-numbers",
        program(
            &cognito_options,
            &[
                join(&[&request, "NaN", "inf", "0"]),
                join(&[&(Visibility as u32).to_string(), "-1", "2", "0"]),
                join(&[&request, "1e400", "-0", "0"]),
                join(&[
                    &refresh_answer,
                    "1700000000000.5",
                    "9007199254740993",
                    "1000",
                    x,
                ]),
                join(&[&WireOp::ALL.len().to_string(), "0", "0", "0"]),
                join(&["4294967295", "0", "0", "0"]),
                join(&[&set_tokens, "0", "0.5", "0", "a.b.c"]),
            ],
        ),
    );
    c.put(
        "bad-options",
        program(
            &join(&["client", "not-a-pool"]),
            &[call(RequestToken, T0, "0", "0", [x; 4])],
        ),
    );
    c.put(
        "rotation-options",
        program(
            &join(&[
                "simclient",
                "eu-west-1_AbC",
                "http://127.0.0.1:9229/",
                ABSENT,
                ABSENT,
                "1",
                "9",
                &t0,
            ]),
            &[
                call(SetTokens, T0, "3600", "0", [&access, &id, "rt-1", x]),
                call(RequestToken, later, "30000", "0", [x; 4]),
                call(RefreshLock, later, "2", "0", [x; 4]),
            ],
        ),
    );
}

fn state_machine(c: &Corpus) {
    let valid = Mint {
        lifetime: 0,
        iat_minutes: 0,
        expires_in: 1,
        refresh: 1,
        id: 1,
        access: 0,
        shape: 0,
    };
    let refreshed = Mint {
        refresh: 0,
        ..valid
    };
    let put = |name: &str, w: &Writer| c.put(name, &w.out);

    // Signed in, a caller, the hour ends, a caller waits for the refresh, which succeeds.
    let mut w = Writer::new(0, 0, 1);
    w.op(Op::SetTokens).u8(1).mint(valid);
    w.op(Op::Request).u16(100);
    w.op(Op::Jump).u8(1);
    w.op(Op::Request).u16(3_000);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Tokens).u8(ID_CURRENT).mint(refreshed);
    w.op(Op::Fire);
    put("refresh-cycle", &w);

    // Throttled, then a server error, then revoked: one login.
    let mut w = Writer::new(0, 24, 2);
    w.op(Op::SetTokens).u8(1).mint(valid);
    w.op(Op::Jump).u8(1);
    w.op(Op::Request).u16(6_000);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Error).u8(ID_CURRENT).u8(0).u8(0).u8(1);
    w.op(Op::Fire).op(Op::Fire);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Error).u8(ID_CURRENT).u8(2).u8(3).u8(0);
    w.op(Op::Fire);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Error).u8(ID_CURRENT).u8(0).u8(5).u8(0);
    w.op(Op::Request).u16(100);
    w.op(Op::SignIn).mint(valid);
    put("throttled-then-revoked", &w);

    // Clocks: back an hour, ahead two days, skewed provider.
    let mut w = Writer::new(1, -720, 3);
    w.op(Op::SetTokens).u8(1).mint(Mint {
        refresh: 1,
        ..valid
    });
    w.op(Op::Back).u16(3_600);
    w.op(Op::Request).u16(500);
    w.op(Op::Jump).u8(48);
    w.op(Op::Request).u16(500);
    w.op(Op::Wake);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Tokens).u8(ID_CURRENT).mint(Mint {
        refresh: 1,
        ..valid
    });
    w.op(Op::Tick).u16(65_535);
    w.op(Op::Fire);
    put("clock-jumps-rotation", &w);

    // Other tabs: a record, a backoff, storage edits, an expiry elsewhere.
    let mut w = Writer::new(0, 0, 4);
    w.op(Op::Storage)
        .u8(RECORD_MINTED)
        .mint(valid)
        .u16(0)
        .u32(0);
    w.op(Op::Tab).u8(TAB_BACKOFF).u8(0).u16(2).u32(30_000);
    w.op(Op::Request).u16(1_000);
    w.op(Op::Tab)
        .u8(TAB_RECORD)
        .u8(RECORD_MINTED)
        .mint(valid)
        .u16(0)
        .u32(0);
    w.op(Op::Storage).u8(RECORD_TAMPERED);
    w.op(Op::Storage).u8(RECORD_TRUNCATED).u16(40);
    w.op(Op::Storage).u8(RECORD_TEXT).text("{\"v\":1}");
    w.op(Op::Tab).u8(TAB_EXPIRED);
    w.op(Op::Storage).u8(RECORD_STORED);
    w.op(Op::Tab).u8(TAB_SIGNED_OUT);
    w.op(Op::Storage).u8(RECORD_NONE);
    put("other-tabs", &w);

    // OAuth2 with opaque access tokens and hostile answers.
    let opaque = Mint {
        access: 3,
        id: 1,
        ..valid
    };
    let mut w = Writer::new(2, 0, 5);
    w.op(Op::SetTokens).u8(1).mint(opaque);
    w.op(Op::Jump).u8(1);
    w.op(Op::Request).u16(10_000);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Raw)
        .u8(ID_CURRENT)
        .u16(200)
        .text(HTML)
        .short_text(None)
        .short_text(None)
        .short_text(None);
    w.op(Op::Fire);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Raw)
        .u8(ID_CURRENT)
        .u16(400)
        .text(r#"{"error":"slow_down"}"#)
        .short_text(None)
        .short_text(Some("Wed, 21 Oct 2015 07:28:00 GMT"))
        .short_text(Some("1500"));
    w.op(Op::Fire).op(Op::Fire);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Failure).u8(ID_CURRENT);
    w.op(Op::Fire);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Tokens).u8(ID_CURRENT).mint(Mint {
        refresh: 1,
        ..opaque
    });
    put("oauth2-opaque-hostile", &w);

    // A refused token, a hidden tab, stray ids, a sign-out.
    let mut w = Writer::new(3, 0, 6);
    w.op(Op::SetTokens).u8(0).mint(valid);
    w.op(Op::Tick).u16(31_000);
    w.op(Op::Refused).u8(0);
    w.op(Op::Visibility).u8(0);
    w.op(Op::Request).u16(2_000);
    w.op(Op::Lock).u8(ID_NEXT).u8(RECORD_NONE);
    w.op(Op::Lock).u8(ID_CURRENT).u8(RECORD_STORED);
    w.op(Op::Tokens).u8(9).mint(refreshed);
    w.op(Op::Refused).u8(1);
    w.op(Op::SignOut);
    w.op(Op::Request).u16(0);
    put("refused-hidden-stray", &w);

    // No refresh token: the token runs out and the caller is sent to login.
    let mut w = Writer::new(0, 0, 7);
    w.op(Op::SetTokens).u8(1).mint(Mint {
        refresh: 0,
        lifetime: 1,
        ..valid
    });
    w.op(Op::Jump).u8(1);
    w.op(Op::Request).u16(10);
    w.op(Op::Request).u16(10);
    put("no-refresh-token", &w);
}
