//! The server's HTTP API, called directly: who may do what (every role against every
//! endpoint), create-only pushes under contention, and answers to bad input. The records
//! here are hand-made: the server cannot verify signatures, only clients can (their tests
//! are in server_workflow.rs).

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envsync_core::hash::sha256_hex;
use serde_json::json;
use support::Team;
use support::server::{Api, Server};

fn genesis(project: &str, owner: &str) -> String {
    json!({
        "body": {"format": 1, "project": project, "number": 1, "parent_digest": null,
                 "action": "add", "member": owner, "name": "owner", "role": "owner",
                 "environments": null, "heads": {}, "actor": owner,
                 "created_at": "2026-11-23T00:00:00Z"},
        "signature": "not-checked-by-the-server"
    })
    .to_string()
}

/// A push body: a version record naming `ciphertext` by its hash, and the ciphertext.
fn push_body(
    project: &str,
    environment: &str,
    number: u64,
    author: &str,
    ciphertext: &[u8],
) -> String {
    json!({
        "record": {
            "body": {"format": 1, "project": project, "environment": environment,
                     "number": number, "base": number.checked_sub(1).filter(|n| *n > 0),
                     "author": author, "ciphertext_sha256": sha256_hex(ciphertext)},
            "signature": "s"
        },
        "ciphertext": STANDARD.encode(ciphertext),
    })
    .to_string()
}

struct Fixture {
    _team: Team,
    _server: Server,
    api: Api,
    /// (role label, token)
    tokens: Vec<(&'static str, String)>,
    object: String,
}

impl Fixture {
    /// The token of the caller labelled `label`.
    fn token(&self, label: &str) -> String {
        self.tokens
            .iter()
            .find(|(known, _)| *known == label)
            .unwrap_or_else(|| panic!("no caller {label}"))
            .1
            .clone()
    }
}

/// A server with project `app` (owner Alice, writer Bob, reader Carol, Dave reading only
/// staging, a CI token for staging) and project `other` whose owner Frank has no role on
/// `app`. Version 1 of app/development exists.
fn fixture() -> Fixture {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let api = Api::new(&server.url);
    let key = |name: &str| team.member(name).member_key();
    let alice_key = key("alice");
    let alice = api.join(server.setup_code.as_deref().unwrap(), "Alice", &alice_key);
    assert_eq!(
        api.send(
            "PUT",
            "/api/v1/projects/app/members/1",
            Some(&alice),
            &genesis("app", &alice_key)
        )
        .status,
        201
    );
    let invite = |project: &str, body: serde_json::Value| {
        let reply = api.send(
            "POST",
            &format!("/api/v1/projects/{project}/invites"),
            Some(&alice),
            &body.to_string(),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["code"].as_str().unwrap().to_owned()
    };
    let bob = api.join(
        &invite("app", json!({"role": "writer"})),
        "Bob",
        &key("bob"),
    );
    let carol = api.join(
        &invite("app", json!({"role": "reader"})),
        "Carol",
        &key("carol"),
    );
    let dave = api.join(
        &invite(
            "app",
            json!({"role": "reader", "environments": ["staging"]}),
        ),
        "Dave",
        &key("dave"),
    );
    let ci = api.send(
        "POST",
        "/api/v1/projects/app/ci-tokens",
        Some(&alice),
        &json!({"name": "ci", "environment": "staging", "member_key": key("erin")}).to_string(),
    );
    assert_eq!(ci.status, 201, "{}", ci.body);
    let ci = ci.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        api.send(
            "PUT",
            "/api/v1/projects/other/members/1",
            Some(&alice),
            &genesis("other", &alice_key)
        )
        .status,
        201
    );
    let frank = api.join(
        &invite("other", json!({"role": "owner"})),
        "Frank",
        &key("frank"),
    );

    let ciphertext = b"age-encryption.org/v1 pretend ciphertext".to_vec();
    let pushed = api.send(
        "PUT",
        "/api/v1/projects/app/environments/development/versions/1",
        Some(&alice),
        &push_body("app", "development", 1, &alice_key, &ciphertext),
    );
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    Fixture {
        _team: team,
        _server: server,
        api,
        tokens: vec![
            ("owner", alice),
            ("writer", bob),
            ("reader", carol),
            ("staging reader", dave),
            ("ci staging", ci),
            ("other project", frank),
        ],
        object: sha256_hex(&ciphertext),
    }
}

#[test]
fn every_role_against_every_endpoint() {
    let fixture = fixture();
    let api = &fixture.api;
    let project = "/api/v1/projects/app";
    let development = format!("{project}/environments/development");
    let staging = format!("{project}/environments/staging");
    let object = format!("{development}/objects/{}", fixture.object);
    // Writes carry an invalid body: 400 shows the caller got past the role check without
    // changing anything, and the body is read only after that check.
    let endpoints: Vec<(&str, String, &str)> = vec![
        ("GET", format!("{development}/head"), ""),
        ("GET", format!("{staging}/head"), ""),
        ("GET", format!("{development}/versions"), ""),
        ("GET", format!("{development}/versions/1"), ""),
        ("GET", object, ""),
        ("PUT", format!("{development}/versions/2"), "{}"),
        ("PUT", format!("{staging}/versions/1"), "{}"),
        ("GET", format!("{project}/members"), ""),
        ("PUT", format!("{project}/members/9"), "{}"),
        ("GET", format!("{project}/requests"), ""),
        (
            "PUT",
            format!("{project}/requests/0000-0000-0000-0000"),
            "{}",
        ),
        (
            "DELETE",
            format!("{project}/requests/0000-0000-0000-0000"),
            "",
        ),
        ("POST", format!("{project}/invites"), "{}"),
        ("POST", format!("{project}/ci-tokens"), "{}"),
        ("GET", format!("{project}/audit"), ""),
        ("GET", format!("{project}/grants"), ""),
    ];
    #[rustfmt::skip]
    let expected: Vec<(&str, [u16; 16])> = vec![
        //                 head  head  list  get   obj   put   put   mem   mem   req   req   req   inv   ci    audit grants
        //                 dev   stg   dev   dev   dev   dev   stg   GET   PUT   GET   PUT   DEL   POST  POST  GET   GET
        ("owner",          [200,  200,  200,  200,  200,  400,  400,  200,  400,  200,  400,  204,  400,  400,  200,  200]),
        ("writer",         [200,  200,  200,  200,  200,  400,  400,  200,  403,  200,  400,  403,  403,  403,  403,  403]),
        ("reader",         [200,  200,  200,  200,  200,  403,  403,  200,  403,  200,  400,  403,  403,  403,  403,  403]),
        ("staging reader", [403,  200,  403,  403,  403,  403,  403,  200,  403,  200,  400,  403,  403,  403,  403,  403]),
        ("ci staging",     [403,  200,  403,  403,  403,  403,  403,  200,  403,  403,  403,  403,  403,  403,  403,  403]),
        ("other project",  [404,  404,  404,  404,  404,  404,  404,  404,  404,  404,  404,  404,  404,  404,  404,  404]),
        ("no token",       [401,  401,  401,  401,  401,  401,  401,  401,  401,  401,  401,  401,  401,  401,  401,  401]),
    ];
    let mut failures = Vec::new();
    for (role, statuses) in &expected {
        let token = fixture
            .tokens
            .iter()
            .find(|(label, _)| label == role)
            .map(|(_, token)| token.as_str());
        for ((method, path, body), want) in endpoints.iter().zip(statuses) {
            let reply = match *method {
                "GET" => api.get(path, token),
                "DELETE" => api.delete(path, token),
                _ => api.send(method, path, token, body),
            };
            if reply.status != *want {
                failures.push(format!(
                    "{role}: {method} {path}: {} (want {want}): {}",
                    reply.status, reply.body
                ));
            }
            // Every error is JSON with a stable code.
            if reply.status >= 400 {
                assert!(!reply.code().is_empty(), "{method} {path}: {}", reply.body);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing the matrix sent changed the project.
    let head = api
        .get(&format!("{development}/head"), Some(&fixture.tokens[0].1))
        .json();
    assert_eq!(head["head"], 1);
}

#[test]
fn tokens_belong_to_their_account() {
    let fixture = fixture();
    let api = &fixture.api;
    let token = |label: &str| fixture.token(label);
    let (owner, writer, ci) = (token("owner"), token("writer"), token("ci staging"));

    let whoami = api.get("/api/v1/whoami", Some(&writer)).json();
    assert_eq!(whoami["grants"][0]["role"], "writer");
    let created = api.send(
        "POST",
        "/api/v1/tokens",
        Some(&writer),
        r#"{"label":"laptop"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let laptop = created.json()["token"].as_str().unwrap().to_owned();
    let laptop_id = created.json()["info"]["id"].as_str().unwrap().to_owned();
    assert_eq!(api.get("/api/v1/whoami", Some(&laptop)).status, 200);
    // Someone else's token cannot be revoked, nor learned of.
    assert_eq!(
        api.delete(&format!("/api/v1/tokens/{laptop_id}"), Some(&owner))
            .status,
        404
    );
    let listed = api.get("/api/v1/tokens", Some(&writer)).json();
    assert!(
        listed["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| !t.to_string().contains("esk_"))
    );
    assert_eq!(
        api.delete(&format!("/api/v1/tokens/{laptop_id}"), Some(&writer))
            .status,
        204
    );
    assert_eq!(
        api.get("/api/v1/whoami", Some(&laptop)).status,
        401,
        "revoked"
    );

    // CI tokens: read-only, cannot mint tokens; the owner sees and revokes them.
    assert_eq!(
        api.send("POST", "/api/v1/tokens", Some(&ci), r#"{"label":"x"}"#)
            .status,
        403
    );
    let owners_view = api.get("/api/v1/tokens", Some(&owner)).json();
    let ci_id = owners_view["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "ci")
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .expect("the owner sees the project's CI token");
    assert_eq!(
        api.delete(&format!("/api/v1/tokens/{ci_id}"), Some(&owner))
            .status,
        204
    );
    assert_eq!(api.get("/api/v1/whoami", Some(&ci)).status, 401);

    // The audit log recorded all of it, with actor and source address.
    let audit = api
        .get(
            "/api/v1/projects/app/audit?action=token.revoke",
            Some(&owner),
        )
        .json();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["source_address"], "127.0.0.1");
    assert!(entries[0]["actor"].as_str().unwrap().starts_with("alice-"));
    // Failed sign-ins are outside any project: the server's owner sees them server-wide.
    assert_eq!(
        api.get("/api/v1/whoami", Some("esk_0123456789ab_wrong"))
            .status,
        401
    );
    let server_wide = api
        .get("/api/v1/audit?action=auth.failed", Some(&owner))
        .json();
    // The revoked laptop token, the revoked CI token, and the wrong one.
    assert_eq!(
        server_wide["entries"].as_array().unwrap().len(),
        3,
        "{server_wide}"
    );
    assert_eq!(api.get("/api/v1/audit", Some(&writer)).status, 403);
}

#[test]
fn twenty_concurrent_pushes_on_one_base_make_one_version() {
    let fixture = fixture();
    let owner = fixture.tokens[0].1.clone();
    let whoami = fixture.api.get("/api/v1/whoami", Some(&owner)).json();
    let author = whoami["member_key"].as_str().unwrap().to_owned();
    let url = fixture.api.url.clone();
    let start = std::sync::Arc::new(std::sync::Barrier::new(20));
    let pushers: Vec<_> = (0..20)
        .map(|index| {
            let (url, owner, author, start) =
                (url.clone(), owner.clone(), author.clone(), start.clone());
            std::thread::spawn(move || {
                let api = Api::new(&url);
                let body = push_body(
                    "app",
                    "development",
                    2,
                    &author,
                    format!("ciphertext {index}").as_bytes(),
                );
                start.wait();
                let reply = api.send(
                    "PUT",
                    "/api/v1/projects/app/environments/development/versions/2",
                    Some(&owner),
                    &body,
                );
                (index, reply.status, reply.body)
            })
        })
        .collect();
    let results: Vec<_> = pushers
        .into_iter()
        .map(|pusher| pusher.join().unwrap())
        .collect();
    let winners: Vec<_> = results
        .iter()
        .filter(|(_, status, _)| *status == 201)
        .collect();
    let conflicts: Vec<_> = results
        .iter()
        .filter(|(_, status, _)| *status == 409)
        .collect();
    assert_eq!((winners.len(), conflicts.len()), (1, 19), "{results:?}");
    for (_, _, body) in &conflicts {
        let error: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(error["error"]["code"], "conflict");
        assert_eq!(
            error["error"]["head"], 2,
            "a refused push learns the current head"
        );
    }
    let api = &fixture.api;
    let development = "/api/v1/projects/app/environments/development";
    assert_eq!(
        api.get(&format!("{development}/head"), Some(&owner)).json()["head"],
        2
    );
    let stored = api
        .get(&format!("{development}/versions/2"), Some(&owner))
        .json();
    let winner = winners[0].0;
    let expected = sha256_hex(format!("ciphertext {winner}").as_bytes());
    assert_eq!(
        stored["body"]["ciphertext_sha256"],
        expected.as_str(),
        "the winner's version is the one kept"
    );
    let object = api.get(&format!("{development}/objects/{expected}"), Some(&owner));
    assert_eq!(object.body, format!("ciphertext {winner}"));
    let listed = api
        .get(&format!("{development}/versions"), Some(&owner))
        .json();
    assert_eq!(
        listed["records"].as_array().unwrap().len(),
        2,
        "no lost and no extra version"
    );
}

#[test]
fn bad_input_gets_a_status_and_a_code() {
    let fixture = fixture();
    let api = &fixture.api;
    let owner = fixture.tokens[0].1.clone();
    let author = api.get("/api/v1/whoami", Some(&owner)).json()["member_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let version2 = "/api/v1/projects/app/environments/development/versions/2";
    let send = |body: &str| api.send("PUT", version2, Some(&owner), body);

    let garbled = send("{\"record\": ");
    assert_eq!(
        (garbled.status, garbled.code().as_str()),
        (400, "bad_request")
    );
    let unknown_field = send(
        &push_body("app", "development", 2, &author, b"x")
            .replace("\"record\"", "\"extra\":1,\"record\""),
    );
    assert_eq!(unknown_field.status, 400, "{}", unknown_field.body);
    let wrong_place = send(&push_body("app", "staging", 2, &author, b"x"));
    assert_eq!(wrong_place.status, 400, "{}", wrong_place.body);
    let mut mismatched: serde_json::Value =
        serde_json::from_str(&push_body("app", "development", 2, &author, b"x")).unwrap();
    mismatched["ciphertext"] = json!(STANDARD.encode(b"y"));
    assert_eq!(
        send(&mismatched.to_string()).status,
        400,
        "ciphertext must match its hash"
    );
    let forged_author = send(&push_body(
        "app",
        "development",
        2,
        "age1someone:else",
        b"x",
    ));
    assert_eq!(forged_author.status, 403, "{}", forged_author.body);

    // A body over the limit is refused from its declared length, before any of it is read:
    // the client has sent only the headers of a 2 GB upload when the answer comes.
    {
        use std::io::{Read, Write};
        let address = api.url.trim_start_matches("http://").to_owned();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "PUT {version2} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {owner}\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n"
        )
        .unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response);
        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
        assert!(response.contains("payload_too_large"), "{response}");
    }

    let wrong_type = api.send_as("PUT", version2, Some(&owner), "text/plain", "hello");
    assert_eq!(
        (wrong_type.status, wrong_type.code().as_str()),
        (415, "unsupported_media_type")
    );
    assert_eq!(api.get("/api/v1/nowhere", Some(&owner)).code(), "not_found");
    assert_eq!(
        api.get(
            "/api/v1/projects/app/environments/development/head",
            Some(&owner)
        )
        .json()["head"],
        1,
        "nothing changed"
    );

    let openapi = api.get("/api/openapi.json", None).json();
    assert!(
        openapi["paths"]["/api/v1/projects/{project}/environments/{environment}/versions/{number}"]
            ["put"]
            .is_object()
    );
}

#[test]
fn failed_sign_ins_are_rate_limited() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let api = Api::new(&server.url);
    let mut statuses = Vec::new();
    for attempt in 0..12 {
        let token = format!("esk_0123456789ab_guess{attempt}");
        statuses.push(api.get("/api/v1/whoami", Some(&token)).status);
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    // Guessing invite codes counts too, and the right code is refused while blocked.
    let join = api.send(
        "POST",
        "/api/v1/join",
        None,
        &json!({"code": server.setup_code.as_deref().unwrap(), "name": "A", "member_key": team.member("alice").member_key()}).to_string(),
    );
    assert_eq!((join.status, join.code().as_str()), (429, "rate_limited"));
}

#[test]
fn behind_a_proxy_the_address_is_the_one_the_proxy_appended() {
    let team = Team::new();
    let data = team.root.path().join("server");
    let server = Server::start(vec![
        "--data-dir".into(),
        data.display().to_string(),
        "--behind-proxy".into(),
    ]);
    let api = Api::new(&server.url);
    // A client that invents a new address for each guess; the proxy appends the real one.
    let statuses: Vec<u16> = (0..12)
        .map(|attempt| {
            let forwarded = format!("10.0.0.{attempt}, 203.0.113.7");
            api.get_with(
                "/api/v1/whoami",
                Some(&format!("esk_0123456789ab_guess{attempt}")),
                &[("X-Forwarded-For", &forwarded)],
            )
            .status
        })
        .collect();
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // Another client behind the same proxy is not blocked.
    let other = api.get_with(
        "/api/v1/whoami",
        Some("esk_0123456789ab_guess"),
        &[("X-Forwarded-For", "203.0.113.8")],
    );
    assert_eq!(other.status, 401);
}

/// What `envsync server ARGS…` prints up to its listening line; the server is then stopped.
fn start_up_lines(args: &[&str]) -> String {
    use std::io::BufRead;

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_envsync"))
        .arg("server")
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("listening on") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    said
}

#[test]
fn plain_http_beyond_loopback_is_warned_about() {
    let team = Team::new();
    let data = |name: &str| team.root.path().join(name).display().to_string();
    let open = start_up_lines(&["--listen", "0.0.0.0:0", "--data-dir", &data("open")]);
    assert!(
        open.contains("warning: plain HTTP on 0.0.0.0:") && open.contains("--tls-cert"),
        "{open}"
    );
    for quiet in [
        start_up_lines(&["--listen", "127.0.0.1:0", "--data-dir", &data("loopback")]),
        start_up_lines(&[
            "--listen",
            "0.0.0.0:0",
            "--behind-proxy",
            "--data-dir",
            &data("proxied"),
        ]),
    ] {
        assert!(!quiet.contains("warning"), "{quiet}");
    }
}

/// `envsync server ARGS…` that is expected to fail at start: its one-line stderr.
fn failed_start(args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_envsync"))
        .args(["server", "--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn start_up_failures_are_one_line_errors() {
    let team = Team::new();
    let data = team.root.path().join("server");
    let data_arg = data.display().to_string();
    let _first = Server::sqlite(&data);
    let locked = failed_start(&["--data-dir", &data_arg]);
    assert!(
        locked.contains("another envsync server uses this SQLite database"),
        "{locked}"
    );

    // A PostgreSQL that refuses: the reason at once, not a pool timeout.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = failed_start(&[
        "--database-url",
        &format!("postgres://envsync@127.0.0.1:{closed_port}/envsync"),
    ]);
    assert!(refused.contains("Connection refused"), "{refused}");

    // A bad certificate is found before the database is touched: no setup code is spent.
    let fresh = team.root.path().join("fresh");
    let missing = team.root.path().join("missing.pem").display().to_string();
    let tls = failed_start(&[
        "--data-dir",
        &fresh.display().to_string(),
        "--tls-cert",
        &missing,
        "--tls-key",
        &missing,
    ]);
    assert!(
        tls.contains("TLS certificate") && tls.contains("missing.pem"),
        "{tls}"
    );
    assert!(!fresh.join("envsync.db").exists());
}

#[test]
fn a_shutdown_finishes_a_push_in_flight() {
    use std::io::{Read, Write};

    let team = Team::new();
    let mut server = Server::sqlite(&team.root.path().join("server"));
    let api = Api::new(&server.url);
    let key = team.member("alice").member_key();
    let token = api.join(server.setup_code.as_deref().unwrap(), "Alice", &key);
    assert_eq!(
        api.send(
            "PUT",
            "/api/v1/projects/app/members/1",
            Some(&token),
            &genesis("app", &key)
        )
        .status,
        201
    );
    // Half a push is on the wire when SIGTERM arrives; the rest follows after.
    let body = push_body("app", "development", 1, &key, b"in flight");
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "PUT /api/v1/projects/app/environments/development/versions/1 HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first.as_bytes()).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(std::time::Duration::from_millis(300));
    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(server.wait().success(), "{}", server.log());
    assert!(
        server.log().contains("finishing requests in flight"),
        "{}",
        server.log()
    );
    // New connections are refused once the server is gone; the push was stored.
    assert!(std::net::TcpStream::connect(&address).is_err());
    server.restart();
    let head = Api::new(&server.url).get(
        "/api/v1/projects/app/environments/development/head",
        Some(&token),
    );
    assert_eq!(head.json()["head"], 1);
}

/// Opens the live-event stream with `token` and forwards events on a channel.
fn subscribe(url: &str, token: &str) -> std::sync::mpsc::Receiver<envsync_api::Event> {
    use envsync_client::credentials::Token;
    use envsync_client::remote::{HttpRemote, Remote};
    use envsync_client::server_api::ApiClient;

    let remote = HttpRemote::new(ApiClient::new(url, Some(Token::new(token))).unwrap());
    let mut stream = remote
        .events()
        .expect("a server has events")
        .connect()
        .unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(event) = stream.next_event() {
            if sender.send(event).is_err() {
                break;
            }
        }
    });
    receiver
}

#[test]
fn events_reach_only_what_a_token_may_read() {
    let fixture = fixture();
    let api = &fixture.api;
    let token = |label: &str| fixture.token(label);
    let owner = token("owner");
    let staging_reader = subscribe(&api.url, &token("staging reader"));
    let outsider = subscribe(&api.url, &token("other project"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let author = api.get("/api/v1/whoami", Some(&owner)).json()["member_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let push = |project: &str, environment: &str, number: u64| {
        let reply = api.send(
            "PUT",
            &format!("/api/v1/projects/{project}/environments/{environment}/versions/{number}"),
            Some(&owner),
            &push_body(
                project,
                environment,
                number,
                &author,
                format!("{project} {environment} {number}").as_bytes(),
            ),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    };
    push("app", "development", 2);
    push("app", "staging", 1);
    push("other", "development", 1);
    let wait = std::time::Duration::from_secs(10);
    // Events arrive in order, so the first each one hears shows what was filtered out.
    let first = staging_reader
        .recv_timeout(wait)
        .expect("the staging reader hears staging");
    assert_eq!(
        (
            first.project.as_str(),
            first.environment.as_deref(),
            first.number
        ),
        ("app", Some("staging"), 1)
    );
    assert!(first.author.is_some());
    let first = outsider
        .recv_timeout(wait)
        .expect("the outsider hears its own project");
    assert_eq!((first.project.as_str(), first.number), ("other", 1));
}
