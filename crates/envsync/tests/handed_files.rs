//! Files a user is handed or keeps, refused by the real binary with what is wrong in them
//! and never with the secrets they hold: an opened `.share` bundle whose contents `join`
//! cannot use, and a credentials file that is not one. (Their parsers are fuzzed: the
//! `share_bundle` and `credentials` targets.)

mod support;

use serde_json::json;
use support::Team;
use support::server::Server;
use support::team_server::server_owner;

#[test]
fn a_bundle_sharing_a_project_its_config_lacks_is_refused() {
    let team = Team::new();
    let bob = team.member("bob");
    let config = std::fs::read_to_string(bob.workspace.join("envsync.toml")).unwrap();
    let invite = "esi_do_not_print_this_code";
    let bundle = json!({
        "format": 1, "project": "web", "config": config, "shared_by": "Alice",
        "shared_by_key": "age1example:key", "invite": invite,
    });
    let passphrase = "correct-horse-battery-staple";
    let sealed =
        envsync_crypto::encrypt_with_passphrase(bundle.to_string().as_bytes(), passphrase).unwrap();
    let path = team.root.path().join("web.share");
    std::fs::write(&path, sealed).unwrap();
    let refused = bob
        .run_with_env(
            &["join", path.to_str().unwrap()],
            &[("ENVSYNC_PASSPHRASE", passphrase)],
        )
        .code(2);
    assert!(
        refused
            .stderr
            .contains("shares project `web`, which its envsync.toml does not declare"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(invite), "{}", refused.stderr);
}

#[test]
fn a_broken_credentials_file_is_named_without_its_tokens() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(&team, &server, "alice");
    let path = alice.home.join(".config/envsync/credentials.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let token = text
        .lines()
        .find_map(|line| line.strip_prefix("token = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("alice's stored token")
        .to_owned();
    std::fs::write(&path, text.replace("account = ", "acount = ")).unwrap();
    let refused = alice.run(&["pull"]).code(2);
    for expected in [
        "credentials.toml is not a valid envsync credentials file",
        "has no `account`",
        "envsync login URL",
    ] {
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
    }
    assert!(!refused.stderr.contains(&token), "the token was printed");
}
