//! `GET /api/v1/projects/{project}/heads` (issue 19): every environment's head record in
//! one request, which `status` reads instead of a head and a record per environment. It
//! shows a caller exactly what the reads one environment at a time show, refuses whom they
//! refuse, is never stale after a push or a revocation, and changes nothing of what the
//! client believes: a tampered head is refused as before. Each case runs on SQLite and on
//! PostgreSQL.

mod support;

use std::collections::BTreeMap;

use serde_json::json;
use support::database::Database;
use support::server::{Api, Server};
use support::team_server::{alice_invites_bob, code_in};
use support::{Run, Team, Teammate};

const HEADS: &str = "/api/v1/projects/app/heads";

fn head_path(environment: &str) -> String {
    format!("/api/v1/projects/app/environments/{environment}/head")
}

/// The head with its record and ciphertext, as `run --remote` reads it.
fn head_version_path(environment: &str) -> String {
    format!("{}?with=version", head_path(environment))
}

fn version_path(environment: &str, number: u64) -> String {
    format!("/api/v1/projects/app/environments/{environment}/versions/{number}")
}

/// The environments and numbers a `heads` answer lists, in its order.
fn listed(api: &Api, token: Option<&str>) -> Vec<(String, u64)> {
    let reply = api.get(HEADS, token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|head| {
            let environment = head["environment"].as_str().unwrap().to_owned();
            (environment, head["number"].as_u64().unwrap())
        })
        .collect()
}

/// Adds environments to `mate`'s envsync.toml, each kept in `.env.NAME`.
fn link(mate: &Teammate, environments: &[&str]) {
    let path = mate.workspace.join("envsync.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    for name in environments {
        config.push_str(&format!("{name} = \".env.{name}\"\n"));
    }
    std::fs::write(path, config).unwrap();
}

/// Alice (owner) and Bob (writer) with development pushed and accepted, Alice's staging
/// pushed, and Carol admitted as a reader of staging only.
fn team_on(team: &Team, server: &Server) -> (Teammate, Teammate, Teammate) {
    let (alice, bob) = alice_invites_bob(team, server, server, "writer");
    alice.write_env(".env.staging", "STAGING=1\n");
    alice.run(&["push", "--env", "staging"]).ok();
    let invite = alice
        .run(&["invite", "--role", "reader", "--env", "staging"])
        .ok();
    let carol = team.member_of("carol", &server.url);
    carol.run(&["join", &server.url, &code_in(&invite)]).ok();
    alice.run(&["members", "accept", "carol"]).ok();
    (alice, bob, carol)
}

/// Each head as the endpoint lists it is byte for byte the record the single-version read
/// serves; a member limited to staging is shown staging only, and `status` still calls
/// development `no access` for her.
fn shows_what_each_member_may_read(database: Database) {
    let team = Team::new();
    let server = database.start();
    let api = Api::new(&server.url);
    let (alice, _bob, carol) = team_on(&team, &server);
    let owner = alice.server_token();
    let heads = api.get(HEADS, Some(&owner));
    let shown = listed(&api, Some(&owner));
    let names: Vec<&str> = shown.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["development", "staging"]);
    for (environment, number) in &shown {
        let head = api.get(&head_path(environment), Some(&owner));
        assert_eq!(head.json()["head"], json!(number));
        let record = api.get(&version_path(environment, *number), Some(&owner));
        assert_eq!(record.status, 200);
        // The record is embedded as stored: its bytes appear in the answer unchanged.
        assert!(heads.body.contains(&record.body), "{}", heads.body);
        shows_the_head_version(&api, &owner, environment, *number, &record.body);
    }
    let staging = shown.iter().find(|(name, _)| name == "staging").cloned();
    // A member limited to staging is refused development's version as its head is refused.
    let carol_token = carol.server_token();
    let refused = api.get(&head_version_path("development"), Some(&carol_token));
    let head = api.get(&head_path("development"), Some(&carol_token));
    assert_eq!((refused.status, &refused.body), (head.status, &head.body));
    assert!(!refused.body.contains("ciphertext"), "{}", refused.body);
    assert_eq!(
        listed(&api, Some(&carol.server_token())),
        [staging.unwrap()]
    );
    carol.run(&["pull", "--env", "staging"]).ok();
    assert_eq!(carol.badge("development"), "no_access");
    assert_eq!(carol.badge("staging"), "synced");
}

/// `GET …/head?with=record` and `?with=version` answer the head's number with its record
/// byte for byte as `…/versions/{number}` serves it, and the version's ciphertext as
/// `…/objects/{sha256}` serves it; an unknown `with` is refused (400).
fn shows_the_head_version(api: &Api, token: &str, environment: &str, number: u64, record: &str) {
    use base64::Engine;
    let with_record = api.get(
        &format!("{}?with=record", head_path(environment)),
        Some(token),
    );
    assert_eq!(with_record.json()["head"], json!(number));
    assert!(with_record.body.contains(record), "{}", with_record.body);
    assert!(
        with_record.json().get("ciphertext").is_none(),
        "{}",
        with_record.body
    );
    let version = api.get(&head_version_path(environment), Some(token));
    assert_eq!(version.status, 200, "{}", version.body);
    assert!(version.body.contains(record), "{}", version.body);
    let sha256 = version.json()["record"]["body"]["ciphertext_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let object = format!("/api/v1/projects/app/environments/{environment}/objects/{sha256}");
    let sent = version.json()["ciphertext"].as_str().unwrap().to_owned();
    let sent = base64::engine::general_purpose::STANDARD
        .decode(sent)
        .unwrap();
    assert_eq!(sent, api.get_bytes(&object, token));
    let wrong = api.get(
        &format!("{}?with=everything", head_path(environment)),
        Some(token),
    );
    assert_eq!(wrong.status, 400, "{}", wrong.body);
}

#[test]
fn heads_show_what_each_member_may_read_sqlite() {
    let team = Team::new();
    shows_what_each_member_may_read(Database::sqlite(&team));
}

#[test]
fn heads_show_what_each_member_may_read_postgres() {
    shows_what_each_member_may_read(Database::postgres());
}

/// The status each caller gets from `heads` and from the head of development, which must
/// agree.
#[track_caller]
fn refused_alike(api: &Api, token: Option<&str>, status: u16) {
    let batch = api.get(HEADS, token);
    let single = api.get(&head_path("development"), token);
    let version = api.get(&head_version_path("development"), token);
    assert_eq!(
        (batch.status, single.status, version.status),
        (status, status, status),
        "heads: {}; head: {}; head with its version: {}",
        batch.body,
        single.body,
        version.body
    );
    assert!(!batch.code().is_empty(), "{}", batch.body);
}

/// Whoever a read of one environment refuses, `heads` refuses with the same status: no
/// token or a wrong one, a joiner no owner has accepted, a revoked token, a removed
/// member. And it is never stale: a push is in the next answer, a revocation or a removal
/// refuses the next request (the SQLite server caches tokens, grants and heads).
fn refuses_whom_the_single_reads_refuse(database: Database) {
    let team = Team::new();
    let server = database.start();
    let api = Api::new(&server.url);
    let (alice, bob, _carol) = team_on(&team, &server);
    refused_alike(&api, None, 401);
    refused_alike(&api, Some("esk_0123456789ab_wrong"), 401);
    let invite = alice.run(&["invite", "--role", "reader"]).ok();
    let dave = team.member_of("dave", &server.url);
    dave.run(&["join", &server.url, &code_in(&invite)]).ok();
    refused_alike(&api, Some(&dave.server_token()), 403);

    let bob_token = bob.server_token();
    let before = listed(&api, Some(&bob_token));
    bob.run(&["pull"]).ok();
    bob.write_env(".env", "API_KEY=bob\n");
    bob.run(&["push"]).ok();
    let after = listed(&api, Some(&bob_token));
    assert_eq!(after[0].1, before[0].1 + 1, "{before:?} then {after:?}");

    let created = api.send(
        "POST",
        "/api/v1/tokens",
        Some(&bob_token),
        r#"{"label":"laptop"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let laptop = created.json()["token"].as_str().unwrap().to_owned();
    let id = created.json()["info"]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed(&api, Some(&laptop)), after);
    let revoked = api.delete(&format!("/api/v1/tokens/{id}"), Some(&bob_token));
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    refused_alike(&api, Some(&laptop), 401);

    alice.run(&["members", "remove", "bob"]).ok();
    refused_alike(&api, Some(&bob_token), 404);
}

#[test]
fn heads_refuse_whom_the_single_reads_refuse_sqlite() {
    let team = Team::new();
    refuses_whom_the_single_reads_refuse(Database::sqlite(&team));
}

#[test]
fn heads_refuse_whom_the_single_reads_refuse_postgres() {
    refuses_whom_the_single_reads_refuse(Database::postgres());
}

/// `mate`'s identity, server token and envsync.toml on a machine of its own, which has
/// verified nothing yet.
fn new_machine(team: &Team, mate: &Teammate, name: &str) -> Teammate {
    let home = team.root.path().join("homes").join(name);
    let config = home.join(".config/envsync");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(mate.identity_file(), config.join("identity.txt")).unwrap();
    std::fs::copy(mate.credentials_file(), config.join("credentials.toml")).unwrap();
    let workspace = team.root.path().join(format!("clone-{name}"));
    std::fs::create_dir_all(&workspace).unwrap();
    let toml = mate.workspace.join("envsync.toml");
    std::fs::copy(toml, workspace.join("envsync.toml")).unwrap();
    Teammate {
        name: name.to_owned(),
        home,
        workspace,
    }
}

#[track_caller]
fn refused_with(run: &Run, needle: &str) {
    assert!(
        run.stderr.contains(needle),
        "expected `{needle}` in: {}",
        run.stderr
    );
}

/// `history.rs`' `status_verifies_the_head_it_reports` on a server: the operator edits the
/// head record in the database, and `status`, which now reads it in the one request for
/// every head, still refuses it (exit 6): as rewritten on a machine that saw it, as forged
/// on one that did not.
fn refuses_a_tampered_head(database: Database) {
    let team = Team::new();
    let mut server = database.start();
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    bob.run(&["status"]).ok();
    let (from, to) = ("\"grant access", "\"innocent grant");
    database.execute(&match database {
        Database::Sqlite(_) => format!(
            "UPDATE versions SET record_json = \
             CAST(replace(CAST(record_json AS TEXT), '{from}', '{to}') AS BLOB)"
        ),
        Database::Postgres(_) => format!(
            "UPDATE versions SET record_json = convert_to(replace(\
             convert_from(record_json, 'UTF8'), '{from}', '{to}'), 'UTF8')"
        ),
    });
    // The server keeps stored records in memory, as they never change; the operator's
    // edit reaches clients once it starts again.
    server.restart();
    let token = alice.server_token();
    let heads = Api::new(&server.url).get(HEADS, Some(&token));
    assert!(heads.body.contains("innocent grant"), "{}", heads.body);
    refused_with(&bob.run(&["status"]).code(6), "was rewritten");
    bob.run(&["status", "--json"]).code(6);
    // `run --remote` reads the record in the same request as the head: refused alike.
    let run = ["run", "--remote", "--", "true"];
    refused_with(&bob.run(&run).code(6), "was rewritten");
    let fresh = new_machine(&team, &bob, "bob-fresh");
    refused_with(&fresh.run(&["status"]).code(6), "signature does not verify");
    refused_with(&fresh.run(&run).code(6), "signature does not verify");
}

#[test]
fn status_refuses_a_tampered_head_sqlite() {
    let team = Team::new();
    refuses_a_tampered_head(Database::sqlite(&team));
}

#[test]
fn status_refuses_a_tampered_head_postgres() {
    refuses_a_tampered_head(Database::postgres());
}

/// The operator damages the head's ciphertext in the database: `run --remote`, which now
/// gets it in the head's answer, refuses it as it refused a fetched one (exit 6) and runs
/// nothing.
fn run_refuses_a_damaged_ciphertext(database: Database) {
    let team = Team::new();
    let mut server = database.start();
    let (_alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    bob.run(&["run", "--remote", "--", "true"]).ok();
    database.execute(match database {
        Database::Sqlite(_) => "UPDATE versions SET ciphertext = zeroblob(64)",
        Database::Postgres(_) => "UPDATE versions SET ciphertext = '\\x00'::bytea || ciphertext",
    });
    server.restart();
    let fresh = new_machine(&team, &bob, "bob-fresh");
    let marker = fresh.workspace.join("ran");
    let touch = format!("touch {}", marker.display());
    let refused = fresh
        .run(&["run", "--remote", "--", "sh", "-c", &touch])
        .code(6);
    refused_with(
        &refused,
        "is corrupt (its SHA-256 does not match the signed record)",
    );
    assert!(!marker.exists(), "the command ran on a damaged version");
}

#[test]
fn run_refuses_a_damaged_ciphertext_sqlite() {
    let team = Team::new();
    run_refuses_a_damaged_ciphertext(Database::sqlite(&team));
}

#[test]
fn run_refuses_a_damaged_ciphertext_postgres() {
    run_refuses_a_damaged_ciphertext(Database::postgres());
}

/// The requests `mate`'s `status` makes, by route template, and its rows.
fn status_requests(api: &Api, mate: &Teammate) -> (BTreeMap<String, u64>, serde_json::Value) {
    let (made, run) = api.requests_of(mate, &["status", "--json"]);
    (made, run.document("Status")["environments"].clone())
}

/// `status` on a server makes as many requests with eight environments as with two (the
/// server's own request counters say so), and its rows are the ones each environment's
/// state calls for: synced, an update from a teammate, a local edit, never pushed (which
/// the one request does not list: it is read alone, as before).
fn status_requests_stay_flat(database: Database) {
    let team = Team::new();
    let server = database.start();
    let api = Api::new(&server.url);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    alice.write_env(".env.staging", "STAGING=1\n");
    alice.run(&["push", "--env", "staging"]).ok();
    let (two, _) = status_requests(&api, &alice);
    let more = ["e1", "e2", "e3", "e4", "e5", "e6"];
    link(&alice, &more);
    link(&bob, &more[..1]);
    for name in more {
        alice.write_env(&format!(".env.{name}"), &format!("NAME={name}\n"));
        alice.run(&["push", "--env", name]).ok();
    }
    let (eight, _) = status_requests(&api, &alice);
    assert_eq!(
        eight, two,
        "status requests with 8 environments, then with 2"
    );
    assert!(!two.keys().any(|route| route.ends_with("/head")), "{two:?}");

    bob.run(&["pull", "--env", "e1"]).ok();
    bob.write_env(".env.e1", "NAME=bob\n");
    bob.run(&["push", "--env", "e1"]).ok();
    alice.write_env(".env.e2", "NAME=edited\n");
    link(&alice, &["never"]);
    let (_, rows) = status_requests(&api, &alice);
    let row = |name: &str| {
        let rows = rows.as_array().unwrap();
        rows.iter()
            .find(|row| row["environment"] == name)
            .unwrap()
            .clone()
    };
    let fields = |name: &str| {
        let row = row(name);
        (
            row["badge"].clone(),
            row["remote_version"].clone(),
            row["remote_author"].clone(),
        )
    };
    assert_eq!(
        fields("staging"),
        (json!("synced"), json!(1), json!("alice"))
    );
    assert_eq!(
        fields("e1"),
        (json!("update_available"), json!(2), json!("bob"))
    );
    assert_eq!(
        fields("e2"),
        (json!("local_changes"), json!(1), json!("alice"))
    );
    assert_eq!(
        fields("never"),
        (json!("not_linked"), json!(null), json!(null))
    );
    assert_eq!(row("never")["action"], "push");
}

#[test]
fn status_requests_stay_flat_in_environments_sqlite() {
    let team = Team::new();
    status_requests_stay_flat(Database::sqlite(&team));
}

#[test]
fn status_requests_stay_flat_in_environments_postgres() {
    status_requests_stay_flat(Database::postgres());
}

const MEMBERS: &str = "/api/v1/projects/app/members";

/// The entry numbers a membership log answer holds, in its order.
fn entry_numbers(api: &Api, query: &str, token: &str) -> Vec<u64> {
    let reply = api.get(&format!("{MEMBERS}{query}"), Some(token));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["body"]["number"].as_u64().unwrap())
        .collect()
}

/// A machine that folded the membership log asks only for the entries after the one it
/// verified (`?after=N`), so its commands stay flat as the log grows; the answer holds
/// exactly those entries, a bad `after` is refused, and what is new still reaches it.
fn the_log_is_read_after_the_entry_verified(database: Database) {
    let team = Team::new();
    let server = database.start();
    let api = Api::new(&server.url);
    let (alice, bob, _carol) = team_on(&team, &server);
    let token = bob.server_token();
    let all = entry_numbers(&api, "", &token);
    assert!(all.len() >= 3, "{all:?}");
    assert_eq!(entry_numbers(&api, "?after=0", &token), all);
    assert_eq!(entry_numbers(&api, "?after=2", &token), all[2..]);
    assert!(entry_numbers(&api, &format!("?after={}", all.len()), &token).is_empty());
    for bad in [
        "?after=-1",
        "?after=x",
        "?after=99999999999999999999",
        "?from=1",
    ] {
        let reply = api.get(&format!("{MEMBERS}{bad}"), Some(&token));
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
    }
    bob.run(&["status"]).ok();
    let invite = alice.run(&["invite", "--role", "reader"]).ok();
    let dave = team.member_of("dave", &server.url);
    dave.run(&["join", &server.url, &code_in(&invite)]).ok();
    alice.run(&["members", "accept", "dave"]).ok();
    assert!(bob.run(&["members", "list"]).ok().stdout.contains("dave"));
}

#[test]
fn the_log_is_read_after_the_entry_verified_sqlite() {
    let team = Team::new();
    the_log_is_read_after_the_entry_verified(Database::sqlite(&team));
}

#[test]
fn the_log_is_read_after_the_entry_verified_postgres() {
    the_log_is_read_after_the_entry_verified(Database::postgres());
}

/// A membership change verifies every head before its entry pins them, and reads them as
/// `status` does: in one request, not a head and a record per environment (issue 19, item
/// 3). The reads stay one however many environments there are, `status` after the change
/// reads no record one by one, a head this machine made is re-encrypted from the ciphertext
/// it kept, and the check is the same: a head the operator edited is still refused, and no
/// entry is appended.
fn membership_changes_read_every_head_at_once(database: Database) {
    let team = Team::new();
    let mut server = database.start();
    let api = Api::new(&server.url);
    let (alice, bob, _carol) = team_on(&team, &server);
    let more = ["e1", "e2", "e3", "e4"];
    link(&alice, &more);
    for name in more {
        alice.write_env(&format!(".env.{name}"), &format!("NAME={name}\n"));
        alice.run(&["push", "--env", name]).ok();
    }
    let (before, _) = status_requests(&api, &alice);
    let invite = alice.run(&["invite", "--role", "reader"]).ok();
    let dave = team.member_of("dave", &server.url);
    dave.run(&["join", &server.url, &code_in(&invite)]).ok();
    let (made, _) = api.requests_of(&alice, &["members", "accept", "dave"]);
    assert_eq!(
        made.get("/api/v1/projects/{project}/heads"),
        Some(&1),
        "{made:?}"
    );
    assert!(
        !made.keys().any(|route| route.ends_with("/head")),
        "{made:?}"
    );
    // The six new versions go five to a request, not one `PUT` per environment.
    assert_eq!(
        made.get("/api/v1/projects/{project}/versions"),
        Some(&2),
        "{made:?}"
    );
    assert!(
        !made
            .keys()
            .any(|route| route.ends_with("/versions/{number}")),
        "{made:?}"
    );
    // Alice made every head, so she re-encrypts each from the ciphertext she kept.
    assert!(
        !made.keys().any(|route| route.contains("/objects/")),
        "{made:?}"
    );
    // Each new head names the version the acceptance's entry pinned as its parent: `status`
    // after it still reads every head in one request and no record one by one.
    let (after, _) = status_requests(&api, &alice);
    assert_eq!(
        after, before,
        "status's requests after the change, then before it"
    );
    link(&dave, &["e4"]);
    dave.run(&["pull", "--env", "e4"]).ok();
    // A head Bob pushed since, which Alice never read, is fetched: that one alone.
    bob.run(&["pull"]).ok();
    bob.write_env(".env", "FROM_BOB=1\n");
    bob.run(&["push", "--yes"]).ok();
    let (made, _) = api.requests_of(&alice, &["members", "remove", "dave", "--yes"]);
    let objects = "/api/v1/projects/{project}/environments/{environment}/objects/{sha256}";
    assert_eq!(made.get(objects), Some(&1), "{made:?}");
    dave.run(&["pull", "--env", "e4"]).code(5);

    database.execute(&match database {
        Database::Sqlite(_) => "UPDATE versions SET record_json = \
             CAST(replace(CAST(record_json AS TEXT), '\"NAME\"', '\"MANE\"') AS BLOB) \
             WHERE environment = 'e3'"
            .to_owned(),
        Database::Postgres(_) => "UPDATE versions SET record_json = convert_to(replace(\
             convert_from(record_json, 'UTF8'), '\"NAME\"', '\"MANE\"'), 'UTF8') \
             WHERE environment = 'e3'"
            .to_owned(),
    });
    server.restart();
    let token = alice.server_token();
    let entries = entry_numbers(&api, "", &token);
    let refused = alice.run(&["members", "remove", "bob", "--yes"]).code(6);
    refused_with(&refused, "was rewritten");
    assert_eq!(entry_numbers(&api, "", &token), entries);
    bob.run(&["pull"]).ok();
}

#[test]
fn membership_changes_read_every_head_at_once_sqlite() {
    let team = Team::new();
    membership_changes_read_every_head_at_once(Database::sqlite(&team));
}

#[test]
fn membership_changes_read_every_head_at_once_postgres() {
    membership_changes_read_every_head_at_once(Database::postgres());
}

/// `support/older_server.py` in front of a real server: what a server released before
/// `POST …/versions` answers to it (404), and every other request passed through.
struct OlderServer {
    child: std::process::Child,
    url: String,
}

impl OlderServer {
    fn in_front_of(server: &Server) -> Self {
        use std::io::BufRead;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/older_server.py");
        let port = server.url.rsplit(':').next().unwrap();
        let mut child = std::process::Command::new("python3")
            .args([script, port])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the older server's proxy");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .expect("the proxy says its port");
        let url = format!("http://127.0.0.1:{port}");
        Self { child, url }
    }
}

impl Drop for OlderServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server without `POST …/versions` (an older release) gets each re-encrypted head in a
/// `PUT` of its own, and every head is still re-encrypted.
#[test]
fn a_server_without_the_batch_route_gets_each_version_alone() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let older = OlderServer::in_front_of(&server);
    let api = Api::new(&server.url);
    let alice = team.member_of("alice", &older.url);
    alice
        .run(&["join", &older.url, server.setup_code.as_deref().unwrap()])
        .ok();
    let environments = ["e1", "e2", "e3", "e4", "e5", "e6"];
    link(&alice, &environments);
    for name in environments {
        alice.write_env(&format!(".env.{name}"), &format!("NAME={name}\n"));
        alice.run(&["push", "--env", name]).ok();
    }
    let invite = alice.run(&["invite", "--role", "reader"]).ok();
    let dave = team.member_of("dave", &older.url);
    dave.run(&["join", &older.url, &code_in(&invite)]).ok();
    let (made, accepted) = api.requests_of(&alice, &["members", "accept", "dave"]);
    assert!(
        !accepted.stderr.contains("could not"),
        "{}",
        accepted.stderr
    );
    let one_by_one = "/api/v1/projects/{project}/environments/{environment}/versions/{number}";
    assert_eq!(made.get(one_by_one), Some(&6), "{made:?}");
    assert_eq!(
        made.get("/api/v1/projects/{project}/versions"),
        None,
        "{made:?}"
    );
    link(&dave, &environments);
    for name in environments {
        dave.run(&["pull", "--env", name]).ok();
        assert_eq!(
            dave.read_env(&format!(".env.{name}")),
            format!("NAME={name}\n")
        );
    }
}

/// Issue 19, item 1: only the commands that show or answer access requests ask for them.
/// Every command that read the membership log used to fetch the project's pending
/// requests too: a round trip of five in a `run` from a server, for nothing.
#[test]
fn only_the_commands_that_show_access_requests_ask_for_them() {
    let team = Team::new();
    let server = Database::sqlite(&team).start();
    let api = Api::new(&server.url);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let invite = alice.run(&["invite", "--role", "reader"]).ok();
    let carol = team.member_of("carol", &server.url);
    carol.run(&["join", &server.url, &code_in(&invite)]).ok();
    let requests = "/api/v1/projects/{project}/requests";

    let (made, _) = api.requests_of(&alice, &["run", "--remote", "--", "true"]);
    // The membership log, and the head with its record and ciphertext.
    let head = "/api/v1/projects/{project}/environments/{environment}/head";
    assert_eq!(made.values().sum::<u64>(), 2, "{made:?}");
    assert_eq!(made.get(head), Some(&1), "{made:?}");
    assert_eq!(made.get(requests), None, "{made:?}");
    alice.write_env(".env", "FROM_ALICE=2\n");
    for args in [&["push"][..], &["pull"], &["sync"]] {
        let (made, _) = api.requests_of(&alice, args);
        assert_eq!(made.get(requests), None, "{args:?}: {made:?}");
    }
    // A teammate's pull reads the new head's record and ciphertext in the head's request,
    // and its parent (the version the teammate verified last) from its ledger: the log and
    // the head. So does a pull with nothing new, although the log's pin of the history is
    // two versions back now: the ledger notes that its head reaches it.
    for _ in 0..2 {
        let (made, _) = api.requests_of(&bob, &["pull"]);
        assert_eq!(made.values().sum::<u64>(), 2, "{made:?}");
        assert_eq!(made.get(head), Some(&1), "{made:?}");
    }

    // The owner still sees who waits, and answers them.
    let (made, status) = api.requests_of(&alice, &["status", "--json"]);
    assert_eq!(made.get(requests), Some(&1), "{made:?}");
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["pending_members"][0]["name"], "carol", "{status}");
    let (made, _) = api.requests_of(&alice, &["members", "accept", "carol"]);
    assert_eq!(made.get(requests), Some(&1), "{made:?}");
    carol.run(&["pull"]).ok();
}
