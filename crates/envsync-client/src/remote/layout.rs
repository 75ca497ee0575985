//! Where the folder and bucket remotes keep each record: one layout both follow, as path
//! segments below their root (a directory, or a bucket URL's key prefix), so that a folder
//! copied into a bucket, or a bucket synced down to a folder, still reads the same.
//!
//! ```text
//! PROJECT/members/00000001.json                   membership log (create-exclusive)
//! PROJECT/requests/FINGERPRINT.json               access requests
//! PROJECT/environments/ENV/versions/00000001.json version records (create-exclusive)
//! PROJECT/environments/ENV/objects/SHA256.age     ciphertexts: plain age files
//! PROJECT/environments/ENV/head                   the newest version number, a hint
//! PROJECT/environments/ENV/publications/00000001.json
//!                                                 publication records (create-exclusive)
//! ```

use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::records::{AccessRequest, MembershipEvent, PublicationRecord};
use crate::remote::Publications;

/// Path segments below a remote's root.
pub(crate) type Segments = Vec<String>;

/// `00000001.json`: numbered records sort by name in any listing.
pub(crate) fn record_name(number: u64) -> String {
    format!("{number:08}.json")
}

/// The number a record file is named for; `None` for any other name.
pub(crate) fn record_number(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".json")?;
    if stem.is_empty() || !stem.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// The numbers of a directory's record files, in order; other names are ignored.
pub(crate) fn record_numbers(names: impl IntoIterator<Item = String>) -> Vec<u64> {
    let mut numbers: Vec<u64> = names
        .into_iter()
        .filter_map(|name| record_number(&name))
        .collect();
    numbers.sort_unstable();
    numbers
}

/// The environments among the entries of [`environments`], in order: a name envsync
/// could not have written is someone else's file, not an environment.
pub(crate) fn environment_names(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|name| envsync_core::config::is_valid_name(name))
        .collect();
    names.sort();
    names
}

/// An access request file's request; `None` for a garbled one, which is someone else's
/// problem: skipped rather than blocking everyone.
pub(crate) fn access_request(bytes: &[u8], what: &str) -> Option<AccessRequest> {
    AccessRequest::from_json(bytes, what).ok()
}

/// Requests oldest first, as every remote lists them.
pub(crate) fn sort_requests(requests: &mut [AccessRequest]) {
    requests.sort_by(|a, b| a.body.created_at.cmp(&b.body.created_at));
}

/// The project's membership log directory.
pub(crate) fn members(project: &str) -> Segments {
    segments(&[project, "members"])
}

pub(crate) fn member_entry(project: &str, number: u64) -> Segments {
    segments(&[project, "members", &record_name(number)])
}

/// The project's access request directory.
pub(crate) fn requests(project: &str) -> Segments {
    segments(&[project, "requests"])
}

pub(crate) fn request(project: &str, fingerprint: &str) -> Segments {
    segments(&[project, "requests", &format!("{fingerprint}.json")])
}

/// The directory holding one directory per environment.
pub(crate) fn environments(project: &str) -> Segments {
    segments(&[project, "environments"])
}

pub(crate) fn version(place: &EnvironmentRef, number: u64) -> Segments {
    in_environment(place, &["versions", &record_name(number)])
}

/// A ciphertext, named by its SHA-256. A digest that is not 64 hex digits is refused
/// before it becomes a path: a forged record naming `../../x` reads nothing else.
pub(crate) fn object(place: &EnvironmentRef, sha256: &str) -> Result<Segments> {
    if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(ClientError::Integrity(format!(
            "malformed ciphertext digest `{sha256}`"
        )));
    }
    Ok(in_environment(
        place,
        &["objects", &format!("{sha256}.age")],
    ))
}

/// The environment's publication records (`envsync publish`).
pub(crate) fn publications(place: &EnvironmentRef) -> Segments {
    in_environment(place, &["publications"])
}

pub(crate) fn publication(place: &EnvironmentRef, number: u64) -> Segments {
    in_environment(place, &["publications", &record_name(number)])
}

/// The publication log from each numbered file's bytes: a garbled record, or one that
/// claims another number than its file's, is left out (it only ever informs), but its
/// number still counts as taken.
pub(crate) fn publication_log(
    place: &EnvironmentRef,
    files: impl IntoIterator<Item = (u64, Vec<u8>)>,
) -> Publications {
    let mut log = Publications::default();
    for (number, bytes) in files {
        log.last_number = log.last_number.max(number);
        let what = format!("publication record {number} of {place}");
        if let Ok(record) = PublicationRecord::from_json(&bytes, &what)
            && record.body.number == number
        {
            log.records.push(record);
        }
    }
    log.records.sort_by_key(|record| record.body.number);
    log
}

/// The membership log from entry `first` on, read entry by entry up to the first number
/// `read` does not find, so that a remote reads what is new without listing a directory
/// that grows with the log. Entries are numbered without gaps; what lies past a gap (a
/// remote that lost or hides an entry) is met by the whole-log read the engine falls back to.
pub(crate) fn membership_from(
    project: &str,
    first: u64,
    mut read: impl FnMut(&Segments) -> Result<Option<Vec<u8>>>,
) -> Result<Vec<MembershipEvent>> {
    let mut events = Vec::new();
    for number in first.max(1).. {
        let Some(bytes) = read(&member_entry(project, number))? else {
            break;
        };
        events.push(member_event(project, number, &bytes)?);
    }
    Ok(events)
}

/// The whole membership log: the entries `numbers` (as a listing found them), each read
/// with `read_required(entry, what)`, which fails for an entry the listing named but the
/// remote does not hold.
pub(crate) fn membership(
    project: &str,
    numbers: Vec<u64>,
    mut read_required: impl FnMut(&Segments, &str) -> Result<Vec<u8>>,
) -> Result<Vec<MembershipEvent>> {
    let mut events = Vec::with_capacity(numbers.len());
    for number in numbers {
        let what = member_what(project, number);
        let bytes = read_required(&member_entry(project, number), &what)?;
        events.push(member_event(project, number, &bytes)?);
    }
    Ok(events)
}

/// Membership entry `number` of `project`, parsed from the bytes its file holds.
fn member_event(project: &str, number: u64, bytes: &[u8]) -> Result<MembershipEvent> {
    Ok(MembershipEvent::from_json(
        bytes,
        &member_what(project, number),
    )?)
}

/// How errors name membership entry `number` of `project`.
fn member_what(project: &str, number: u64) -> String {
    format!("membership entry {number} of {project}")
}

/// The hint of the newest version number (see [`super::head`]).
pub(crate) fn head_hint(place: &EnvironmentRef) -> Segments {
    in_environment(place, &["head"])
}

fn in_environment(place: &EnvironmentRef, parts: &[&str]) -> Segments {
    let mut all = segments(&[&place.project, "environments", &place.environment]);
    all.extend(parts.iter().map(|part| (*part).to_owned()));
    all
}

fn segments(parts: &[&str]) -> Segments {
    parts.iter().map(|part| (*part).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_numbered_files_and_objects_are_checked_digests() {
        assert_eq!(record_name(7), "00000007.json");
        assert_eq!(record_number("00000007.json"), Some(7));
        for other in ["head", ".json", "7a.json", "00000007.age"] {
            assert_eq!(record_number(other), None, "{other}");
        }
        let place = EnvironmentRef::new("app", "dev");
        assert_eq!(
            version(&place, 2),
            ["app", "environments", "dev", "versions", "00000002.json"]
        );
        let digest = "ab".repeat(32);
        assert_eq!(
            object(&place, &digest).unwrap().last().unwrap(),
            &format!("{digest}.age")
        );
        assert!(object(&place, "../../etc").is_err());
        assert_eq!(request("app", "F1"), ["app", "requests", "F1.json"]);
    }
}
