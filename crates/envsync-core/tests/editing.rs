//! `set` and `remove` change only what they mean to, and keep the file's look.

use envsync_core::dotenv::{Document, DotenvError, render_value};

fn set(text: &str, key: &str, value: &str) -> String {
    let mut document = Document::parse(text);
    document.set(key, value).expect("the value can be set");
    assert_eq!(document.get(key), Some(value));
    document.into_string()
}

fn removed(text: &str, key: &str) -> String {
    let mut document = Document::parse(text);
    assert!(document.remove(key));
    assert_eq!(document.get(key), None);
    document.into_string()
}

#[test]
fn set_keeps_quoting_export_and_comments() {
    assert_eq!(set("A='x' # c\n", "A", "y"), "A='y' # c\n");
    assert_eq!(set("export A=\"x\"\n", "A", "y z"), "export A=\"y z\"\n");
    assert_eq!(set("A=`x`\nB=2\n", "A", "it's"), "A=`it's`\nB=2\n");
    assert_eq!(set("  A = x # c\n", "A", "y"), "  A = y # c\n");
    assert_eq!(set("A: x\n", "A", "y"), "A: y\n");
}

#[test]
fn set_quotes_only_when_the_value_needs_it() {
    assert_eq!(set("A=x # c\n", "A", "a #b"), "A='a #b' # c\n");
    assert_eq!(set("A='x'\n", "A", "it's"), "A=\"it's\"\n");
    assert_eq!(set("A=x\n", "A", "line\nbreak"), "A=\"line\\nbreak\"\n");
}

#[test]
fn set_keeps_a_multiline_value_multiline() {
    let text = "KEY=\"-----BEGIN-----\nabc\n-----END-----\"\nNEXT=1\n";
    assert_eq!(set(text, "KEY", "one\ntwo"), "KEY=\"one\ntwo\"\nNEXT=1\n");
}

#[test]
fn set_updates_the_occurrence_that_wins() {
    assert_eq!(set("A=1\nA=2\n", "A", "3"), "A=1\nA=3\n");
}

#[test]
fn set_appends_in_the_files_line_ending() {
    assert_eq!(set("A=1", "B", "2"), "A=1\nB=2\n");
    assert_eq!(set("A=1\r\n", "B", "2"), "A=1\r\nB=2\r\n");
    assert_eq!(set("", "B", "x y"), "B=x y\n");
    assert_eq!(
        set("# only a comment\n", "B", "# not a comment"),
        "# only a comment\nB='# not a comment'\n"
    );
}

#[test]
fn set_does_not_let_an_empty_value_pick_up_the_next_line() {
    // `A=` followed by an indented quoted line would read that line as A's value.
    let text = set("A=1\n  'x'\n", "A", "");
    assert_eq!(text, "A=''\n  'x'\n");
}

#[test]
fn set_refuses_bad_keys_and_values_without_echoing_the_value() {
    let mut document = Document::parse("A=1\n");
    let error = document.set("BAD KEY", "s3cret").unwrap_err();
    assert!(matches!(error, DotenvError::InvalidKey { .. }));
    assert!(!error.to_string().contains("s3cret"));
    let error = document.set("A", "'s3cret\" `#").unwrap_err();
    assert_eq!(
        error,
        DotenvError::Unrepresentable {
            key: Some("A".to_owned())
        }
    );
    assert!(error.to_string().contains("`A`") && !error.to_string().contains("s3cret"));
    assert_eq!(document.as_str(), "A=1\n");
}

#[test]
fn remove_takes_every_occurrence_with_its_line() {
    let text = "# header\nA=1\nB=2 # keep\nexport A=\"x\ny\"\nC=3";
    assert_eq!(removed(text, "A"), "# header\nB=2 # keep\nC=3");
    assert_eq!(
        removed(text, "C"),
        "# header\nA=1\nB=2 # keep\nexport A=\"x\ny\"\n"
    );
    assert_eq!(removed("A=1\r\nB=2\r\n", "A"), "B=2\r\n");
    assert!(!Document::parse(text).remove("MISSING"));
}

#[test]
fn remove_does_not_wake_up_a_neighbouring_line() {
    // Without a line between them, `FOO` and `=x` would read as `FOO=x`.
    let text = removed("FOO\nA=1\n=x\n", "A");
    assert_eq!(text, "FOO\n#\n=x\n");
    assert!(Document::parse(&text).vars().is_empty());
}

#[test]
fn debug_output_shows_keys_but_no_values() {
    let document = Document::parse("API_KEY=s3cret\n");
    let shown = format!("{document:?} {:?}", document.entries());
    assert!(shown.contains("API_KEY"));
    assert!(!shown.contains("s3cret"));
}

#[test]
fn render_value_picks_the_plainest_form() {
    let rendered = |value: &str| render_value(value).ok();
    assert_eq!(rendered("plain").as_deref(), Some("plain"));
    assert_eq!(rendered(" padded ").as_deref(), Some("' padded '"));
    assert_eq!(rendered("a#b").as_deref(), Some("'a#b'"));
    assert_eq!(rendered("'quoted'").as_deref(), Some("\"'quoted'\""));
    assert_eq!(rendered("'\"#").as_deref(), Some("`'\"#`"));
    assert_eq!(
        rendered("carriage\rreturn").as_deref(),
        Some("\"carriage\\rreturn\"")
    );
    assert_eq!(rendered("'\"`#"), None);
}

#[test]
fn entries_report_every_occurrence_with_its_line() {
    let document = Document::parse("# c\nA=1\n\nB=\"x\ny\"\nA=2\n");
    let entries: Vec<(&str, String, usize)> = document
        .entries()
        .into_iter()
        .map(|entry| (entry.key, entry.value.into_owned(), entry.line))
        .collect();
    assert_eq!(
        entries,
        [
            ("A", "1".to_owned(), 2),
            ("B", "x\ny".to_owned(), 4),
            ("A", "2".to_owned(), 6)
        ]
    );
    assert_eq!(document.keys(), ["A", "B"]);
    assert_eq!(document.get("A"), Some("2"));
}
