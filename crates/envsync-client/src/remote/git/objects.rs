//! Reading files and directories of a fetched commit through one long-lived
//! `git cat-file --batch`: a command that reads a hundred records starts one process, not a
//! hundred.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use super::cache::Cache;
use crate::error::{ClientError, Result};

pub(super) struct Objects {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

/// What a path of a commit holds.
pub(super) enum Entry {
    File(Vec<u8>),
    /// A directory's entry names.
    Directory(Vec<String>),
}

impl Objects {
    pub(super) fn start(cache: &Cache) -> Result<Self> {
        let mut child = cache
            .git()
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| ClientError::io("running git cat-file", error))?;
        let input = child.stdin.take().expect("piped stdin");
        let output = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Self {
            child,
            input,
            output,
        })
    }

    /// The commit `name` (a ref) points at, as it is now; `None` if there is none.
    pub(super) fn resolve(&mut self, name: &str) -> Result<Option<String>> {
        let header = self.request(name)?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [id, "commit", size] = fields[..] else {
            return Ok(None);
        };
        self.body(size, &header)?;
        Ok(Some(id.to_owned()))
    }

    /// Asks for `name`; the header line cat-file answers.
    fn request(&mut self, name: &str) -> Result<String> {
        let broken = |error: std::io::Error| ClientError::io("reading from git cat-file", error);
        writeln!(self.input, "{name}").map_err(broken)?;
        self.input.flush().map_err(broken)?;
        let mut header = String::new();
        self.output.read_line(&mut header).map_err(broken)?;
        Ok(header)
    }

    /// The object of `size` bytes that follows a header, read with its closing newline.
    fn body(&mut self, size: &str, header: &str) -> Result<Vec<u8>> {
        let size: usize = size
            .parse()
            .map_err(|_| ClientError::Remote(format!("git cat-file said `{}`", header.trim())))?;
        let mut body = vec![0; size + 1];
        self.output
            .read_exact(&mut body)
            .map_err(|error| ClientError::io("reading from git cat-file", error))?;
        body.truncate(size);
        Ok(body)
    }

    /// `path` in `commit` (`""` is its root), or `None` when it holds nothing there.
    pub(super) fn get(&mut self, commit: &str, path: &str) -> Result<Option<Entry>> {
        let header = self.request(&format!("{commit}:{path}"))?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [_, kind, size] = fields[..] else {
            return Ok(None); // `NAME missing` (or ambiguous): nothing at that path
        };
        let body = self.body(size, &header)?;
        Ok(Some(match kind {
            "tree" => Entry::Directory(tree_names(&body)),
            _ => Entry::File(body),
        }))
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The names in a raw tree object: entries of `MODE SP NAME NUL OBJECT-ID`, where the id
/// is 20 bytes: the cache is a SHA-1 repository (git's default), which cannot fetch from
/// a SHA-256 one. envsync's own paths never hold a NUL.
fn tree_names(mut body: &[u8]) -> Vec<String> {
    let id_length = 20;
    let mut names = Vec::new();
    while let Some(space) = body.iter().position(|&byte| byte == b' ')
        && let Some(nul) = body.iter().position(|&byte| byte == 0)
        && space < nul
        && body.len() >= nul + 1 + id_length
    {
        names.push(String::from_utf8_lossy(&body[space + 1..nul]).into_owned());
        body = &body[nul + 1 + id_length..];
    }
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn tree_entries_are_named() {
        let mut tree = b"100644 00000001.json\0".to_vec();
        tree.extend([7u8; 20]);
        tree.extend(b"40000 objects\0");
        tree.extend([0u8; 20]);
        assert_eq!(super::tree_names(&tree), ["00000001.json", "objects"]);
        assert!(super::tree_names(b"100644 cut\0short").is_empty());
    }
}
