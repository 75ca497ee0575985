//! All output goes through here: data to stdout, messages to stderr, readable without colour.

use std::io::Write;

use serde::Serialize;

use crate::output::{Document, Versioned};

pub struct Printer {
    pub json: bool,
}

impl Printer {
    /// A line of data on stdout.
    pub fn data(&self, line: impl AsRef<str>) {
        self.bytes(format!("{}\n", line.as_ref()).as_bytes());
    }

    /// Raw bytes on stdout (completions, the man page). A reader that closed the pipe
    /// (`envsync man | head -1`) has all it wants: like other Unix tools, envsync then ends
    /// at once, with status 0 and nothing on stderr. Other write errors are ignored, as a
    /// full disk on stdout is not something a command can do anything about.
    pub fn bytes(&self, bytes: &[u8]) {
        let mut stdout = std::io::stdout().lock();
        let written = stdout.write_all(bytes).and_then(|()| stdout.flush());
        if written.is_err_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe) {
            std::process::exit(0);
        }
    }

    /// A command's result: the JSON document with `--json`, else its text.
    pub fn emit(&self, document: &impl Document) {
        if self.json {
            self.json(&Versioned::new(document));
        } else {
            document.text(self);
        }
    }

    /// One event of a stream (`watch`): a line of compact JSON with `--json`, else its text.
    pub fn event(&self, event: &impl Document) {
        if self.json {
            let line = serde_json::to_string(&Versioned::new(event))
                .expect("output types always serialise");
            self.data(line);
        } else {
            event.text(self);
        }
    }

    /// A JSON document on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value).expect("output types always serialise");
        self.data(text);
    }

    /// A message for the person at the terminal, on stderr.
    pub fn message(&self, line: impl AsRef<str>) {
        let _ = writeln!(std::io::stderr().lock(), "{}", line.as_ref());
    }

    pub fn note(&self, line: impl AsRef<str>) {
        self.message(format!("note: {}", line.as_ref()));
    }
}

/// Pads columns for a plain-text table.
pub fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                if column + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  ", width = widths[column]));
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}
