//! Cognito's sign-in challenges: the challenge a sign-in answer asks the user to pass, read
//! defensively, and the `RespondToAuthChallenge` body that answers one the session knows.
//!
//! Cognito asks for another step with `ChallengeName`, `Session` (the opaque value the answer
//! sends back) and `ChallengeParameters`, a map of strings (`USER_ID_FOR_SRP`,
//! `CODE_DELIVERY_DESTINATION`, `MFAS_CAN_CHOOSE`, `requiredAttributes`, ...). [`Challenge::read`]
//! takes them as they are when they are well formed and few, and refuses anything else as a bad
//! response; a challenge the session cannot answer is still handed to the app, which may know
//! what to do with it.
//!
//! The app answers with a typed object; [`RESPONSES`] says which challenges have one and which
//! `ChallengeResponses` entry each of its strings becomes. An answer that does not fit its
//! challenge, or a challenge object that lacks what the request needs, is the app's mistake
//! (`BAD_CONFIG`), found before anything is sent.

use alloc::{string::String, vec::Vec};

use super::classify::{bad_response, ProviderError};
use super::error::AppError;
use super::json::{self, write_string, Value};

/// Most `ChallengeParameters` entries read (Cognito sends at most a handful); more is refused.
pub const MAX_PARAMETERS: usize = 32;

/// Longest challenge name accepted (Cognito's are at most 24 bytes).
const MAX_NAME: usize = 64;

/// A challenge Cognito asks the user to pass before it hands out tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `ChallengeName`: upper-case letters, digits and `_`.
    pub name: String,
    /// `Session`, sent back with the answer.
    pub session: String,
    /// Who answers: `ChallengeParameters`' `USERNAME`, else its `USER_ID_FOR_SRP` (Cognito
    /// sends them equal when it sends both; moto's `USER_ID_FOR_SRP` names nobody), else empty
    /// (then the sign-in fills in the name it was for).
    pub username: String,
    /// `ChallengeParameters`, in the order Cognito sent them.
    pub parameters: Vec<(String, String)>,
}

/// Cognito's `ChallengeName` in an answer `body`, if it names one: `None` for an answer with
/// tokens (absent, `null` or `""`).
pub fn name(body: &Value) -> Result<Option<&str>, ProviderError> {
    match body.get("ChallengeName") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s))
            if s.len() <= MAX_NAME
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') =>
        {
            Ok(Some(s))
        }
        Some(_) => Err(bad_response(
            "BadChallenge",
            "ChallengeName is not a challenge name",
        )),
    }
}

impl Challenge {
    /// The challenge Cognito's answer `body` asks for, once [`name`] found it names one. It must
    /// come with a non-empty `Session` (Cognito's API reference: "ChallengeName,
    /// ChallengeParameters, and Session are returned") and parameters that are at most
    /// [`MAX_PARAMETERS`] strings; otherwise the answer is a bad response.
    pub fn read(name: &str, body: &Value) -> Result<Challenge, ProviderError> {
        let bad = || {
            bad_response(
                "BadChallenge",
                "no Session, or ChallengeParameters not 32 strings at most",
            )
        };
        let session = body
            .get("Session")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(bad)?;
        let members: &[(String, Value)] = match body.get("ChallengeParameters") {
            None | Some(Value::Null) => &[],
            Some(Value::Object(members)) if members.len() <= MAX_PARAMETERS => members,
            Some(_) => return Err(bad()),
        };
        let mut username = "";
        let mut parameters = Vec::new();
        for (key, value) in members {
            let value = value.as_str().ok_or_else(bad)?;
            if key == "USERNAME" || key == "USER_ID_FOR_SRP" && username.is_empty() {
                username = value;
            }
            parameters.push((key.clone(), String::from(value)));
        }
        Ok(Challenge {
            name: String::from(name),
            session: String::from(session),
            username: String::from(username),
            parameters,
        })
    }
}

/// Which string of the app's answer to which challenge becomes which `ChallengeResponses` entry
/// (Cognito API reference, `ChallengeResponses`; the TypeScript type `ChallengeAnswers` says the
/// same): challenge, the object member it is in (`""`: the answer itself), its name, the entry.
/// Each is required; besides them, `NEW_PASSWORD_REQUIRED` takes `attributes`, an object whose
/// members become `userAttributes.<name>`. Values are Cognito's to judge: an MFA type
/// `SELECT_MFA_TYPE` does not offer, a password the pool's policy refuses, an unknown attribute
/// come back as Cognito's errors.
const RESPONSES: [(&str, &str, &str, &str); 8] = [
    ("NEW_PASSWORD_REQUIRED", "", "newPassword", "NEW_PASSWORD"),
    ("SOFTWARE_TOKEN_MFA", "", "code", "SOFTWARE_TOKEN_MFA_CODE"),
    ("SMS_MFA", "", "code", "SMS_MFA_CODE"),
    ("EMAIL_OTP", "", "code", "EMAIL_OTP_CODE"),
    ("SELECT_MFA_TYPE", "", "mfaType", "ANSWER"),
    (
        "PASSWORD_VERIFIER",
        "passwordClaim",
        "signature",
        "PASSWORD_CLAIM_SIGNATURE",
    ),
    (
        "PASSWORD_VERIFIER",
        "passwordClaim",
        "secretBlock",
        "PASSWORD_CLAIM_SECRET_BLOCK",
    ),
    (
        "PASSWORD_VERIFIER",
        "passwordClaim",
        "timestamp",
        "TIMESTAMP",
    ),
];

/// The body of a `RespondToAuthChallenge` request from app client `client_id`, for
/// `challenge` (the challenge object the app got back, as JSON: `challengeName`, `session` and
/// `username` are read) answered with `answer` (the app's typed answer, as JSON), and the user
/// name that answers. `BAD_CONFIG` when the challenge object lacks those fields, or the answer
/// does not fit [`RESPONSES`]: a member it does not list (empty objects aside, which add
/// nothing), one it lists missing, a value that is not a non-empty string.
pub fn response_body(
    client_id: &str,
    challenge: &str,
    answer: &str,
) -> Result<(String, String), AppError> {
    let challenge = json::parse_from_js(challenge).unwrap_or(Value::Null);
    let text = |key| {
        challenge
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(name), Some(session), Some(username)) =
        (text("challengeName"), text("session"), text("username"))
    else {
        return Err(AppError::bad_config(
            "respondToChallenge needs the challenge a sign-in resolved with",
        ));
    };
    let mut body = String::new();
    for (key, value) in [
        ("{\"ClientId\"", client_id),
        (",\"ChallengeName\"", name),
        (",\"Session\"", session),
        (",\"ChallengeResponses\":{\"USERNAME\"", username),
    ] {
        body.push_str(key);
        body.push(':');
        write_string(&mut body, value);
    }
    let answer = json::parse_from_js(answer).unwrap_or(Value::Null);
    if push_responses(&mut body, name, &answer).is_none() {
        let mut message = String::from("respondToChallenge has no such answer to ");
        message.push_str(name);
        return Err(AppError::bad_config(&message));
    }
    body.push_str("}}");
    Ok((body, String::from(username)))
}

/// Appends `,"<entry>":"<value>"` for each string of `answer` to challenge `name`, as
/// [`RESPONSES`] names them. `None` when the answer has a member it does not list (empty objects
/// aside, which add nothing), a value that is not a non-empty string, or lacks one it lists for
/// `name`.
fn push_responses(out: &mut String, name: &str, answer: &Value) -> Option<()> {
    let Value::Object(members) = answer else {
        return None;
    };
    // One bit per entry of RESPONSES: those this challenge requires, and those answered.
    let required = RESPONSES
        .iter()
        .enumerate()
        .filter(|(_, (challenge, ..))| *challenge == name)
        .fold(0u8, |bits, (i, _)| bits | 1 << i);
    let mut answered = 0u8;
    for (member, value) in members {
        match value {
            Value::Object(parts) => {
                for (part, value) in parts {
                    answered |= push_response(out, name, member, part, value)?;
                }
            }
            _ => answered |= push_response(out, name, "", member, value)?,
        }
    }
    (required & !answered == 0).then_some(())
}

/// Appends `,"<entry>":"<value>"` for the string `member` of the answer to challenge `name`
/// (inside its object member `within`, `""` for none), and answers its bit in [`RESPONSES`] (0
/// for a user attribute); `None` when nothing names it or `value` is not a non-empty string.
fn push_response(
    out: &mut String,
    name: &str,
    within: &str,
    member: &str,
    value: &Value,
) -> Option<u8> {
    let value = value.as_str().filter(|v| !v.is_empty())?;
    let mut entry = String::new();
    let mut bit = 0;
    if name == "NEW_PASSWORD_REQUIRED" && within == "attributes" {
        entry.push_str("userAttributes.");
        entry.push_str(member);
    } else {
        let i = RESPONSES
            .iter()
            .position(|&(c, w, m, _)| c == name && w == within && m == member)?;
        entry.push_str(RESPONSES.get(i)?.3);
        bit = 1 << i;
    }
    out.push(',');
    write_string(out, &entry);
    out.push(':');
    write_string(out, value);
    Some(bit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::classify::FailureKind;
    use crate::engine::error::ErrorCode;
    use alloc::format;

    /// [`Challenge::read`] as `parse_sign_in` calls it.
    fn read(body: &str) -> Result<Option<Challenge>, ProviderError> {
        let body = json::parse(body).unwrap();
        match name(&body)? {
            Some(name) => Challenge::read(name, &body).map(Some),
            None => Ok(None),
        }
    }

    fn challenge_json(name: &str) -> String {
        format!(
            r#"{{"status":"challenge","challengeName":"{name}","session":"AYAB","username":"alice","parameters":{{}}}}"#
        )
    }

    /// The ChallengeResponses a fitting answer becomes, as a JSON object.
    fn responses(name: &str, answer: &str) -> Value {
        let (body, username) = response_body("c", &challenge_json(name), answer).unwrap();
        assert_eq!(username, "alice");
        let body = json::parse(&body).unwrap();
        assert_eq!(body.get("ClientId").and_then(Value::as_str), Some("c"));
        assert_eq!(
            body.get("ChallengeName").and_then(Value::as_str),
            Some(name)
        );
        assert_eq!(body.get("Session").and_then(Value::as_str), Some("AYAB"));
        body.get("ChallengeResponses").unwrap().clone()
    }

    #[test]
    fn a_challenge_is_read_with_its_session_parameters_and_who_answers() {
        // NEW_PASSWORD_REQUIRED as Cognito sends it (user attributes as a JSON string).
        let body = r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"AYABe",
            "ChallengeParameters":{"USER_ID_FOR_SRP":"7c1e-sub","requiredAttributes":"[]",
            "userAttributes":"{\"email\":\"alice@example.com\"}"}}"#;
        let c = read(body).unwrap().unwrap();
        assert_eq!(c.name, "NEW_PASSWORD_REQUIRED");
        assert_eq!(c.session, "AYABe");
        assert_eq!(
            c.username, "7c1e-sub",
            "USER_ID_FOR_SRP when there is no USERNAME"
        );
        assert_eq!(c.parameters.len(), 3);
        assert_eq!(
            c.parameters[2],
            (
                "userAttributes".into(),
                "{\"email\":\"alice@example.com\"}".into()
            )
        );
        // moto: USERNAME only; and USERNAME wins whichever comes first.
        let body = r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","ChallengeParameters":{"USERNAME":"bob"},"Session":"s"}"#;
        assert_eq!(read(body).unwrap().unwrap().username, "bob");
        let body = r#"{"ChallengeName":"PASSWORD_VERIFIER","Session":"s","ChallengeParameters":{"USERNAME":"bob","USER_ID_FOR_SRP":"id"}}"#;
        assert_eq!(read(body).unwrap().unwrap().username, "bob");
        // No parameters at all: nobody named, the sign-in fills it in.
        let body =
            r#"{"ChallengeName":"SOFTWARE_TOKEN_MFA","ChallengeParameters":{},"Session":"s"}"#;
        let c = read(body).unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.parameters.len()), ("", 0));
        for body in [
            r#"{"ChallengeName":"SMS_MFA","Session":"s"}"#,
            r#"{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":null}"#,
        ] {
            assert_eq!(read(body).unwrap().unwrap().parameters, []);
        }
    }

    #[test]
    fn recorded_select_mfa_type_and_email_otp_challenges_are_read() {
        // Shapes from Cognito's API reference (MFAS_CAN_CHOOSE is a JSON array in a string).
        let body = r#"{"ChallengeName":"SELECT_MFA_TYPE","Session":"AYABeC",
            "ChallengeParameters":{"MFAS_CAN_CHOOSE":"[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\"]",
            "USER_ID_FOR_SRP":"alice"}}"#;
        let c = read(body).unwrap().unwrap();
        assert_eq!(c.name, "SELECT_MFA_TYPE");
        assert_eq!(
            c.parameters[0].1, "[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\"]",
            "passed on as the string it is"
        );
        let body = r#"{"ChallengeName":"EMAIL_OTP","Session":"AYABeD",
            "ChallengeParameters":{"CODE_DELIVERY_DELIVERY_MEDIUM":"EMAIL",
            "CODE_DELIVERY_DESTINATION":"a***@e***","USER_ID_FOR_SRP":"alice"}}"#;
        let c = read(body).unwrap().unwrap();
        assert_eq!(
            (c.name.as_str(), c.username.as_str()),
            ("EMAIL_OTP", "alice")
        );
        assert_eq!(c.parameters[1].1, "a***@e***");
    }

    #[test]
    fn an_answer_without_a_challenge_name_is_none() {
        for body in [
            r#"{"AuthenticationResult":{}}"#,
            r#"{"ChallengeName":null}"#,
            r#"{"ChallengeName":""}"#,
        ] {
            assert_eq!(read(body), Ok(None), "{body}");
        }
    }

    #[test]
    fn a_malformed_challenge_is_a_bad_response() {
        let many = |n: usize| {
            (0..n)
                .map(|i| format!("\"k{i}\":\"v\""))
                .collect::<alloc::vec::Vec<_>>()
                .join(",")
        };
        let too_many = format!(
            r#"{{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":{{{}}}}}"#,
            many(MAX_PARAMETERS + 1)
        );
        let long_name = format!(r#"{{"ChallengeName":"{}","Session":"s"}}"#, "A".repeat(65));
        for body in [
            r#"{"ChallengeName":["SMS_MFA"],"Session":"s"}"#,
            r#"{"ChallengeName":"sms mfa","Session":"s"}"#,
            r#"{"ChallengeName":"SMS_MFA"}"#,
            r#"{"ChallengeName":"SMS_MFA","Session":""}"#,
            r#"{"ChallengeName":"SMS_MFA","Session":5}"#,
            r#"{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":[]}"#,
            r#"{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":"x"}"#,
            // moto sends MFA_SETUP's MFAS_CAN_SETUP as a list; Cognito's model says strings.
            r#"{"ChallengeName":"MFA_SETUP","Session":"s","ChallengeParameters":{"MFAS_CAN_SETUP":["SOFTWARE_TOKEN_MFA"]}}"#,
            &too_many,
            &long_name,
        ] {
            let e = read(body).unwrap_err();
            assert_eq!(
                (e.kind, e.code.as_str()),
                (FailureKind::BadResponse, "BadChallenge"),
                "{body}"
            );
        }
        // Exactly the limit is fine.
        let body = format!(
            r#"{{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":{{{}}}}}"#,
            many(MAX_PARAMETERS)
        );
        assert_eq!(
            read(&body).unwrap().unwrap().parameters.len(),
            MAX_PARAMETERS
        );
    }

    #[test]
    fn each_typed_answer_becomes_its_challenge_responses() {
        let cases: [(&str, &str, &str); 8] = [
            (
                "NEW_PASSWORD_REQUIRED",
                r#"{"newPassword":"N3w-pass!"}"#,
                r#"{"USERNAME":"alice","NEW_PASSWORD":"N3w-pass!"}"#,
            ),
            (
                "NEW_PASSWORD_REQUIRED",
                r#"{"attributes":{"name":"Alice \"A\"","custom:team":"x"},"newPassword":"N3w"}"#,
                r#"{"USERNAME":"alice","userAttributes.name":"Alice \"A\"","userAttributes.custom:team":"x","NEW_PASSWORD":"N3w"}"#,
            ),
            (
                "NEW_PASSWORD_REQUIRED",
                r#"{"newPassword":"N3w","attributes":{}}"#,
                r#"{"USERNAME":"alice","NEW_PASSWORD":"N3w"}"#,
            ),
            (
                "SOFTWARE_TOKEN_MFA",
                r#"{"code":"123456"}"#,
                r#"{"USERNAME":"alice","SOFTWARE_TOKEN_MFA_CODE":"123456"}"#,
            ),
            (
                "SMS_MFA",
                r#"{"code":"654321"}"#,
                r#"{"USERNAME":"alice","SMS_MFA_CODE":"654321"}"#,
            ),
            (
                "EMAIL_OTP",
                r#"{"code":"12345678"}"#,
                r#"{"USERNAME":"alice","EMAIL_OTP_CODE":"12345678"}"#,
            ),
            (
                "SELECT_MFA_TYPE",
                r#"{"mfaType":"SOFTWARE_TOKEN_MFA"}"#,
                r#"{"USERNAME":"alice","ANSWER":"SOFTWARE_TOKEN_MFA"}"#,
            ),
            (
                "PASSWORD_VERIFIER",
                r#"{"passwordClaim":{"signature":"c2ln","secretBlock":"YmxvY2s=","timestamp":"Tue Feb 1 03:04:05 UTC 2022"}}"#,
                r#"{"USERNAME":"alice","PASSWORD_CLAIM_SIGNATURE":"c2ln","PASSWORD_CLAIM_SECRET_BLOCK":"YmxvY2s=","TIMESTAMP":"Tue Feb 1 03:04:05 UTC 2022"}"#,
            ),
        ];
        for (name, answer, expected) in cases {
            assert_eq!(
                responses(name, answer),
                json::parse(expected).unwrap(),
                "{name} {answer}"
            );
        }
        for mfa in ["SMS_MFA", "EMAIL_OTP"] {
            let answer = format!(r#"{{"mfaType":"{mfa}"}}"#);
            let r = responses("SELECT_MFA_TYPE", &answer);
            assert_eq!(r.get("ANSWER").and_then(Value::as_str), Some(mfa));
        }
        // An empty object adds nothing, wherever it is.
        assert_eq!(
            responses("SMS_MFA", r#"{"code":"1","extra":{}}"#),
            json::parse(r#"{"USERNAME":"alice","SMS_MFA_CODE":"1"}"#).unwrap()
        );
        // Every value is JSON-escaped, however it is spelled.
        let (body, _) = response_body(
            "c\"},\"x",
            &challenge_json("SMS_MFA"),
            r#"{"code":"1\"}, \"ChallengeName\":\"X"}"#,
        )
        .unwrap();
        let body = json::parse(&body).unwrap();
        assert_eq!(
            body.get("ChallengeName").and_then(Value::as_str),
            Some("SMS_MFA")
        );
        assert_eq!(
            body.get("ClientId").and_then(Value::as_str),
            Some("c\"},\"x")
        );
    }

    #[test]
    fn an_answer_that_does_not_fit_its_challenge_is_bad_config() {
        for (name, answer) in [
            ("SMS_MFA", r#"{"newPassword":"x"}"#),
            ("SMS_MFA", r#"{"code":""}"#),
            ("SMS_MFA", r#"{"code":123456}"#),
            ("SMS_MFA", r#"{"code":{"a":"1"}}"#),
            ("SMS_MFA", r#"{"code":"1","extra":"2"}"#),
            ("SMS_MFA", r#"{}"#),
            ("SMS_MFA", r#""123456""#),
            ("SMS_MFA", r#"null"#),
            ("SMS_MFA", r#"undefined"#),
            (
                "SOFTWARE_TOKEN_MFA",
                r#"{"code":"1","attributes":{"a":"b"}}"#,
            ),
            ("SOFTWARE_TOKEN_MFA", r#"{"mfaType":"SMS_MFA"}"#),
            ("NEW_PASSWORD_REQUIRED", r#"{"attributes":{"a":"b"}}"#),
            (
                "NEW_PASSWORD_REQUIRED",
                r#"{"newPassword":"x","attributes":{"a":1}}"#,
            ),
            (
                "NEW_PASSWORD_REQUIRED",
                r#"{"newPassword":"x","attributes":"a"}"#,
            ),
            (
                "NEW_PASSWORD_REQUIRED",
                r#"{"newPassword":"x","attributes":["a"]}"#,
            ),
            ("NEW_PASSWORD_REQUIRED", r#"{"newPassword":{"x":"y"}}"#),
            ("SELECT_MFA_TYPE", r#"{"type":"SMS_MFA"}"#),
            (
                "PASSWORD_VERIFIER",
                r#"{"signature":"s","secretBlock":"b","timestamp":"t"}"#,
            ),
            (
                "PASSWORD_VERIFIER",
                r#"{"passwordClaim":{"signature":"s","secretBlock":"b"}}"#,
            ),
            (
                "PASSWORD_VERIFIER",
                r#"{"passwordClaim":{"signature":"s","secretBlock":"b","timestamp":"t","x":"y"}}"#,
            ),
            (
                "PASSWORD_VERIFIER",
                r#"{"passwordClaim":{"signature":"s","secretBlock":"b","timestamp":"t"},"x":"1"}"#,
            ),
            ("MFA_SETUP", r#"{"code":"1"}"#),
            ("CUSTOM_CHALLENGE", r#"{"answer":"1"}"#),
        ] {
            let e = response_body("c", &challenge_json(name), answer).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadConfig, "{name} {answer}");
            assert_eq!(
                e.message,
                format!("respondToChallenge has no such answer to {name}")
            );
        }
    }

    #[test]
    fn a_challenge_object_that_lacks_fields_is_bad_config() {
        for challenge in [
            "null",
            "undefined",
            r#"{"challengeName":"SMS_MFA","session":"s"}"#,
            r#"{"challengeName":"SMS_MFA","username":"u"}"#,
            r#"{"session":"s","username":"u"}"#,
            r#"{"challengeName":"SMS_MFA","session":"","username":"u"}"#,
            r#"{"challengeName":"SMS_MFA","session":"s","username":5}"#,
        ] {
            let e = response_body("c", challenge, r#"{"code":"1"}"#).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadConfig);
            assert!(e.message.contains("needs the challenge"), "{challenge}");
        }
    }
}
