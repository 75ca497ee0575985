//! The values of linked environments, searched for in files about to be committed.

use aho_corasick::AhoCorasick;
use anyhow::Result;
use envsync_client::ClientError;
use envsync_core::dotenv::Document;

use super::workspaces::{Linked, warn};
use crate::printer::Printer;

/// Values shorter than this are too likely to occur by chance (`true`, `3000`, `dev`).
const MIN_SECRET_LENGTH: usize = 8;

/// One linked value to look for, by where it comes from.
pub struct Secret {
    pub value: String,
    pub origin: String,
}

/// Every linked value in one automaton, so a file is read once however many values there
/// are: a commit of a few megabytes against 1,000 linked values stays in milliseconds.
pub struct LinkedValues {
    secrets: Vec<Secret>,
    automaton: AhoCorasick,
}

impl LinkedValues {
    pub fn new(secrets: Vec<Secret>) -> Result<Self> {
        let automaton = AhoCorasick::new(secrets.iter().map(|secret| secret.value.as_bytes()))
            .map_err(|error| {
                ClientError::Input(format!(
                    "cannot search for {} linked values: {error}",
                    secrets.len()
                ))
            })?;
        Ok(Self { secrets, automaton })
    }

    /// Each value found in `bytes`, at its first position, in the order they appear.
    pub fn find_in(&self, bytes: &[u8]) -> Vec<(usize, &Secret)> {
        let mut first = vec![None; self.secrets.len()];
        // Overlapping: a value that contains another must not hide it.
        for found in self.automaton.find_overlapping_iter(bytes) {
            first[found.pattern().as_usize()].get_or_insert(found.start());
        }
        let mut found: Vec<_> = first
            .into_iter()
            .zip(&self.secrets)
            .filter_map(|(position, secret)| position.map(|position| (position, secret)))
            .collect();
        found.sort_by_key(|(position, _)| *position);
        found
    }
}

/// Values of at least [`MIN_SECRET_LENGTH`] characters from each linked file present; a
/// file that exists but cannot be read is a warning.
pub fn linked_secrets(linked: &[Linked], printer: &Printer) -> Vec<Secret> {
    let mut secrets = Vec::new();
    for Linked { target, path } in linked {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                warn(printer, &format!("cannot read {}: {error}", path.display()));
                continue;
            }
        };
        for (key, value) in Document::parse(&text).vars() {
            if value.chars().count() >= MIN_SECRET_LENGTH {
                secrets.push(Secret {
                    value,
                    origin: format!("{} `{key}`", target.place),
                });
            }
        }
    }
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_inside_another_is_still_found_and_findings_come_in_file_order() {
        let secret = |value: &str, origin: &str| Secret {
            value: value.into(),
            origin: origin.into(),
        };
        let values = LinkedValues::new(vec![
            secret("hunter2-long-password", "LONG"),
            secret("long-password", "SHORT"),
            secret("never-present-value", "ABSENT"),
        ])
        .unwrap();
        let text = "a = 'long-password'\nb = 'hunter2-long-password'\n";
        let found: Vec<(usize, &str)> = values
            .find_in(text.as_bytes())
            .into_iter()
            .map(|(position, secret)| (position, secret.origin.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (text.find("long-password").unwrap(), "SHORT"),
                (text.find("hunter2").unwrap(), "LONG"),
            ]
        );
    }
}
