//! Links the `envsync` binary with packed relative relocations (DT_RELR) on Linux with glibc.
//!
//! The binary is position-independent, so it keeps ASLR. The cost is tens of thousands of
//! pointers that the dynamic loader fixes up at every start. As classic RELA entries they
//! took 1.1 MB, which every run read and faulted in before `main`. Packed, the same fix-ups
//! take a few KB.
//! Needs binutils 2.38 and glibc 2.36 (Debian 12, Ubuntu 22.04) where the binary is built and
//! run; BENCHMARKS.md records what it bought.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
