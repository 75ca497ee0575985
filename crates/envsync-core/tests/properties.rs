//! The laws the rest of envsync relies on: parsing is lossless, rendering and setting read
//! back, and merging with an unchanged side changes nothing.

use envsync_core::dotenv::{Document, render_value};
use envsync_core::merge::merge3;
use proptest::prelude::*;

/// Pieces that exercise every corner of dotenv's grammar when strung together at random.
const FRAGMENTS: &[&str] = &[
    "KEY",
    "A",
    "b",
    "x",
    "_",
    ".",
    "-",
    "1",
    "export",
    "export ",
    "=",
    ":",
    ": ",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "#",
    " # c",
    "'",
    "\"",
    "`",
    "\\",
    "\\n",
    "\\'",
    "$",
    "{",
    "\u{a0}",
    "\u{2028}",
    "\u{feff}",
    "\u{85}",
    "é",
    "😀",
    "A=1\n",
    "B='x'\n",
    "C=\"y z\"\n",
    "D=`w`\n",
    "E=\n",
    "F= \n",
    "G=v # c\n",
    "H=\"a\nb\"\n",
    "K=",
    "k: v",
    "[",
];

fn fragments() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.concat())
}

/// A file as people write them: entries in every quoting style, comments, blank lines.
fn tidy_document() -> impl Strategy<Value = String> {
    let key = "[A-Z][A-Z0-9_]{0,6}";
    let line = prop_oneof![
        (key, "[a-z0-9]{0,8}").prop_map(|(key, value)| format!("{key}={value}")),
        (key, "[a-z #]{0,8}").prop_map(|(key, value)| format!("{key}='{value}'")),
        (key, "[a-z #']{0,8}").prop_map(|(key, value)| format!("export {key}=\"{value}\" # note")),
        (key, "[a-z]{0,4}\n[a-z]{0,4}").prop_map(|(key, value)| format!("{key}=\"{value}\"")),
        "# [a-z =]{0,10}".prop_map(String::from),
        Just(String::new()),
    ];
    (prop::collection::vec(line, 0..12), any::<bool>())
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

/// Printable ASCII with spaces, `#`, `=` and newlines that some quoting can hold: not using all
/// three quote kinds (a literal `\n` or `\r` rules out `"` as well, since dotenv expands it
/// there), and not ending in `\` (which would escape any closing quote).
fn ordinary_value() -> impl Strategy<Value = String> {
    "[ -~\n]{0,24}".prop_filter("no quoting can hold it", |value| {
        let double_unusable = value.contains('"') || value.contains("\\n") || value.contains("\\r");
        let unusable = [value.contains('\''), double_unusable, value.contains('`')];
        unusable.contains(&false) && !value.ends_with('\\')
    })
}

fn any_document() -> impl Strategy<Value = String> {
    prop_oneof![fragments(), tidy_document()]
}

/// `default` cases, or `PROPTEST_CASES` for a longer run.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(default))
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn parsing_is_lossless(text in prop_oneof![fragments(), tidy_document(), any::<String>()]) {
        let document = Document::parse(&text);
        prop_assert_eq!(document.as_str(), text.as_str());
        prop_assert_eq!(document.clone().into_string(), text);
    }

    #[test]
    fn rendered_values_read_back(value in any::<String>()) {
        if let Ok(rendered) = render_value(&value) {
            let document = Document::parse(&format!("KEY={rendered}\n"));
            prop_assert_eq!(document.get("KEY"), Some(value.as_str()));
        }
    }

    #[test]
    fn ordinary_values_render_and_read_back(value in ordinary_value(), text in tidy_document()) {
        let rendered = render_value(&value);
        prop_assert!(rendered.is_ok(), "no rendering for an ordinary value");
        let line = format!("the_key={}", rendered.unwrap_or_default());
        for context in [format!("{line}\n"), format!("{text}\n{line}\n{text}")] {
            let document = Document::parse(&context);
            prop_assert_eq!(document.get("the_key"), Some(value.as_str()));
        }
    }

    #[test]
    fn set_reads_back_and_leaves_other_keys_alone(
        text in any_document(),
        key in "[A-Za-z_][A-Za-z0-9_]{0,3}",
        value in prop_oneof![ordinary_value(), any::<String>()],
    ) {
        let mut document = Document::parse(&text);
        let before = document.vars();
        if document.set(&key, &value).is_ok() {
            prop_assert_eq!(document.get(&key), Some(value.as_str()));
            let mut expected = before;
            expected.insert(key.clone(), value.clone());
            prop_assert_eq!(document.vars(), expected);
        }
    }

    #[test]
    fn set_succeeds_on_tidy_files(text in tidy_document(), key in "[A-Z][A-Z0-9_]{0,3}", value in ordinary_value()) {
        let mut document = Document::parse(&text);
        prop_assert!(document.set(&key, &value).is_ok());
        prop_assert_eq!(document.get(&key), Some(value.as_str()));
    }

    #[test]
    fn remove_drops_only_the_key(text in any_document()) {
        let document = Document::parse(&text);
        for key in document.keys() {
            let mut edited = document.clone();
            prop_assert!(edited.remove(key));
            prop_assert_eq!(edited.get(key), None);
        }
    }

    #[test]
    fn merging_an_unchanged_theirs_keeps_ours(base in any_document(), ours in any_document()) {
        let (base, ours) = (Document::parse(&base), Document::parse(&ours));
        let merge = merge3(&base, &ours, &base);
        prop_assert!(merge.conflicts.is_empty());
        prop_assert_eq!(merge.document.as_str(), ours.as_str());
    }

    #[test]
    fn merging_an_unchanged_ours_takes_theirs(base in any_document(), theirs in any_document()) {
        let (base, theirs) = (Document::parse(&base), Document::parse(&theirs));
        let merge = merge3(&base, &base, &theirs);
        prop_assert!(merge.conflicts.is_empty(), "{:?}", merge.conflicts);
        prop_assert_eq!(merge.document.vars(), theirs.vars());
    }

    #[test]
    fn the_same_change_on_both_sides_merges_cleanly(base in any_document(), both in any_document()) {
        let (base, both) = (Document::parse(&base), Document::parse(&both));
        let merge = merge3(&base, &both, &both);
        prop_assert!(merge.conflicts.is_empty());
        prop_assert_eq!(merge.document.vars(), both.vars());
    }
}
