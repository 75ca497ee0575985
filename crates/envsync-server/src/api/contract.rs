//! The parts of the API's contract that the handlers' annotations cannot say by themselves,
//! written once and applied to the whole OpenAPI document by [`complete`]: what each path
//! parameter and body field looks like (by its name, in whichever route or body it
//! appears), and the statuses any operation may answer (401 for a bad token, 429 from the
//! sign-in limiter, 503 while the database is away, …). Written here, next to the checks that
//! enforce them, so that the document a client or a fuzzer reads is the contract the server
//! keeps: schemathesis holds the server to it (tests/server_api.rs).

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

use super::ApiError;

/// The longest a token may live: a year and a day.
pub const MAX_TOKEN_SECONDS: u64 = 366 * 24 * 3600;

/// The most entries a page of versions or of the audit log holds.
pub const MAX_PAGE: u32 = 1000;

/// A labels's or a person's name: 1 to 100 characters, no control characters, not only
/// spaces ([`check_label`]).
pub const MAX_LABEL_CHARS: usize = 100;

/// A project or environment name (`envsync_core::config::is_valid_name`).
const NAME: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
/// A SHA-256, in lowercase hex.
const SHA256: &str = "^[0-9a-f]{64}$";
/// A member key's fingerprint (`envsync_core::records::fingerprint`).
const FINGERPRINT: &str = "^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$";
/// A member key as `envsync whoami` prints it ([`well_formed_member_key`]).
const MEMBER_KEY: &str = "^age1[a-z0-9]{20,90}:[A-Za-z0-9_-]{43}$";
/// A label: see [`MAX_LABEL_CHARS`]. Python's and ECMAScript's regexes both read it.
const LABEL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f]\
                     [^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Path parameters, by name: the pattern each must match.
const PATH_PARAMETERS: [(&str, &str); 6] = [
    ("project", NAME),
    ("environment", NAME),
    ("sha256", SHA256),
    ("code_sha256", SHA256),
    ("fingerprint", FINGERPRINT),
    ("id", "^[0-9a-f]{12}$"),
];

/// A page size asked for in a query: `default` when absent; outside 1..=[`MAX_PAGE`] a 400,
/// since a client that asked for 5000 and silently got 1000 would think it had everything.
pub fn page_size(limit: Option<u32>, default: u32) -> Result<u32, ApiError> {
    match limit.unwrap_or(default) {
        limit @ 1..=MAX_PAGE => Ok(limit),
        _ => Err(ApiError::bad_request(format!(
            "limit: give a page size from 1 to {MAX_PAGE}"
        ))),
    }
}

/// A position in a list (`after`): the last entry or version number seen, 0 for the start.
/// Signed in the query, so that the document's range is the database's integers; a
/// negative one is refused rather than read as "from the start".
pub fn position(after: i64) -> Result<u64, ApiError> {
    u64::try_from(after).map_err(|_| ApiError::bad_request("after: give 0 or a larger number"))
}

/// A token label or a person's name, as [`LABEL`] and [`MAX_LABEL_CHARS`] document it.
pub fn check_label(what: &str, label: &str) -> Result<(), ApiError> {
    if label.trim().is_empty()
        || label.chars().count() > MAX_LABEL_CHARS
        || label.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(format!(
            "{what}: give 1 to {MAX_LABEL_CHARS} printable characters"
        )));
    }
    Ok(())
}

/// The shape of a member key, `age1…:<43 base64url characters>` ([`MEMBER_KEY`]). The server
/// cannot check more (it links no age), and clients verify every key they use; but a key
/// that is not even shaped like one would be stored and handed to every member.
pub fn well_formed_member_key(key: &str) -> bool {
    let Some((age, signing)) = key.split_once(':') else {
        return false;
    };
    let bech32 = age.strip_prefix("age1").unwrap_or_default();
    age.starts_with("age1")
        && (20..=90).contains(&bech32.len())
        && bech32
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
        && signing.len() == 43
        && signing
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Adds to `document` what this module knows: parameter patterns, body field limits and
/// the statuses every operation shares.
pub fn complete(document: &mut OpenApi) {
    if let Some(components) = document.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            if let RefOr::T(Schema::Object(object)) = schema {
                constrain_fields(name, object);
            }
        }
    }
    for item in document.paths.paths.values_mut() {
        for operation in operations(item) {
            constrain_parameters(operation);
            add_shared_responses(operation);
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Body fields, by body and field name, as the handlers check them.
fn constrain_fields(body: &str, object: &mut Object) {
    for (field, schema) in object.properties.iter_mut() {
        let RefOr::T(Schema::Object(field_schema)) = schema else {
            continue;
        };
        match (body, field.as_str()) {
            (_, "expires_in_seconds") => {
                field_schema.minimum = Some(1.into());
                field_schema.maximum = Some(MAX_TOKEN_SECONDS.into());
            }
            (_, "member_key") => field_schema.pattern = Some(MEMBER_KEY.to_owned()),
            ("NewCiToken", "environment") => field_schema.pattern = Some(NAME.to_owned()),
            ("NewToken", "label") | ("NewCiToken" | "JoinRequest", "name") => {
                field_schema.pattern = Some(LABEL.to_owned());
                field_schema.min_length = Some(1);
                field_schema.max_length = Some(MAX_LABEL_CHARS);
            }
            _ => {}
        }
    }
}

fn constrain_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let pattern = PATH_PARAMETERS
            .iter()
            .find(|(name, _)| *name == parameter.name)
            .map(|(_, pattern)| *pattern);
        if let (Some(pattern), Some(RefOr::T(Schema::Object(schema)))) =
            (pattern, parameter.schema.as_mut())
        {
            schema.pattern = Some(pattern.to_owned());
        }
        if parameter.name == "number"
            && let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut()
        {
            schema.minimum = Some(1.into());
            schema.maximum = Some(i64::MAX.into());
        }
    }
}

/// Statuses any operation of its kind may answer, with the API's error body: added where
/// the handler's annotation does not list them already.
fn add_shared_responses(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|list| !list.is_empty());
    let has_input = operation.request_body.is_some()
        || operation
            .parameters
            .as_ref()
            .is_some_and(|list| !list.is_empty());
    let mut shared = vec![(
        "503",
        "the database cannot be reached; try again (`Retry-After`)",
    )];
    if has_input {
        shared.push((
            "400",
            "a parameter or the body is malformed: the message says which",
        ));
    }
    if operation.request_body.is_some() {
        shared.push(("413", "the body is larger than the server takes"));
        shared.push(("415", "the body is not `application/json`"));
    }
    if secured {
        shared.push((
            "401",
            "no token, or one that is unknown, expired or revoked",
        ));
        shared.push(("403", "the token's account may not do this"));
        shared.push((
            "429",
            "too many failed sign-ins from this address; wait and retry",
        ));
    }
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real member key, as envsync-crypto prints it.
    const KEY: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p:\
                       11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn member_keys_are_checked_for_their_shape() {
        assert!(well_formed_member_key(KEY));
        for bad in [
            "",
            "age1:",
            "x",
            &KEY.replace("age1", "age2"),
            &KEY.replace(':', ""),
            &format!("{KEY}A"),
            &KEY.to_uppercase(),
            &KEY.replace("Ro", "R="),
        ] {
            assert!(!well_formed_member_key(bad), "{bad}");
        }
    }

    #[test]
    fn page_sizes_outside_the_documented_range_are_refused() {
        assert_eq!(page_size(None, 100).unwrap(), 100);
        assert_eq!(page_size(Some(1), 100).unwrap(), 1);
        assert_eq!(page_size(Some(MAX_PAGE), 100).unwrap(), MAX_PAGE);
        assert!(page_size(Some(0), 100).is_err());
        assert!(page_size(Some(MAX_PAGE + 1), 100).is_err());
    }

    #[test]
    fn labels_are_checked_as_documented() {
        assert!(check_label("label", "laptop").is_ok());
        assert!(check_label("label", &"x".repeat(MAX_LABEL_CHARS)).is_ok());
        for bad in [
            "",
            "   ",
            "a\u{7}b",
            "a\u{85}b",
            &"x".repeat(MAX_LABEL_CHARS + 1),
        ] {
            assert!(check_label("label", bad).is_err(), "{bad:?}");
        }
    }

    /// The patterns the document publishes and the checks the server runs are written
    /// apart (one for clients and fuzzers, one in Rust): they must accept the same strings.
    #[test]
    fn the_documented_patterns_agree_with_the_checks() {
        let matches = |pattern: &str, text: &str| {
            let regex = regex_automata::meta::Regex::new(pattern).expect("a valid pattern");
            regex.is_match(text)
        };
        let alphabet = [
            "a", "Z", "0", ".", "-", "_", " ", "é", "/", "\u{0}", "\u{85}", ":",
        ];
        let mut names: Vec<String> = alphabet.iter().map(|a| (*a).to_owned()).collect();
        for first in alphabet {
            for second in alphabet {
                names.push(format!("{first}{second}"));
            }
        }
        names.extend(["", &"a".repeat(64), &"a".repeat(65), "app.prod-1_x"].map(String::from));
        for name in &names {
            assert_eq!(
                matches(NAME, name),
                envsync_core::config::is_valid_name(name),
                "{name:?}"
            );
            if name.chars().count() <= MAX_LABEL_CHARS {
                assert_eq!(
                    matches(LABEL, name),
                    check_label("label", name).is_ok(),
                    "{name:?}"
                );
            }
        }
        for key in [KEY, "", "age1:", &KEY.to_uppercase(), &format!("{KEY}A")] {
            assert_eq!(
                matches(MEMBER_KEY, key),
                well_formed_member_key(key),
                "{key}"
            );
        }
    }
}
