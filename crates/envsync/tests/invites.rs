//! `envsync invite list` and `envsync invite revoke` against a real server, on SQLite and on
//! PostgreSQL: owners see every invite and what became of it, and revoke one nobody
//! redeemed, after which its code cannot join; members who are not owners are refused.

mod support;

use envsync_core::hash::sha256_hex;
use serde_json::Value;
use support::server::{Api, PgDatabase, Server};
use support::team_server::{alice_invites_bob, code_in};
use support::{Team, Teammate};

#[test]
fn owners_list_and_revoke_invites_on_sqlite() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    list_and_revoke(&team, &server);
}

#[test]
fn owners_list_and_revoke_invites_on_postgres() {
    let team = Team::new();
    let database = PgDatabase::create();
    let server = Server::postgres(&database.url);
    list_and_revoke(&team, &server);
}

#[test]
fn pending_invites_are_read_in_one_request_on_sqlite() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    pending_invites_are_read_at_once(&team, &server);
}

#[test]
fn pending_invites_are_read_in_one_request_on_postgres() {
    let team = Team::new();
    let database = PgDatabase::create();
    let server = Server::postgres(&database.url);
    pending_invites_are_read_at_once(&team, &server);
}

/// Issue 19: an owner's `members list` and `members accept` read the signed invites of every
/// pending request in one request, not one each, and still show and grant what each owner
/// signed (`history_server.rs` checks that a signature the operator broke is refused).
fn pending_invites_are_read_at_once(team: &Team, server: &Server) {
    let (alice, _bob) = alice_invites_bob(team, server, server, "writer");
    let api = Api::new(&server.url);
    let joiners = [("carol", "reader"), ("dave", "writer"), ("erin", "reader")];
    let mut joined = Vec::new();
    for (name, role) in joiners {
        let invite = alice.run(&["invite", "--role", role]).ok();
        let joiner = team.member_of(name, &server.url);
        joiner.run(&["join", &server.url, &code_in(&invite)]).ok();
        joined.push(joiner);
    }
    let one_each = "/api/v1/projects/{project}/invites/{code_sha256}";
    let all = "/api/v1/projects/{project}/invites";
    let (made, list) = api.requests_of(&alice, &["members", "list", "--json"]);
    assert_eq!(
        (made.get(all), made.get(one_each)),
        (Some(&1), None),
        "{made:?}"
    );
    let rows = list.document("Members")["members"].clone();
    for (name, role) in joiners {
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["name"] == name);
        assert_eq!(row.unwrap()["role"], role, "{rows}");
    }
    let (made, _) = api.requests_of(&alice, &["members", "accept", "--all"]);
    assert_eq!(
        (made.get(all), made.get(one_each)),
        (Some(&1), None),
        "{made:?}"
    );
    let carol = &joined[0];
    carol.run(&["pull"]).ok();
    carol.write_env(".env", "A=a-reader-cannot-push\n");
    carol.run(&["push"]).code(5);
}

/// The invite whose code has this SHA-256, as `invite list --json` shows it.
fn listed(owner: &Teammate, code_sha256: &str) -> Value {
    let list = owner.run(&["invite", "list", "--json"]).ok();
    let document = list.document("Invites");
    document["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|invite| invite["code_sha256"] == code_sha256)
        .unwrap_or_else(|| panic!("{code_sha256} not listed: {document}"))
        .clone()
}

fn list_and_revoke(team: &Team, server: &Server) {
    let (alice, bob) = alice_invites_bob(team, server, server, "writer");
    let carol = team.member_of("carol", &server.url);
    let carol_code = code_in(&alice.run(&["invite", "--role", "reader"]).ok());
    carol.run(&["join", &server.url, &carol_code]).ok();
    alice
        .run(&["members", "accept", "carol", "--role", "reader"])
        .ok();
    let code = code_in(
        &alice
            .run(&["invite", "--role", "reader", "--env", "development"])
            .ok(),
    );
    let hash = sha256_hex(code.as_bytes());

    // Every invite, with what became of it; never a code.
    let open = listed(&alice, &hash);
    assert_eq!(open["state"], "open");
    assert_eq!(open["role"], "reader");
    assert_eq!(open["environments"], serde_json::json!(["development"]));
    assert_eq!(open["revoked_at"], Value::Null);
    let redeemed = listed(&alice, &sha256_hex(carol_code.as_bytes()));
    assert_eq!(redeemed["state"], "redeemed");
    assert!(
        redeemed["redeemed_by"]
            .as_str()
            .unwrap()
            .starts_with("carol"),
        "{redeemed}"
    );
    let text = alice.run(&["invite", "list"]).ok();
    assert!(!text.stdout.contains("esi_"), "{}", text.stdout);
    assert!(text.stdout.contains(&hash[..12]), "{}", text.stdout);
    assert!(text.stdout.contains("redeemed by carol"), "{}", text.stdout);

    // A writer and a reader may neither list nor revoke (the revocation is refused at the
    // list it resolves the prefix with; tests/server_api.rs refuses the DELETE itself).
    for member in [&bob, &carol] {
        let refused = member.run(&["invite", "list"]).code(5);
        assert!(refused.stderr.contains("owner"), "{}", refused.stderr);
        member.run(&["invite", "revoke", &hash]).code(5);
    }
    assert_eq!(listed(&alice, &hash)["state"], "open", "nothing changed");

    // The owner revokes by a prefix; the code no longer joins, and says why.
    let revoked = alice
        .run(&["invite", "revoke", &hash[..8], "--json"])
        .ok()
        .document("InviteRevoked");
    assert_eq!(revoked["code_sha256"], hash.as_str());
    let dave = team.member_of("dave", &server.url);
    let refused = dave.run(&["join", &server.url, &code]).code(5);
    assert!(refused.stderr.contains("revoked"), "{}", refused.stderr);
    let after = listed(&alice, &hash);
    assert_eq!(after["state"], "revoked");
    assert!(
        after["revoked_by"].as_str().unwrap().starts_with("alice"),
        "{after}"
    );

    // Twice, or a redeemed one: a conflict that changes nothing.
    let twice = alice.run(&["invite", "revoke", &hash]).code(3);
    assert!(twice.stderr.contains("revoked already"), "{}", twice.stderr);
    let used = alice.run(&["invite", "revoke", &carol_code]).code(3);
    assert!(used.stderr.contains("redeemed by carol"), "{}", used.stderr);
    assert_eq!(listed(&alice, &hash)["revoked_at"], after["revoked_at"]);
    assert_eq!(
        listed(&alice, &sha256_hex(carol_code.as_bytes()))["state"],
        "redeemed"
    );
    let unknown = alice.run(&["invite", "revoke", "0123abcd"]).code(2);
    assert!(unknown.stderr.contains("no invite"), "{}", unknown.stderr);
    alice.run(&["invite", "revoke", "not-hex"]).code(2);

    // One audit entry, for the one revocation that happened.
    let audit = alice
        .run(&["audit", "--action", "invite.revoke", "--json"])
        .ok()
        .json();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["target"], format!("invite {hash}"));
}

/// `join URL -` reads the code from standard input, so an editor or script never puts it on
/// a command line; an empty input is refused before anything is sent.
#[test]
fn a_code_read_from_standard_input_joins() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, _bob) = alice_invites_bob(&team, &server, &server, "writer");
    let carol = team.member_of("carol", &server.url);
    let refused = carol
        .run_with_stdin(&["join", &server.url, "-"], "\n")
        .code(2);
    assert!(
        refused.stderr.contains("no invite code given"),
        "{}",
        refused.stderr
    );
    let code = code_in(&alice.run(&["invite", "--role", "reader"]).ok());
    carol
        .run_with_stdin(&["join", &server.url, "-"], &format!("{code}\n"))
        .ok();
    let members = alice.run(&["members", "list", "--json"]).ok().stdout;
    assert!(members.contains("carol"), "{members}");
}
