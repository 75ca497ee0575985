//! Where the branch files versions and ciphertexts: the layout's paths ([`layout`]) one
//! directory deeper. git keeps a directory as one tree object that lists every entry; each
//! commit that changes the directory writes the whole tree again, and each lookup through it
//! reads the whole tree. With 10,000 versions the flat `versions/` and `objects/` trees were
//! 1.4 MB together: every push added that much to the remote and to each cache, and each
//! lookup took 1.6 ms instead of 0.03. Filed by the thousand (versions) and by the first two
//! hex digits of the digest (ciphertexts, as git files its own objects), no tree a lookup
//! reads lists more than about a thousand entries until there are a million versions.
//!
//! A branch written before then keeps its records at the flat paths, and an upgraded
//! machine must still find them: a version read only where new ones are filed would look
//! missing, and its number would be taken again. So each record has two places to look,
//! the filed one first; new records are only ever written there.

use crate::environment_ref::EnvironmentRef;
use crate::error::Result;
use crate::remote::layout::{self, Segments};

/// A record's path on the branch, and where a branch written before filing keeps it.
pub(super) struct Filed {
    pub(super) path: Segments,
    pub(super) flat: Segments,
}

impl Filed {
    /// Both places, the filed one first.
    pub(super) fn places(&self) -> [&Segments; 2] {
        [&self.path, &self.flat]
    }
}

/// `…/versions/00012/00012345.json`: versions by the thousand.
pub(super) fn version(place: &EnvironmentRef, number: u64) -> Filed {
    file_under(
        layout::version(place, number),
        format!("{:05}", number / 1000),
    )
}

/// `…/objects/ab/ab…ef.age`: ciphertexts by their digest's first two hex digits (the
/// layout has already refused a digest that is not 64 of them).
pub(super) fn object(place: &EnvironmentRef, sha256: &str) -> Result<Filed> {
    let flat = layout::object(place, sha256)?;
    Ok(file_under(flat, sha256[..2].to_owned()))
}

/// `flat` with `directory` inserted before its last segment.
fn file_under(flat: Segments, directory: String) -> Filed {
    let mut path = flat.clone();
    path.insert(path.len() - 1, directory);
    Filed { path, flat }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_filed_by_the_thousand_and_objects_by_digest() {
        let place = EnvironmentRef::new("app", "dev");
        let filed = version(&place, 12_345);
        assert_eq!(
            filed.path.join("/"),
            "app/environments/dev/versions/00012/00012345.json"
        );
        assert_eq!(
            filed.flat.join("/"),
            "app/environments/dev/versions/00012345.json"
        );
        assert_eq!(version(&place, 999).path[4], "00000");
        assert_eq!(version(&place, 1000).path[4], "00001");
        let digest = format!("ab{}", "c".repeat(62));
        let filed = object(&place, &digest).unwrap();
        assert_eq!(filed.path[4..], ["ab".to_owned(), format!("{digest}.age")]);
        assert_eq!(filed.flat[4], format!("{digest}.age"));
        assert!(object(&place, "../../etc").is_err());
    }
}
