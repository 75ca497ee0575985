//! What a commit would add: the staged files of a git repository, read with git's plumbing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use envsync_client::ClientError;

/// `git ARGS…` in `directory`: its output, or its own message as a one-line error.
pub fn git(directory: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new("git")
        .args(args)
        .current_dir(directory)
        .output()
        .map_err(|error| ClientError::Io {
            what: "running git".into(),
            source: error,
        })?;
    if !output.status.success() {
        return Err(ClientError::Input(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .into());
    }
    Ok(output.stdout)
}

/// Staged files that add or change content, with their staged bytes: one `git diff` for the
/// list and one `git cat-file --batch` for all the blobs, however many files are staged.
pub fn staged_files(directory: &Path) -> Result<Vec<(PathBuf, String, Vec<u8>)>> {
    let top = String::from_utf8_lossy(&git(directory, &["rev-parse", "--show-toplevel"])?)
        .trim()
        .to_owned();
    let top = PathBuf::from(top);
    let raw = git(
        &top,
        &[
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-abbrev",
            "--diff-filter=ACMR",
        ],
    )?;
    let staged = parse_raw_diff(&raw)?;
    let blobs: Vec<&str> = staged.iter().map(|(_, blob)| blob.as_str()).collect();
    let contents = read_blobs(&top, &blobs)?;
    Ok(staged
        .into_iter()
        .zip(contents)
        .map(|((name, _), bytes)| (top.join(&name), name, bytes))
        .collect())
}

/// `(path, staged blob id)` from `git diff --raw -z` output. Submodules (mode 160000) have
/// no content of their own here and are skipped. Anything unexpected is an error: the guard
/// must not pass a commit it could not read.
fn parse_raw_diff(raw: &[u8]) -> Result<Vec<(String, String)>> {
    let unexpected = || ClientError::Input("git diff --raw: unexpected output".into());
    let mut fields = raw.split(|&byte| byte == 0);
    let mut staged = Vec::new();
    while let Some(header) = fields.next().filter(|field| !field.is_empty()) {
        let header = std::str::from_utf8(header).map_err(|_| unexpected())?;
        // `:OLD_MODE NEW_MODE OLD_BLOB NEW_BLOB STATUS`
        let parts: Vec<&str> = header
            .strip_prefix(':')
            .ok_or_else(unexpected)?
            .split(' ')
            .collect();
        let [_, new_mode, _, new_blob, status] = parts[..] else {
            return Err(unexpected().into());
        };
        let mut next_path = || {
            fields
                .next()
                .filter(|path| !path.is_empty())
                .ok_or_else(unexpected)
        };
        if status.starts_with(['R', 'C']) {
            next_path()?;
        }
        let path = next_path()?;
        if new_mode != "160000" {
            staged.push((
                String::from_utf8_lossy(path).into_owned(),
                new_blob.to_owned(),
            ));
        }
    }
    Ok(staged)
}

/// The content of each blob, in order, from one `git cat-file --batch`.
fn read_blobs(top: &Path, blobs: &[&str]) -> Result<Vec<Vec<u8>>> {
    use std::io::{BufRead, BufReader, Read, Write};

    if blobs.is_empty() {
        return Ok(Vec::new());
    }
    let io_error = |source| ClientError::Io {
        what: "reading staged files with git cat-file".into(),
        source,
    };
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(io_error)?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(ClientError::Input("git cat-file: no pipes".into()).into());
    };
    // Written from its own thread: git answers while it reads, and with many files both
    // pipes could fill at once.
    let request: String = blobs.iter().map(|blob| format!("{blob}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut reader = BufReader::new(stdout);
    let mut contents = Vec::with_capacity(blobs.len());
    for blob in blobs {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(io_error)?;
        // `BLOB blob SIZE`, or `BLOB missing`.
        let size = header
            .trim_end()
            .strip_prefix(*blob)
            .and_then(|rest| rest.strip_prefix(" blob "))
            .and_then(|size| size.parse::<usize>().ok())
            .ok_or_else(|| {
                ClientError::Input(format!(
                    "git cat-file: cannot read staged blob {blob} (`{}`)",
                    header.trim_end()
                ))
            })?;
        let mut bytes = vec![0; size + 1];
        reader.read_exact(&mut bytes).map_err(io_error)?;
        bytes.pop();
        contents.push(bytes);
    }
    drop(reader);
    let _ = writer.join();
    let _ = child.wait();
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "0000000000000000000000000000000000000000";
    const NEW: &str = "1111111111111111111111111111111111111111";

    #[test]
    fn raw_diff_gives_each_staged_path_with_its_new_blob() {
        let raw = format!(
            ":000000 100644 {OLD} {NEW} A\0src/new file.js\0\
             :100644 100644 {OLD} {NEW} R087\0old/name.env\0new/name.env\0\
             :000000 160000 {OLD} {NEW} A\0vendor/submodule\0\
             :100644 100755 {OLD} {NEW} M\0run.sh\0"
        );
        let staged = parse_raw_diff(raw.as_bytes()).unwrap();
        let paths: Vec<&str> = staged.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["src/new file.js", "new/name.env", "run.sh"]);
        assert!(staged.iter().all(|(_, blob)| blob == NEW));
        assert!(parse_raw_diff(b"").unwrap().is_empty());
        assert!(parse_raw_diff(b"garbage\0path\0").is_err());
        assert!(parse_raw_diff(format!(":100644 100644 {OLD} {NEW} M\0").as_bytes()).is_err());
    }
}
