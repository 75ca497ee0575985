//! Crash-safe file writes (a temporary file in the same directory, fsync, rename), and whole-file
//! reads in as few system calls as a file's size allows.

use std::cell::RefCell;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use envsync_core::hash::Sha256Writer;
use zeroize::Zeroize;

use crate::error::{ClientError, Result};

/// Writes `bytes` to `path` atomically; readers see the old file or the new one, never a mix.
/// The file gets mode 0600 because envsync's local files are secrets or key material.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with_mode(path, bytes, 0o600, Durability::Synced)
}

/// A file of [`write_atomic_each`]: its path and bytes, and maybe a file that already holds
/// those bytes on disk (the ledger's copy of a version's record or ciphertext), which it
/// then shares as a hard link instead of a second copy.
pub struct NewFile<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub same_as: Option<&'a Path>,
}

/// Writes each of `files` as [`write_atomic`] does, but syncs each directory once, after the
/// last rename, instead of once per file. A crash midway may keep any of them old or new,
/// never torn; once this returns, all of them are on disk.
pub fn write_atomic_each(files: &[NewFile<'_>]) -> Result<()> {
    let mut finished = Vec::with_capacity(files.len());
    for file in files {
        let shared = file
            .same_as
            .and_then(|source| linked_temp_file(file.path, source, file.bytes));
        let temp = match shared {
            Some(linked) => linked.into_temp_path(),
            None => {
                let (_, written) =
                    finished_temp_file(file.path, file.bytes, 0o600, Durability::Synced)?;
                written.into_temp_path()
            }
        };
        finished.push((file.path, temp));
    }
    let mut parents: Vec<PathBuf> = Vec::new();
    for (path, temp) in finished {
        put_in_place(temp, path)?;
        let parent = parent_of(path);
        if !parents.contains(&parent) {
            parents.push(parent);
        }
    }
    parents.iter().for_each(|parent| sync_directory(parent));
    Ok(())
}

/// A hard link to `source` beside `path`, if `source` is a private file (0600) holding
/// exactly `bytes`: the same content as [`finished_temp_file`] would write, already on disk
/// (it was synced when it was written), so it costs no new inode, no data and no `fsync`.
/// `None` when it cannot be (another filesystem, no hard links, other content): the caller
/// writes the bytes instead.
fn linked_temp_file(
    path: &Path,
    source: &Path,
    bytes: &[u8],
) -> Option<tempfile::NamedTempFile<()>> {
    let metadata = fs::symlink_metadata(source).ok()?;
    if !metadata.is_file()
        || metadata.len() != bytes.len() as u64
        || !is_private(&metadata)
        || read_whole(source).ok()? != bytes
    {
        return None;
    }
    let parent = parent_of(path);
    fs::create_dir_all(&parent).ok()?;
    tempfile::Builder::new()
        .prefix(".envsync-")
        .make_in(&parent, |temp| fs::hard_link(source, temp))
        .ok()
}

#[cfg(unix)]
fn is_private(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o777 == 0o600
}

#[cfg(not(unix))]
fn is_private(_: &fs::Metadata) -> bool {
    false
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Like [`write_atomic`] for files teammates must read too (ciphertext on a shared folder).
pub fn write_atomic_shared(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with_mode(path, bytes, 0o644, Durability::Synced)
}

/// Whether a write waits for the disk: every write does but a hint's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    Synced,
    Unsynced,
}

fn write_atomic_with_mode(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    durability: Durability,
) -> Result<()> {
    let (parent, temp) = finished_temp_file(path, bytes, mode, durability)?;
    put_in_place(temp.into_temp_path(), path)?;
    if durability == Durability::Synced {
        sync_directory(&parent);
    }
    Ok(())
}

/// Replaces a file that is only ever a hint (a remote's newest version number): atomic, so a
/// reader sees the old hint or the new one, but not synced, because a hint lost in a crash
/// costs the next reader a few probes, not data, and a push should not wait on the disk for it.
pub fn write_hint(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with_mode(path, bytes, 0o644, Durability::Unsynced)
}

/// Creates `path` with `bytes` only if nothing is there yet, atomically: the content is
/// complete before the name appears (hard link of a finished temp file), so a racing reader
/// never sees a torn file and of two racing writers exactly one wins.
/// Returns `Ok(false)` when the path already existed.
pub fn create_exclusive(path: &Path, bytes: &[u8]) -> Result<bool> {
    let (parent, temp) = finished_temp_file(path, bytes, 0o644, Durability::Synced)?;
    match fs::hard_link(temp.path(), path) {
        Ok(()) => {
            sync_directory(&parent);
            Ok(true)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(ClientError::io(
            format!("writing {}", path.display()),
            error,
        )),
    }
}

/// A temporary file beside `path` holding `bytes`, with `mode`, flushed to disk when
/// `durability` asks: the first half of every atomic write.
fn finished_temp_file(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    durability: Durability,
) -> Result<(PathBuf, tempfile::NamedTempFile)> {
    let parent = parent_of(path);
    fs::create_dir_all(&parent)
        .map_err(|error| ClientError::io(format!("creating {}", parent.display()), error))?;
    let context = |error| ClientError::io(format!("writing {}", path.display()), error);
    let mut temp = tempfile::Builder::new()
        .prefix(".envsync-")
        .tempfile_in(&parent)
        .map_err(context)?;
    set_mode(temp.as_file(), mode).map_err(context)?;
    temp.write_all(bytes).map_err(context)?;
    if durability == Durability::Synced {
        temp.as_file().sync_all().map_err(context)?;
    }
    Ok((parent, temp))
}

/// Renames a finished temporary file to `path`: the second half of every atomic write, before
/// its directory is synced.
fn put_in_place(temp: tempfile::TempPath, path: &Path) -> Result<()> {
    temp.persist(path)
        .map_err(|error| ClientError::io(format!("writing {}", path.display()), error.error))
}

/// Reads a file, `None` if it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    read_optional_with(path, read_open)
}

/// What reading `path` gave, `None` if the file does not exist.
pub fn found<T>(path: &Path, read: std::io::Result<T>) -> Result<Option<T>> {
    match read {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ClientError::io(
            format!("reading {}", path.display()),
            error,
        )),
    }
}

/// What the first read of a file takes before its size is asked: envsync's own JSON files
/// (states, pins, records of a couple of hundred keys) fit.
const FIRST_READ: usize = 8 * 1024;

/// Reads a whole file. `std::fs::read` asks for the size first (an `fstat`), one system call
/// in five for the small files envsync reads by the dozen (`status` reads five per
/// environment); here only a file the first read did not finish is asked its size, so a
/// large one costs one call more than `fs::read` and a small one one call less.
fn read_whole(path: &Path) -> std::io::Result<Vec<u8>> {
    read_open(&mut fs::File::open(path)?)
}

/// Reads an open file to its end, as [`read_whole`] does.
pub fn read_open(file: &mut fs::File) -> std::io::Result<Vec<u8>> {
    let first = read_chunk(file)?;
    read_after(file, first)
}

thread_local! {
    /// Where reads of up to [`FIRST_READ`] bytes land: zeroed once per thread rather than
    /// once per file, which for the small files `status` reads by the hundred cost more
    /// instructions than reading them.
    static CHUNK: RefCell<Box<[u8]>> = RefCell::new(vec![0; FIRST_READ].into_boxed_slice());
}

/// One `read` of up to [`FIRST_READ`] bytes, returned exactly sized. What it read is wiped
/// from the per-thread buffer at once: it may be a linked file's plaintext.
fn read_chunk(file: &mut fs::File) -> std::io::Result<Vec<u8>> {
    CHUNK.with_borrow_mut(|buffer| {
        let read = read_once(file, buffer)?;
        let bytes = buffer[..read].to_vec();
        buffer[..read].zeroize();
        Ok(bytes)
    })
}

/// The whole of `file`, whose first read gave `bytes`: after a short first read one more
/// read usually finds the end; a full one goes on in [`read_rest`].
fn read_after(file: &mut fs::File, mut bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if bytes.len() < FIRST_READ {
        let more = read_chunk(file)?;
        if more.is_empty() {
            return Ok(bytes);
        }
        bytes.extend_from_slice(&more);
    }
    let filled = bytes.len();
    read_rest(file, &mut bytes, filled)?;
    Ok(bytes)
}

/// What [`read_unless_link`] found at a path.
pub enum Unlinked<T> {
    /// What reading the file gave.
    File(T),
    Missing,
    /// A symbolic link, not opened; also every answer where links cannot be told apart at
    /// the open (not Unix).
    Link,
}

/// Reads the file at `path` with `read` (such as [`read_open`] or [`sha256_open`]) unless
/// its last component is a symbolic link, which is then not followed (`O_NOFOLLOW`): one
/// open where a check of the path (`lstat`) and then an open were two, and nothing can swap
/// a link in between them.
#[cfg(unix)]
pub fn read_unless_link<T>(
    path: &Path,
    read: impl FnOnce(&mut fs::File) -> std::io::Result<T>,
) -> Result<Unlinked<T>> {
    use std::os::unix::fs::OpenOptionsExt;
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path);
    let reading = |error| ClientError::io(format!("reading {}", path.display()), error);
    match opened {
        Ok(mut file) => read(&mut file).map(Unlinked::File).map_err(reading),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Unlinked::Missing),
        Err(error) if error.raw_os_error() == Some(nix::libc::ELOOP) => Ok(Unlinked::Link),
        Err(error) => Err(reading(error)),
    }
}

#[cfg(not(unix))]
pub fn read_unless_link<T>(
    _path: &Path,
    _read: impl FnOnce(&mut fs::File) -> std::io::Result<T>,
) -> Result<Unlinked<T>> {
    Ok(Unlinked::Link)
}

/// Reads the file at `path` with `read`, `None` if it does not exist.
pub fn read_optional_with<T>(
    path: &Path,
    read: impl FnOnce(&mut fs::File) -> std::io::Result<T>,
) -> Result<Option<T>> {
    found(
        path,
        fs::File::open(path).and_then(|mut file| read(&mut file)),
    )
}

/// The SHA-256 of an open file's bytes, read a chunk at a time into the per-thread buffer
/// and wiped from it after each: no copy of the file (a linked file's plaintext) is made.
pub fn sha256_open(file: &mut fs::File) -> std::io::Result<String> {
    CHUNK.with_borrow_mut(|buffer| {
        let mut hasher = Sha256Writer::default();
        loop {
            let read = read_once(file, buffer)?;
            if read == 0 {
                return Ok(hasher.hex());
            }
            hasher.update(&buffer[..read]);
            buffer[..read].zeroize();
        }
    })
}

/// Reads a file whose bytes tell whether they are whole (a JSON document, which parses only
/// when complete), `None` if it does not exist. A file that fits [`FIRST_READ`] costs one
/// `read`, not two: where its bytes parse, the read that would only find the end is skipped.
/// On a local filesystem a short read of a regular file is its end; where it is not (some
/// network and FUSE filesystems), the bytes do not parse, the rest is read, and `parse` has
/// the last word on the whole file.
pub fn read_parsed<T, E>(
    path: &Path,
    parse: impl Fn(&[u8]) -> std::result::Result<T, E>,
) -> Result<Option<std::result::Result<T, E>>> {
    found(
        path,
        fs::File::open(path).and_then(|file| read_parsed_open(file, parse)),
    )
}

/// [`read_parsed`] of a file already open.
pub fn read_parsed_open<T, E>(
    mut file: fs::File,
    parse: impl Fn(&[u8]) -> std::result::Result<T, E>,
) -> std::io::Result<std::result::Result<T, E>> {
    let first = read_chunk(&mut file)?;
    if first.len() < FIRST_READ
        && let Ok(parsed) = parse(&first)
    {
        return Ok(Ok(parsed));
    }
    let bytes = read_after(&mut file, first)?;
    Ok(parse(&bytes))
}

/// One `read` into `buffer` (again only if a signal interrupted it); the bytes it gave.
fn read_once(file: &mut fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match file.read(buffer) {
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Reads `file` to its end into `bytes`, whose first `filled` bytes are already read, and
/// leaves `bytes` holding exactly the file. std's `read_to_end` on a `File` would ask the
/// size and the position again; here the size is asked only once the buffer is full.
fn read_rest(file: &mut fs::File, bytes: &mut Vec<u8>, mut filled: usize) -> std::io::Result<()> {
    loop {
        if filled == bytes.len() {
            // Room for one byte past the size, so the read that finds the end has some.
            let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
            bytes.resize(size.saturating_add(1).max(filled * 2), 0);
        }
        match read_once(file, &mut bytes[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    bytes.truncate(filled);
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Makes a rename durable; best effort, as not every filesystem supports it.
fn sync_directory(directory: &Path) {
    if let Ok(handle) = fs::File::open(directory) {
        let _ = handle.sync_all();
    }
}

/// Reads a JSON file of local state, `None` when missing; `corrupt` says what a damaged one
/// means for the user (its error message is built from the path and the parse error).
pub fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    corrupt: impl FnOnce(&Path, serde_json::Error) -> crate::error::ClientError,
) -> Result<Option<T>> {
    match read_parsed(path, |bytes| serde_json::from_slice(bytes))? {
        None => Ok(None),
        Some(parsed) => parsed.map(Some).map_err(|error| corrupt(path, error)),
    }
}

/// Writes local state as pretty JSON with a final newline, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("local state always serialises");
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_restricts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/.env");
        write_atomic(&path, b"A=1\n").unwrap();
        write_atomic(&path, b"A=2\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"A=2\n");
        assert_owner_only(&path);
    }

    /// Local files are secrets or key material: mode 0600.
    fn assert_owner_only(path: &Path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }

    #[test]
    fn create_exclusive_wins_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v/000001.json");
        assert!(create_exclusive(&path, b"first").unwrap());
        assert!(!create_exclusive(&path, b"second").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(read_optional(&dir.path().join("missing")).unwrap(), None);
    }

    #[test]
    fn atomic_writes_of_several_files_replace_each() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (
            dir.path().join("e/base.age"),
            dir.path().join("e/base.json"),
        );
        write_atomic(&first, b"old").unwrap();
        let file = |path, bytes| NewFile {
            path,
            bytes,
            same_as: None,
        };
        write_atomic_each(&[file(&first, b"new age"), file(&second, b"new json")]).unwrap();
        assert_eq!(fs::read(&first).unwrap(), b"new age");
        assert_eq!(fs::read(&second).unwrap(), b"new json");
        let names: Vec<_> = fs::read_dir(dir.path().join("e"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(names.len(), 2, "no temporary file is left behind");
        assert_owner_only(&first);
        assert_owner_only(&second);
    }

    /// A file is shared with its `same_as` only when that is a private file holding the same
    /// bytes; otherwise the bytes are written. Either way the result reads the same.
    #[cfg(unix)]
    #[test]
    fn a_file_shares_the_inode_of_an_identical_private_copy_and_only_that() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("ledger/objects/abc");
        write_atomic(&kept, b"ciphertext").unwrap();
        let inode = |path: &Path| fs::metadata(path).unwrap().ino();
        let base = dir.path().join("ws/base.age");
        let write = |bytes: &[u8]| {
            let file = NewFile {
                path: &base,
                bytes,
                same_as: Some(&kept),
            };
            write_atomic_each(&[file]).unwrap();
            assert_eq!(fs::read(&base).unwrap(), bytes);
            assert_owner_only(&base);
        };
        write(b"ciphertext");
        assert_eq!(inode(&base), inode(&kept), "the same bytes: one inode");
        write(b"other bytes");
        assert_ne!(inode(&base), inode(&kept), "other bytes: written");
        assert_eq!(
            fs::read(&kept).unwrap(),
            b"ciphertext",
            "the copy is untouched"
        );
        fs::set_permissions(&kept, fs::Permissions::from_mode(0o644)).unwrap();
        write(b"ciphertext");
        assert_ne!(
            inode(&base),
            inode(&kept),
            "a copy others can read is not shared"
        );
        fs::remove_file(&kept).unwrap();
        write(b"ciphertext");
        let names: Vec<_> = fs::read_dir(dir.path().join("ws"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn whole_files_of_every_size_around_the_first_read() {
        let dir = tempfile::tempdir().unwrap();
        for size in [
            0,
            1,
            FIRST_READ - 1,
            FIRST_READ,
            FIRST_READ + 1,
            3 * FIRST_READ + 7,
        ] {
            let bytes: Vec<u8> = (0..size).map(|index| (index % 251) as u8).collect();
            let path = dir.path().join(format!("file-{size}"));
            fs::write(&path, &bytes).unwrap();
            assert_eq!(
                read_optional(&path).unwrap().as_deref(),
                Some(&bytes[..]),
                "{size}"
            );
        }
    }

    /// A JSON document of any size around the first read parses whole; one that does not
    /// parse is read to its end before `parse` says so (its error names the end of the
    /// file, not the end of the first read); a missing file is `None`.
    #[test]
    fn parsed_files_of_every_size_around_the_first_read() {
        let dir = tempfile::tempdir().unwrap();
        for size in [
            FIRST_READ - 100,
            FIRST_READ - 2,
            FIRST_READ + 1,
            3 * FIRST_READ,
        ] {
            // `["aaa…"]` of `size` bytes.
            let document = format!("[\"{}\"]", "a".repeat(size - 4));
            let path = dir.path().join(format!("document-{size}.json"));
            fs::write(&path, &document).unwrap();
            let parsed: Vec<String> = read_parsed(&path, |bytes| serde_json::from_slice(bytes))
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(parsed[0].len(), size - 4, "{size}");
            let broken = &document[..size - 1];
            fs::write(&path, broken).unwrap();
            let error = read_parsed::<Vec<String>, _>(&path, |bytes| serde_json::from_slice(bytes))
                .unwrap()
                .unwrap()
                .unwrap_err();
            assert_eq!(
                error.column(),
                size - 1,
                "{size}: the error is at the file's end"
            );
        }
        let missing = dir.path().join("missing.json");
        assert!(
            read_parsed::<Vec<String>, _>(&missing, |bytes| serde_json::from_slice(bytes))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_file_hashed_in_chunks_has_the_digest_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for size in [
            0,
            1,
            FIRST_READ - 1,
            FIRST_READ,
            FIRST_READ + 1,
            7 * FIRST_READ + 3,
        ] {
            let bytes: Vec<u8> = (0..size).map(|index| (index % 251) as u8).collect();
            let path = dir.path().join(format!("file-{size}"));
            fs::write(&path, &bytes).unwrap();
            let digest = read_optional_with(&path, sha256_open).unwrap().unwrap();
            assert_eq!(digest, envsync_core::hash::sha256_hex(&bytes), "{size}");
            assert!(CHUNK.with_borrow(|buffer| buffer.iter().all(|&byte| byte == 0)));
        }
        let missing = dir.path().join("missing");
        assert!(read_optional_with(&missing, sha256_open).unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_file_is_read_unless_it_is_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        fs::write(&file, "A=1\n").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let read = read_unless_link(&file, read_open).unwrap();
        assert!(matches!(read, Unlinked::File(bytes) if bytes == b"A=1\n"));
        assert!(matches!(
            read_unless_link(&link, read_open).unwrap(),
            Unlinked::Link
        ));
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(matches!(
            read_unless_link(&dangling, read_open).unwrap(),
            Unlinked::Link
        ));
        let missing = dir.path().join("missing");
        assert!(matches!(
            read_unless_link(&missing, read_open).unwrap(),
            Unlinked::Missing
        ));
    }
}
