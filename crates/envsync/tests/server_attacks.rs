//! Attacks on the real server, and the failures it must survive: corrupt rows, writes that
//! fail midway, guessing, garbled URLs, several replicas on one database. Each case that
//! touches storage runs on SQLite and on PostgreSQL.

mod support;

use std::path::Path;

use envsync_client::records::{Seal, Signed};
use envsync_core::hash::sha256_hex;
use envsync_core::records::Pin;
use envsync_core::role::Role;
use serde_json::json;
use support::Team;
use support::database::Database;
use support::protocol::{
    DEVELOPMENT, Place, access_request, append, fingerprint, join, join_reply, key,
    owner_and_project, person, push, push_many, version,
};
use support::server::{Api, PgDatabase, Server};

fn corrupt_grants_fail_closed(database: Database) {
    let server = database.start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let staging = Some(vec!["staging".to_owned()]);
    let code = founded.invite(&api, Role::Reader, staging.clone());
    let dave = person("Dave");
    let token = join(&api, &code, &dave);
    founded.admit(&api, &founded.genesis, &dave, Role::Reader, staging);
    let head = |environment: &str| {
        api.get(
            &format!("/api/v1/projects/app/environments/{environment}/head"),
            Some(&token),
        )
    };
    // Before any request of Dave's, so no cache holds his grant.
    database.execute("UPDATE grants SET environments = 'staging' WHERE role = 'reader'");
    for environment in ["staging", "production"] {
        let reply = head(environment);
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (500, "internal"),
            "{environment}: a corrupt environment list must not read as every environment: {}",
            reply.body
        );
    }
    let log = server.log_once_it_holds("corrupt grant environments");
    assert!(log.contains("corrupt grant environments"), "{log}");
    assert_eq!(api.get("/api/v1/whoami", Some(&token)).status, 500);
}

#[test]
fn a_corrupt_grant_is_an_error_never_wider_access_sqlite() {
    let team = Team::new();
    corrupt_grants_fail_closed(Database::sqlite(&team));
}

#[test]
fn a_corrupt_grant_is_an_error_never_wider_access_postgres() {
    corrupt_grants_fail_closed(Database::postgres());
}

fn join_fails_whole(database: Database) {
    let server = database.start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let code = founded.invite(&api, Role::Writer, None);
    let bob = person("Bob");
    // The token, the join's last write but one, fails.
    database.break_inserts("tokens");
    let failed = join_reply(&api, &code, &key(&bob), &bob);
    assert_eq!(failed.status, 503, "{}", failed.body);
    database.repair_inserts("tokens");
    // Nothing of the failed join remains: the code is unused and Bob has no account.
    let grants = api
        .get("/api/v1/projects/app/grants", Some(&founded.token))
        .json();
    assert_eq!(grants["pending"], json!([]), "{grants}");
    join(&api, &code, &bob);
}

#[test]
fn a_join_that_fails_midway_changes_nothing_sqlite() {
    let team = Team::new();
    join_fails_whole(Database::sqlite(&team));
}

#[test]
fn a_join_that_fails_midway_changes_nothing_postgres() {
    join_fails_whole(Database::postgres());
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_data_directory_and_database_files_are_private() {
    let team = Team::new();
    let data_dir = team.root.path().join("server");
    let server = Server::sqlite(&data_dir);
    let api = Api::new(&server.url);
    owner_and_project(&server, &api);
    assert_eq!(mode(&data_dir), 0o700);
    for file in [
        "envsync.db",
        "envsync.db-wal",
        "envsync.db-shm",
        "envsync.lock",
    ] {
        assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
    }
}

/// Ten bad tokens from this address: the next failure is answered 429.
fn exhaust_failures(apis: &[&Api]) {
    for attempt in 0..10 {
        let api = apis[attempt % apis.len()];
        let token = format!("esk_0123456789ab_guess{attempt}");
        assert_eq!(api.get("/api/v1/whoami", Some(&token)).status, 401);
    }
    for api in apis {
        let reply = api.get("/api/v1/whoami", Some("esk_0123456789ab_more"));
        assert_eq!((reply.status, reply.code().as_str()), (429, "rate_limited"));
    }
}

#[test]
fn a_valid_token_works_from_a_blocked_address() {
    let team = Team::new();
    let server = Database::sqlite(&team).start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let alice = &founded.token;
    let code = founded.invite(&api, Role::Reader, None);
    exhaust_failures(&[&api]);
    assert_eq!(api.get("/api/v1/whoami", Some(alice)).status, 200);
    assert_eq!(
        api.get("/api/v1/projects/app/members", Some(alice)).status,
        200
    );
    // A valid invite code works too; a wrong one is still refused with 429.
    join(&api, &code, &person("Carol"));
    let erin = person("Erin");
    let guess = join_reply(&api, "esi_guess", &key(&erin), &erin);
    assert_eq!(guess.status, 429, "{}", guess.body);
}

#[test]
fn every_rejection_is_a_json_error() {
    let team = Team::new();
    let server = Database::sqlite(&team).start();
    let api = Api::new(&server.url);
    let alice = owner_and_project(&server, &api).token;
    let development = "/api/v1/projects/app/environments/development";
    let cases = [
        ("GET", format!("{development}/versions/abc"), 400),
        ("GET", format!("{development}/versions/-1"), 400),
        ("GET", format!("{development}/versions?after=x"), 400),
        ("GET", format!("{development}/versions?bogus=1"), 400),
        (
            "GET",
            "/api/v1/projects/app/audit?limit=many".to_owned(),
            400,
        ),
        ("PUT", "/api/v1/projects/app/members/first".to_owned(), 400),
        (
            "PUT",
            format!("{development}/versions/99999999999999999999"),
            400,
        ),
        ("GET", "/api/v1/events".to_owned(), 400),
        ("POST", "/api/v1/tokens".to_owned(), 400),
        ("DELETE", "/api/v1/whoami".to_owned(), 405),
    ];
    for (method, path, status) in cases {
        let reply = match method {
            "GET" => api.get(&path, Some(&alice)),
            "DELETE" => api.delete(&path, Some(&alice)),
            _ => api.send(method, &path, Some(&alice), "{\"label\": 7}"),
        };
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        let body: serde_json::Value = serde_json::from_str(&reply.body)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {}", reply.body));
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{method} {path}: {body}"
        );
    }
}

#[test]
fn replicas_share_setup_codes_and_the_failure_limit() {
    let database = PgDatabase::create();
    let first = Server::postgres(&database.url);
    let second = Server::postgres(&database.url);
    let (first_code, second_code) = (
        first
            .setup_code
            .clone()
            .expect("the first start prints a code"),
        second.setup_code.clone().expect("so does the second"),
    );
    assert_ne!(first_code, second_code);
    // The second start did not invalidate the first one's code; using it ends both.
    let (api, other) = (Api::new(&first.url), Api::new(&second.url));
    join(&other, &first_code, &person("Alice"));
    let mallory = person("Mallory");
    let late = join_reply(&other, &second_code, &key(&mallory), &mallory);
    assert_eq!(late.status, 401, "{}", late.body);
    // Failures on either replica count together: 9 more, spread over both, reach the limit.
    for attempt in 0..9 {
        let replica = if attempt % 2 == 0 { &api } else { &other };
        let token = format!("esk_0123456789ab_guess{attempt}");
        assert_eq!(replica.get("/api/v1/whoami", Some(&token)).status, 401);
    }
    for replica in [&api, &other] {
        let reply = replica.get("/api/v1/whoami", Some("esk_0123456789ab_more"));
        assert_eq!(reply.status, 429, "{}", reply.body);
    }
    // A restart with an owner present prints no code.
    let third = Server::postgres(&database.url);
    assert_eq!(third.setup_code, None);
}

fn join_needs_proof(database: Database) {
    let server = database.start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let code = founded.invite(&api, Role::Reader, None);
    let stranger = person("Mallory");
    // Member keys are public: the stranger names the owner's, and signs with their own.
    let owner_key = key(&founded.owner);
    let takeover = join_reply(&api, &code, &owner_key, &stranger);
    assert_eq!(
        (takeover.status, takeover.code().as_str()),
        (401, "unauthorized"),
        "{}",
        takeover.body
    );
    let mut garbage = serde_json::json!({"code": code, "name": "Alice",
                                         "member_key": owner_key, "proof": "AAAA"});
    let unsigned = api.send("POST", "/api/v1/join", None, &garbage.to_string());
    assert_eq!(unsigned.status, 401, "{}", unsigned.body);
    garbage["proof"] = json!(null);
    assert_eq!(
        api.send("POST", "/api/v1/join", None, &garbage.to_string())
            .status,
        400
    );
    // The owner's token and role are unchanged, the refusals audited, the code unspent.
    let whoami = api.get("/api/v1/whoami", Some(&founded.token)).json();
    assert_eq!(whoami["grants"][0]["role"], "owner", "{whoami}");
    let audit = api
        .get("/api/v1/audit?action=join.refused", Some(&founded.token))
        .json();
    assert_eq!(audit["entries"].as_array().unwrap().len(), 2, "{audit}");
    join(&api, &code, &person("Bob"));
}

#[test]
fn a_stranger_cannot_join_as_an_existing_key_sqlite() {
    let team = Team::new();
    join_needs_proof(Database::sqlite(&team));
}

#[test]
fn a_stranger_cannot_join_as_an_existing_key_postgres() {
    join_needs_proof(Database::postgres());
}

fn invites_grant_nothing_until_admitted(database: Database) {
    let server = database.start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let owner = &founded.token;
    let bob = person("Bob");
    let token = join(&api, &founded.invite(&api, Role::Writer, None), &bob);
    let development = "/api/v1/projects/app/environments/development";
    // Waiting: the log, the own request and whoami only.
    for reply in [
        api.get(&format!("{development}/head"), Some(&token)),
        api.get("/api/v1/projects/app/requests", Some(&token)),
        api.get("/api/v1/projects/app/environments", Some(&token)),
        push(
            &api,
            &token,
            &founded.first_version(DEVELOPMENT, &bob, b"age"),
            b"age",
        ),
    ] {
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(
            reply.body.contains("waiting for an owner"),
            "{}",
            reply.body
        );
    }
    assert_eq!(
        api.get("/api/v1/projects/app/members", Some(&token)).status,
        200
    );
    let request = format!("/api/v1/projects/app/requests/{}", fingerprint(&bob));
    let filed = api.send("PUT", &request, Some(&token), &access_request("app", &bob));
    assert_eq!(filed.status, 204, "{}", filed.body);
    assert_eq!(
        api.get("/api/v1/whoami", Some(&token)).json()["pending"],
        json!(["app"])
    );
    let grants = api.get("/api/v1/projects/app/grants", Some(owner)).json();
    assert_eq!(grants["grants"].as_array().unwrap().len(), 1, "{grants}");
    assert_eq!(grants["pending"][0]["name"], "Bob", "{grants}");
    // An owner's signed entry admits him, and only that.
    founded.admit(&api, &founded.genesis, &bob, Role::Writer, None);
    assert_eq!(
        api.get(&format!("{development}/head"), Some(&token)).status,
        200
    );
    assert_eq!(
        api.get("/api/v1/whoami", Some(&token)).json()["pending"],
        json!([])
    );
    // Deleting a joiner's request declines them.
    let carol = person("Carol");
    let carols = join(&api, &founded.invite(&api, Role::Reader, None), &carol);
    let request = format!("/api/v1/projects/app/requests/{}", fingerprint(&carol));
    assert_eq!(
        api.send(
            "PUT",
            &request,
            Some(&carols),
            &access_request("app", &carol)
        )
        .status,
        204
    );
    assert_eq!(api.delete(&request, Some(owner)).status, 204);
    assert_eq!(
        api.get("/api/v1/whoami", Some(&carols)).json()["pending"],
        json!([])
    );
    assert_eq!(
        api.get("/api/v1/projects/app/members", Some(&carols))
            .status,
        404
    );
}

#[test]
fn an_invite_grants_nothing_until_an_owner_admits_sqlite() {
    let team = Team::new();
    invites_grant_nothing_until_admitted(Database::sqlite(&team));
}

#[test]
fn an_invite_grants_nothing_until_an_owner_admits_postgres() {
    invites_grant_nothing_until_admitted(Database::postgres());
}

fn no_writer_can_jam(database: Database) {
    let server = database.start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let bob = person("Bob");
    let token = join(&api, &founded.invite(&api, Role::Writer, None), &bob);
    let admitted = founded.admit(&api, &founded.genesis, &bob, Role::Writer, None);

    let mut forged = founded.first_version(DEVELOPMENT, &bob, b"v1");
    forged.signature = "AAAA".into();
    let refused = push(&api, &token, &forged, b"v1");
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (400, "bad_request")
    );
    assert!(refused.body.contains("signature"), "{}", refused.body);
    let first = founded.first_version(DEVELOPMENT, &bob, b"v1");
    assert_eq!(
        push(&api, &token, &first, b"v1").status,
        201,
        "the next honest push"
    );
    let mut unchained = version(DEVELOPMENT, 2, &first, &bob, b"v2");
    unchained.body.parent_digest = Some("0".repeat(64));
    let unchained = Signed::sign(unchained.body, &bob);
    let refused = push(&api, &token, &unchained, b"v2");
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("parent_digest"), "{}", refused.body);
    let second = version(DEVELOPMENT, 2, &first, &bob, b"v2");
    assert_eq!(push(&api, &token, &second, b"v2").status, 201);
    // Superseding (a base further back) is an owner's alone.
    let supersede = version(DEVELOPMENT, 3, &first, &bob, b"v3");
    assert_eq!(push(&api, &token, &supersede, b"v3").status, 403);
    let owners = version(DEVELOPMENT, 3, &first, &founded.owner, b"v3");
    assert_eq!(push(&api, &founded.token, &owners, b"v3").status, 201);
    // A made-up membership pin, or a "restore" signed by a key no owner admitted, would
    // jam every client as surely as a bad signature. The server reads only the entry a pin
    // names: a digest no entry has, an entry past the log, or a number no database column
    // holds is a refusal, not a database fault.
    let made_up: [fn(&mut Pin); 3] = [
        |pin| pin.digest = "0".repeat(64),
        |pin| pin.number = 3,
        |pin| pin.number = u64::MAX,
    ];
    for make_up in made_up {
        let mut unpinned = version(DEVELOPMENT, 4, &owners, &bob, b"v4");
        make_up(&mut unpinned.body.membership);
        let unpinned = Signed::sign(unpinned.body, &bob);
        let refused = push(&api, &token, &unpinned, b"v4");
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            refused.body.contains("membership entry"),
            "{}",
            refused.body
        );
    }
    let stranger = person("Stranger");
    let foreign = version(DEVELOPMENT, 4, &owners, &stranger, b"v4");
    let refused = push(&api, &token, &foreign, b"v4");
    assert_eq!(refused.status, 403, "{}", refused.body);
    // Membership entries are checked the same way.
    let mut event = founded.admission(3, Some(&admitted), &person("Eve"), Role::Owner, None);
    event.signature = "AAAA".into();
    assert_eq!(append(&api, &founded.token, &event).status, 400);
    let eve = person("Eve");
    let orphan = founded.admission(3, Some(&founded.genesis), &eve, Role::Owner, None);
    assert_eq!(append(&api, &founded.token, &orphan).status, 400);
    let listed = api
        .get("/api/v1/projects/app/environments", Some(&token))
        .json();
    assert_eq!(listed, json!({"environments": ["development"]}));
}

/// `POST …/versions` makes each version pass what its own `PUT` would, and stores none of a
/// request one of whose versions is refused; a taken number is that version's outcome alone.
fn many_versions_at_once(database: Database) {
    let server = database.start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let (owner, owners) = (&founded.owner, founded.token.as_str());
    let development_only = Some(vec!["development".to_owned()]);
    let bob = person("Bob");
    let bobs = join(
        &api,
        &founded.invite(&api, Role::Writer, development_only.clone()),
        &bob,
    );
    let admitted = founded.admit(&api, &founded.genesis, &bob, Role::Writer, development_only);
    let carol = person("Carol");
    let carols = join(&api, &founded.invite(&api, Role::Reader, None), &carol);
    founded.admit(&api, &admitted, &carol, Role::Reader, None);
    let staging = Place {
        project: "app",
        environment: "staging",
    };
    let stored = || {
        api.get("/api/v1/projects/app/environments", Some(owners))
            .json()
    };
    let refused = |token: &str, versions: &[(&_, &[u8])], status: u16, says: &str| {
        let reply = push_many(&api, token, "app", versions);
        assert_eq!(reply.status, status, "{}", reply.body);
        assert!(reply.body.contains(says), "{says}: {}", reply.body);
        assert_eq!(stored(), json!({"environments": []}), "nothing stored");
    };
    let (dev1, staging1) = (
        founded.first_version(DEVELOPMENT, owner, b"d1"),
        founded.first_version(staging, owner, b"s1"),
    );
    // Bob writes development only, Carol nothing: the whole request is refused.
    let bobs_dev1 = founded.first_version(DEVELOPMENT, &bob, b"d1");
    let bobs_staging1 = founded.first_version(staging, &bob, b"s1");
    let bobs_pair = [(&bobs_dev1, &b"d1"[..]), (&bobs_staging1, b"s1")];
    refused(&bobs, &bobs_pair, 403, "staging");
    refused(&carols, &bobs_pair[..1], 403, "forbidden");
    let mut forged = founded.first_version(staging, owner, b"s1");
    forged.signature = "AAAA".into();
    refused(
        owners,
        &[(&dev1, b"d1"), (&forged, b"s1")],
        400,
        "signature",
    );
    refused(
        owners,
        &[(&dev1, b"d1"), (&staging1, b"s2")],
        400,
        "ciphertext",
    );
    refused(owners, &[(&dev1, b"d1"), (&dev1, b"d1")], 400, "twice");
    let many = vec![(&dev1, &b"d1"[..]); 101];
    refused(owners, &many, 400, "at most 100");

    let created = push_many(&api, owners, "app", &[(&dev1, b"d1"), (&staging1, b"s1")]);
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        created.json(),
        json!({"outcomes": [
            {"environment": "development", "number": 1, "created": true, "head": 1},
            {"environment": "staging", "number": 1, "created": true, "head": 1},
        ]})
    );
    // Bob takes development's version 2 first: the owner's is not created, staging's is.
    let bobs_dev2 = version(DEVELOPMENT, 2, &dev1, &bob, b"d2");
    assert_eq!(push(&api, &bobs, &bobs_dev2, b"d2").status, 201);
    let dev2 = version(DEVELOPMENT, 2, &dev1, owner, b"d2");
    let staging2 = version(staging, 2, &staging1, owner, b"s2");
    let raced = push_many(&api, owners, "app", &[(&dev2, b"d2"), (&staging2, b"s2")]);
    assert_eq!(
        raced.json(),
        json!({"outcomes": [
            {"environment": "development", "number": 2, "created": false, "head": 2},
            {"environment": "staging", "number": 2, "created": true, "head": 2},
        ]})
    );
    let kept = api.get(
        "/api/v1/projects/app/environments/development/versions/2",
        Some(owners),
    );
    assert_eq!(
        kept.json()["body"]["author"],
        json!(key(&bob)),
        "Bob's version stays"
    );
}

#[test]
fn many_versions_at_once_pass_each_check_or_none_is_stored_sqlite() {
    let team = Team::new();
    many_versions_at_once(Database::sqlite(&team));
}

#[test]
fn many_versions_at_once_pass_each_check_or_none_is_stored_postgres() {
    many_versions_at_once(Database::postgres());
}

/// A push is checked against its parent (the digest it must name; a membership entry no
/// older than the parent's) as strictly when the server remembers the parent's link, from
/// its push through this process, as when it reads the parent's record after a restart.
fn parent_checks(database: Database) {
    let mut server = database.start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let (owner, token) = (&founded.owner, founded.token.as_str());
    let first = founded.first_version(DEVELOPMENT, owner, b"v1");
    assert_eq!(push(&api, token, &first, b"v1").status, 201);
    let bob = person("Bob");
    join(&api, &founded.invite(&api, Role::Writer, None), &bob);
    let admitted = founded.admit(&api, &founded.genesis, &bob, Role::Writer, None);
    let mut second = version(DEVELOPMENT, 2, &first, owner, b"v2");
    second.body.membership = Pin {
        number: admitted.body.number,
        digest: admitted.digest(),
    };
    let second = Signed::sign(second.body, owner);
    assert_eq!(push(&api, token, &second, b"v2").status, 201);
    let refusals = |api: &Api| {
        let mut unchained = version(DEVELOPMENT, 3, &second, owner, b"v3").body;
        unchained.parent_digest = Some("0".repeat(64));
        let reply = push(api, token, &Signed::sign(unchained, owner), b"v3");
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.body.contains("parent_digest"), "{}", reply.body);
        let mut older = version(DEVELOPMENT, 3, &second, owner, b"v3").body;
        older.membership = first.body.membership.clone();
        let reply = push(api, token, &Signed::sign(older, owner), b"v3");
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(
            reply.body.contains("older than its base's 2"),
            "{}",
            reply.body
        );
    };
    refusals(&api);
    server.restart();
    let api = Api::new(&server.url);
    refusals(&api);
    let third = version(DEVELOPMENT, 3, &second, owner, b"v3");
    assert_eq!(push(&api, token, &third, b"v3").status, 201);
    let fourth = version(DEVELOPMENT, 4, &third, owner, b"v4");
    assert_eq!(push(&api, token, &fourth, b"v4").status, 201);
    let head = api.get(
        "/api/v1/projects/app/environments/development/head",
        Some(token),
    );
    assert_eq!(head.json()["head"], 4);
}

#[test]
fn a_push_is_checked_against_its_parent_remembered_or_read_sqlite() {
    let team = Team::new();
    parent_checks(Database::sqlite(&team));
}

#[test]
fn a_push_is_checked_against_its_parent_remembered_or_read_postgres() {
    parent_checks(Database::postgres());
}

#[test]
fn no_writer_can_jam_an_environment_sqlite() {
    let team = Team::new();
    no_writer_can_jam(Database::sqlite(&team));
}

#[test]
fn no_writer_can_jam_an_environment_postgres() {
    no_writer_can_jam(Database::postgres());
}

#[test]
fn invites_are_signed_by_the_owner() {
    let team = Team::new();
    let server = Database::sqlite(&team).start();
    let api = Api::new(&server.url);
    let founded = owner_and_project(&server, &api);
    let code = "esi_signed_by_the_owner";
    let mut body = founded.signed_invite(code, Role::Reader, None);
    body["signed"]["body"]["role"] = json!("owner");
    let path = "/api/v1/projects/app/invites";
    let tampered = api.send("POST", path, Some(&founded.token), &body.to_string());
    assert_eq!(tampered.status, 400, "{}", tampered.body);
    let body = founded.signed_invite(code, Role::Reader, None);
    let created = api.send("POST", path, Some(&founded.token), &body.to_string());
    assert_eq!(created.status, 201, "{}", created.body);
    let stored = api.get(
        &format!("{path}/{}", sha256_hex(code.as_bytes())),
        Some(&founded.token),
    );
    assert_eq!(stored.json(), body["signed"]);
    assert_eq!(
        api.get(&format!("{path}/{}", "0".repeat(64)), Some(&founded.token))
            .status,
        404
    );
}

/// Reads (`head`, a record, a ciphertext) authenticate, check the grant and read the head
/// in one query; a replica must still never answer from before another replica's write:
/// a push through one is the next read's head on the other, and a token revoked through
/// one is refused by the other at once, on each kind of read.
#[test]
fn a_replica_never_answers_from_before_another_replicas_push_or_revocation() {
    let database = PgDatabase::create();
    let (first, second) = (
        Server::postgres(&database.url),
        Server::postgres(&database.url),
    );
    let (api, replica) = (Api::new(&first.url), Api::new(&second.url));
    let founded = owner_and_project(&first, &api);
    let token = founded.token.as_str();
    let base = "/api/v1/projects/app/environments/development";
    let head = format!("{base}/head");
    assert_eq!(replica.get(&head, Some(token)).json()["head"], json!(null));
    let one = founded.first_version(DEVELOPMENT, &founded.owner, b"one");
    assert_eq!(push(&api, token, &one, b"one").status, 201);
    assert_eq!(replica.get(&head, Some(token)).json()["head"], 1);
    let two = version(DEVELOPMENT, 2, &one, &founded.owner, b"two");
    assert_eq!(push(&api, token, &two, b"two").status, 201);
    assert_eq!(replica.get(&head, Some(token)).json()["head"], 2);
    let reads = [
        head,
        format!("{base}/versions/2"),
        format!("{base}/objects/{}", sha256_hex(b"two")),
    ];
    for path in &reads {
        assert_eq!(replica.get(path, Some(token)).status, 200, "{path}");
    }
    let id = token.split('_').nth(1).expect("esk_<id>_<secret>");
    let revoked = api.delete(&format!("/api/v1/tokens/{id}"), Some(token));
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    for path in &reads {
        let reply = replica.get(path, Some(token));
        assert_eq!(reply.status, 401, "{path}: {}", reply.body);
    }
}
