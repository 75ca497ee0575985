//! `warnings()` finds what dotenv silently skips, and never repeats a value.

use envsync_core::dotenv::Document;
use proptest::prelude::*;

fn warnings(text: &str) -> Vec<String> {
    Document::parse(text)
        .warnings()
        .into_iter()
        .map(|warning| warning.to_string())
        .collect()
}

#[test]
fn clean_files_have_no_warnings() {
    let text =
        "# comment\n\n  # indented comment\nA=1\nexport B='two' # note\nC=\"x\ny\"\nD: 4\r\n";
    assert_eq!(warnings(text), Vec::<String>::new());
}

#[test]
fn skipped_lines_say_why() {
    assert_eq!(
        warnings("no_value_var\n"),
        ["1:1: ignored by dotenv: no `=` after `no_value_var`"]
    );
    assert_eq!(
        warnings("A=1\nlol$wut\n"),
        ["2:4: ignored by dotenv: invalid character `$` in key"]
    );
    assert_eq!(
        warnings("INVALID LINE\n"),
        ["1:1: ignored by dotenv: expected `=` after `INVALID`"]
    );
    assert_eq!(
        warnings("KEY:value\n"),
        ["1:1: ignored by dotenv: `:` after `KEY` needs a space after it; prefer `=`"]
    );
    assert_eq!(
        warnings("  'a'=b\n"),
        ["1:3: ignored by dotenv: invalid character `'` in key"]
    );
    assert_eq!(
        warnings("=x\n"),
        ["1:1: ignored by dotenv: `=` with no key before it"]
    );
    assert_eq!(
        warnings("export OPTION_A\n"),
        ["1:1: ignored by dotenv: no `=` after `OPTION_A`"]
    );
}

#[test]
fn duplicates_name_the_line_that_wins() {
    assert_eq!(
        warnings("A=1\nB=2\nA=3\nA=4\n"),
        [
            "3:1: `A` is set again here (first on line 1); line 4 wins",
            "4:1: `A` is set again here (first on line 1); this line wins",
        ]
    );
}

#[test]
fn unclosed_quotes_and_the_lines_they_meant_to_hold() {
    let text = "KEY=\"-----BEGIN-----\nMIIBsecretMaterialXyZ\n-----END-----\nNEXT=1\n";
    let found = warnings(text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].starts_with("1:5: `KEY`: the opening `\"` is never closed"),
        "{found:?}"
    );
    assert!(
        found[1]
            .starts_with("2:1: ignored by dotenv: looks like part of the value of `KEY` (line 1)")
    );
    assert!(found[2].starts_with("3:1: ignored by dotenv: looks like part of the value of `KEY`"));
    assert!(found.iter().all(|message| !message.contains("MIIB")));
    assert_eq!(
        warnings("A='foo'bar\n"),
        ["1:3: `A`: text follows the closing `'`, so dotenv keeps the quotes in the value"]
    );
}

#[test]
fn entries_stitched_across_lines_are_pointed_out() {
    assert_eq!(
        warnings("SPLIT\n=value\n"),
        ["1:1: `SPLIT` has no `=` on its line; dotenv joins it to the `=` on line 2"]
    );
    assert_eq!(
        warnings("A=\n  'x'\n"),
        ["1:1: `A` has no value on its line; dotenv reads its value from line 2"]
    );
}

#[test]
fn columns_count_characters_and_lines_count_every_line_ending() {
    assert_eq!(
        warnings("A=1\r\nB=2\ré$x\n"),
        ["3:1: ignored by dotenv: invalid character U+00E9 in key"]
    );
    assert_eq!(
        warnings("\u{feff}bad line\n"),
        ["1:1: ignored by dotenv: expected `=` after `bad`"]
    );
}

#[test]
fn a_skipped_word_that_looks_like_secret_material_is_not_quoted() {
    assert_eq!(
        warnings("aGVsbG9Xb3JsZA\n"),
        ["1:1: ignored by dotenv: no `=` after the key"]
    );
}

const FRAGMENTS: &[&str] = &[
    "A",
    "b",
    "=",
    ": ",
    " ",
    "\n",
    "\r\n",
    "#",
    "'",
    "\"",
    "`",
    "\\",
    "export ",
    "$",
    "s3cr3t!",
    "=s3cr3t",
    "'s3cr3t",
    "\"s3cr3t",
    "\ns3cr3t!",
];

proptest! {
    #[test]
    fn messages_never_contain_values(parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..30)) {
        let text = parts.concat();
        for warning in Document::parse(&text).warnings() {
            prop_assert!(!warning.message.contains("s3cr3t"), "{:?} in {:?}", warning.message, text);
            prop_assert!(warning.line >= 1 && warning.column >= 1);
        }
    }
}
