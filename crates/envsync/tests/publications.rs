//! Publication records under attack (issue 15). On a server: only a reader of the
//! environment records a publication, only in their own name, only at its own number, and
//! only of a version the server stores; each stored record leaves an audit entry. On a
//! folder anyone with write access can drop files: a forged, tampered, garbled or
//! backdated record is left out by every reader, and never makes a target look up to date.
//! (The happy path runs on every remote in `every_remote.rs`.)

mod support;

use envsync_client::records::{Seal, Signed};
use envsync_core::records::{FORMAT, Pin, PublicationBody, PublicationRecord, VersionRecord};
use envsync_core::role::Role;
use envsync_crypto::Identity;
use support::protocol::{DEVELOPMENT, join, key, owner_and_project, person, push};
use support::remotes::Remote;
use support::server::{Api, Server};
use support::stores::AWS_ENV;
use support::{Team, Teammate};

/// A publication of `version` to `target`, numbered `number`, signed by `publisher`.
fn publication(
    version: &VersionRecord,
    number: u64,
    target: &str,
    publisher: &Identity,
) -> PublicationRecord {
    Signed::sign(
        PublicationBody {
            format: FORMAT,
            project: version.body.project.clone(),
            environment: version.body.environment.clone(),
            number,
            version: Pin {
                number: version.body.number,
                digest: version.digest(),
            },
            membership: version.body.membership.clone(),
            target: target.to_owned(),
            keys: vec!["A".into()],
            pruned: false,
            publisher: key(publisher),
            published_at: "2026-12-04T00:00:00Z".into(),
        },
        publisher,
    )
}

fn put(api: &Api, token: &str, path_number: u64, record: &PublicationRecord) -> (u16, String) {
    let path = format!("/api/v1/projects/app/environments/development/publications/{path_number}");
    let reply = api.send(
        "PUT",
        &path,
        Some(token),
        &serde_json::to_string(record).unwrap(),
    );
    (reply.status, reply.body)
}

#[test]
fn the_server_stores_a_publication_only_from_a_reader_in_their_own_name() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let owner = &founded.owner;
    let version = founded.first_version(DEVELOPMENT, owner, b"age ciphertext");
    assert_eq!(
        push(&api, &founded.token, &version, b"age ciphertext").status,
        201
    );
    // Carol writes to every environment; Dave reads staging only.
    let carol = person("Carol");
    let carol_token = join(&api, &founded.invite(&api, Role::Writer, None), &carol);
    let carol_entry = founded.admit(&api, &founded.genesis, &carol, Role::Writer, None);
    let staging = Some(vec!["staging".to_owned()]);
    let dave = person("Dave");
    let dave_token = join(
        &api,
        &founded.invite(&api, Role::Reader, staging.clone()),
        &dave,
    );
    founded.admit(&api, &carol_entry, &dave, Role::Reader, staging);
    let target = "github:acme/app";

    let first = publication(&version, 1, target, owner);
    assert_eq!(put(&api, &founded.token, 1, &first).0, 201);
    let taken = put(
        &api,
        &founded.token,
        1,
        &publication(&version, 1, "k8s://a/b", owner),
    );
    assert_eq!(taken.0, 409, "{}", taken.1);

    // Someone else's record, sent with Carol's token: nobody publishes in another's name.
    let (status, body) = put(
        &api,
        &carol_token,
        2,
        &publication(&version, 2, target, owner),
    );
    assert_eq!(status, 403, "{body}");
    // Dave's role does not cover development: neither writing nor reading its records.
    let (status, body) = put(
        &api,
        &dave_token,
        2,
        &publication(&version, 2, target, &dave),
    );
    assert_eq!(status, 403, "{body}");
    let listed = api.get(
        "/api/v1/projects/app/environments/development/publications",
        Some(&dave_token),
    );
    assert_eq!(listed.status, 403, "{}", listed.body);

    // A record for another slot, a tampered one, one about a version the server does not
    // store (or another history's version 1): refused, nothing stored.
    let (status, body) = put(
        &api,
        &carol_token,
        3,
        &publication(&version, 2, target, &carol),
    );
    assert_eq!(status, 400, "{body}");
    let mut tampered = publication(&version, 2, target, &carol);
    tampered.body.target = "aws-sm://elsewhere".into();
    assert_eq!(put(&api, &carol_token, 2, &tampered).0, 400);
    let other = founded.first_version(DEVELOPMENT, &carol, b"another history");
    let (status, body) = put(
        &api,
        &carol_token,
        2,
        &publication(&other, 2, target, &carol),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("does not store"), "{body}");

    // What is stored: Alice's one record, and an audit entry that names no value.
    let listed = api.get(
        "/api/v1/projects/app/environments/development/publications",
        Some(&carol_token),
    );
    assert_eq!(listed.status, 200);
    let records = listed.json()["records"].clone();
    assert_eq!(records.as_array().map(Vec::len), Some(1), "{records}");
    assert_eq!(records[0]["body"]["target"], target);
    let audit = api.get("/api/v1/projects/app/audit", Some(&founded.token));
    let entries = audit.json()["entries"].clone();
    let recorded: Vec<_> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "publication.record")
        .collect();
    assert_eq!(recorded.len(), 1, "{entries}");
    assert_eq!(
        recorded[0]["target"],
        format!("development version 1 -> {target}")
    );
}

/// The newest record of the folder remote's publication log of app/development, parsed.
fn folder_records(team: &Team) -> Vec<(u64, PublicationRecord)> {
    let directory = team.remote_path("app/environments/development/publications");
    let mut records: Vec<(u64, PublicationRecord)> = std::fs::read_dir(directory)
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let number = name.strip_suffix(".json")?.parse().ok()?;
            let record = Signed::from_json(&std::fs::read(entry.path()).ok()?, "test").ok()?;
            Some((number, record))
        })
        .collect();
    records.sort_by_key(|(number, _)| *number);
    records
}

fn drop_record(team: &Team, number: u64, bytes: &[u8]) {
    let path = team.remote_path(&format!(
        "app/environments/development/publications/{number:08}.json"
    ));
    std::fs::write(path, bytes).unwrap();
}

fn add_target(mate: &Teammate, to: &str) {
    let path = mate.workspace.join("envsync.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let target =
        format!("\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n");
    std::fs::write(path, config + &target).unwrap();
}

/// The state `status --json` gives each target, in envsync.toml's order.
fn states(mate: &Teammate) -> Vec<String> {
    let status = mate.run(&["status", "--json"]).ok().json();
    status["publications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|target| target["state"].as_str().unwrap().to_owned())
        .collect()
}

/// Version `number` of app/development as the folder remote holds it.
fn folder_version(team: &Team, number: u64) -> VersionRecord {
    let path = team.remote_path(&format!(
        "app/environments/development/versions/{number:08}.json"
    ));
    Signed::from_json(&std::fs::read(path).unwrap(), "a version").unwrap()
}

#[test]
fn forged_tampered_garbled_and_backdated_records_on_a_folder_are_left_out() {
    let moto = support::S3Server::shared();
    let team = Team::new();
    let alice = team.member("alice");
    let published = format!(
        "aws-ssm:///forgeries-{}/?endpoint={}",
        std::process::id(),
        moto.endpoint
    );
    let forged_target = "github:acme/forged";
    add_target(&alice, &published);
    add_target(&alice, forged_target);
    alice.write_env(".env", "A=1\n");
    alice.run(&["push"]).ok();
    let bob = team.admit(&alice, "bob");
    add_target(&bob, &published);
    add_target(&bob, forged_target);
    bob.run(&["pull"]).ok();
    bob.run_with_env(&["publish", "--to", &published], &AWS_ENV)
        .ok();
    let (_, genuine) = folder_records(&team).pop().unwrap();
    let head = alice.run(&["status", "--json"]).ok().json()["environments"][0]["remote_version"]
        .as_u64()
        .unwrap();
    let before_removal = folder_version(&team, head);

    // Mallory, who is no member, signs a record; a copy of Bob's names a target he never
    // published to; one sits at another number than it claims; one is garbage.
    let mallory = person("Mallory");
    drop_record(
        &team,
        2,
        &publication(&before_removal, 2, forged_target, &mallory).to_json(),
    );
    let mut tampered = genuine.clone();
    tampered.body.number = 3;
    tampered.body.target = forged_target.to_owned();
    drop_record(&team, 3, &tampered.to_json());
    drop_record(&team, 4, &genuine.to_json());
    drop_record(&team, 5, b"{not a record");
    assert_eq!(states(&alice), ["current", "never"]);
    let log = alice.run(&["log", "--json"]).ok().json();
    let published_to = log["versions"][0]["published"].clone();
    assert_eq!(
        published_to.as_array().map(Vec::len),
        Some(1),
        "{published_to}"
    );
    assert_eq!(published_to[0]["by"], "bob");

    // Bob is removed, and keeps write access to the folder. His record from before stays
    // true; one he signs now for the version made after his removal, under the standing
    // he had then (backdated), is not believed.
    alice.run(&["members", "remove", "bob"]).ok();
    alice.write_env(".env", "A=2\n");
    alice.run(&["push"]).ok();
    let newest = alice.run(&["status", "--json"]).ok().json()["environments"][0]["remote_version"]
        .as_u64()
        .unwrap();
    let after_removal = folder_version(&team, newest);
    let bob_identity = Identity::parse(
        &std::fs::read_to_string(bob.identity_file()).unwrap(),
        "bob",
    )
    .unwrap();
    let mut backdated = publication(&after_removal, 6, &published, &bob_identity);
    backdated.body.membership = before_removal.body.membership.clone();
    let backdated = Signed::sign(backdated.body, &bob_identity);
    drop_record(&team, 6, &backdated.to_json());
    assert_eq!(states(&alice), ["behind", "never"]);
    let log = alice.run(&["log", "--json"]).ok().json();
    assert_eq!(
        log["versions"][0]["published"],
        serde_json::json!([]),
        "{log}"
    );
    let older = log["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["version"] == head)
        .unwrap();
    assert_eq!(older["published"][0]["by"], "bob", "{log}");

    // Alice's record goes after every taken slot, the garbage included.
    alice
        .run_with_env(&["publish", "--to", &published], &AWS_ENV)
        .ok();
    let numbers: Vec<u64> = folder_records(&team)
        .iter()
        .map(|(number, _)| *number)
        .collect();
    assert_eq!(
        numbers,
        [1, 2, 3, 4, 6, 7],
        "the garbled 5 is skipped, not overwritten"
    );
    assert_eq!(states(&alice), ["current", "never"]);
}
