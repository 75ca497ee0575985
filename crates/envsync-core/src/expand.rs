//! `${VAR}` expansion with the semantics of npm `dotenv-expand` 12 (as dotenvx applies it):
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
//! `\$` for a literal dollar; variables already in the process environment win over the
//! file's; a key sees only the keys defined before it. Values written in single quotes are
//! literal, as in a shell and in dotenvx. `$(command)` is never run.

use std::collections::HashSet;

use indexmap::IndexMap;

/// Expansion never loops forever on values that refer to each other through the process
/// environment; past this many substitutions in one value it stops where it is.
const MAX_SUBSTITUTIONS: usize = 10_000;

/// The longest value expansion makes. Linux refuses an environment string longer than
/// 128 KiB (`MAX_ARG_STRLEN`), so no child could receive a longer one; and without a bound a
/// teammate's file of values that each double the last (`B=$A$A`, `C=$B$B`, …) would take
/// every reader's memory. A value that would grow past it is left as written.
pub const MAX_VALUE_BYTES: usize = 128 * 1024;

/// The bytes one value's substitutions may produce in all, so that many substitutions
/// that each stay under [`MAX_VALUE_BYTES`] cannot take quadratic time either.
const MAX_WORK_BYTES: usize = 32 * MAX_VALUE_BYTES;

/// Expands every value of `vars`, in order, in place (a key sees the keys before it, as
/// already expanded). `process_env` looks up the environment the command will inherit;
/// `literal` holds the keys whose values were single-quoted.
pub fn expand(
    mut vars: IndexMap<String, String>,
    literal: &HashSet<String>,
    process_env: &dyn Fn(&str) -> Option<String>,
) -> IndexMap<String, String> {
    for index in 0..vars.len() {
        let (key, value) = vars.get_index(index).expect("index is in range");
        let expanded = match process_env(key).filter(|existing| !existing.is_empty()) {
            Some(existing) if &existing != value => existing,
            // Most values hold no `$`, and so no reference nor `\$` escape: they stay as
            // written (with 1,000 variables that was half of expansion's time).
            _ if !value.contains('$') || literal.contains(key) => continue,
            _ => resolve_escapes(&expand_value(value, process_env, (&vars, index))),
        };
        vars[index] = expanded;
    }
    vars
}

/// A key's value among the first `before` of `vars` (the ones already expanded).
fn defined_before<'a>(
    (vars, before): (&'a IndexMap<String, String>, usize),
    key: &str,
) -> Option<&'a String> {
    vars.get_full(key)
        .filter(|(index, _, _)| *index < before)
        .map(|(_, _, value)| value)
}

fn expand_value(
    value: &str,
    process_env: &dyn Fn(&str) -> Option<String>,
    running: (&IndexMap<String, String>, usize),
) -> String {
    // The process environment shadows the file's keys even when it holds an empty string.
    let lookup = |key: &str| match process_env(key) {
        Some(value) => (!value.is_empty()).then_some(value),
        None => defined_before(running, key)
            .filter(|value| !value.is_empty())
            .cloned(),
    };
    let mut result = value.to_owned();
    let mut seen: HashSet<String> = HashSet::new();
    let mut work = 0;
    for _ in 0..MAX_SUBSTITUTIONS {
        let Some(reference) = find_reference(&result) else {
            break;
        };
        seen.insert(result.clone());
        let (key, operator, argument) = split_expression(reference.expression);
        let key = key.to_owned();
        let replacement = match operator {
            Some(":+") | Some("+") => {
                if lookup(&key).is_some() {
                    argument
                } else {
                    String::new()
                }
            }
            _ => match lookup(&key) {
                Some(found) if !seen.contains(&found) => found,
                _ => argument,
            },
        };
        let template = reference.template.to_owned();
        result = replace_first(&result, &template, &replacement);
        work += result.len();
        if result.len() > MAX_VALUE_BYTES || work > MAX_WORK_BYTES {
            return value.to_owned();
        }
        if defined_before(running, &key) == Some(&result) {
            break;
        }
    }
    result
}

struct Reference<'a> {
    template: &'a str,
    expression: &'a str,
}

/// The first `${…}` (no braces inside) or `$NAME` not preceded by a backslash.
fn find_reference(text: &str) -> Option<Reference<'_>> {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(offset) = text[index..].find('$') {
        let dollar = index + offset;
        index = dollar + 1;
        if dollar > 0 && bytes[dollar - 1] == b'\\' {
            continue;
        }
        let rest = &text[dollar + 1..];
        if let Some(inner) = rest.strip_prefix('{') {
            let end = inner.find(['{', '}']);
            if let Some(end) = end.filter(|&end| end > 0 && inner.as_bytes()[end] == b'}') {
                return Some(Reference {
                    template: &text[dollar..dollar + 2 + end + 1],
                    expression: &inner[..end],
                });
            }
            continue;
        }
        let name_length = rest
            .bytes()
            .enumerate()
            .take_while(|&(position, byte)| {
                byte == b'_'
                    || byte.is_ascii_alphabetic()
                    || (position > 0 && byte.is_ascii_digit())
            })
            .count();
        if name_length > 0 {
            return Some(Reference {
                template: &text[dollar..dollar + 1 + name_length],
                expression: &rest[..name_length],
            });
        }
    }
    None
}

/// `KEY`, `KEY:-default`, `KEY-default`, `KEY:+alt`, `KEY+alt`: the first operator found
/// splits the expression; later occurrences of it stay in the argument.
fn split_expression(expression: &str) -> (&str, Option<&'static str>, String) {
    let first = expression.char_indices().find_map(|(position, c)| match c {
        ':' if expression[position + 1..].starts_with('+') => Some((position, ":+")),
        ':' if expression[position + 1..].starts_with('-') => Some((position, ":-")),
        '+' => Some((position, "+")),
        '-' => Some((position, "-")),
        _ => None,
    });
    match first {
        None => (expression, None, String::new()),
        Some((position, operator)) => {
            let key = &expression[..position];
            let parts: Vec<&str> = expression[position + operator.len()..]
                .split(operator)
                .collect();
            (key, Some(operator), parts.join(operator))
        }
    }
}

/// `String.prototype.replace` with a string pattern: the first occurrence only, and the
/// replacement's `$$`, `$&`, `` $` `` and `$'` patterns honoured.
fn replace_first(haystack: &str, pattern: &str, replacement: &str) -> String {
    let Some(start) = haystack.find(pattern) else {
        return haystack.to_owned();
    };
    let end = start + pattern.len();
    let mut expanded = String::with_capacity(replacement.len());
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            expanded.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                expanded.push('$');
            }
            Some('&') => {
                chars.next();
                expanded.push_str(pattern);
            }
            Some('`') => {
                chars.next();
                expanded.push_str(&haystack[..start]);
            }
            Some('\'') => {
                chars.next();
                expanded.push_str(&haystack[end..]);
            }
            _ => expanded.push('$'),
        }
    }
    format!("{}{expanded}{}", &haystack[..start], &haystack[end..])
}

fn resolve_escapes(value: &str) -> String {
    value.replace("\\$", "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)], env: &[(&str, &str)]) -> IndexMap<String, String> {
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        expand(vars, &HashSet::new(), &lookup)
    }

    #[test]
    fn defaults_alternatives_and_escapes() {
        let out = run(
            &[
                ("A", "one"),
                ("B", "${A}-${MISSING:-fallback}-${MISSING-x}"),
                ("C", "${A:+set}${MISSING:+no}"),
                ("D", "\\$A costs \\$5"),
                ("E", "$A$A"),
            ],
            &[],
        );
        assert_eq!(out["B"], "one-fallback-x");
        assert_eq!(out["C"], "set");
        assert_eq!(out["D"], "$A costs $5");
        assert_eq!(out["E"], "oneone");
    }

    /// "Billion laughs": forty keys that each double the last would make a value of 10 TiB.
    /// Each stays within the bound, and the values that would pass it stay as written.
    #[test]
    fn values_that_double_the_last_stay_bounded() {
        let keys: Vec<String> = (0..40).map(|level| format!("K{level}")).collect();
        let mut pairs = vec![("K0".to_owned(), "0123456789".to_owned())];
        for level in 1..40 {
            let previous = &keys[level - 1];
            pairs.push((keys[level].clone(), format!("${previous}${{{previous}}}")));
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
        let out = run(&pairs, &[]);
        assert!(out.values().all(|value| value.len() <= MAX_VALUE_BYTES));
        assert_eq!(out["K1"], "01234567890123456789");
        assert_eq!(out["K13"].len(), 10 << 13);
        assert_eq!(
            out["K14"], "$K13${K13}",
            "past the bound a value stays as written"
        );
    }

    #[test]
    fn the_process_environment_wins_and_self_references_end() {
        let out = run(
            &[("HOME", "/file"), ("P", "$HOME/bin"), ("S", "$S")],
            &[("HOME", "/real")],
        );
        assert_eq!(out["HOME"], "/real");
        assert_eq!(out["P"], "/real/bin");
        assert_eq!(out["S"], "");
        let loop_env = run(&[("X", "$A")], &[("A", "$B"), ("B", "$A")]);
        assert!(loop_env["X"].len() < 10);
    }

    #[test]
    fn commands_are_never_run() {
        let out = run(&[("X", "$(whoami)")], &[]);
        assert_eq!(out["X"], "$(whoami)");
    }
}
