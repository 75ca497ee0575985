//! Where envsync's secrets must stop, through the real binary: linked files that are
//! symlinks out of the workspace, envsync's own variables in `envsync run`'s child, a CI
//! token offered to a server the repository names, the git guard in a monorepo, a malformed
//! identity in an error message, redirects, and a CI token reading access requests.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use support::server::{Api, Server};
use support::team_server::{ALICE_ENV, server_owner};
use support::{Run, Team, Teammate};

const SECRET_ENV: &str = "API_KEY=sk_live_abcdef123456\nPORT=3000\n";

/// A member with `.env` pushed to the team's folder remote.
fn pushed(team: &Team, name: &str, text: &str) -> Teammate {
    let mate = team.member(name);
    mate.write_env(".env", text);
    mate.run(&["push"]).ok();
    mate
}

#[track_caller]
fn assert_one_line_naming(run: &Run, needle: &str) {
    let stderr = run.stderr.trim();
    assert!(
        stderr.starts_with("error: ") && !stderr.contains('\n') && stderr.contains(needle),
        "expected one `error:` line naming {needle}, got: {stderr}"
    );
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(unix)]
#[test]
fn a_linked_directory_symlinked_out_of_the_workspace_is_never_written_through() {
    let team = Team::new();
    let alice = pushed(&team, "alice", SECRET_ENV);
    let outside = team.root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let config = std::fs::read_to_string(alice.workspace.join("envsync.toml")).unwrap();
    std::fs::write(
        alice.workspace.join("envsync.toml"),
        config.replace("development = \".env\"", "development = \"conf/.env\""),
    )
    .unwrap();
    std::fs::remove_file(alice.workspace.join(".env")).unwrap();
    symlink(&outside, alice.workspace.join("conf"));

    let refused = alice.run(&["pull"]).code(2);
    assert_one_line_naming(&refused, "conf");
    assert!(
        !outside.join(".env").exists(),
        "pull wrote plaintext outside the workspace"
    );
    std::fs::write(outside.join(".env"), "OUTSIDE=1\n").unwrap();
    assert_one_line_naming(&alice.run(&["push"]).code(2), "conf");
}

#[cfg(unix)]
#[test]
fn a_linked_file_symlinked_to_another_file_is_refused_by_every_command_that_reads_it() {
    let team = Team::new();
    let alice = pushed(&team, "alice", SECRET_ENV);
    let remote_before = team.remote_files().len();
    let private = team.root.path().join("private.txt");
    std::fs::write(&private, "SSH_KEY=not-for-the-team\n").unwrap();
    std::fs::remove_file(alice.workspace.join(".env")).unwrap();
    symlink(&private, alice.workspace.join(".env"));

    for command in [
        &["push", "-m", "leak"][..],
        &["pull", "--force"],
        &["sync"],
        &["status"],
        &["diff"],
        &["export", "--format", "json"],
        &["run", "--", "true"],
        &["import", "../private.txt"],
    ] {
        let refused = alice.run(command).code(2);
        assert_one_line_naming(&refused, ".env");
        assert!(!refused.stdout.contains("not-for-the-team"), "{command:?}");
    }
    assert_eq!(team.remote_files().len(), remote_before, "push uploaded it");
    let link = std::fs::symlink_metadata(alice.workspace.join(".env")).unwrap();
    assert!(link.file_type().is_symlink(), "pull replaced the symlink");
    assert_eq!(
        std::fs::read_to_string(&private).unwrap(),
        "SSH_KEY=not-for-the-team\n"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_that_stays_inside_the_workspace_is_followed_and_kept() {
    let team = Team::new();
    let alice = pushed(&team, "alice", SECRET_ENV);
    std::fs::create_dir_all(alice.workspace.join("config")).unwrap();
    std::fs::rename(
        alice.workspace.join(".env"),
        alice.workspace.join("config/dev.env"),
    )
    .unwrap();
    symlink("config/dev.env", alice.workspace.join(".env"));
    alice.write_env(
        "config/dev.env",
        "API_KEY=sk_live_abcdef123456\nPORT=4000\n",
    );
    alice.run(&["push", "-m", "through the link"]).ok();
    std::fs::write(alice.workspace.join("config/dev.env"), SECRET_ENV).unwrap();
    alice.run(&["pull", "--force"]).ok();
    let link = std::fs::symlink_metadata(alice.workspace.join(".env")).unwrap();
    assert!(link.file_type().is_symlink(), "pull replaced the symlink");
    assert!(alice.read_env("config/dev.env").contains("PORT=4000"));
}

#[test]
fn run_keeps_envsyncs_own_secrets_from_the_child() {
    let team = Team::new();
    let alice = pushed(
        &team,
        "alice",
        "API_KEY=sk-12345678\nECHOED=${ENVSYNC_PASSPHRASE}\n",
    );
    let identity = alice.identity_file().display().to_string();
    let own = [
        ("ENVSYNC_IDENTITY", identity.as_str()),
        ("ENVSYNC_TOKEN", "esk_0123456789ab_tokensecret"),
        ("ENVSYNC_PASSPHRASE", "correct horse battery staple"),
        (
            "ENVSYNC_DATABASE_URL",
            "postgres://envsync:dbsecret@db/envsync",
        ),
        ("CALLER_VARIABLE", "kept"),
    ];
    let run = alice.run_with_env(&["run", "--", "env"], &own).ok();
    for (name, _) in &own[..4] {
        assert!(
            !run.stdout
                .lines()
                .any(|line| line.starts_with(&format!("{name}="))),
            "{name} reached the child:\n{}",
            run.stdout
        );
    }
    for secret in ["tokensecret", "battery staple", "dbsecret"] {
        assert!(!run.stdout.contains(secret), "{}", run.stdout);
    }
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.contains(&"API_KEY=sk-12345678"), "{}", run.stdout);
    assert!(lines.contains(&"CALLER_VARIABLE=kept"), "{}", run.stdout);
}

/// A plain HTTP listener that is not an envsync server: it answers every request with
/// `response` and keeps each request's text, to show what envsync sent it.
fn listener(response: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 8192];
            let read = stream.read(&mut request).unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..read]).into_owned();
            log.lock().unwrap().push(text);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, seen)
}

const NOT_FOUND: &str = "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\
    Content-Length: 22\r\nConnection: close\r\n\r\n<html>Not Found</html>";

/// A CI checkout: `envsync.toml` from the repository, no identity file, no credentials.
fn ci_checkout(team: &Team, config: &str) -> Teammate {
    let ci = Teammate {
        name: "ci".into(),
        home: team.root.path().join("homes/ci"),
        workspace: team.root.path().join("clone-ci"),
    };
    std::fs::create_dir_all(&ci.home).unwrap();
    std::fs::create_dir_all(&ci.workspace).unwrap();
    std::fs::write(ci.workspace.join("envsync.toml"), config).unwrap();
    ci
}

/// `envsync ci add` on a server: the variables it prints, by name.
fn ci_secrets(alice: &Teammate) -> impl Fn(&str) -> String {
    let added = alice.run(&["ci", "add", "github", "--env", "staging"]).ok();
    move |name: &str| {
        added
            .stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in: {}", added.stdout))
            .to_owned()
    }
}

fn server_with_staging(team: &Team, server: &Server) -> Teammate {
    let alice = server_owner(team, server, "alice");
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push"]).ok();
    alice.write_env(".env.staging", "API_KEY=staging-secret\n");
    alice.run(&["push", "--env", "staging"]).ok();
    alice
}

#[test]
fn a_ci_token_goes_only_to_the_server_named_in_envsync_server() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_with_staging(&team, &server);
    let secret = ci_secrets(&alice);
    let (identity, token) = (secret("ENVSYNC_IDENTITY"), secret("ENVSYNC_TOKEN"));
    assert_eq!(secret("ENVSYNC_SERVER"), server.url);
    let config = std::fs::read_to_string(alice.workspace.join("envsync.toml")).unwrap();
    let (evil, seen) = listener(NOT_FOUND);
    // A pull request that points `remote` at a server of its own.
    let ci = ci_checkout(&team, &config.replace(&server.url, &evil));
    let command = ["run", "--remote", "--env", "staging", "--yes", "--", "true"];
    let with_server = [
        ("ENVSYNC_IDENTITY", identity.as_str()),
        ("ENVSYNC_TOKEN", token.as_str()),
        ("ENVSYNC_SERVER", server.url.as_str()),
    ];
    let refused = ci.run_with_env(&command, &with_server).code(5);
    assert_one_line_naming(&refused, &evil);
    assert!(refused.stderr.contains(&server.url), "{}", refused.stderr);
    let refused = ci.run_with_env(&command, &with_server[..2]).code(5);
    assert_one_line_naming(&refused, "ENVSYNC_SERVER");
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|request| !request.contains(&token)),
        "the token reached {evil}"
    );
    assert!(!refused.stderr.contains(&token));

    // The checkout as committed works, with the server named.
    std::fs::write(ci.workspace.join("envsync.toml"), &config).unwrap();
    let printed = ci
        .run_with_env(
            &[
                "run", "--remote", "--env", "staging", "--yes", "--", "printenv", "API_KEY",
            ],
            &with_server,
        )
        .ok();
    assert_eq!(printed.stdout.trim(), "staging-secret");
}

#[test]
fn a_ci_token_cannot_read_access_requests() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_with_staging(&team, &server);
    let secret = ci_secrets(&alice);
    let api = Api::new(&server.url);
    let path = "/api/v1/projects/app/requests";
    assert_eq!(api.get(path, Some(&alice.server_token())).status, 200);
    let refused = api.get(path, Some(&secret("ENVSYNC_TOKEN")));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.code(), "forbidden");
}

fn git(directory: &Path, home: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(directory)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .output()
        .unwrap()
}

#[test]
fn the_guard_checks_the_values_of_a_workspace_in_a_subdirectory() {
    let team = Team::new();
    let alice = team.member("alice");
    let repository = alice.workspace.clone();
    let service = repository.join("svc");
    std::fs::create_dir_all(&service).unwrap();
    std::fs::rename(
        repository.join("envsync.toml"),
        service.join("envsync.toml"),
    )
    .unwrap();
    let config = std::fs::read_to_string(service.join("envsync.toml")).unwrap();
    std::fs::write(
        service.join("envsync.toml"),
        config.replace("\"../remote\"", "\"../../remote\""),
    )
    .unwrap();
    std::fs::write(service.join(".env"), SECRET_ENV).unwrap();
    alice.run(&["-C", "svc", "push"]).ok();
    let git = |args: &[&str]| git(&repository, &alice.home, args);
    assert!(git(&["init", "-q"]).status.success());
    std::fs::write(repository.join(".gitignore"), "/svc/.env\n/svc/.envsync/\n").unwrap();
    std::fs::create_dir_all(repository.join("broken")).unwrap();
    std::fs::write(
        repository.join("broken/envsync.toml"),
        "remote = [unclosed\n",
    )
    .unwrap();
    git(&[
        "add",
        ".gitignore",
        "svc/envsync.toml",
        "broken/envsync.toml",
    ]);
    alice.run(&["guard", "install"]).ok();

    std::fs::write(
        service.join("config.yaml"),
        "api_key: sk_live_abcdef123456\n",
    )
    .unwrap();
    git(&["add", "svc/config.yaml"]);
    let commit = git(&["commit", "-qm", "config"]);
    // git shows a hook's output on its stderr.
    let stderr = String::from_utf8_lossy(&commit.stderr);
    assert!(
        !commit.status.success(),
        "the guard let the value in: {stderr}"
    );
    assert!(
        stderr.contains("svc/config.yaml:1: contains the value of app/development `API_KEY`"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk_live") && commit.stdout.is_empty());
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("warning: ") && line.contains("broken/envsync.toml")),
        "an unreadable envsync.toml passed silently: {stderr}"
    );
}

#[test]
fn a_malformed_envsync_identity_is_named_but_never_echoed() {
    let team = Team::new();
    let alice = pushed(&team, "alice", SECRET_ENV);
    for value in [
        "AGE-SECRET-KEY-1QQQQQQQQQQTHISISNOTAVALIDKEYBUTASECRET",
        "age-secret-key-1lowercasedsecretpartthatmustnotleak",
        "\"AGE-SECRET-KEY-1QUOTEDSECRETPARTTHATMUSTNOTLEAK\"",
        "AGE-SECRET-KEY-TRUNCATEDSECRETPART",
        "hunter2-some-other-secret-pasted-here",
    ] {
        for command in [&["whoami"][..], &["pull"]] {
            let refused = alice
                .run_with_env(command, &[("ENVSYNC_IDENTITY", value)])
                .code(5);
            assert_one_line_naming(&refused, "ENVSYNC_IDENTITY");
            let secret_part = &value[value.len() - 16..];
            assert!(
                !refused.stderr.contains(secret_part) && !refused.stdout.contains(secret_part),
                "{command:?} echoed ENVSYNC_IDENTITY: {}",
                refused.stderr
            );
        }
    }
}

const REDIRECT: &str = "HTTP/1.1 302 Found\r\nLocation: LOCATION/api/v1/whoami\r\n\
    Content-Length: 0\r\nConnection: close\r\n\r\n";

#[test]
fn a_server_that_redirects_is_not_followed() {
    let (elsewhere, seen) = listener(NOT_FOUND);
    let response: &'static str = REDIRECT.replace("LOCATION", &elsewhere).leak();
    let (redirecting, _) = listener(response);
    let team = Team::new();
    let mate = team.member_of("alice", &redirecting);
    mate.write_env(".env", ALICE_ENV);
    let token = "esk_0123456789ab_redirectedtoken";
    let env = [
        ("ENVSYNC_TOKEN", token),
        ("ENVSYNC_SERVER", redirecting.as_str()),
    ];
    for command in [&["pull"][..], &["push"], &["status"]] {
        let refused = mate.run_with_env(command, &env).code(1);
        assert_one_line_naming(&refused, "redirect");
        assert!(refused.stderr.contains(&redirecting), "{}", refused.stderr);
        assert!(!refused.stderr.contains(token));
    }
    assert!(seen.lock().unwrap().is_empty(), "a redirect was followed");
    assert_eq!(mate.read_env(".env"), ALICE_ENV);
}

/// An environment too large for the server's 4 MiB request limit is refused before it is
/// sent, in one line that says so (exit 2): sent, the server's early 413 and closed
/// connection reached the client only as "broken pipe".
#[test]
fn an_environment_over_the_servers_body_limit_is_refused_in_words() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(&team, &server, "alice");
    let text: String = (0..100_000)
        .map(|index| format!("SECRET_KEY_{index}=value-{index}-0123456789abcdef0123456789abcdef\n"))
        .collect();
    alice.write_env(".env", &text);
    let refused = alice.run(&["push"]).code(2);
    assert!(
        refused
            .stderr
            .contains("over the server's limit of 4194304 bytes (4 MiB)"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("Broken pipe"),
        "{}",
        refused.stderr
    );
    alice.write_env(".env", "SMALL=1\n");
    alice.run(&["push"]).ok();
}
