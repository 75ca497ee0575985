//! Attacks on the real server, and the failures it must survive: corrupt rows, writes that
//! fail midway, guessing, garbled URLs, several replicas on one database. Each case that
//! touches storage runs on SQLite and on PostgreSQL.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use support::Team;
use support::server::{Api, PgDatabase, Server};

/// Where a test server keeps its data, with a way to change rows behind its back.
enum Database {
    Sqlite(PathBuf),
    Postgres(PgDatabase),
}

impl Database {
    fn sqlite(team: &Team) -> Self {
        Self::Sqlite(team.root.path().join("server"))
    }

    fn postgres() -> Self {
        Self::Postgres(PgDatabase::create())
    }

    fn start(&self) -> Server {
        match self {
            Self::Sqlite(data_dir) => Server::sqlite(data_dir),
            Self::Postgres(database) => Server::postgres(&database.url),
        }
    }

    /// Runs `statement` with the database's own client, as an intruder or a broken disk
    /// would change it.
    fn execute(&self, statement: &str) {
        let output = match self {
            Self::Sqlite(data_dir) => Command::new("sqlite3")
                .arg(data_dir.join("envsync.db"))
                .arg(statement)
                .output(),
            Self::Postgres(database) => Command::new("psql")
                .args([
                    &database.url,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-q",
                    "-c",
                    statement,
                ])
                .output(),
        }
        .expect("run the database's client");
        assert!(
            output.status.success(),
            "{statement}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A trigger that makes every insert into `table` fail: a write failing midway.
    fn break_inserts(&self, table: &str) {
        match self {
            Self::Sqlite(_) => self.execute(&format!(
                "CREATE TRIGGER broken BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
            )),
            Self::Postgres(_) => {
                self.execute(
                    "CREATE FUNCTION broken() RETURNS trigger AS \
                     $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$ LANGUAGE plpgsql",
                );
                self.execute(&format!(
                    "CREATE TRIGGER broken BEFORE INSERT ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION broken()"
                ));
            }
        }
    }

    fn repair_inserts(&self, table: &str) {
        match self {
            Self::Sqlite(_) => self.execute("DROP TRIGGER broken"),
            Self::Postgres(_) => self.execute(&format!("DROP TRIGGER broken ON {table}")),
        }
    }
}

/// A server with an owner (Alice) and project `app`: returns the owner's token.
fn owner_and_project(team: &Team, server: &Server, api: &Api) -> String {
    let alice_key = team.member("alice").member_key();
    let alice = api.join(server.setup_code.as_deref().unwrap(), "Alice", &alice_key);
    let genesis = json!({
        "body": {"format": 1, "project": "app", "number": 1, "parent_digest": null,
                 "action": "add", "member": alice_key, "name": "owner", "role": "owner",
                 "environments": null, "heads": {}, "actor": alice_key,
                 "created_at": "2026-11-23T00:00:00Z"},
        "signature": "unchecked"
    });
    let created = api.send(
        "PUT",
        "/api/v1/projects/app/members/1",
        Some(&alice),
        &genesis.to_string(),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    alice
}

/// An invite code for project `app` made by `owner`.
fn invite(api: &Api, owner: &str, body: serde_json::Value) -> String {
    let reply = api.send(
        "POST",
        "/api/v1/projects/app/invites",
        Some(owner),
        &body.to_string(),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["code"].as_str().unwrap().to_owned()
}

fn corrupt_grants_fail_closed(database: Database, team: &Team) {
    let server = database.start();
    let api = Api::new(&server.url);
    let alice = owner_and_project(team, &server, &api);
    let code = invite(
        &api,
        &alice,
        json!({"role": "reader", "environments": ["staging"]}),
    );
    let dave = api.join(&code, "Dave", &team.member("dave").member_key());
    let head = |environment: &str| {
        api.get(
            &format!("/api/v1/projects/app/environments/{environment}/head"),
            Some(&dave),
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
    assert!(
        server.log().contains("corrupt grant environments"),
        "{}",
        server.log()
    );
    let whoami = api.get("/api/v1/whoami", Some(&dave));
    assert_eq!(whoami.status, 500, "{}", whoami.body);
}

#[test]
fn a_corrupt_grant_is_an_error_never_wider_access_sqlite() {
    let team = Team::new();
    corrupt_grants_fail_closed(Database::sqlite(&team), &team);
}

#[test]
fn a_corrupt_grant_is_an_error_never_wider_access_postgres() {
    let team = Team::new();
    corrupt_grants_fail_closed(Database::postgres(), &team);
}

fn join_fails_whole(database: Database, team: &Team) {
    let server = database.start();
    let api = Api::new(&server.url);
    let alice = owner_and_project(team, &server, &api);
    let code = invite(&api, &alice, json!({"role": "writer"}));
    let bob_key = team.member("bob").member_key();
    let body = json!({"code": code, "name": "Bob", "member_key": bob_key}).to_string();
    // The token, the join's fourth write, fails.
    database.break_inserts("tokens");
    let failed = api.send("POST", "/api/v1/join", None, &body);
    assert_eq!(failed.status, 503, "{}", failed.body);
    database.repair_inserts("tokens");
    // Nothing of the failed join remains: the code is unused and Bob has no account.
    let grants = api.get("/api/v1/projects/app/grants", Some(&alice)).json();
    assert_eq!(grants["grants"].as_array().unwrap().len(), 1, "{grants}");
    let again = api.send("POST", "/api/v1/join", None, &body);
    assert_eq!(
        again.status, 201,
        "the code must still work: {}",
        again.body
    );
}

#[test]
fn a_join_that_fails_midway_changes_nothing_sqlite() {
    let team = Team::new();
    join_fails_whole(Database::sqlite(&team), &team);
}

#[test]
fn a_join_that_fails_midway_changes_nothing_postgres() {
    let team = Team::new();
    join_fails_whole(Database::postgres(), &team);
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
    owner_and_project(&team, &server, &api);
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
    let database = Database::sqlite(&team);
    let server = database.start();
    let api = Api::new(&server.url);
    let alice = owner_and_project(&team, &server, &api);
    let code = invite(&api, &alice, json!({"role": "reader"}));
    exhaust_failures(&[&api]);
    assert_eq!(api.get("/api/v1/whoami", Some(&alice)).status, 200);
    assert_eq!(
        api.get("/api/v1/projects/app/members", Some(&alice)).status,
        200
    );
    // A valid invite code works too; a wrong one is still refused with 429.
    api.join(&code, "Carol", &team.member("carol").member_key());
    let guess = api.send(
        "POST",
        "/api/v1/join",
        None,
        &json!({"code": "esi_guess", "name": "E", "member_key": team.member("erin").member_key()})
            .to_string(),
    );
    assert_eq!(guess.status, 429, "{}", guess.body);
}

#[test]
fn every_rejection_is_a_json_error() {
    let team = Team::new();
    let server = Database::sqlite(&team).start();
    let api = Api::new(&server.url);
    let alice = owner_and_project(&team, &server, &api);
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
    let team = Team::new();
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
    other.join(&first_code, "Alice", &team.member("alice").member_key());
    let late = other.send(
        "POST",
        "/api/v1/join",
        None,
        &json!({"code": second_code, "name": "Mallory",
                "member_key": team.member("mallory").member_key()})
        .to_string(),
    );
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
