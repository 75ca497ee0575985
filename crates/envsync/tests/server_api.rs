//! The server's HTTP API, called directly: who may do what (every role against every
//! endpoint), create-only pushes under contention, and answers to bad input. The records
//! are signed by hand (support/protocol.rs) as a client signs them: the server verifies
//! their signatures and chains; what only clients can check is tested in
//! server_deployment.rs.

mod support;

use std::rc::Rc;

use envsync_client::records::{Seal, Signed, VersionRecord};
use envsync_core::hash::sha256_hex;
use envsync_core::role::Role;
use serde_json::json;
use support::Team;
use support::protocol::{
    DEVELOPMENT, Founded, Place, first_version_on, join, join_reply, key, owner_and_project,
    person, push, push_body, version, version_path,
};
use support::server::{Api, Server};

const STAGING: Place = Place {
    project: "app",
    environment: "staging",
};

struct Fixture {
    _team: Team,
    _server: Server,
    api: Api,
    /// Project `app`, founded by Alice.
    app: Founded,
    /// (role label, token)
    tokens: Vec<(&'static str, String)>,
    /// Version 1 of app/development.
    first: VersionRecord,
    /// The ciphertext digest version 1 names.
    object: String,
    /// The code hash of an invite to `app` that nobody has redeemed.
    invite: String,
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
/// staging, Gina invited as a writer but not admitted yet, a CI token for staging) and
/// project `other` whose owner Frank has no role on `app`. Version 1 of app/development
/// exists.
fn fixture() -> Fixture {
    fixture_with(&[])
}

/// [`fixture`] on a server started with these extra arguments.
fn fixture_with(args: &[&str]) -> Fixture {
    let team = Team::new();
    let data = team.root.path().join("server").display().to_string();
    let mut args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    args.extend(["--data-dir".to_owned(), data]);
    let server = Server::start(args);
    let api = Api::new(&server.url);
    let app = owner_and_project(&server, &api);
    let mut tokens = vec![("owner", app.token.clone())];
    tokens.extend(members_of_app(&api, &app));
    tokens.push(("ci staging", ci_token(&api, &app)));
    tokens.push(("other project", owner_of_other(&api, &app)));
    let invite = sha256_hex(app.invite(&api, Role::Reader, None).as_bytes());
    let ciphertext = b"age-encryption.org/v1 pretend ciphertext";
    let first = app.first_version(DEVELOPMENT, &app.owner, ciphertext);
    let pushed = push(&api, &app.token, &first, ciphertext);
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    Fixture {
        _team: team,
        _server: server,
        api,
        app,
        tokens,
        first,
        object: sha256_hex(ciphertext),
        invite,
    }
}

/// Bob, Carol and Dave join with invites and the owner's entries admit them; Gina joins
/// and stays pending. Their tokens, labelled.
fn members_of_app(api: &Api, app: &Founded) -> Vec<(&'static str, String)> {
    let staging = Some(vec!["staging".to_owned()]);
    let admitted = [
        ("writer", "Bob", Role::Writer, None),
        ("reader", "Carol", Role::Reader, None),
        ("staging reader", "Dave", Role::Reader, staging),
    ];
    let mut previous = app.genesis.clone();
    let mut tokens = Vec::new();
    for (label, name, role, environments) in admitted {
        let member = person(name);
        let token = join(api, &app.invite(api, role, environments.clone()), &member);
        previous = app.admit(api, &previous, &member, role, environments);
        tokens.push((label, token));
    }
    let gina = person("Gina");
    let code = app.invite(api, Role::Writer, None);
    tokens.push(("pending", join(api, &code, &gina)));
    tokens
}

/// A CI token reading app/staging, for a CI identity of its own.
fn ci_token(api: &Api, app: &Founded) -> String {
    let body = json!({"name": "ci", "environment": "staging", "member_key": key(&person("Erin"))});
    let reply = api.send(
        "POST",
        "/api/v1/projects/app/ci-tokens",
        Some(&app.token),
        &body.to_string(),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["token"].as_str().unwrap().to_owned()
}

/// Alice founds project `other` and admits Frank as its owner: Frank's token.
fn owner_of_other(api: &Api, app: &Founded) -> String {
    let other = Founded::found(api, "other", Rc::clone(&app.owner), app.token.clone());
    let frank = person("Frank");
    let token = join(api, &other.invite(api, Role::Owner, None), &frank);
    other.admit(api, &other.genesis, &frank, Role::Owner, None);
    token
}

/// The callers of [`matrix`], in the order of each row's statuses. `pending` redeemed an
/// invite that no owner's membership entry has admitted yet.
const CALLERS: [&str; 8] = [
    "owner",
    "writer",
    "reader",
    "staging reader",
    "ci staging",
    "pending",
    "other project",
    "no token",
];

/// Every endpoint of project `app` (method, path, body) and what each of [`CALLERS`] gets
/// from it. Writes carry an invalid body: 400 shows the caller got past the role check
/// without changing anything, and the body is read only after that check.
///
/// Records format 2 changed none of the statuses the matrix had before. It added the
/// `pending` column: a pending joiner may read the membership log and file its own
/// access request (400 here: its body is checked, so the caller got past the role check);
/// everything else is 403 "waiting for an owner". And it added the last two rows, the
/// environment list (any role, even a CI token's) and a stored invite (owners only). Then
/// the invite list and revocation (owners only). Then every head in one read (issue 19): any
/// role, each shown only the environments it covers (tests/heads.rs). Then new versions of
/// several environments in one request (issue 19): writers only, as for the `PUT`.
fn matrix(fixture: &Fixture) -> Vec<(&'static str, String, &'static str, [u16; 8])> {
    let project = |rest: &str| format!("/api/v1/projects/app{rest}");
    let development = |rest: &str| project(&format!("/environments/development{rest}"));
    let staging = |rest: &str| project(&format!("/environments/staging{rest}"));
    let object = development(&format!("/objects/{}", fixture.object));
    let invite = project(&format!("/invites/{}", fixture.invite));
    let request = project("/requests/0000-0000-0000-0000");
    // Revoking an invite that does not exist: the owner gets past the role check to a 404,
    // and the matrix revokes nothing.
    let no_invite = project(&format!("/invites/{}", "0".repeat(64)));
    #[rustfmt::skip]
    let rows = vec![
        //                                        owner writer reader staging ci pending other none
        ("GET",    development("/head"),       "",   [200, 200, 200, 403, 403, 403, 404, 401]),
        ("GET",    staging("/head"),           "",   [200, 200, 200, 200, 200, 403, 404, 401]),
        ("GET",    development("/versions"),   "",   [200, 200, 200, 403, 403, 403, 404, 401]),
        ("GET",    development("/versions/1"), "",   [200, 200, 200, 403, 403, 403, 404, 401]),
        ("GET",    object,                     "",   [200, 200, 200, 403, 403, 403, 404, 401]),
        ("PUT",    development("/versions/2"), "{}", [400, 400, 403, 403, 403, 403, 404, 401]),
        ("PUT",    staging("/versions/1"),     "{}", [400, 400, 403, 403, 403, 403, 404, 401]),
        ("POST",   project("/versions"),       "{}", [400, 400, 403, 403, 403, 403, 404, 401]),
        ("GET",    project("/members"),        "",   [200, 200, 200, 200, 200, 200, 404, 401]),
        ("PUT",    project("/members/9"),      "{}", [400, 403, 403, 403, 403, 403, 404, 401]),
        ("GET",    project("/requests"),       "",   [200, 200, 200, 200, 403, 403, 404, 401]),
        ("PUT",    request.clone(),            "{}", [400, 400, 400, 400, 403, 400, 404, 401]),
        ("DELETE", request,                    "",   [204, 403, 403, 403, 403, 403, 404, 401]),
        ("POST",   project("/invites"),        "{}", [400, 403, 403, 403, 403, 403, 404, 401]),
        ("POST",   project("/ci-tokens"),      "{}", [400, 403, 403, 403, 403, 403, 404, 401]),
        ("GET",    project("/audit"),          "",   [200, 403, 403, 403, 403, 403, 404, 401]),
        ("GET",    project("/grants"),         "",   [200, 403, 403, 403, 403, 403, 404, 401]),
        ("GET",    project("/environments"),   "",   [200, 200, 200, 200, 200, 403, 404, 401]),
        ("GET",    project("/heads"),          "",   [200, 200, 200, 200, 200, 403, 404, 401]),
        ("GET",    invite,                     "",   [200, 403, 403, 403, 403, 403, 404, 401]),
        ("GET",    project("/invites"),        "",   [200, 403, 403, 403, 403, 403, 404, 401]),
        ("DELETE", no_invite,                  "",   [404, 403, 403, 403, 403, 403, 404, 401]),
    ];
    rows
}

#[test]
fn every_role_against_every_endpoint() {
    let fixture = fixture();
    let api = &fixture.api;
    let mut failures = Vec::new();
    for (method, path, body, statuses) in matrix(&fixture) {
        for (caller, want) in CALLERS.into_iter().zip(statuses) {
            let token = (caller != "no token").then(|| fixture.token(caller));
            let token = token.as_deref();
            let reply = match method {
                "GET" => api.get(&path, token),
                "DELETE" => api.delete(&path, token),
                _ => api.send(method, &path, token, body),
            };
            if reply.status != want {
                failures.push(format!(
                    "{caller}: {method} {path}: {} (want {want}): {}",
                    reply.status, reply.body
                ));
            }
            // Every error is JSON with a stable code.
            if reply.status >= 400 {
                assert!(!reply.code().is_empty(), "{method} {path}: {}", reply.body);
            }
            // A pending caller learns why, and what unblocks it.
            if caller == "pending" && reply.status == 403 {
                assert!(
                    reply.body.contains("waiting for an owner"),
                    "{method} {path}: {}",
                    reply.body
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing the matrix sent changed the project, nor declined the pending caller.
    let development = "/api/v1/projects/app/environments/development";
    let head = api.get(&format!("{development}/head"), Some(&fixture.app.token));
    assert_eq!(head.json()["head"], 1);
    let pending = api.get("/api/v1/whoami", Some(&fixture.token("pending")));
    assert_eq!(pending.json()["pending"], json!(["app"]));
}

/// schemathesis (PyPI) generates requests from the server's own OpenAPI document, valid and
/// invalid, and checks every answer against the document: no 5xx, only documented statuses,
/// bodies and headers, invalid input refused, valid input accepted (where a fuzzer can make
/// valid input: see support/schemathesis/schemathesis.toml). Once with each caller's token,
/// and with a token the server never issued; with none and with a wrong one for each
/// (schemathesis' authentication checks). The server sits behind a pretend proxy so that
/// each call has its own address (support/schemathesis/hooks.py).
#[test]
fn the_api_conforms_to_its_document_under_fuzzing() {
    let fixture = fixture_with(&["--behind-proxy"]);
    let unissued = "esk_0123456789ab_neverIssuedNeverIssuedNeverIssuedNeverIss".to_owned();
    // "no token" is every caller's too: schemathesis also sends each request without one.
    let mut callers: Vec<(&str, String)> = CALLERS
        .iter()
        .filter(|caller| **caller != "no token")
        .map(|caller| (*caller, fixture.token(caller)))
        .collect();
    callers.push(("unissued token", unissued));
    let mut failures = Vec::new();
    for (caller, token) in callers {
        let output = schemathesis(&fixture.api.url, &token);
        if !output.status.success() {
            let report = String::from_utf8_lossy(&output.stdout);
            let tail: Vec<&str> = report.lines().rev().take(200).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            failures.push(format!("== as {caller} ==\n{}", tail.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The fuzzing changed no version: every push it sent was refused.
    let development = "/api/v1/projects/app/environments/development";
    let head = fixture
        .api
        .get(&format!("{development}/head"), Some(&fixture.app.token));
    assert_eq!(head.json()["head"], 1);
}

/// One `schemathesis run` against the server at `url`, as the holder of `token`.
fn schemathesis(url: &str, token: &str) -> std::process::Output {
    let support = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/schemathesis");
    let mut command = std::process::Command::new("schemathesis");
    command
        .current_dir(support)
        .env("SCHEMATHESIS_HOOKS", format!("{support}/hooks.py"))
        .env("NO_COLOR", "1")
        .args(["--config-file", &format!("{support}/schemathesis.toml")])
        .env("ENVSYNC_FUZZ_TOKEN", token)
        .args(["run", &format!("{url}/api/openapi.json"), "--url", url]);
    command
        .output()
        .expect("schemathesis runs (scripts/test.sh installs it from PyPI)")
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
    let owner = fixture.token("owner");
    let ciphertext = |index: usize| format!("ciphertext {index}");
    // Twenty honest versions 2 on base 1, signed before the race starts.
    let bodies: Vec<String> = (0..20)
        .map(|index| {
            let ciphertext = ciphertext(index);
            let record = version(
                DEVELOPMENT,
                2,
                &fixture.first,
                &fixture.app.owner,
                ciphertext.as_bytes(),
            );
            push_body(&record, ciphertext.as_bytes())
        })
        .collect();
    let url = fixture.api.url.clone();
    let start = std::sync::Arc::new(std::sync::Barrier::new(20));
    let pushers: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(index, body)| {
            let (url, owner, start) = (url.clone(), owner.clone(), start.clone());
            std::thread::spawn(move || {
                let api = Api::new(&url);
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
    one_winner_kept(&fixture, &ciphertext(winners[0].0));
}

/// Version 2 is the winner's, with its ciphertext, and no other version was made.
fn one_winner_kept(fixture: &Fixture, ciphertext: &str) {
    let (api, owner) = (&fixture.api, fixture.token("owner"));
    let development = "/api/v1/projects/app/environments/development";
    assert_eq!(
        api.get(&format!("{development}/head"), Some(&owner)).json()["head"],
        2
    );
    let stored = api
        .get(&format!("{development}/versions/2"), Some(&owner))
        .json();
    let expected = sha256_hex(ciphertext.as_bytes());
    assert_eq!(
        stored["body"]["ciphertext_sha256"],
        expected.as_str(),
        "the winner's version is the one kept"
    );
    let object = api.get(&format!("{development}/objects/{expected}"), Some(&owner));
    assert_eq!(object.body, ciphertext);
    let listed = api
        .get(&format!("{development}/versions"), Some(&owner))
        .json();
    assert_eq!(
        listed["records"].as_array().unwrap().len(),
        2,
        "no lost and no extra version"
    );
}

/// Every head in one read (issue 19) lists, of the environments that have a version, the
/// ones each token's role covers: a CI token and a reader limited to staging see staging
/// only, the others both; each record as the single-version read serves it.
#[test]
fn heads_list_only_the_environments_a_token_covers() {
    let fixture = fixture();
    let api = &fixture.api;
    let ciphertext = b"age-encryption.org/v1 staging";
    let staging = fixture
        .app
        .first_version(STAGING, &fixture.app.owner, ciphertext);
    let pushed = push(api, &fixture.app.token, &staging, ciphertext);
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    for (caller, expected) in [
        ("owner", &["development", "staging"][..]),
        ("writer", &["development", "staging"]),
        ("reader", &["development", "staging"]),
        ("staging reader", &["staging"]),
        ("ci staging", &["staging"]),
    ] {
        let token = fixture.token(caller);
        let reply = api.get("/api/v1/projects/app/heads", Some(&token));
        assert_eq!(reply.status, 200, "{caller}: {}", reply.body);
        let heads = reply.json()["heads"].as_array().unwrap().clone();
        let names: Vec<&str> = heads
            .iter()
            .map(|head| head["environment"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "{caller}");
        for environment in expected {
            let single = api.get(
                &format!("/api/v1/projects/app/environments/{environment}/versions/1"),
                Some(&token),
            );
            assert!(
                reply.body.contains(&single.body),
                "{caller}: {}",
                reply.body
            );
        }
    }
}

#[test]
fn bad_input_gets_a_status_and_a_code() {
    let fixture = fixture();
    let api = &fixture.api;
    let owner = fixture.token("owner");
    let alice = &fixture.app.owner;
    let honest = version(DEVELOPMENT, 2, &fixture.first, alice, b"x");
    let version2 = version_path(&honest);
    let send = |body: &str| api.send("PUT", &version2, Some(&owner), body);

    let garbled = send("{\"record\": ");
    assert_eq!(
        (garbled.status, garbled.code().as_str()),
        (400, "bad_request")
    );
    let unknown_field =
        send(&push_body(&honest, b"x").replace("\"record\"", "\"extra\":1,\"record\""));
    assert_eq!(unknown_field.status, 400, "{}", unknown_field.body);
    let staging = version(STAGING, 2, &fixture.first, alice, b"x");
    let wrong_place = send(&push_body(&staging, b"x"));
    assert_eq!(wrong_place.status, 400, "{}", wrong_place.body);
    assert_eq!(
        send(&push_body(&honest, b"y")).status,
        400,
        "ciphertext must match its hash"
    );
    // Was 403 (an author other than the caller). The server now checks the signature
    // against the author the record names before anything else, so claiming another
    // author without their key is a forgery (400); a record another member really signed
    // is a restore, whose parent is checked like any push's.
    let mut forged_author = honest.clone();
    forged_author.body.author = key(&person("Mallory"));
    let forged_author = send(&push_body(&forged_author, b"x"));
    assert_eq!(forged_author.status, 400, "{}", forged_author.body);
    assert!(
        forged_author.body.contains("signature"),
        "{}",
        forged_author.body
    );
    // New with format 2: the old format is refused even when its signature verifies.
    let mut old_format = honest.body.clone();
    old_format.format = 1;
    let old_format = send(&push_body(&Signed::sign(old_format, alice), b"x"));
    assert_eq!(old_format.status, 400, "{}", old_format.body);
    assert!(old_format.body.contains("format 1"), "{}", old_format.body);

    refuses_an_oversized_body_from_its_headers(api, &version2, &owner);
    let wrong_type = api.send_as("PUT", &version2, Some(&owner), "text/plain", "hello");
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
    for path in [
        "/api/v1/projects/{project}/environments/{environment}/versions/{number}",
        "/api/v1/projects/{project}/environments",
        "/api/v1/projects/{project}/invites/{code_sha256}",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path}");
    }
}

/// A body over the limit is refused from its declared length, before any of it is read:
/// the client has sent only the headers of a 2 GB upload when the answer comes.
fn refuses_an_oversized_body_from_its_headers(api: &Api, path: &str, token: &str) {
    use std::io::{Read, Write};
    let address = api.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n"
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
    // Guessing invite codes shares the limit: a wrong code is refused with 429.
    let alice = person("Alice");
    let guess = join_reply(&api, "esi_guess", &key(&alice), &alice);
    assert_eq!((guess.status, guess.code().as_str()), (429, "rate_limited"));
    // Was 429 too. The limit now answers only an address's failures (as a valid token
    // still works from it), so the right code with a valid proof joins.
    let code = server.setup_code.as_deref().unwrap();
    let join = join_reply(&api, code, &key(&alice), &alice);
    assert_eq!(join.status, 201, "{}", join.body);
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
    let app = owner_and_project(&server, &api);
    let token = app.token.clone();
    // Half a push is on the wire when SIGTERM arrives; the rest follows after.
    let record = app.first_version(DEVELOPMENT, &app.owner, b"in flight");
    let body = push_body(&record, b"in flight");
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "PUT {} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        version_path(&record),
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
    let push_to = |place: Place, base: Option<&VersionRecord>| {
        let number = base.map_or(1, |base| base.body.number + 1);
        let ciphertext = format!("{} {} {number}", place.project, place.environment);
        let author = &fixture.app.owner;
        let record = match base {
            Some(base) => version(place, number, base, author, ciphertext.as_bytes()),
            None => first_version_on(api, &owner, place, author, ciphertext.as_bytes()),
        };
        let reply = push(api, &owner, &record, ciphertext.as_bytes());
        assert_eq!(reply.status, 201, "{}", reply.body);
    };
    push_to(DEVELOPMENT, Some(&fixture.first));
    push_to(STAGING, None);
    let other = Place {
        project: "other",
        environment: "development",
    };
    push_to(other, None);
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
