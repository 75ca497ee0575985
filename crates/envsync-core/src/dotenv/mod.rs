//! Lossless `.env` documents with npm dotenv's semantics.
//!
//! npm `dotenv` is the format's reference implementation, so a file means here exactly what it
//! means to `require('dotenv').config()`: the same keys, the same values, the same lines
//! silently skipped. The conformance cases in `tests/data/conformance/dotenv/` pin that down.
//!
//! A [`Document`] keeps the file's exact text, so that `pull`, `sync` and `set` change only the
//! values they mean to change and leave comments, order, quoting and line endings alone. Every
//! edit is checked by parsing its result: an edit that would change what dotenv reads anywhere
//! else in the file is refused or written differently, never silently applied.

mod document;
mod edit;
mod forms;
mod index;
mod keymap;
mod lint;
mod scan;
mod value;
mod verify;

use std::borrow::Cow;
use std::fmt;

pub use document::Document;
pub use value::render_value;

pub(crate) use edit::Change;
pub(crate) use index::Occurrences;
pub(crate) use keymap::KeyHashMap;

/// One `KEY=value` occurrence, as dotenv reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub key: &'a str,
    pub value: Cow<'a, str>,
    /// 1-based line of the key.
    pub line: usize,
}

impl fmt::Debug for Entry<'_> {
    /// The value is a secret: only its length is shown.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Entry")
            .field("key", &self.key)
            .field("value_len", &self.value.len())
            .field("line", &self.line)
            .finish()
    }
}

/// Something in a file that dotenv skips or reads differently from what it looks like.
///
/// Messages name keys, lines and columns, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Why an edit was refused. Messages name the key, never the value.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DotenvError {
    /// dotenv only reads keys made of `A-Z a-z 0-9 _ . -`.
    #[error("invalid key `{key}`: keys may only contain letters, digits, `_`, `.` and `-`")]
    InvalidKey { key: String },
    /// No way of writing the value reads back unchanged: it needs quotes and holds every quote
    /// kind (or a carriage return together with `"` or a literal `\n`), or, in context, every
    /// form of it would change how dotenv reads another line of the file.
    #[error("{}", unrepresentable_message(.key.as_deref()))]
    Unrepresentable { key: Option<String> },
}

fn unrepresentable_message(key: Option<&str>) -> String {
    let subject = key.map_or_else(
        || "the value".to_owned(),
        |key| format!("the value of `{key}`"),
    );
    format!("{subject} cannot be written so that dotenv reads it back unchanged")
}

/// Whether dotenv reads `key` as a key: one or more of `A-Z a-z 0-9 _ . -`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(scan::is_key_byte)
}
