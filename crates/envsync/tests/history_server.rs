//! The server's operator is as untrusted as a folder's owner: what it changes in its own
//! database is refused by the clients (issue 11, items 3, 6 and 11 on a server).

mod support;

use std::process::Command;

use support::Team;
use support::server::Server;
use support::team_server::{alice_invites_bob, code_in};

/// Runs SQL on the server's SQLite database, as its operator could.
fn operator(data_dir: &std::path::Path, statement: &str) {
    let output = Command::new("sqlite3")
        .arg(data_dir.join("envsync.db"))
        .arg(statement)
        .output()
        .expect("the sqlite3 CLI is installed");
    assert!(
        output.status.success(),
        "{statement}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Item 6: the role an owner signs comes from the invite the owner signed; an operator who
/// edits it gets a refusal, not an owner.
#[test]
fn the_role_an_owner_grants_is_the_one_the_invite_signed() {
    let team = Team::new();
    let data = team.root.path().join("server");
    let mut server = Server::sqlite(&data);
    let (alice, _bob) = alice_invites_bob(&team, &server, &server, "writer");
    let invite = alice
        .run(&["invite", "--role", "reader", "--env", "development"])
        .ok();
    let carol = team.member_of("carol", &server.url);
    carol.run(&["join", &server.url, &code_in(&invite)]).ok();

    // The operator rewrites the stored invite (and the pending grant) to owner.
    operator(
        &data,
        "UPDATE invites SET role = 'owner', environments = NULL, \
         signed_json = replace(signed_json, '\"reader\"', '\"owner\"') \
         WHERE signed_json LIKE '%\"reader\"%'",
    );
    server.restart();
    // The list shows no role for a request whose invite does not check out.
    assert_eq!(request_of(&alice, "carol")["role"], serde_json::Value::Null);
    let refused = alice.run(&["members", "accept", "carol"]).code(6);
    assert!(refused.stderr.contains("signature"), "{}", refused.stderr);
    carol.run(&["pull"]).code(5);

    // Untouched, the grant shown before signing is the invite's, and names who signed it.
    let dave_invite = alice
        .run(&["invite", "--role", "reader", "--env", "development"])
        .ok();
    let dave = team.member_of("dave", &server.url);
    dave.run(&["join", &server.url, &code_in(&dave_invite)])
        .ok();
    // Before anything is signed, the list shows what accepting grants (the editor's view
    // shows it in its Accept dialog).
    let request = request_of(&alice, "dave");
    assert_eq!(request["role"], "reader");
    assert_eq!(request["environments"], serde_json::json!(["development"]));
    let accepted = alice.run(&["members", "accept", "dave"]).ok();
    assert!(
        accepted
            .stderr
            .contains("as reader on development (from the invite alice"),
        "{}",
        accepted.stderr
    );
    dave.run(&["pull"]).ok();
    dave.write_env(".env", "A=reader-cannot-push\n");
    dave.run(&["push"]).code(5);
}

/// `name`'s access request as `members --json` lists it.
fn request_of(owner: &support::Teammate, name: &str) -> serde_json::Value {
    let listed: serde_json::Value =
        serde_json::from_str(&owner.run(&["members", "list", "--json"]).ok().stdout).unwrap();
    let members = listed["members"].as_array().unwrap();
    let request = members
        .iter()
        .find(|member| member["name"] == name && member["status"] == "request");
    request
        .unwrap_or_else(|| panic!("no request of {name} in {listed}"))
        .clone()
}

/// Items 3 and 11: an operator who deletes the newest version (or restores an older
/// backup) rolls nobody back; `envsync repair` puts it back.
#[test]
fn an_operator_deleting_the_newest_version_rolls_nobody_back() {
    let team = Team::new();
    let data = team.root.path().join("server");
    let mut server = Server::sqlite(&data);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    alice.write_env(".env", "API_KEY=rotated\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    operator(
        &data,
        "DELETE FROM versions WHERE number = (SELECT max(number) FROM versions)",
    );
    server.restart();
    let refused = bob.run(&["pull"]).code(6);
    assert!(refused.stderr.contains("went back"), "{}", refused.stderr);
    bob.run(&["status"]).code(6);
    bob.run(&["run", "--remote", "--", "true"]).code(6);
    assert_eq!(bob.read_env(".env"), "API_KEY=rotated\n");
    let repaired = bob.run(&["repair"]).ok();
    assert!(
        repaired.stderr.contains("put back versions"),
        "{}",
        repaired.stderr
    );
    alice.run(&["pull"]).ok();
    bob.run(&["status"]).ok();
}

/// Item 13: a removal racing the removed member's pushes. Whatever lands in between, the
/// removal pins what it saw and the re-encryption supersedes what came after it, so every
/// reader can pull afterwards and the removed member reads nothing new. Three rounds, each
/// with Mallory pushing as fast as she can while Alice removes her.
#[test]
fn a_removal_racing_pushes_leaves_every_environment_readable() {
    for round in 0..3 {
        let team = Team::new();
        let server = Server::sqlite(&team.root.path().join("server"));
        let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
        let invite = alice.run(&["invite", "--role", "writer"]).ok();
        let mallory = team.member_of("mallory", &server.url);
        mallory.run(&["join", &server.url, &code_in(&invite)]).ok();
        alice
            .run(&["members", "accept", &mallory.fingerprint()])
            .ok();
        mallory.run(&["pull"]).ok();
        bob.run(&["members", "accept", &mallory.fingerprint()]).ok();
        let pusher = std::thread::spawn(move || {
            for attempt in 0..8 {
                mallory.write_env(".env", &format!("RACE={round}-{attempt}\n"));
                let _ = mallory.run(&["sync", "--ours"]);
            }
            mallory
        });
        alice.run(&["members", "remove", "mallory"]).ok();
        let mallory = pusher.join().unwrap();
        bob.run(&["pull"]).ok();
        bob.run(&["log"]).ok();
        alice.run(&["pull", "--force"]).ok();
        alice.write_env(".env", "AFTER=removal\n");
        alice.run(&["push"]).ok();
        bob.run(&["pull"]).ok();
        mallory.run(&["pull", "--force"]).code(5);
        assert!(!mallory.read_env(".env").contains("AFTER"));
    }
}

/// Issue 18, item 9: a join followed by a pull recorded two access requests. A joiner now
/// waits, pending, and their pull asks again for nothing.
#[test]
fn a_join_and_a_pull_ask_for_access_once() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, _bob) = alice_invites_bob(&team, &server, &server, "writer");
    let invite = alice.run(&["invite", "--role", "reader"]).ok();
    let carol = team.member_of("carol", &server.url);
    carol.run(&["join", &server.url, &code_in(&invite)]).ok();
    let waiting = carol.run(&["pull"]).code(5);
    assert!(
        waiting.stderr.contains("waiting for an owner"),
        "{}",
        waiting.stderr
    );
    let audit = alice.run(&["audit", "--json"]).ok().stdout;
    assert_eq!(audit.matches("\"access.request\"").count(), 2, "{audit}");
}
