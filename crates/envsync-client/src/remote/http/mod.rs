//! An envsync server as a remote. The server stores what it is sent and answers what it
//! stores; like every remote it is untrusted, so everything it returns is verified by the
//! engine exactly as a folder's files are. The server adds what a folder cannot: accounts,
//! roles (a reader's push is refused before it is stored) and an audit log, and live
//! events over a WebSocket, so that `envsync watch` hears of a push as it happens.

mod events;
mod reconnect;
#[cfg(test)]
mod tests;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envsync_api::{
    Head, HeadWith, Heads, InviteList, MAX_BODY_BYTES, MAX_PUSHED_VERSIONS, PushOutcomes,
    PushVersion, PushVersions, Records, paths,
};
use ureq::http::Method;

use crate::credentials::CredentialsConfig;
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::records::{
    AccessRequest, MembershipEvent, PublicationRecord, Seal, Signed, SignedInvite, VersionRecord,
};
use crate::remote::{Publications, ReadHead, Remote, ShownHead, ShownHeads, SignedInvites, layout};
use crate::server_api::{ApiClient, Subject};

pub use events::{EventSource, EventStream};
pub use reconnect::{Live, Subscription};

pub struct HttpRemote {
    api: ApiClient,
}

impl HttpRemote {
    /// Opens `http(s)://host[:port]` with the token `credentials` hold for it. Makes no
    /// request; a missing token surfaces on first use as an actionable error.
    pub fn open(spec: &str, credentials: &CredentialsConfig) -> Result<Self> {
        let token = credentials.token_for(spec)?;
        Ok(Self::new(ApiClient::new(spec, token)?))
    }

    pub fn new(api: ApiClient) -> Self {
        Self { api }
    }

    fn get(&self, path: &str, subject: Subject<'_>) -> Result<Vec<u8>> {
        let reply = self.api.call(Method::GET, path, None)?;
        Ok(self.api.require_status(reply, &[200], subject)?.body)
    }

    /// A `GET` whose 404 means "there is none" rather than a failure.
    fn get_optional(&self, path: &str, subject: Subject<'_>) -> Result<Option<Vec<u8>>> {
        let reply = self.api.call(Method::GET, path, None)?;
        if reply.status == 404 {
            return Ok(None);
        }
        Ok(Some(self.api.require_status(reply, &[200], subject)?.body))
    }

    /// A create-only `PUT`: `true` when created, `false` when the number was taken.
    fn create(&self, path: &str, body: Vec<u8>, project: &str) -> Result<bool> {
        let reply = self.api.call(Method::PUT, path, Some(body))?;
        match reply.status {
            200 | 201 | 204 => Ok(true),
            409 => Ok(false),
            _ => Err(self.api.refusal(&reply, Subject::Project(project))),
        }
    }

    /// A read that answers for many (every head, every invite), or `None` when the server
    /// refuses it (403) or lacks it (404): the caller then reads each alone, and those reads
    /// refuse, or not, as they always did.
    fn listing<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        project: &str,
    ) -> Result<Option<T>> {
        let reply = self.api.call(Method::GET, path, None)?;
        if matches!(reply.status, 403 | 404) {
            return Ok(None);
        }
        let reply = self
            .api
            .require_status(reply, &[200], Subject::Project(project))?;
        self.api.decode(&reply.body).map(Some)
    }

    /// One `POST …/versions` of `batch`: whether each was created, or `None` when the
    /// request failed or its answer does not name each version, in order.
    fn create_batch(&self, batch: Vec<Pushed<'_>>) -> Option<Vec<bool>> {
        let project = &batch.first()?.record.body.project;
        let sent: Vec<(&str, u64)> = batch
            .iter()
            .map(|pushed| {
                (
                    pushed.record.body.environment.as_str(),
                    pushed.record.body.number,
                )
            })
            .collect();
        let path = paths::new_versions(project);
        let versions = batch.into_iter().map(|pushed| pushed.push).collect();
        let body =
            serde_json::to_vec(&PushVersions { versions }).expect("push bodies always serialise");
        let reply = self.api.call(Method::POST, &path, Some(body)).ok()?;
        if reply.status != 200 {
            return None;
        }
        let answer: PushOutcomes = self.api.decode(&reply.body).ok()?;
        let named = answer
            .outcomes
            .iter()
            .map(|outcome| (outcome.environment.as_str(), outcome.number));
        named.eq(sent).then(|| {
            answer
                .outcomes
                .iter()
                .map(|outcome| outcome.created)
                .collect()
        })
    }

    /// A list of signed records; each one is parsed here and verified by the engine.
    fn records(&self, path: &str, project: &str) -> Result<Records> {
        let body = self.get(path, Subject::Project(project))?;
        self.api.decode(&body)
    }
}

impl Remote for HttpRemote {
    fn describe(&self) -> String {
        self.api.describe()
    }

    fn environments(&self, project: &str) -> Result<Vec<String>> {
        let body = self.get(&paths::environments(project), Subject::Project(project))?;
        let listed: envsync_api::Environments = self.api.decode(&body)?;
        Ok(listed.environments)
    }

    fn signed_invite(&self, project: &str, code_sha256: &str) -> Result<Option<SignedInvite>> {
        let what = format!("the invite {code_sha256} of {project}");
        let subject = Subject::Stored {
            project,
            what: &what,
        };
        match self.get_optional(&paths::invite(project, code_sha256), subject)? {
            None => Ok(None),
            Some(body) => Ok(Some(SignedInvite::from_json(&body, &what)?)),
        }
    }

    /// One request for every invite; a caller who is not an owner is refused it (403) and
    /// reads each alone, as before.
    fn signed_invites(&self, project: &str) -> Result<Option<SignedInvites>> {
        let Some(listed) = self.listing::<InviteList>(&paths::invites(project), project)? else {
            return Ok(None);
        };
        let invites = listed.invites.into_iter().filter_map(|invite| {
            let signed = invite.signed?;
            Some((invite.code_sha256, signed.get().as_bytes().to_vec()))
        });
        Ok(Some(invites.collect()))
    }

    fn events(&self) -> Option<EventSource> {
        Some(self.api.event_source())
    }

    fn detached(&self) -> Option<Box<dyn Remote + Send>> {
        Some(Box::new(Self::new(self.api.clone())))
    }

    /// One request for every head; an older server without this route answers 404, and
    /// the environments are read one at a time.
    fn heads(&self, project: &str) -> Result<Option<ShownHeads>> {
        let Some(listed) = self.listing::<Heads>(&paths::heads(project), project)? else {
            return Ok(None);
        };
        let heads = listed.heads.into_iter().map(|head| {
            let shown = ShownHead {
                number: head.number,
                record: head.record.get().as_bytes().to_vec(),
                ciphertext: None,
            };
            (head.environment, shown)
        });
        Ok(Some(heads.collect()))
    }

    fn head(&self, place: &EnvironmentRef) -> Result<Option<u64>> {
        let body = self.get(
            &paths::head(&place.project, &place.environment),
            Subject::Project(&place.project),
        )?;
        let head: Head = self.api.decode(&body)?;
        Ok(head.head)
    }

    /// One request for the head and what `with` names. An older server ignores `with` and
    /// answers the number alone: the engine then reads the record and ciphertext as before.
    fn head_with(&self, place: &EnvironmentRef, with: HeadWith) -> Result<ReadHead> {
        let body = self.get(
            &paths::head_with(&place.project, &place.environment, with),
            Subject::Project(&place.project),
        )?;
        let head: Head = self.api.decode(&body)?;
        let shown = match (head.head, head.record) {
            (Some(number), Some(record)) => Some(ShownHead {
                number,
                record: record.get().as_bytes().to_vec(),
                ciphertext: head
                    .ciphertext
                    .map(|text| shown_ciphertext(place, number, &text))
                    .transpose()?,
            }),
            _ => None,
        };
        Ok(ReadHead {
            number: head.head,
            shown,
        })
    }

    fn version(&self, place: &EnvironmentRef, number: u64) -> Result<VersionRecord> {
        let what = format!("version {number} of {place}");
        let subject = Subject::Stored {
            project: &place.project,
            what: &what,
        };
        let path = paths::version(&place.project, &place.environment, number);
        let body = self.get(&path, subject)?;
        Ok(VersionRecord::from_json(&body, &what)?)
    }

    fn ciphertext(&self, place: &EnvironmentRef, sha256: &str) -> Result<Vec<u8>> {
        if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(ClientError::Integrity(format!(
                "malformed ciphertext digest `{sha256}`"
            )));
        }
        let what = format!("ciphertext {sha256}");
        let subject = Subject::Stored {
            project: &place.project,
            what: &what,
        };
        let path = paths::object(&place.project, &place.environment, sha256);
        self.get(&path, subject)
    }

    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool> {
        let body = &record.body;
        let push = PushVersion {
            record: serde_json::value::to_raw_value(record).expect("records always serialise"),
            ciphertext: STANDARD.encode(ciphertext),
        };
        let bytes = serde_json::to_vec(&push).expect("push bodies always serialise");
        self.create(
            &paths::version(&body.project, &body.environment, body.number),
            bytes,
            &body.project,
        )
    }

    /// Sends the versions in as few `POST …/versions` as the server's limits allow (at most
    /// [`MAX_PUSHED_VERSIONS`] and [`MAX_BODY_BYTES`] each), one commit each. A request
    /// that fails (a server without the route answers 404) ends the answer there.
    fn create_versions(&self, versions: &[(&VersionRecord, &[u8])]) -> Vec<bool> {
        let mut created = Vec::with_capacity(versions.len());
        for batch in batches(versions) {
            match self.create_batch(batch) {
                Some(outcomes) => created.extend(outcomes),
                None => break,
            }
        }
        created
    }

    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>> {
        self.membership_from(project, 1)
    }

    /// Asks only for the entries from `first` on. A server that ignores `after` (an older
    /// one) answers from entry 1: the engine sees the first entry is not the one it asked
    /// for and reads the whole log instead.
    fn membership_from(&self, project: &str, first: u64) -> Result<Vec<MembershipEvent>> {
        let first = first.max(1);
        let path = match first {
            1 => paths::members(project),
            _ => paths::members_after(project, first - 1),
        };
        let records = self.records(&path, project)?;
        (first..)
            .zip(&records.records)
            .map(|(number, raw)| {
                let what = format!("membership entry {number} of {project}");
                Ok(MembershipEvent::from_json(raw.get().as_bytes(), &what)?)
            })
            .collect()
    }

    fn append_membership(&self, event: &MembershipEvent) -> Result<bool> {
        let body = &event.body;
        self.create(
            &paths::member_event(&body.project, body.number),
            event.to_json(),
            &body.project,
        )
    }

    fn publications(&self, place: &EnvironmentRef) -> Result<Publications> {
        let path = paths::publications(&place.project, &place.environment);
        let records = self.records(&path, &place.project)?;
        // The server stored each at its own number (and the engine checks that again), so a
        // record's own number is its slot in the log the other remotes read from files.
        let files = records.records.iter().filter_map(|raw| {
            let bytes = raw.get().as_bytes();
            let record = PublicationRecord::from_json(bytes, "a publication record").ok()?;
            Some((record.body.number, bytes.to_vec()))
        });
        Ok(layout::publication_log(place, files))
    }

    fn append_publication(&self, record: &PublicationRecord) -> Result<bool> {
        let body = &record.body;
        self.create(
            &paths::publication(&body.project, &body.environment, body.number),
            record.to_json(),
            &body.project,
        )
    }

    /// The requests the caller may see. A CI token may see none (403): they name people
    /// and keys, which a deploy job has no use for, and it reads on without them.
    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>> {
        let reply = self
            .api
            .call(Method::GET, &paths::requests(project), None)?;
        if reply.status == 403 {
            return Ok(Vec::new());
        }
        let reply = self
            .api
            .require_status(reply, &[200], Subject::Project(project))?;
        let records: Records = self.api.decode(&reply.body)?;
        // A garbled request is someone else's problem: skip it rather than block everyone.
        let mut requests: Vec<AccessRequest> = records
            .records
            .iter()
            .filter_map(|raw| Signed::from_json(raw.get().as_bytes(), "access request").ok())
            .collect();
        requests.sort_by(|a, b| a.body.created_at.cmp(&b.body.created_at));
        Ok(requests)
    }

    fn put_access_request(&self, request: &AccessRequest) -> Result<()> {
        let fingerprint = request.verified_signer()?.fingerprint();
        let project = &request.body.project;
        let reply = self.api.call(
            Method::PUT,
            &paths::request(project, &fingerprint),
            Some(request.to_json()),
        )?;
        self.api
            .require_status(reply, &[200, 201, 204], Subject::Project(project))
            .map(drop)
    }

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()> {
        let reply = self
            .api
            .call(Method::DELETE, &paths::request(project, fingerprint), None)?;
        // Gone already is what was asked for.
        self.api
            .require_status(reply, &[200, 204, 404], Subject::Project(project))
            .map(drop)
    }
}

/// The ciphertext a head read brought, from its base64: bytes that do not decode are a
/// damaged ciphertext, refused as one whose digest does not match.
fn shown_ciphertext(place: &EnvironmentRef, number: u64, text: &str) -> Result<Vec<u8>> {
    STANDARD
        .decode(text)
        .map_err(|_| ClientError::CorruptCiphertext {
            place: place.clone(),
            version: number,
        })
}

/// A version as one of a `POST …/versions` sends it, with its record for matching the
/// answer.
struct Pushed<'a> {
    record: &'a VersionRecord,
    push: PushVersion,
}

/// `versions` as the bodies of `POST …/versions`: at most [`MAX_PUSHED_VERSIONS`] each, and
/// under [`MAX_BODY_BYTES`] with room to spare, except that a version too big for any body
/// goes alone (the server's 413 then says so, and the caller sends it alone again).
fn batches<'a>(versions: &[(&'a VersionRecord, &[u8])]) -> Vec<Vec<Pushed<'a>>> {
    const ROOM: usize = MAX_BODY_BYTES - 64 * 1024;
    let mut batches: Vec<Vec<Pushed<'a>>> = Vec::new();
    let mut size = 0;
    for (record, ciphertext) in versions {
        let push = PushVersion {
            record: serde_json::value::to_raw_value(record).expect("records always serialise"),
            ciphertext: STANDARD.encode(ciphertext),
        };
        let bytes = push.record.get().len() + push.ciphertext.len() + 32;
        let full = batches
            .last()
            .is_none_or(|batch| batch.len() == MAX_PUSHED_VERSIONS || size + bytes > ROOM);
        if full {
            batches.push(Vec::new());
            size = 0;
        }
        size += bytes;
        let pushed = Pushed { record, push };
        batches
            .last_mut()
            .expect("a batch was just made")
            .push(pushed);
    }
    batches
}
