//! Embeds the web dashboard's built assets (`dashboard/dist`, made by
//! `dashboard/scripts/build.sh`) into the server binary, so `envsync server` serves the
//! dashboard with nothing else installed. Without a build (no Node on this machine) the
//! list is empty and the server serves a page saying how to build it.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = Path::new(&manifest).join("../../dashboard/dist");
    // A directory is scanned as a whole: any rebuilt asset re-runs this script. The
    // directory is in git (empty but for its .gitignore), so it always exists.
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files: Vec<_> = std::fs::read_dir(&dist)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && content_type(path).is_some())
        .collect();
    files.sort();
    let built = files.iter().any(|path| path.ends_with("index.html"));
    let mut code = String::from("/// (file name, content type, bytes) of each built asset.\n");
    code.push_str("pub static ASSETS: &[(&str, &str, &[u8])] = &[\n");
    for path in files.iter().filter(|_| built) {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let kind = content_type(path).unwrap_or_default();
        let absolute = path.canonicalize().expect("a listed file exists");
        writeln!(
            code,
            "    ({name:?}, {kind:?}, include_bytes!({absolute:?})),"
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("dashboard_assets.rs"), code)
        .expect("writing the dashboard's asset list");
}

/// The types served; anything else in `dist` (source maps, stray files) is left out.
fn content_type(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()? {
        "html" => Some("text/html; charset=utf-8"),
        "js" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "svg" => Some("image/svg+xml"),
        "png" => Some("image/png"),
        _ => None,
    }
}
