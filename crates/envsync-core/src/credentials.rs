//! The credentials file's format (`credentials.toml`): one table per server URL holding
//! that server's token, account and token id.
//!
//! ```toml
//! ["https://envsync.example.com"]
//! token = "esk_…"
//! account = "alice-3f2a"
//! token_id = "5c1d0e9a7b44"
//! ```
//!
//! Reading and writing the file (mode 0600, atomically) are the client's; the text's rules
//! live here, free of I/O, so that the fuzzer reaches them. The file holds tokens, so no
//! error quotes it: errors name a line, a server and a field, never a value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Value;

/// One server's entry. Not `Debug`: `token` is a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialEntry {
    pub token: String,
    pub account: String,
    /// The token's public id, to revoke it by; unknown after `login` with a pasted token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

/// Every server's entry, by server URL.
pub type Credentials = BTreeMap<String, CredentialEntry>;

/// What is wrong with a credentials file, without its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    #[error("it is not UTF-8")]
    NotUtf8,
    #[error("line {line}: it is not valid TOML")]
    Syntax { line: usize },
    #[error("`{server}` is not a table of `token`, `account` and `token_id`")]
    NotATable { server: String },
    #[error("`{server}` has no `{field}`")]
    Missing { server: String, field: &'static str },
    #[error("`{server}`: `{field}` is not a string")]
    NotAString { server: String, field: &'static str },
    #[error("`{server}`: unknown field `{field}`")]
    UnknownField { server: String, field: String },
}

/// Parses a credentials file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Credentials, CredentialsError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CredentialsError::NotUtf8)?;
    // toml's own message quotes the offending line, which may hold a token: keep the line
    // number only.
    let table: toml::Table = toml::from_str(text).map_err(|error| {
        let start = error.span().map_or(0, |span| span.start);
        let line = crate::config::line_at(text, start);
        CredentialsError::Syntax { line }
    })?;
    table
        .into_iter()
        .map(|(server, value)| {
            let entry = entry(&server, value)?;
            Ok((server, entry))
        })
        .collect()
}

/// The file's text (without a header comment); [`parse`] reads it back.
pub fn to_toml(credentials: &Credentials) -> String {
    toml::to_string(credentials).expect("credentials always serialise as TOML tables")
}

fn entry(server: &str, value: Value) -> Result<CredentialEntry, CredentialsError> {
    let Value::Table(mut table) = value else {
        return Err(CredentialsError::NotATable {
            server: server.to_owned(),
        });
    };
    let mut take = |field: &'static str| match table.remove(field) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(CredentialsError::NotAString {
            server: server.to_owned(),
            field,
        }),
    };
    let missing = |field| CredentialsError::Missing {
        server: server.to_owned(),
        field,
    };
    let token = take("token")?.ok_or_else(|| missing("token"))?;
    let account = take("account")?.ok_or_else(|| missing("account"))?;
    let token_id = take("token_id")?;
    if let Some(field) = table.keys().next() {
        return Err(CredentialsError::UnknownField {
            server: server.to_owned(),
            field: field.clone(),
        });
    }
    Ok(CredentialEntry {
        token,
        account,
        token_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_reads_back() {
        let text = "[\"http://a\"]\ntoken = \"esk_1\"\naccount = \"ada\"\ntoken_id = \"ab\"\n\n\
                    [\"https://b\"]\ntoken = \"esk_2\"\naccount = \"bob\"\n";
        let credentials = parse(text.as_bytes()).unwrap();
        assert_eq!(credentials.len(), 2);
        assert_eq!(credentials["https://b"].token_id, None);
        assert!(parse(to_toml(&credentials).as_bytes()).unwrap() == credentials);
    }

    #[test]
    fn refusals_name_the_place_never_the_value() {
        let cases = [
            (
                "[\"http://a\"]\ntoken = \"esk_leak\nx",
                "line 2: it is not valid TOML",
            ),
            ("\"http://a\" = \"esk_leak\"", "`http://a` is not a table"),
            ("[a]\naccount = \"esk_leak\"", "`a` has no `token`"),
            ("[a]\ntoken = \"esk_leak\"", "`a` has no `account`"),
            (
                "[a]\ntoken = 5\naccount = \"x\"",
                "`a`: `token` is not a string",
            ),
            (
                "[a]\ntoken = \"esk_leak\"\naccount = \"x\"\nsecret = \"esk_leak\"",
                "unknown field `secret`",
            ),
        ];
        for (text, expected) in cases {
            let Err(error) = parse(text.as_bytes()) else {
                panic!("{text:?} parsed");
            };
            let message = error.to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(!message.contains("esk_leak"), "{message}");
        }
        assert!(matches!(parse(b"\xff"), Err(CredentialsError::NotUtf8)));
    }
}
