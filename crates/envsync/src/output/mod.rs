//! Every document `--json` prints, one typed struct each, and how each reads for a person.
//!
//! These structs are the CLI's contract with tools (the VS Code extension, scripts): the
//! committed JSON Schema `schema/envsync-cli.schema.json` is generated from them, and a test
//! fails when the two differ. They mirror the client library's outcomes instead of
//! serialising them directly, so a change inside the library cannot change the output
//! unnoticed. Commands build a document and hand it to [`Printer::emit`], which alone
//! chooses between JSON and text.

mod account;
mod choice;
mod history;
mod invites;
mod key_list;
mod members;
mod names;
mod schema;
mod sync;
mod tools;
mod watch;

pub use account::*;
pub use choice::*;
pub use history::*;
pub use invites::*;
pub use members::*;
pub use schema::schema;
pub use sync::*;
pub use tools::*;
pub use watch::*;

use serde::Serialize;

use crate::printer::Printer;

/// Version of the vocabulary every document follows, printed as each document's `schema`
/// field and bumped on any incompatible change (fields are only ever added within one).
/// 2: every document carries it; actions are the same words in `status` and `watch`;
/// `kind` is `new_key`; `log` and `members list` are objects; authors' names.
pub const SCHEMA_VERSION: u32 = 2;

/// A document as printed: its fields after `"schema": SCHEMA_VERSION`.
#[derive(Serialize)]
pub struct Versioned<'a, T: Serialize> {
    schema: u32,
    #[serde(flatten)]
    document: &'a T,
}

impl<'a, T: Serialize> Versioned<'a, T> {
    pub fn new(document: &'a T) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            document,
        }
    }
}

/// A `--json` document that also knows how it reads as text.
pub trait Document: Serialize {
    /// Writes the document for a person: data on stdout, messages on stderr.
    fn text(&self, printer: &Printer);
}

/// Unix seconds as RFC 3339, for tables and messages.
pub fn format_time(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|time| {
            time.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}
