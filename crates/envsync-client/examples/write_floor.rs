//! The floor of envsync's writes to a folder remote (issue 19, item 3): the least a
//! crash-safe, signed, end-to-end encrypted write must do, in a program that does nothing
//! else, so that `scripts/bench-write-floor.sh` can time envsync against it in turn.
//!
//! - `push`: read the identity and the plaintext, read and verify the environment's head
//!   (the new version names its digest), encrypt to the head's readers, sign the new
//!   record, write the ciphertext and the record to the remote so that a crash leaves the
//!   old head or the new one whole (a temporary file, `fsync`, rename or link, the
//!   directory's `fsync`), and keep the new base on this machine the same way.
//! - `put`: the same `push` to an envsync server on loopback, in the two round trips a
//!   push needs (the head with its record, the new version), over one HTTP/1.1
//!   connection written by hand, with the token from `FLOOR_TOKEN`.
//! - `sync`: what merging a teammate's version into a linked file must do: the same as
//!   `push`, with this machine's base and the head decrypted and merged key by key first,
//!   and the merged file written back (atomically and durably, mode 0600).
//! - `reencrypt`: what adding a member to every environment of a project must do: per
//!   environment the same, with the head decrypted and encrypted again to its readers and
//!   the new key (the bases kept on a second thread while the next head is sealed, as
//!   envsync does), then a signed membership entry after the log's last.
//! - `reencrypt-server`: the same on a server: every head the caller may read in one
//!   request, the new versions in one `POST`, then the log and the new entry.
//!
//! What envsync does beyond this (its ledger of what it verified, checks of standing and
//! trust, the key list and change summary, the config) is what the bench weighs.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use envsync_api::{self as api, paths};
use envsync_client::records::{CryptoVerifier, Seal};
use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use envsync_core::merge::merge3;
use envsync_core::records::{MembershipAction, MembershipBody, Pin, Signable, Signed, VersionBody};
use envsync_crypto::{Identity, MemberKey, encrypt};
use serde_json::value::RawValue;

type Failure = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: write_floor push IDENTITY PLAINTEXT REMOTE_ENV_DIR LOCAL_DIR
       write_floor put IDENTITY PLAINTEXT HOST:PORT PROJECT ENV LOCAL_DIR
       write_floor sync IDENTITY LINKED_FILE REMOTE_ENV_DIR LOCAL_DIR
       write_floor reencrypt IDENTITY REMOTE_PROJECT_DIR LOCAL_DIR KEY
       write_floor reencrypt-server IDENTITY HOST:PORT PROJECT LOCAL_DIR KEY";

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["push", identity, plaintext, remote, local] => {
            let identity = read_identity(identity)?;
            let plaintext = fs::read(plaintext)?;
            push(&identity, &plaintext, Path::new(remote), Path::new(local))
        }
        [
            "put",
            identity,
            plaintext,
            server,
            project,
            environment,
            local,
        ] => {
            let identity = read_identity(identity)?;
            let plaintext = fs::read(plaintext)?;
            let mut server = Server::connect(server)?;
            let place = (*project, *environment);
            put(&identity, &plaintext, &mut server, place, Path::new(local))
        }
        ["reencrypt-server", identity, server, project, local, key] => reencrypt_served(
            &read_identity(identity)?,
            &mut Server::connect(server)?,
            project,
            Path::new(local),
            &key.parse()?,
        ),
        ["sync", identity, linked, remote, local] => sync(
            &read_identity(identity)?,
            Path::new(linked),
            Path::new(remote),
            Path::new(local),
        ),
        ["reencrypt", identity, project, local, key] => reencrypt(
            &read_identity(identity)?,
            Path::new(project),
            Path::new(local),
            &key.parse()?,
        ),
        _ => Err(USAGE.into()),
    }
}

fn push(identity: &Identity, plaintext: &[u8], remote: &Path, local: &Path) -> Result<(), Failure> {
    let head = Head::read(remote)?;
    let ciphertext = encrypt(plaintext, &head.readers()?)?;
    let record = head.successor(identity, &ciphertext, None);
    let record_json = record.to_json();
    write_version(remote, &record, &record_json, &ciphertext)?;
    keep_base(local, &record_json, &ciphertext)
}

/// [`push`] to a server, to environment `place.1` of project `place.0`.
fn put(
    identity: &Identity,
    plaintext: &[u8],
    server: &mut Server,
    (project, environment): (&str, &str),
    local: &Path,
) -> Result<(), Failure> {
    let with = api::HeadWith::Record;
    let shown: api::Head = server.get(&paths::head_with(project, environment, with))?;
    let number = shown.head.ok_or("no head")?;
    let head = Head::verify(shown.record.ok_or("no record")?.get().as_bytes())?;
    if head.record.body.number != number {
        return Err("the record is not the head's".into());
    }
    let ciphertext = encrypt(plaintext, &head.readers()?)?;
    let record = head.successor(identity, &ciphertext, None);
    let record_json = record.to_json();
    let pushed = pushed(&record_json, &ciphertext)?;
    let path = paths::version(project, environment, number + 1);
    server.request("PUT", &path, &serde_json::to_vec(&pushed)?)?;
    keep_base(local, &record_json, &ciphertext)
}

/// [`reencrypt`] on a server: the heads in one request, the new versions in one `POST`
/// (their bases then kept on a second thread), then the entry after the log's last.
fn reencrypt_served(
    identity: &Identity,
    server: &mut Server,
    project: &str,
    local: &Path,
    key: &MemberKey,
) -> Result<(), Failure> {
    let shown: api::Heads = server.get(&paths::heads(project))?;
    let (mut sealed, mut heads) = (Vec::new(), BTreeMap::new());
    for shown in shown.heads {
        let head = Head::verify(shown.record.get().as_bytes())?;
        let kept = local.join(&shown.environment);
        let old = match fs::read(kept.join("base.age")) {
            Ok(bytes) if sha256_hex(&bytes) == head.record.body.ciphertext_sha256 => bytes,
            _ => {
                let sha256 = &head.record.body.ciphertext_sha256;
                let path = paths::object(project, &shown.environment, sha256);
                server.request("GET", &path, b"")?
            }
        };
        let (record, ciphertext) = head.to_readers_and(identity, &old, key)?;
        heads.insert(shown.environment, pin(&record));
        sealed.push((kept, record.to_json(), ciphertext));
    }
    let versions = sealed
        .iter()
        .map(|(_, record, ciphertext)| pushed(record, ciphertext));
    let versions = api::PushVersions {
        versions: versions.collect::<Result<_, _>>()?,
    };
    let body = serde_json::to_vec(&versions)?;
    let outcomes: api::PushOutcomes = server.send("POST", &paths::new_versions(project), &body)?;
    if !outcomes.outcomes.iter().all(|outcome| outcome.created) {
        return Err("a version was not created".into());
    }
    let writer = std::thread::spawn(move || -> Result<(), Failure> {
        for (directory, record_json, ciphertext) in sealed {
            keep_base(&directory, &record_json, &ciphertext)?;
        }
        Ok(())
    });
    let log: api::Records = server.get(&paths::members(project))?;
    let last = log.records.last().ok_or("no membership log")?;
    let last = Verified::<MembershipBody>::from_json(last.get().as_bytes())?;
    let entry = adding(identity, last, key, heads);
    let path = paths::member_event(project, entry.body.number);
    server.request("PUT", &path, &entry.to_json())?;
    writer.join().map_err(|_| "the writer thread stopped")?
}

/// The body of a push of `record_json` and `ciphertext`.
fn pushed(record_json: &[u8], ciphertext: &[u8]) -> Result<api::PushVersion, Failure> {
    let record = RawValue::from_string(String::from_utf8(record_json.to_vec())?)?;
    let ciphertext = BASE64.encode(ciphertext);
    Ok(api::PushVersion { record, ciphertext })
}

/// One HTTP/1.1 connection to a server on loopback.
struct Server {
    stream: std::io::BufReader<std::net::TcpStream>,
    host: String,
    token: String,
}

impl Server {
    fn connect(host: &str) -> Result<Self, Failure> {
        let token = std::env::var("FLOOR_TOKEN")?;
        let stream = std::net::TcpStream::connect(host)?;
        stream.set_nodelay(true)?;
        let stream = std::io::BufReader::new(stream);
        Ok(Self {
            stream,
            host: host.to_owned(),
            token,
        })
    }

    fn get<T: serde::de::DeserializeOwned>(&mut self, path: &str) -> Result<T, Failure> {
        self.send("GET", path, b"")
    }

    fn send<T: serde::de::DeserializeOwned>(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<T, Failure> {
        Ok(serde_json::from_slice(&self.request(method, path, body)?)?)
    }

    /// The body of a 2xx answer to `method path`; anything else is a failure.
    fn request(&mut self, method: &str, path: &str, body: &[u8]) -> Result<Vec<u8>, Failure> {
        let (host, token) = (&self.host, &self.token);
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.stream.get_mut().write_all(&request)?;
        let mut status = String::new();
        self.stream.read_line(&mut status)?;
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line)?;
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("content-length:") {
                length = value.trim().parse()?;
            } else if line.starts_with("transfer-encoding:") {
                return Err("the floor reads only answers with a content-length".into());
            }
        }
        let mut answer = vec![0; length];
        self.stream.read_exact(&mut answer)?;
        if !status
            .split(' ')
            .nth(1)
            .is_some_and(|code| code.starts_with('2'))
        {
            return Err(format!("{method} {path}: {}", status.trim()).into());
        }
        Ok(answer)
    }
}

/// Merges the head into `linked` (its changes since this machine's base), then pushes.
fn sync(identity: &Identity, linked: &Path, remote: &Path, local: &Path) -> Result<(), Failure> {
    let head = Head::read(remote)?;
    let theirs = identity.decrypt(&fs::read(head.object(remote))?)?;
    let base = identity.decrypt(&fs::read(local.join("base.age"))?)?;
    let ours = fs::read_to_string(linked)?;
    let document = |bytes: &[u8]| Ok::<_, Failure>(Document::parse(std::str::from_utf8(bytes)?));
    let merged = merge3(
        &document(&base)?,
        &Document::parse(&ours),
        &document(&theirs)?,
    );
    if !merged.conflicts.is_empty() {
        return Err("the floor merges only without conflicts".into());
    }
    let plaintext = merged.document.as_str().as_bytes();
    let ciphertext = encrypt(plaintext, &head.readers()?)?;
    let record = head.successor(identity, &ciphertext, None);
    let record_json = record.to_json();
    write_version(remote, &record, &record_json, &ciphertext)?;
    keep_base(local, &record_json, &ciphertext)?;
    replace(linked, plaintext)
}

/// Every environment of `project` encrypted again to its readers and `key`, then the
/// membership entry that adds `key`.
fn reencrypt(
    identity: &Identity,
    project: &Path,
    local: &Path,
    key: &MemberKey,
) -> Result<(), Failure> {
    let (bases, queue) = mpsc::channel::<(PathBuf, Vec<u8>, Vec<u8>)>();
    let writer = std::thread::spawn(move || -> Result<(), Failure> {
        for (directory, record_json, ciphertext) in queue {
            keep_base(&directory, &record_json, &ciphertext)?;
        }
        Ok(())
    });
    let mut heads = BTreeMap::new();
    for environment in sorted_names(&project.join("environments"))? {
        let remote = project.join("environments").join(&environment);
        let head = Head::read(&remote)?;
        let old = fs::read(head.object(&remote))?;
        let (record, ciphertext) = head.to_readers_and(identity, &old, key)?;
        let record_json = record.to_json();
        write_version(&remote, &record, &record_json, &ciphertext)?;
        heads.insert(environment.clone(), pin(&record));
        bases.send((local.join(&environment), record_json, ciphertext))?;
    }
    add_member(identity, &project.join("members"), key, heads)?;
    drop(bases);
    writer.join().map_err(|_| "the writer thread stopped")?
}

/// The entry after the log's last (verified) that adds `key`, created durably.
fn add_member(
    identity: &Identity,
    members: &Path,
    key: &MemberKey,
    heads: BTreeMap<String, Pin>,
) -> Result<(), Failure> {
    let last = sorted_names(members)?.pop().ok_or("no membership log")?;
    let last = Verified::<MembershipBody>::from_json(&fs::read(members.join(last))?)?;
    let entry = adding(identity, last, key, heads);
    create(
        &members.join(record_name(entry.body.number)),
        &entry.to_json(),
    )
}

/// The signed entry after `last` that adds `key`, with every environment's new head.
fn adding(
    identity: &Identity,
    last: Verified<MembershipBody>,
    key: &MemberKey,
    heads: BTreeMap<String, Pin>,
) -> Signed<MembershipBody> {
    let mut body = last.record.body;
    body.number += 1;
    body.parent_digest = Some(last.digest);
    body.action = MembershipAction::Add;
    body.member = key.to_string();
    body.name = "floor".to_owned();
    body.heads = heads;
    Signed::sign(body, identity)
}

/// An environment's head, verified.
struct Head {
    record: Signed<VersionBody>,
    digest: String,
}

impl Head {
    fn read(remote: &Path) -> Result<Self, Failure> {
        let number: u64 = fs::read_to_string(remote.join("head"))?.trim().parse()?;
        Self::verify(&fs::read(
            remote.join("versions").join(record_name(number)),
        )?)
    }

    fn verify(bytes: &[u8]) -> Result<Self, Failure> {
        let head = Verified::from_json(bytes)?;
        Ok(Self {
            record: head.record,
            digest: head.digest,
        })
    }

    /// Its plaintext (from `ciphertext`) encrypted again to its readers and `key`, and the
    /// signed version after it that holds that.
    fn to_readers_and(
        &self,
        identity: &Identity,
        ciphertext: &[u8],
        key: &MemberKey,
    ) -> Result<(Signed<VersionBody>, Vec<u8>), Failure> {
        let plaintext = identity.decrypt(ciphertext)?;
        let mut readers = self.readers()?;
        if !readers.contains(key) {
            readers.push(key.clone());
        }
        let ciphertext = encrypt(&plaintext, &readers)?;
        Ok((
            self.successor(identity, &ciphertext, Some(&readers)),
            ciphertext,
        ))
    }

    /// Where its ciphertext is on the remote.
    fn object(&self, remote: &Path) -> PathBuf {
        let name = format!("{}.age", self.record.body.ciphertext_sha256);
        remote.join("objects").join(name)
    }

    fn readers(&self) -> Result<Vec<MemberKey>, Failure> {
        let keys = self.record.body.recipients.iter().map(|key| key.parse());
        Ok(keys.collect::<Result<_, _>>()?)
    }

    /// The signed version after this one holding `ciphertext`, for `readers` when they
    /// change.
    fn successor(
        &self,
        identity: &Identity,
        ciphertext: &[u8],
        readers: Option<&[MemberKey]>,
    ) -> Signed<VersionBody> {
        let mut body = self.record.body.clone();
        body.number += 1;
        body.base = Some(self.record.body.number);
        body.parent_digest = Some(self.digest.clone());
        body.ciphertext_sha256 = sha256_hex(ciphertext);
        body.ciphertext_size = ciphertext.len() as u64;
        if let Some(readers) = readers {
            body.recipients = readers.iter().map(ToString::to_string).collect();
        }
        Signed::sign(body, identity)
    }
}

struct Verified<T> {
    record: Signed<T>,
    digest: String,
}

impl<T: Signable> Verified<T> {
    fn from_json(bytes: &[u8]) -> Result<Self, Failure> {
        let record = Signed::<T>::from_json(bytes, "a record")?;
        let digest = record.verify_signature_digest(&CryptoVerifier, "a record")?;
        Ok(Self { record, digest })
    }
}

fn pin(record: &Signed<VersionBody>) -> Pin {
    Pin {
        number: record.body.number,
        digest: record.digest(),
    }
}

fn read_identity(path: &str) -> Result<Identity, Failure> {
    Ok(Identity::parse(&fs::read_to_string(path)?, "floor")?)
}

fn sorted_names(directory: &Path) -> Result<Vec<String>, Failure> {
    let mut names = Vec::new();
    for entry in fs::read_dir(directory)? {
        let name = entry?.file_name().into_string().map_err(|_| "a name")?;
        if !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn record_name(number: u64) -> String {
    format!("{number:08}.json")
}

/// The ciphertext, then the record that names it (create-exclusive), then the head hint
/// (not synced: envsync's is a hint too).
fn write_version(
    remote: &Path,
    record: &Signed<VersionBody>,
    record_json: &[u8],
    ciphertext: &[u8],
) -> Result<(), Failure> {
    let object = format!("{}.age", record.body.ciphertext_sha256);
    replace(&remote.join("objects").join(object), ciphertext)?;
    create(
        &remote
            .join("versions")
            .join(record_name(record.body.number)),
        record_json,
    )?;
    let hint = temp_beside(&remote.join("head"));
    fs::write(&hint, format!("{}\n", record.body.number))?;
    Ok(fs::rename(hint, remote.join("head"))?)
}

/// The new base here: its ciphertext and record, one directory sync for both.
fn keep_base(directory: &Path, record_json: &[u8], ciphertext: &[u8]) -> Result<(), Failure> {
    fs::create_dir_all(directory)?;
    for (name, bytes) in [("base.age", ciphertext), ("base.json", record_json)] {
        let temp = temp_beside(&directory.join(name));
        write_synced(&temp, bytes)?;
        fs::rename(&temp, directory.join(name))?;
    }
    sync_directory(directory)
}

/// Renames a finished temporary file over `path`, then syncs the directory.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let temp = temp_beside(path);
    write_synced(&temp, bytes)?;
    fs::rename(&temp, path)?;
    sync_directory(path.parent().ok_or("a file in a directory")?)
}

/// Links a finished temporary file as `path`, which must not exist yet (of two writers of
/// the same number only one wins), then syncs the directory.
fn create(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let temp = temp_beside(path);
    write_synced(&temp, bytes)?;
    fs::hard_link(&temp, path)?;
    fs::remove_file(&temp)?;
    sync_directory(path.parent().ok_or("a file in a directory")?)
}

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("file");
    path.with_file_name(format!(".floor-{}-{name}", std::process::id()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    Ok(file.sync_all()?)
}

fn sync_directory(path: &Path) -> Result<(), Failure> {
    Ok(File::open(path)?.sync_all()?)
}
