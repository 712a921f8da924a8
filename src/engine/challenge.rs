//! Cognito's sign-in challenges: whether an answer asks for one, and the
//! `RespondToAuthChallenge` body that answers it.
//!
//! Cognito asks for another step with `ChallengeName`, `Session` (the opaque value the answer
//! sends back) and `ChallengeParameters`, a map of strings (`USER_ID_FOR_SRP`,
//! `CODE_DELIVERY_DESTINATION`, `MFAS_CAN_CHOOSE`, `requiredAttributes`, ...). [`read`] decides
//! whether an answer is a challenge, and refuses one that is malformed or too large as a bad
//! response; a challenge the session cannot answer is still handed to the app, which may know
//! what to do with it.
//!
//! What is not a decision stays in the shell, where JavaScript does it in a fraction of the
//! `.wasm` bytes (src/shell/js/challenge.js): the challenge object the app gets (`Session` and
//! the parameters, taken from the body [`read`] approved) and the app's typed answer turned into
//! `ChallengeResponses` entries. [`response_body`] puts those entries, checked, in the request.

use alloc::string::String;

use super::classify::{bad_response, ProviderError};
use super::error::AppError;
use super::json::{self, write_string, Value};

/// Most `ChallengeParameters` entries accepted (Cognito sends at most a handful); more is a
/// bad response.
pub const MAX_PARAMETERS: usize = 32;

/// Longest challenge name accepted (Cognito's are at most 24 bytes).
const MAX_NAME: usize = 64;

/// The `ChallengeName` Cognito's answer `body` asks for: `None` for an answer with tokens
/// (absent, `null` or `""`). A challenge must be upper-case letters, digits and `_`, and come
/// with a non-empty `Session` (Cognito's API reference: "ChallengeName, ChallengeParameters, and
/// Session are returned") and parameters that are at most [`MAX_PARAMETERS`] strings; otherwise
/// the answer is a bad response (`BadChallenge`).
pub fn read(body: &Value) -> Result<Option<&str>, ProviderError> {
    let name = match body.get("ChallengeName") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => "",
    };
    let is_name = name.len() <= MAX_NAME
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let has_session = matches!(body.get("Session"), Some(Value::String(s)) if !s.is_empty());
    let parameters_fit = match body.get("ChallengeParameters") {
        None | Some(Value::Null) => true,
        Some(Value::Object(members)) => members.len() <= MAX_PARAMETERS && all_strings(members),
        Some(_) => false,
    };
    if is_name && has_session && parameters_fit {
        Ok(Some(name))
    } else {
        Err(bad_response(
            "BadChallenge",
            "malformed challenge (ChallengeName, Session or ChallengeParameters)",
        ))
    }
}

/// Whether every member is a string.
fn all_strings(members: &[(String, Value)]) -> bool {
    members.iter().all(|(_, v)| matches!(v, Value::String(_)))
}

/// The body of a `RespondToAuthChallenge` request from app client `client_id` answering
/// challenge `name` of sign-in `session` with `responses`, the `ChallengeResponses` object as
/// JSON (`USERNAME` and the answer's entries, which the shell names). `BAD_CONFIG` when the name
/// or session is empty or `responses` is not an object of strings: nothing is sent then.
pub fn response_body(
    client_id: &str,
    name: &str,
    session: &str,
    responses: &str,
) -> Result<String, AppError> {
    let fits = matches!(json::parse_from_js(responses), Ok(Value::Object(m)) if all_strings(&m));
    if name.is_empty() || session.is_empty() || !fits {
        return Err(AppError::bad_config(
            "respondToChallenge needs the challenge a sign-in resolved with",
        ));
    }
    let mut body = String::new();
    for (key, value) in [
        ("{\"ClientId\"", client_id),
        (",\"ChallengeName\"", name),
        (",\"Session\"", session),
    ] {
        body.push_str(key);
        body.push(':');
        write_string(&mut body, value);
    }
    // Well-formed JSON (it parsed), so it goes in as written.
    body.push_str(",\"ChallengeResponses\":");
    body.push_str(responses);
    body.push('}');
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::classify::FailureKind;
    use crate::engine::error::ErrorCode;
    use alloc::format;

    fn read_text(body: &str) -> Result<Option<String>, ProviderError> {
        read(&json::parse(body).unwrap()).map(|name| name.map(String::from))
    }

    #[test]
    fn a_well_formed_challenge_is_read_as_its_name() {
        for (body, name) in [
            // NEW_PASSWORD_REQUIRED as Cognito sends it (user attributes as a JSON string).
            (
                r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"AYABe",
                "ChallengeParameters":{"USER_ID_FOR_SRP":"7c1e-sub","requiredAttributes":"[]",
                "userAttributes":"{\"email\":\"alice@example.com\"}"}}"#,
                "NEW_PASSWORD_REQUIRED",
            ),
            // Shapes from Cognito's API reference (MFAS_CAN_CHOOSE is a JSON array in a string).
            (
                r#"{"ChallengeName":"SELECT_MFA_TYPE","Session":"AYABeC",
                "ChallengeParameters":{"MFAS_CAN_CHOOSE":"[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\"]",
                "USER_ID_FOR_SRP":"alice"}}"#,
                "SELECT_MFA_TYPE",
            ),
            (
                r#"{"ChallengeName":"EMAIL_OTP","Session":"AYABeD",
                "ChallengeParameters":{"CODE_DELIVERY_DELIVERY_MEDIUM":"EMAIL",
                "CODE_DELIVERY_DESTINATION":"a***@e***","USER_ID_FOR_SRP":"alice"}}"#,
                "EMAIL_OTP",
            ),
            (r#"{"ChallengeName":"SMS_MFA","Session":"s"}"#, "SMS_MFA"),
            (
                r#"{"ChallengeName":"SMS_MFA","Session":"s","ChallengeParameters":null}"#,
                "SMS_MFA",
            ),
            (
                r#"{"ChallengeName":"SOFTWARE_TOKEN_MFA","ChallengeParameters":{},"Session":"s"}"#,
                "SOFTWARE_TOKEN_MFA",
            ),
        ] {
            assert_eq!(read_text(body), Ok(Some(name.into())), "{body}");
        }
    }

    #[test]
    fn an_answer_without_a_challenge_name_is_none() {
        for body in [
            r#"{"AuthenticationResult":{}}"#,
            r#"{"ChallengeName":null}"#,
            r#"{"ChallengeName":""}"#,
        ] {
            assert_eq!(read_text(body), Ok(None), "{body}");
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
            r#"{"ChallengeName":5,"Session":"s"}"#,
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
            let e = read_text(body).unwrap_err();
            assert_eq!(
                (e.kind, e.code.as_str()),
                (FailureKind::BadResponse, "BadChallenge"),
                "{body}"
            );
        }
        // Exactly the limits are fine.
        let body = format!(
            r#"{{"ChallengeName":"{}","Session":"s","ChallengeParameters":{{{}}}}}"#,
            "A".repeat(64),
            many(MAX_PARAMETERS)
        );
        assert!(read_text(&body).unwrap().is_some());
    }

    #[test]
    fn the_answer_goes_out_with_client_name_session_and_the_responses_as_written() {
        let responses =
            r#"{"USERNAME":"alice","NEW_PASSWORD":"N3w \"pass\"","userAttributes.name":"A"}"#;
        let body = response_body("c\"},\"x", "NEW_PASSWORD_REQUIRED", "AYAB", responses).unwrap();
        let body = json::parse(&body).unwrap();
        let text = |k| body.get(k).and_then(Value::as_str);
        assert_eq!(text("ClientId"), Some("c\"},\"x"), "every value is escaped");
        assert_eq!(text("ChallengeName"), Some("NEW_PASSWORD_REQUIRED"));
        assert_eq!(text("Session"), Some("AYAB"));
        assert_eq!(
            body.get("ChallengeResponses"),
            Some(&json::parse(responses).unwrap())
        );
    }

    #[test]
    fn responses_that_are_not_an_object_of_strings_or_a_missing_name_or_session_are_bad_config() {
        let good = r#"{"USERNAME":"u","SMS_MFA_CODE":"1"}"#;
        for (name, session, responses) in [
            ("", "s", good),
            ("SMS_MFA", "", good),
            ("SMS_MFA", "s", r#"{"USERNAME":"u","SMS_MFA_CODE":1}"#),
            ("SMS_MFA", "s", r#"{"USERNAME":"u","x":{"a":"b"}}"#),
            ("SMS_MFA", "s", r#"["USERNAME"]"#),
            ("SMS_MFA", "s", r#""USERNAME""#),
            ("SMS_MFA", "s", "null"),
            ("SMS_MFA", "s", r#"{"USERNAME":"u"} {"x":"y"}"#),
            ("SMS_MFA", "s", r#"{"USERNAME":"u""#),
        ] {
            let e = response_body("c", name, session, responses).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadConfig, "{name} {session} {responses}");
            assert!(e.message.contains("needs the challenge"), "{}", e.message);
        }
    }
}
