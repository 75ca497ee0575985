//! The ways of writing one change into a document, preferred first.

use std::ops::Range;

use super::document::{Document, Slot};
use super::edit::Change;
use super::index::Occurrences;
use super::value::{Style, candidates_in_context, render_in};

/// A replacement of `range` of the text by `text`.
pub(super) struct Splice {
    pub range: Range<usize>,
    pub text: String,
}

impl Document {
    /// The edits for `change`, preferred first, made only as far as they are tried.
    pub(super) fn attempts<'a>(
        &'a self,
        change: &'a Change,
        occurrences: &'a Occurrences<'_>,
    ) -> Box<dyn Iterator<Item = Vec<Splice>> + 'a> {
        match change {
            Change::Set {
                key,
                value,
                written,
            } => {
                let written_line = written.as_ref().map(|written| format!("{key}={written}"));
                let Some(slot) = occurrences.last(key).map(|index| &self.slots[index]) else {
                    return Box::new(self.insertions(key, value, None, written_line, occurrences));
                };
                let in_place = self
                    .renderings_for(slot, value, written.as_deref())
                    .map(|text| vec![self.replace_value(slot, text)]);
                // Last resort: an unclosed quote (`A='x`) can be closed by a quote on a later
                // line; moved to the end of the file, nothing follows it.
                let moved = self
                    .insertions(key, value, None, written_line, occurrences)
                    .map(|mut splices| {
                        splices.push(Splice {
                            range: slot.extent.clone(),
                            text: String::new(),
                        });
                        splices
                    });
                Box::new(in_place.chain(moved))
            }
            Change::Remove { key } => Box::new(
                ["", "#"]
                    .into_iter()
                    .map(|placeholder| self.removal(key, placeholder, occurrences)),
            ),
            Change::Insert {
                key,
                value,
                after,
                line,
            } => Box::new(self.insertions(key, value, after.as_deref(), line.clone(), occurrences)),
        }
    }

    /// Ways to write `value` over `slot`'s: in the slot's own quoting, as `written`, in other
    /// quotes if the slot was quoted, then in every style that can hold it.
    fn renderings_for<'a>(
        &self,
        slot: &Slot,
        value: &'a str,
        written: Option<&str>,
    ) -> impl Iterator<Item = String> + use<'a> {
        let style = Style::of(&self.text[slot.token.clone()]);
        // A value that was quoted stays quoted, if in other quotes.
        let quoted = (style != Style::Plain)
            .then(|| candidates_in_context(value).filter(|text| text.starts_with(['\'', '"', '`'])))
            .into_iter()
            .flatten();
        let mut seen = Vec::new();
        render_in(value, style)
            .into_iter()
            .chain(written.map(str::to_owned))
            .chain(quoted)
            .chain(candidates_in_context(value))
            .filter(move |text| {
                let fresh = !seen.contains(text);
                seen.push(text.clone());
                fresh
            })
    }

    /// Replaces the value token; a value that dotenv read from a later line is pulled back
    /// onto the key's line.
    fn replace_value(&self, slot: &Slot, text: String) -> Splice {
        let gap = &self.text[slot.value_start..slot.token.start];
        let start = if gap.contains(['\n', '\r']) {
            slot.value_start
        } else {
            slot.token.start
        };
        Splice {
            range: start..slot.token.end,
            text,
        }
    }

    /// Deletes every occurrence's lines, leaving `placeholder` (plus a line end) in their place
    /// when it is not empty.
    pub(super) fn removal(
        &self,
        key: &str,
        placeholder: &str,
        occurrences: &Occurrences<'_>,
    ) -> Vec<Splice> {
        let newline = self.line_ending();
        occurrences
            .all(key)
            .map(|index| &self.slots[index])
            .map(|slot| Splice {
                range: slot.extent.clone(),
                text: if placeholder.is_empty() {
                    String::new()
                } else {
                    format!("{placeholder}{newline}")
                },
            })
            .collect()
    }

    /// Ways to add `key`: after `after`'s line if it exists, else at the end (else at the top);
    /// written as `line` when given, then as `KEY=value` in each style that can hold the value.
    fn insertions<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        after: Option<&str>,
        line: Option<String>,
        occurrences: &Occurrences<'_>,
    ) -> impl Iterator<Item = Vec<Splice>> + 'a {
        let anchored = after.and_then(|anchor| occurrences.last(anchor));
        let end = self.text.len();
        // Last resort: a malformed last line (`KEY:`) can swallow anything put after it.
        let top = end - self.text.trim_start_matches('\u{feff}').len();
        let places = anchored
            .map(|index| self.slots[index].extent.end)
            .into_iter()
            .chain([end, top]);
        places.flat_map(move |at| {
            let texts = line.clone().into_iter().chain(
                candidates_in_context(value).map(move |rendered| format!("{key}={rendered}")),
            );
            texts.map(move |text| vec![self.insertion(at, &text)])
        })
    }

    /// `text` as a line of its own at `at`, which is a line start or the end of the text.
    fn insertion(&self, at: usize, text: &str) -> Splice {
        let newline = self.line_ending();
        let before = &self.text[..at];
        let at_line_start =
            before.trim_start_matches('\u{feff}').is_empty() || before.ends_with(['\n', '\r']);
        let before = if at_line_start { "" } else { newline };
        Splice {
            range: at..at,
            text: format!("{before}{text}{newline}"),
        }
    }

    /// The file's line ending: that of its first line, `\n` for a file of one line.
    pub(crate) fn line_ending(&self) -> &'static str {
        let bytes = self.text.as_bytes();
        match bytes.iter().position(|&b| matches!(b, b'\n' | b'\r')) {
            Some(at) if bytes[at] == b'\n' => "\n",
            Some(at) if bytes.get(at + 1) == Some(&b'\n') => "\r\n",
            Some(_) => "\r",
            None => "\n",
        }
    }
}
