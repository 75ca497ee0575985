//! Teammates working through a real `envsync server` (SQLite and PostgreSQL): joining by
//! invite, push / pull / sync with a 409 that `sync` resolves, CI tokens, removal, what the
//! database holds, network failures, and two server replicas on one PostgreSQL database.

mod support;

use support::server::{Api, PgDatabase, Server};
use support::team_server::{ALICE_ENV, alice_invites_bob, server_owner};
use support::{Team, Teammate};

#[test]
fn two_teammates_joined_by_invite_push_pull_and_sync() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");

    // Both edit different keys; Bob's push loses the race (409) and sync merges.
    alice.write_env(
        ".env",
        "# database\nDB_URL=postgres://db.internal/app\nAPI_KEY=alpha-123\n",
    );
    bob.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=beta-456\n",
    );
    alice.run(&["push", "-m", "move the database"]).ok();
    bob.run(&["push", "-m", "rotate"]).code(3);
    bob.run(&["sync"]).ok();
    let merged = "# database\nDB_URL=postgres://db.internal/app\nAPI_KEY=beta-456\n";
    assert_eq!(bob.read_env(".env"), merged);
    alice.run(&["pull"]).ok();
    assert_eq!(alice.read_env(".env"), merged);
    assert_eq!(alice.badge("development"), "synced");
    let log = alice.run(&["log", "--json"]).ok().document("Log");
    // first push, re-encryption for Bob, Alice's push, Bob's merge.
    assert_eq!(
        log.as_array()
            .map_or(0, Vec::len)
            .max(log["versions"].as_array().map_or(0, Vec::len)),
        4
    );

    // The audit log saw every push, with who and from where.
    let audit = alice.run(&["audit", "--json"]).ok().stdout;
    assert!(
        audit.contains("version.push") && audit.contains("127.0.0.1"),
        "{audit}"
    );
}

#[test]
fn readers_pull_but_cannot_push_and_removal_ends_access() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "reader");
    bob.write_env(".env", "API_KEY=mine\n");
    let refused = bob.run(&["push"]).code(5);
    assert!(
        !refused.stderr.trim().contains('\n'),
        "one line: {}",
        refused.stderr
    );
    bob.write_env(".env", ALICE_ENV);
    alice.run(&["members", "remove", &bob.fingerprint()]).ok();
    bob.run(&["pull", "--force"]).code(5);
}

#[test]
fn a_ci_token_reads_one_environment_without_a_persons_key() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(&team, &server, "alice");
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push"]).ok();
    alice.write_env(".env.staging", "API_KEY=staging-secret\n");
    alice.run(&["push", "--env", "staging"]).ok();
    let added = alice.run(&["ci", "add", "github", "--env", "staging"]).ok();
    let secret = |name: &str| {
        added
            .stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in: {}", added.stdout))
            .to_owned()
    };
    let (identity, token) = (secret("ENVSYNC_IDENTITY"), secret("ENVSYNC_TOKEN"));

    // A CI machine: a checkout with envsync.toml, no identity file, no credentials.
    let ci = Teammate {
        name: "ci".into(),
        home: team.root.path().join("homes/ci"),
        workspace: team.root.path().join("clone-ci"),
    };
    std::fs::create_dir_all(&ci.home).unwrap();
    std::fs::create_dir_all(&ci.workspace).unwrap();
    std::fs::copy(
        alice.workspace.join("envsync.toml"),
        ci.workspace.join("envsync.toml"),
    )
    .unwrap();
    let env = [
        ("ENVSYNC_IDENTITY", identity.as_str()),
        ("ENVSYNC_TOKEN", token.as_str()),
        ("ENVSYNC_SERVER", server.url.as_str()),
    ];
    let run = ci
        .run_with_env(
            &[
                "run", "--remote", "--env", "staging", "--yes", "--", "printenv", "API_KEY",
            ],
            &env,
        )
        .ok();
    assert_eq!(run.stdout.trim(), "staging-secret");
    ci.run_with_env(
        &[
            "run",
            "--remote",
            "--env",
            "development",
            "--yes",
            "--",
            "true",
        ],
        &env,
    )
    .code(5);
    ci.run_with_env(&["pull", "--env", "staging", "--yes"], &env)
        .ok();
    ci.write_env(".env.staging", "API_KEY=from-ci\n");
    ci.run_with_env(&["push", "--env", "staging", "--yes"], &env)
        .code(5);
}

#[test]
fn the_guard_refuses_server_credentials_by_their_shape() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(&team, &server, "alice");
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push"]).ok();
    let added = alice
        .run(&["ci", "add", "deploy", "--env", "development"])
        .ok();
    let invite = alice.run(&["invite", "--role", "reader"]).ok();
    let code = support::team_server::code_in(&invite);

    // What a hurried teammate pastes into the repository: the CI secrets into a workflow,
    // a copy of their credentials file, the invite into the README.
    let workflow: String = added
        .stdout
        .lines()
        .filter(|line| line.contains('='))
        .map(|line| format!("      {}\n", line.trim().replacen('=', ": ", 1)))
        .collect();
    std::fs::create_dir_all(alice.workspace.join("ci")).unwrap();
    alice.write_env("ci/deploy.yml", &format!("env:\n{workflow}"));
    std::fs::copy(
        alice.credentials_file(),
        alice.workspace.join("credentials.toml"),
    )
    .unwrap();
    alice.write_env("README.md", &format!("# app\n\nJoin with `{code}`.\n"));

    let refused = alice
        .run(&["guard", "ci/deploy.yml", "credentials.toml", "README.md"])
        .code(1);
    let lines: Vec<&str> = refused.stdout.lines().collect();
    assert!(
        lines.contains(
            &"ci/deploy.yml:2: contains an age secret key (an identity); keep identities out of git"
        ) && lines
            .iter()
            .any(|line| line.starts_with("ci/deploy.yml:3: contains an envsync server token"))
            && lines
                .iter()
                .any(|line| line.starts_with("credentials.toml:")
                    && line.contains("contains an envsync server token"))
            && lines
                .iter()
                .any(|line| line
                    .starts_with("README.md:3: contains an envsync invite or setup code")),
        "{}",
        refused.stdout
    );
    let said = format!("{}{}", refused.stdout, refused.stderr);
    for line in added.stdout.lines().filter_map(|line| line.split_once('=')) {
        assert!(
            !said.contains(line.1.trim()),
            "never prints a credential: {said}"
        );
    }
    assert!(!said.contains(&code), "never prints the code: {said}");
}

const SECRET: &str = "sk_live_4f9b2c7d1e8a6f3b";

#[test]
fn a_pushed_secret_is_nowhere_in_postgresql() {
    let team = Team::new();
    let database = PgDatabase::create();
    let server = Server::postgres(&database.url);
    let alice = server_owner(&team, &server, "alice");
    alice.write_env(".env", &format!("STRIPE_KEY={SECRET}\n"));
    alice.run(&["push"]).ok();
    let dump = database.dump();
    let hex: String = SECRET.bytes().map(|byte| format!("{byte:02x}")).collect();
    let key_hex: String = "STRIPE_KEY"
        .bytes()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert!(
        dump.contains(&key_hex),
        "key names are stored (the search works)"
    );
    assert!(
        !dump.contains(SECRET) && !dump.contains(&hex),
        "the value is not, as text or bytea"
    );
}

/// Issue 19: on the database's own host a Unix socket spares the TCP loopback (a tenth to
/// a fifth more reads a second, BENCHMARKS.md). The server takes libpq's URL form of it, and
/// every connection of its pool goes through the socket.
#[test]
fn a_server_reaches_postgresql_over_its_unix_socket() {
    let team = Team::new();
    let database = PgDatabase::create();
    let server = Server::postgres(&database.over_socket());
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    alice.write_env(".env", "API_KEY=through-the-socket\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), "API_KEY=through-the-socket\n");
    let others = "FROM pg_stat_activity WHERE datname = current_database() \
                  AND pid <> pg_backend_pid()";
    let by_socket = database.query(&format!("SELECT count(*) {others} AND client_addr IS NULL"));
    let by_tcp = database.query(&format!(
        "SELECT count(*) {others} AND client_addr IS NOT NULL"
    ));
    assert_ne!(by_socket.trim(), "0", "the server's connections");
    assert_eq!(
        by_tcp.trim(),
        "0",
        "no connection of the server's is over TCP"
    );
}

#[test]
fn network_failures_change_nothing_locally() {
    let team = Team::new();
    let mut server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    alice.write_env(".env", "API_KEY=rotated\n");
    alice.run(&["push"]).ok();
    assert!(server.stop().success(), "SIGTERM stops the server cleanly");
    let state_before = std::fs::read_dir(bob.workspace.join(".envsync")).is_ok();
    let failed = bob.run(&["pull"]).code(1);
    assert!(failed.stderr.contains(&server.url), "{}", failed.stderr);
    assert_eq!(failed.stderr.trim().lines().count(), 1, "{}", failed.stderr);
    assert_eq!(bob.read_env(".env"), ALICE_ENV);
    assert!(state_before);
    server.restart();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), "API_KEY=rotated\n");
}

#[test]
fn a_url_that_is_not_an_envsync_server_says_so() {
    use std::io::{Read, Write};

    // Some other web server on the configured address: every path is 404 Not Found, HTML.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 22\r\nConnection: close\r\n\r\n<html>Not Found</html>",
            );
        }
    });
    let team = Team::new();
    let mate = team.member_of("alice", &url);
    mate.write_env(".env", ALICE_ENV);
    for command in [&["pull"][..], &["push"], &["status"]] {
        let failed = mate
            .run_with_env(
                command,
                &[
                    ("ENVSYNC_TOKEN", "esk_0123456789ab_token"),
                    ("ENVSYNC_SERVER", &url),
                ],
            )
            .code(1);
        assert_eq!(
            failed.stderr.trim(),
            format!(
                "error: server {url}: answered HTTP 404 without an envsync error: is this URL an envsync server?"
            ),
            "{command:?}"
        );
    }
    assert_eq!(mate.read_env(".env"), ALICE_ENV);
    assert!(!mate.workspace.join(".envsync").exists());
}

#[test]
fn two_replicas_on_one_postgresql_serve_one_team() {
    let team = Team::new();
    let database = PgDatabase::create();
    let first = Server::postgres(&database.url);
    let second = Server::postgres(&database.url);
    // Alice talks to one replica, Bob to the other.
    let (alice, bob) = alice_invites_bob(&team, &first, &second, "writer");
    alice.write_env(".env", &ALICE_ENV.replace("localhost", "db.internal"));
    bob.write_env(".env", ALICE_ENV.replace("alpha-123", "from-bob").as_str());
    let (alice_push, bob_push) = std::thread::scope(|scope| {
        let a = scope.spawn(|| alice.run(&["push"]).code);
        let b = scope.spawn(|| bob.run(&["push"]).code);
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut codes = [alice_push, bob_push];
    codes.sort_unstable();
    assert_eq!(
        codes,
        [0, 3],
        "one push wins across replicas, the other gets 409"
    );
    let (winner, loser) = if alice_push == 0 {
        (&alice, &bob)
    } else {
        (&bob, &alice)
    };
    loser.run(&["sync"]).ok();
    winner.run(&["pull"]).ok();
    assert_eq!(winner.read_env(".env"), loser.read_env(".env"));
}

#[test]
fn a_share_bundle_carries_a_server_invite_to_a_first_pull() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(&team, &server, "alice");
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push"]).ok();
    let shared = alice
        .run(&[
            "share",
            "--role",
            "reader",
            "--output",
            "app.share",
            "--json",
        ])
        .ok()
        .document("Shared");
    let passphrase = shared["passphrase"].as_str().unwrap().to_owned();
    let bundle = alice.workspace.join("app.share");

    // Bob has only a clone without envsync.toml, no account and no token.
    let bob = team.member_of("bob", &server.url);
    std::fs::remove_file(bob.workspace.join("envsync.toml")).unwrap();
    let joined = bob
        .run_with_env(
            &["join", bundle.to_str().unwrap()],
            &[("ENVSYNC_PASSPHRASE", &passphrase)],
        )
        .ok();
    assert!(
        joined.stderr.contains("members accept"),
        "{}",
        joined.stderr
    );
    assert!(bob.workspace.join("envsync.toml").exists());
    let status = alice.run(&["status"]).ok().stdout;
    assert!(
        status.contains("1 member waiting for access: bob"),
        "{status}"
    );
    // No --role: the invite's role (reader) applies.
    alice.run(&["members", "accept", "bob"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), ALICE_ENV);
    // The invite made Bob a reader on the server too.
    bob.write_env(".env", "API_KEY=bob\n");
    bob.run(&["push"]).code(5);
    // The code in the bundle worked once.
    let again = team.member_of("carol", &server.url);
    std::fs::remove_file(again.workspace.join("envsync.toml")).unwrap();
    again
        .run_with_env(
            &["join", bundle.to_str().unwrap()],
            &[("ENVSYNC_PASSPHRASE", &passphrase)],
        )
        .code(5);
}

#[test]
fn https_with_a_private_certificate_authority() {
    let team = Team::new();
    let directory = team.root.path();
    let (ca, cert, key) = (
        directory.join("ca.pem"),
        directory.join("cert.pem"),
        directory.join("key.pem"),
    );
    // A private CA, and a server certificate for 127.0.0.1 signed by it.
    let openssl = |args: &[&str]| {
        let made = std::process::Command::new("openssl")
            .args(args)
            .current_dir(directory)
            .output()
            .expect("run openssl (scripts/test.sh installs it)");
        assert!(
            made.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=envsync test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "key.pem",
                "-out",
                "server.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        directory.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "cert.pem",
    ]);
    let server = Server::start(vec![
        "--data-dir".into(),
        directory.join("server").display().to_string(),
        "--tls-cert".into(),
        cert.display().to_string(),
        "--tls-key".into(),
        key.display().to_string(),
    ]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let alice = team.member_of("alice", &server.url);
    let code = server.setup_code.as_deref().unwrap();

    // The certificate is not from a public CA: refused, in one line, nothing stored.
    let refused = alice.run(&["join", &server.url, code]).code(1);
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "{}",
        refused.stderr
    );
    assert!(!alice.credentials_file().exists());

    let trust = [("ENVSYNC_CA_CERT", ca.to_str().unwrap())];
    alice
        .run_with_env(&["join", &server.url, code], &trust)
        .ok();
    alice.write_env(".env", ALICE_ENV);
    alice.run_with_env(&["push"], &trust).ok();
    std::fs::remove_file(alice.workspace.join(".env")).unwrap();
    alice.run_with_env(&["pull"], &trust).ok();
    assert_eq!(alice.read_env(".env"), ALICE_ENV);
    dashboard_cookie_is_secure(&server, &alice, &ca);
}

/// Over TLS the web dashboard's session cookie is `Secure`: a browser never sends it over
/// plain HTTP.
fn dashboard_cookie_is_secure(server: &Server, alice: &Teammate, ca: &std::path::Path) {
    let trust = [("ENVSYNC_CA_CERT", ca.to_str().unwrap())];
    let link = alice
        .run_with_env(&["dashboard", "--no-open", "--json"], &trust)
        .ok()
        .json();
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    // The code, before the verified membership pins that follow it (`&pin=…`).
    let fragment = url.split("#signin=").nth(1).unwrap();
    let code = fragment.split('&').next().unwrap();
    let pem = std::fs::read(ca).unwrap();
    let roots: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .build()
        .into();
    let response = agent
        .post(format!("{}/api/v1/session", server.url))
        .content_type("application/json")
        .send(serde_json::json!({ "code": code }).to_string())
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[test]
fn the_server_log_holds_no_token_value_or_database_password() {
    let team = Team::new();
    let database = PgDatabase::create();
    // Loopback PostgreSQL trusts the connection and ignores the password; the server must
    // never print it all the same.
    let url = database
        .url
        .replacen("postgres@", "postgres:db-password-42@", 1);
    assert!(url.contains("db-password-42"), "{url}");
    let server = Server::start_with_env(
        vec!["--database-url".into(), url],
        vec![("ENVSYNC_LOG".into(), "debug".into())],
    );
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    alice.write_env(".env", &format!("STRIPE_KEY={SECRET}\n"));
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    let guess = "esk_0123456789ab_wrong-guess-secret";
    assert_eq!(
        Api::new(&server.url)
            .get("/api/v1/whoami", Some(guess))
            .status,
        401
    );

    let log = server.log();
    assert!(
        log.contains("DEBUG") && log.contains("sqlx::query"),
        "the most verbose logging is on: {log}"
    );
    for (what, needle) in [
        ("the database password", "db-password-42".to_owned()),
        ("a pushed value", SECRET.to_owned()),
        ("a guessed token", guess.to_owned()),
        ("alice's token", alice.server_token()),
        ("bob's token", bob.server_token()),
    ] {
        assert!(!log.contains(&needle), "the server log shows {what}");
    }
}
