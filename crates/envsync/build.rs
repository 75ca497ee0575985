//! Link settings of the `envsync` binary on Linux with glibc, each measured (BENCHMARKS.md,
//! issue 19).
//!
//! - Packed relative relocations (DT_RELR). The binary is position-independent, so it keeps
//!   ASLR. The cost is tens of thousands of pointers that the dynamic loader fixes up at
//!   every start. As classic RELA entries they took 1.1 MB, which every run read and
//!   faulted in before `main`. Packed, the same fix-ups take a few KB. Needs binutils 2.38
//!   and glibc 2.36 (Debian 12, Ubuntu 22.04) where the binary is built and run.
//! - In release builds linked by Rust's own LLD, the functions that the everyday commands
//!   run are placed side by side (`startup-symbols.txt`, written by
//!   `scripts/startup-symbols.sh`), so that a start faults in a few windows of code instead
//!   of pages spread over the whole image. A name the linker does not find (the list is
//!   older than a dependency) is skipped: a stale list slows start-up back down and never
//!   fails or changes a build. Another linker (a configured one, or Rust before 1.90, which
//!   links x86_64 Linux with the system's) may not know the option, so it is not given one.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=startup-symbols.txt");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let symbols = Path::new(&manifest).join("startup-symbols.txt");
    if std::env::var("PROFILE").as_deref() == Ok("release")
        && symbols.is_file()
        && links_with_rusts_lld()
    {
        // `-Xlinker`, not `-Wl,`, which would split a path with a comma in it.
        println!("cargo:rustc-link-arg-bins=-Xlinker");
        println!(
            "cargo:rustc-link-arg-bins=--symbol-ordering-file={}",
            symbols.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether the binary is linked by the LLD that Rust ships: x86_64 Linux from Rust 1.90 on,
/// with no linker of the user's choosing (a configured one, or flags that pick one).
fn links_with_rusts_lld() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !flags.contains("linker")
        && !flags.contains("link-self-contained")
        && !flags.contains("fuse-ld")
        && rustc_minor_version().is_some_and(|minor| minor >= 90)
}

/// The `N` of the compiler's `rustc 1.N.x`.
fn rustc_minor_version() -> Option<u32> {
    let rustc = std::env::var_os("RUSTC")?;
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    version
        .split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}
