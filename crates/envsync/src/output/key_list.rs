//! Key names in a line of text, shortened when there are many: a removal from a project of
//! 20 environments × 1,000 variables names 20,000 secrets to rotate, which `--json` lists in
//! full and a person reads better as a count and the first few.

/// At most this many key names in one line of text.
const NAMES_IN_A_LINE: usize = 8;

/// Whether [`key_list`] leaves names out of a list of `count`.
pub fn is_shortened(count: usize) -> bool {
    count > NAMES_IN_A_LINE
}

/// Where a person finds every name a shortened list left out.
pub const FULL_LIST_HINT: &str = "`envsync status --json` lists every secret to rotate";

/// `A, B, C`, or the first [`NAMES_IN_A_LINE`] names and `and N more`.
pub fn key_list<S: AsRef<str>>(keys: &[S]) -> String {
    let shown: Vec<&str> = keys
        .iter()
        .take(NAMES_IN_A_LINE)
        .map(AsRef::as_ref)
        .collect();
    let mut line = shown.join(", ");
    if keys.len() > shown.len() {
        line.push_str(&format!(" and {} more", keys.len() - shown.len()));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_list_is_written_out_and_a_long_one_counted() {
        assert_eq!(key_list(&["A"]), "A");
        assert_eq!(key_list(&["A", "B"]), "A, B");
        let many: Vec<String> = (1..=1000).map(|index| format!("K{index}")).collect();
        assert_eq!(
            key_list(&many),
            "K1, K2, K3, K4, K5, K6, K7, K8 and 992 more"
        );
        assert_eq!(key_list(&many[..8]), "K1, K2, K3, K4, K5, K6, K7, K8");
    }
}
