//! All output goes through here: data to stdout, messages to stderr, readable without colour.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::output::{Document, Versioned};

pub struct Printer {
    pub json: bool,
    /// A document's text while [`Printer::emit`] writes it, so that a table of many lines
    /// costs one `write` rather than one per line (stdout is line-buffered). `None` outside
    /// `emit`: data printed before an `exec` or an exit is never held back.
    held: RefCell<Option<Vec<u8>>>,
}

impl Printer {
    pub fn new(json: bool) -> Self {
        Printer {
            json,
            held: RefCell::new(None),
        }
    }

    /// A line of data on stdout.
    pub fn data(&self, line: impl AsRef<str>) {
        self.bytes(format!("{}\n", line.as_ref()).as_bytes());
    }

    /// Raw bytes on stdout (completions, the man page). A reader that closed the pipe
    /// (`envsync man | head -1`) has all it wants: like other Unix tools, envsync then ends
    /// at once, with status 0 and nothing on stderr. Other write errors are ignored, as a
    /// full disk on stdout is not something a command can do anything about.
    pub fn bytes(&self, bytes: &[u8]) {
        if let Some(held) = self.held.borrow_mut().as_mut() {
            held.extend_from_slice(bytes);
            return;
        }
        Self::write_out(bytes);
    }

    fn write_out(bytes: &[u8]) {
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
            self.held.replace(Some(Vec::new()));
            document.text(self);
            self.write_held();
            self.held.replace(None);
        }
    }

    /// Writes out what [`Printer::emit`] holds so far, before anything goes to stderr (so
    /// that a terminal shows both in the order they were printed) and when the document is
    /// done.
    fn write_held(&self) {
        let held = self.held.borrow_mut().as_mut().map(std::mem::take);
        if let Some(held) = held.filter(|held| !held.is_empty()) {
            Self::write_out(&held);
        }
    }

    /// One event of a stream (`watch`): a line of compact JSON with `--json`, else its text.
    pub fn event(&self, event: &impl Document) {
        if self.json {
            self.json_line(&Versioned::new(event));
        } else {
            event.text(self);
        }
    }

    /// A JSON document on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value).expect("output types always serialise");
        self.data(text);
    }

    /// A JSON document on one line of stdout: a stream's event, or the failure that may end
    /// one (`watch --json` is read line by line).
    pub fn json_line<T: Serialize>(&self, value: &T) {
        let line = serde_json::to_string(value).expect("output types always serialise");
        self.data(line);
    }

    /// A message for the person at the terminal, on stderr.
    pub fn message(&self, line: impl AsRef<str>) {
        self.write_held();
        let _ = writeln!(std::io::stderr().lock(), "{}", line.as_ref());
    }

    pub fn note(&self, line: impl AsRef<str>) {
        self.message(format!("note: {}", line.as_ref()));
    }

    /// Progress through `total` slow steps (publish's targets), on stderr so that stdout
    /// stays data (`--json`): a bar redrawn in place when stderr is a terminal, else one line
    /// per step, which a CI log keeps.
    pub fn progress(&self, total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            terminal: std::io::stderr().is_terminal(),
        }
    }
}

/// See [`Printer::progress`].
pub struct Progress {
    total: usize,
    done: usize,
    terminal: bool,
}

/// The bar's width in characters, between its brackets.
const BAR_WIDTH: usize = 24;

impl Progress {
    /// Says that the next step, named `label` (no secret in it), starts.
    pub fn step(&mut self, label: &str) {
        self.done += 1;
        let count = format!("{}/{}", self.done, self.total);
        let mut stderr = std::io::stderr().lock();
        let _ = if self.terminal {
            let filled = BAR_WIDTH * (self.done - 1) / self.total.max(1);
            let bar = format!("{}{}", "#".repeat(filled), " ".repeat(BAR_WIDTH - filled));
            write!(stderr, "\r\x1b[2K[{bar}] {count} {label}")
        } else {
            writeln!(stderr, "[{count}] {label}")
        };
        let _ = stderr.flush();
    }
}

impl Drop for Progress {
    /// Clears the bar, so that what follows (the result, or an error that cut the run
    /// short) starts on a clean line.
    fn drop(&mut self) {
        if self.terminal && self.done > 0 {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
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
