//! The records protocol (format 2) spoken by hand, for tests that call the server's API
//! directly. Each helper signs what a client would sign (a join proof, an invite, a
//! membership entry, an access request, a version) with a real `envsync_crypto::Identity`,
//! so a test can bend one field of an otherwise honest record and see the server refuse it.

use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envsync_client::records::{
    AccessRequestBody, FORMAT, InviteBody, JoinProofBody, MembershipAction, MembershipBody,
    MembershipEvent, Pin, Seal, Signed, VersionBody, VersionRecord,
};
use envsync_core::hash::sha256_hex;
use envsync_core::role::Role;
use envsync_crypto::Identity;
use serde::Serialize;
use serde_json::json;

use super::server::{Api, Reply, Server};

/// Every record's `created_at`: the server does not read it.
const CREATED_AT: &str = "2026-11-23T00:00:00Z";

/// Someone with an identity: the owner, a teammate, a stranger.
pub fn person(name: &str) -> Identity {
    Identity::generate(name)
}

/// The member key (`age1…:…`) as records and joins name it.
pub fn key(identity: &Identity) -> String {
    identity.member_key().to_string()
}

/// The fingerprint that names a member's access request in its URL.
pub fn fingerprint(identity: &Identity) -> String {
    identity.member_key().fingerprint()
}

pub fn unix_now() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_secs()).unwrap()
}

pub fn json_of<T: Serialize>(record: &T) -> String {
    serde_json::to_string(record).unwrap()
}

/// `POST /join` as `signer`, with a proof signed by `signer`: naming someone else's
/// `member_key` is how a test plays a stranger taking over a public key.
pub fn join_reply(api: &Api, code: &str, member_key: &str, signer: &Identity) -> Reply {
    let proof = Signed::sign(
        JoinProofBody {
            format: FORMAT,
            member_key: member_key.to_owned(),
            name: signer.name().to_owned(),
            code_sha256: sha256_hex(code.trim().as_bytes()),
        },
        signer,
    );
    let body = json!({"code": code, "name": signer.name(), "member_key": member_key,
                      "proof": proof.signature});
    api.send("POST", "/api/v1/join", None, &body.to_string())
}

/// Joins as `identity`, which must succeed: its token.
pub fn join(api: &Api, code: &str, identity: &Identity) -> String {
    let reply = join_reply(api, code, &key(identity), identity);
    assert_eq!(reply.status, 201, "join: {}", reply.body);
    reply.json()["token"].as_str().unwrap().to_owned()
}

/// PUTs membership entry `event` where its body says it belongs.
pub fn append(api: &Api, token: &str, event: &MembershipEvent) -> Reply {
    let body = &event.body;
    let path = format!("/api/v1/projects/{}/members/{}", body.project, body.number);
    api.send("PUT", &path, Some(token), &json_of(event))
}

/// An access request to `project`, signed by `member`.
pub fn access_request(project: &str, member: &Identity) -> String {
    let request = Signed::sign(
        AccessRequestBody {
            format: FORMAT,
            project: project.into(),
            member: key(member),
            name: member.name().into(),
            after: 1,
            invite: None,
            created_at: CREATED_AT.into(),
            expires_at: unix_now() + 3600,
        },
        member,
    );
    json_of(&request)
}

/// A project founded by its owner: who owns it, their token and its first entry. The owner
/// is shared because one server owner may found several projects.
pub struct Founded {
    pub project: String,
    pub owner: Rc<Identity>,
    pub token: String,
    pub genesis: MembershipEvent,
}

/// Project `app`, founded by Alice, who joins with the server's setup code.
pub fn owner_and_project(server: &Server, api: &Api) -> Founded {
    let owner = Rc::new(person("Alice"));
    let token = join(api, server.setup_code.as_deref().unwrap(), &owner);
    Founded::found(api, "app", owner, token)
}

impl Founded {
    /// Founds `project`: `owner` (holding `token`, an account that may create projects)
    /// appends the entry that makes them its owner.
    pub fn found(api: &Api, project: &str, owner: Rc<Identity>, token: String) -> Self {
        let body = membership(project, 1, None, &owner, &owner, Role::Owner, None);
        let genesis = Signed::sign(body, &owner);
        let created = append(api, &token, &genesis);
        assert_eq!(created.status, 201, "{}", created.body);
        Self {
            project: project.to_owned(),
            owner,
            token,
            genesis,
        }
    }

    /// Membership entry `number`, signed by the owner, admitting `member`.
    pub fn admission(
        &self,
        number: u64,
        parent: Option<&MembershipEvent>,
        member: &Identity,
        role: Role,
        environments: Option<Vec<String>>,
    ) -> MembershipEvent {
        let body = membership(
            &self.project,
            number,
            parent,
            &self.owner,
            member,
            role,
            environments,
        );
        Signed::sign(body, &self.owner)
    }

    /// Admits `member` with the entry after `previous`, which must be stored: that entry.
    pub fn admit(
        &self,
        api: &Api,
        previous: &MembershipEvent,
        member: &Identity,
        role: Role,
        environments: Option<Vec<String>>,
    ) -> MembershipEvent {
        let number = previous.body.number + 1;
        let event = self.admission(number, Some(previous), member, role, environments);
        let reply = append(api, &self.token, &event);
        assert_eq!(reply.status, 201, "admit {}: {}", member.name(), reply.body);
        event
    }

    /// An owner-signed invite, which must be stored: its code.
    pub fn invite(&self, api: &Api, role: Role, environments: Option<Vec<String>>) -> String {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let code = format!("esi_test_{}_{count}_{}", std::process::id(), unix_now());
        let reply = api.send(
            "POST",
            &format!("/api/v1/projects/{}/invites", self.project),
            Some(&self.token),
            &self.signed_invite(&code, role, environments).to_string(),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        code
    }

    /// The body of `POST /invites` for `code`: its hash and the owner-signed terms.
    pub fn signed_invite(
        &self,
        code: &str,
        role: Role,
        environments: Option<Vec<String>>,
    ) -> serde_json::Value {
        let hash = sha256_hex(code.as_bytes());
        let signed = Signed::sign(
            InviteBody {
                format: FORMAT,
                project: self.project.clone(),
                code_sha256: hash.clone(),
                role,
                environments,
                created_by: key(&self.owner),
                created_at: CREATED_AT.into(),
                expires_at: unix_now() + 3600,
            },
            &self.owner,
        );
        json!({"code_sha256": hash, "signed": signed})
    }
}

/// The body of an entry by `actor` adding `member`.
fn membership(
    project: &str,
    number: u64,
    parent: Option<&MembershipEvent>,
    actor: &Identity,
    member: &Identity,
    role: Role,
    environments: Option<Vec<String>>,
) -> MembershipBody {
    MembershipBody {
        format: FORMAT,
        project: project.into(),
        number,
        parent_digest: parent.map(Signed::digest),
        action: MembershipAction::Add,
        member: key(member),
        name: member.name().into(),
        role,
        environments,
        heads: Default::default(),
        actor: key(actor),
        created_at: CREATED_AT.into(),
    }
}

/// An environment of a project: where a version goes.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub project: &'static str,
    pub environment: &'static str,
}

pub const DEVELOPMENT: Place = Place {
    project: "app",
    environment: "development",
};

/// Version `number` of `place` naming `ciphertext`, signed by `author`, building on `base`
/// and made under the membership entry `base` names (both server and clients check it).
pub fn version(
    place: Place,
    number: u64,
    base: &VersionRecord,
    author: &Identity,
    ciphertext: &[u8],
) -> VersionRecord {
    signed_version(
        place,
        number,
        Some(base),
        &base.body.membership,
        author,
        ciphertext,
    )
}

impl Founded {
    /// Version 1 of `place`, made under the project's first membership entry.
    pub fn first_version(
        &self,
        place: Place,
        author: &Identity,
        ciphertext: &[u8],
    ) -> VersionRecord {
        let pin = Pin {
            number: 1,
            digest: self.genesis.digest(),
        };
        signed_version(place, 1, None, &pin, author, ciphertext)
    }
}

/// Version 1 of `place`, made under the first entry of its project's membership log as
/// `token` reads it from the server.
pub fn first_version_on(
    api: &Api,
    token: &str,
    place: Place,
    author: &Identity,
    ciphertext: &[u8],
) -> VersionRecord {
    let log = api.get(
        &format!("/api/v1/projects/{}/members", place.project),
        Some(token),
    );
    let genesis: MembershipEvent = serde_json::from_value(log.json()["records"][0].clone())
        .expect("the project has a first membership entry");
    let pin = Pin {
        number: 1,
        digest: genesis.digest(),
    };
    signed_version(place, 1, None, &pin, author, ciphertext)
}

fn signed_version(
    place: Place,
    number: u64,
    base: Option<&VersionRecord>,
    membership: &Pin,
    author: &Identity,
    ciphertext: &[u8],
) -> VersionRecord {
    Signed::sign(
        VersionBody {
            format: FORMAT,
            project: place.project.into(),
            environment: place.environment.into(),
            number,
            base: base.map(|base| base.body.number),
            parent_digest: base.map(Signed::digest),
            membership: membership.clone(),
            author: key(author),
            author_name: author.name().into(),
            created_at: CREATED_AT.into(),
            message: String::new(),
            keys: Vec::new(),
            changes: Default::default(),
            recipients: Vec::new(),
            ciphertext_sha256: sha256_hex(ciphertext),
            ciphertext_size: ciphertext.len() as u64,
            dismissed: Vec::new(),
        },
        author,
    )
}

/// The body of a push: the record and its ciphertext.
pub fn push_body(record: &VersionRecord, ciphertext: &[u8]) -> String {
    json!({"record": record, "ciphertext": STANDARD.encode(ciphertext)}).to_string()
}

/// The path a version record is pushed to, from what its body says.
pub fn version_path(record: &VersionRecord) -> String {
    let body = &record.body;
    format!(
        "/api/v1/projects/{}/environments/{}/versions/{}",
        body.project, body.environment, body.number
    )
}

/// POSTs `versions` (records with their ciphertexts) to `project` in one request.
pub fn push_many(
    api: &Api,
    token: &str,
    project: &str,
    versions: &[(&VersionRecord, &[u8])],
) -> Reply {
    let versions: Vec<serde_json::Value> = versions
        .iter()
        .map(|(record, ciphertext)| {
            json!({"record": record, "ciphertext": STANDARD.encode(ciphertext)})
        })
        .collect();
    let body = json!({ "versions": versions }).to_string();
    api.send(
        "POST",
        &format!("/api/v1/projects/{project}/versions"),
        Some(token),
        &body,
    )
}

/// PUTs `record` with `ciphertext` where its body says it belongs.
pub fn push(api: &Api, token: &str, record: &VersionRecord, ciphertext: &[u8]) -> Reply {
    let path = version_path(record);
    api.send("PUT", &path, Some(token), &push_body(record, ciphertext))
}
