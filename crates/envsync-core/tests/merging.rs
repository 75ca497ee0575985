//! `merge3` applies theirs' changes to ours' layout and stops at real conflicts.

use envsync_core::dotenv::Document;
use envsync_core::merge::{KeyChanges, Resolution, Side, diff_vars, merge3};
use indexmap::IndexMap;

fn merge(base: &str, ours: &str, theirs: &str) -> envsync_core::merge::Merge {
    merge3(
        &Document::parse(base),
        &Document::parse(ours),
        &Document::parse(theirs),
    )
}

#[test]
fn changes_on_different_keys_both_land_in_ours_layout() {
    let base = "A=1\nB=2\nC=3\n";
    let ours = "# mine\nA='one' # edited here\n\nB=2\nC=3\n";
    let theirs = "A=1\nB=2\nC=\"three\"\n";
    let merged = merge(base, ours, theirs);
    assert!(merged.conflicts.is_empty());
    assert_eq!(
        merged.document.as_str(),
        "# mine\nA='one' # edited here\n\nB=2\nC=three\n"
    );
}

#[test]
fn theirs_edits_keep_ours_quoting() {
    let merged = merge("A='1'\n", "A='1' # c\n", "A=2\n");
    assert_eq!(merged.document.as_str(), "A='2' # c\n");
}

#[test]
fn theirs_deletions_remove_the_lines() {
    let merged = merge(
        "A=1\nB=2\nC=3\n",
        "A=1\n# about B\nB=2 # b\nC=3\n",
        "A=1\nC=3\n",
    );
    assert!(merged.conflicts.is_empty());
    assert_eq!(merged.document.as_str(), "A=1\n# about B\nC=3\n");
}

#[test]
fn theirs_additions_go_after_their_predecessor_as_theirs_wrote_them() {
    let merged = merge(
        "A=1\nB=2\n",
        "B=2\n\nA=1\n",
        "A=1\nNEW=\"x y\" # why\nNEWER=z\nB=2\nFIRST_LAST=f\n",
    );
    assert!(merged.conflicts.is_empty());
    assert_eq!(
        merged.document.as_str(),
        "B=2\nFIRST_LAST=f\n\nA=1\nNEW=\"x y\" # why\nNEWER=z\n"
    );
}

#[test]
fn additions_take_ours_line_endings() {
    let merged = merge("A=1\r\n", "A=1\r\n", "A=1\nB=2\n");
    assert_eq!(merged.document.as_str(), "A=1\r\nB=2\r\n");
}

#[test]
fn the_same_change_on_both_sides_is_not_a_conflict() {
    let merged = merge("A=1\n", "A=2\nB=3\n", "A=2\nB=3\n");
    assert!(merged.conflicts.is_empty());
    assert_eq!(merged.document.as_str(), "A=2\nB=3\n");
}

#[test]
fn different_changes_conflict_and_keep_ours_until_resolved() {
    let merged = merge(
        "A=1\nB=1\nC=1\n",
        "A=2\nC=1\nD=ours\n",
        "A=3\nB=2\nD=theirs\n",
    );
    let keys: Vec<&str> = merged
        .conflicts
        .iter()
        .map(|conflict| conflict.key.as_str())
        .collect();
    // A: edit/edit, D: add/add, B: ours deleted what theirs edited; C: theirs deleted it alone.
    assert_eq!(keys, ["A", "D", "B"]);
    assert_eq!(merged.document.as_str(), "A=2\nD=ours\n");
    let conflict = &merged.conflicts[0];
    assert_eq!(
        (
            conflict.base.as_deref(),
            conflict.value(Side::Ours),
            conflict.value(Side::Theirs)
        ),
        (Some("1"), Some("2"), Some("3"))
    );
    let shown = format!("{merged:?}");
    assert!(shown.contains("\"A\"") && !shown.contains("theirs\""));
}

#[test]
fn resolve_applies_each_choice() {
    let merged = merge(
        "A=1\nB=1\nC=1\n",
        "A=2\nC=2\nD=ours\n",
        "A=3\nB=2\nC=3\nD=theirs\n",
    );
    let resolved = merged
        .resolve(|conflict| match conflict.key.as_str() {
            "A" => Resolution::from(Side::Theirs),
            "B" => Resolution::Theirs,
            "C" => Resolution::Value(None),
            _ => Resolution::Value(Some("mine too".to_owned())),
        })
        .expect("every choice can be written");
    assert_eq!(resolved.as_str(), "A=3\nB=2\nD=mine too\n");
}

#[test]
fn resolve_reports_a_value_that_cannot_be_written() {
    let merged = merge("A=1\n", "A=2\n", "A=3\n");
    let error = merged
        .resolve(|_| Resolution::Value(Some("'\"`#".to_owned())))
        .unwrap_err();
    assert!(error.to_string().contains("`A`"));
}

#[test]
fn without_a_common_ancestor_only_disagreements_conflict() {
    let merged = merge("", "A=1\nB=2\n", "A=1\nB=3\nC=4\n");
    let keys: Vec<&str> = merged
        .conflicts
        .iter()
        .map(|conflict| conflict.key.as_str())
        .collect();
    assert_eq!(keys, ["B"]);
    assert_eq!(merged.document.as_str(), "A=1\nB=2\nC=4\n");
    let resolved = merged
        .resolve(|_| Resolution::Ours)
        .expect("ours is already written");
    assert_eq!(resolved.as_str(), "A=1\nB=2\nC=4\n");
}

#[test]
fn diff_vars_lists_keys_in_a_stable_order() {
    let vars = |pairs: &[(&str, &str)]| -> IndexMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    };
    let old = vars(&[("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")]);
    let new = vars(&[("E", "5"), ("C", "x"), ("A", "1"), ("B", "y")]);
    let changes = diff_vars(&old, &new);
    assert_eq!(
        changes,
        KeyChanges {
            added: vec!["E".to_owned()],
            removed: vec!["D".to_owned()],
            changed: vec!["C".to_owned(), "B".to_owned()],
        }
    );
    assert!(!changes.is_empty());
    assert!(diff_vars(&old, &old).is_empty());
    let json = serde_json::to_string(&changes).expect("serialises");
    assert_eq!(
        json,
        r#"{"added":["E"],"removed":["D"],"changed":["C","B"]}"#
    );
}

/// Removing `B='x'` from ours would let the first `K='` quote swallow the next line, so no
/// edit of ours' layout reads as theirs; with ours unchanged, theirs' own text is the merge.
#[test]
fn an_unchanged_ours_whose_layout_cannot_hold_theirs_takes_theirs_text() {
    let base = "K='\nB='x'\nK=";
    let merged = merge(base, base, "K=\\' ");
    assert!(merged.conflicts.is_empty());
    assert_eq!(merged.document.as_str(), "K=\\' ");
}
