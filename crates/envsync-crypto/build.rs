//! Writes the EFF large wordlist as one newline-separated string for `include_str!`.
//!
//! The `eff-wordlist` crate holds it as 7,776 `&'static str`s: each is a pointer in the
//! binary's relocated data, which the dynamic loader rewrites (and faults in, page by page)
//! at every start of every command, though only onboarding ever draws a passphrase. One
//! string is one pointer.

fn main() {
    let words: Vec<&str> = eff_wordlist::large::LIST
        .iter()
        .map(|(_, word)| *word)
        .collect();
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let path = std::path::Path::new(&out).join("eff_large_wordlist.txt");
    std::fs::write(path, words.join("\n")).expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=build.rs");
}
