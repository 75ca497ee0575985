//! How fast the core is on a large file: parsing and serialising 10,000 keys, and a three-way
//! merge of two 10,000-key files that each edited about 1% of the keys.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use envsync_core::dotenv::Document;
use envsync_core::merge::merge3;

const KEYS: usize = 10_000;

/// A realistic file: a comment and a blank line every 50 keys, and values in every style.
fn file(keys: usize, edited: impl Fn(usize) -> bool, tag: &str) -> String {
    let mut text = String::with_capacity(keys * 48);
    for index in 0..keys {
        if index % 50 == 0 {
            text.push_str(&format!("\n# section {}\n", index / 50));
        }
        let value = if edited(index) {
            format!("{tag}-{index}")
        } else {
            format!("value-{index}-abcdefghijklmnop")
        };
        let line = match index % 7 {
            0 => format!("SERVICE_KEY_{index:05}='{value}'\n"),
            1 => format!("export SERVICE_KEY_{index:05}=\"{value}\" # inline note\n"),
            2 => format!("SERVICE_KEY_{index:05}=\"{value}\\nsecond line\"\n"),
            _ => format!("SERVICE_KEY_{index:05}={value}\n"),
        };
        text.push_str(&line);
    }
    text
}

fn parse_and_serialise(criterion: &mut Criterion) {
    let text = file(KEYS, |_| false, "");
    criterion.bench_function("parse 10k keys", |bench| {
        bench.iter(|| Document::parse(black_box(&text)))
    });
    criterion.bench_function("parse + into_string 10k keys", |bench| {
        bench.iter(|| Document::parse(black_box(&text)).into_string())
    });
    let document = Document::parse(&text);
    criterion.bench_function("as_str + vars 10k keys", |bench| {
        bench.iter(|| (black_box(&document).as_str().len(), document.vars().len()))
    });
}

fn merge(criterion: &mut Criterion) {
    let base = Document::parse(&file(KEYS, |_| false, ""));
    let ours = Document::parse(&file(KEYS, |index| index % 100 == 3, "ours"));
    let theirs = Document::parse(&file(KEYS, |index| index % 100 == 57, "theirs"));
    let merged = merge3(&base, &ours, &theirs);
    assert!(merged.conflicts.is_empty());
    criterion.bench_function("merge3 10k keys, 1% edits each side", |bench| {
        bench.iter(|| merge3(black_box(&base), black_box(&ours), black_box(&theirs)))
    });
}

criterion_group!(benches, parse_and_serialise, merge);
criterion_main!(benches);
