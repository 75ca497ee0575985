//! The HTTP remote without a real server: the wire contract with envsync-api's record
//! headers, failures against a closed port, and canned responses from a one-shot socket.

use crate::environment_ref::EnvironmentRef;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use envsync_core::role::Role;
use envsync_crypto::Identity;

use super::HttpRemote;
use crate::credentials::Token;
use crate::engine::{Session, SessionOptions};
use crate::error::ErrorKind;
use crate::identity_store::IdentityConfig;
use crate::records::{
    ChangeSummary, FORMAT, MembershipAction, MembershipBody, MembershipEvent, Seal, Signed,
    VersionBody, VersionRecord,
};
use crate::remote::Remote;
use crate::server_api::ApiClient;
use crate::workspace::Workspace;

fn version(identity: &Identity) -> VersionRecord {
    Signed::sign(
        VersionBody {
            format: FORMAT,
            project: "api".into(),
            environment: "production".into(),
            number: 2,
            base: Some(1),
            parent_digest: Some("ab".repeat(32)),
            membership: crate::records::Pin {
                number: 1,
                digest: "ef".repeat(32),
            },
            author: identity.member_key().to_string(),
            author_name: identity.name().into(),
            created_at: "2025-01-01T00:00:00Z".into(),
            message: "rotate".into(),
            keys: vec!["A".into()],
            changes: ChangeSummary::default(),
            recipients: vec![identity.member_key().to_string()],
            ciphertext_sha256: "cd".repeat(32),
            ciphertext_size: 3,
            dismissed: Vec::new(),
        },
        identity,
    )
}

fn membership(identity: &Identity) -> MembershipEvent {
    Signed::sign(
        MembershipBody {
            format: FORMAT,
            project: "api".into(),
            number: 1,
            parent_digest: None,
            action: MembershipAction::Add,
            member: identity.member_key().to_string(),
            name: identity.name().into(),
            role: Role::Owner,
            environments: Some(vec!["production".into()]),
            heads: BTreeMap::new(),
            actor: identity.member_key().to_string(),
            created_at: "2025-01-01T00:00:00Z".into(),
        },
        identity,
    )
}

/// Client and server read one contract (envsync-core's record types): what the remote
/// sends on a push arrives as a record whose signature still verifies, as the server
/// checks it.
#[test]
fn a_pushed_record_arrives_verifiable() {
    let identity = Identity::generate("alice@example.com");
    let record = version(&identity);
    let push = envsync_api::PushVersion {
        record: serde_json::value::to_raw_value(&record).unwrap(),
        ciphertext: "YWJj".into(),
    };
    let sent = serde_json::to_vec(&push).unwrap();
    let received: envsync_api::PushVersion = serde_json::from_slice(&sent).unwrap();
    let arrived =
        crate::records::VersionRecord::from_json(received.record.get().as_bytes(), "version")
            .unwrap();
    assert_eq!(arrived.body.number, 2);
    arrived
        .verify_signature(&crate::records::CryptoVerifier, "version")
        .unwrap();
}

/// A loopback URL on which nothing listens: port 1 (tcpmux). A port freed by a listener
/// of the test itself could be taken at once by a server another test starts (a CI run saw
/// a connection reset instead of refused).
pub(super) fn closed_port_url() -> String {
    "http://127.0.0.1:1".to_owned()
}

#[test]
fn a_closed_port_is_one_line_and_changes_nothing() {
    let url = closed_port_url();
    let token = Token::new("esk_0123456789ab_topsecret");
    let remote = HttpRemote::new(ApiClient::new(&url, Some(token)).unwrap());
    assert_eq!(remote.describe(), format!("server {url}"));
    let error = remote
        .head(&EnvironmentRef::new("api", "production"))
        .unwrap_err();
    let text = error.to_string();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(
        text.starts_with(&format!("server {url}: cannot connect")),
        "{text}"
    );
    assert!(
        !text.contains('\n') && !text.contains("topsecret"),
        "{text}"
    );

    // A push through the engine fails the same way and leaves the workspace as it was.
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("envsync.toml"),
        format!("remote = \"{url}\"\n\n[projects.api.environments]\nproduction = \".env\"\n"),
    )
    .unwrap();
    std::fs::write(root.join(".env"), "A=1\n").unwrap();
    let identity = IdentityConfig {
        override_value: None,
        override_source: Default::default(),
        default_path: home.path().join("identity.txt"),
        default_name: "alice".into(),
        use_keychain: false,
    };
    let workspace = Workspace::load(&root).unwrap();
    let target = workspace.target(None, None).unwrap();
    let mut session = Session::with_remote(
        workspace,
        Box::new(remote),
        identity,
        SessionOptions::default(),
    );
    let error = session.push(&target, "first").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other, "{error}");
    assert_eq!(std::fs::read_to_string(root.join(".env")).unwrap(), "A=1\n");
    assert!(!root.join(".envsync").exists());
}

/// Answers one request with `response` and hands back the request it read.
fn serve_once(response: String) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        while !request.windows(4).any(|window| window == b"\r\n\r\n") {
            let read = stream.read(&mut buffer).unwrap();
            if read == 0 {
                break;
            }
            request.extend_from_slice(&buffer[..read]);
        }
        let text = String::from_utf8_lossy(&request).into_owned();
        if let Some(length) = content_length(&text) {
            let head_end = text.find("\r\n\r\n").unwrap() + 4;
            while request.len() < head_end + length {
                let read = stream.read(&mut buffer).unwrap();
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
            }
        }
        stream.write_all(response.as_bytes()).unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, handle)
}

fn content_length(request: &str) -> Option<usize> {
    request.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn remote(url: &str) -> HttpRemote {
    HttpRemote::new(ApiClient::new(url, Some(Token::new("esk_0123456789ab_s3cret"))).unwrap())
}

#[test]
fn head_sends_the_token_and_reads_the_number() {
    let (url, server) = serve_once(response("200 OK", r#"{"head":7}"#));
    assert_eq!(
        remote(&url)
            .head(&EnvironmentRef::new("api", "production"))
            .unwrap(),
        Some(7)
    );
    let request = server.join().unwrap();
    assert!(
        request.starts_with("GET /api/v1/projects/api/environments/production/head HTTP/1.1"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: bearer esk_0123456789ab_s3cret"),
        "{request}"
    );
}

#[test]
fn a_garbled_body_is_an_error_not_a_panic() {
    let (url, server) = serve_once(response("200 OK", "<html>oops"));
    let error = remote(&url)
        .head(&EnvironmentRef::new("api", "production"))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(error.to_string().starts_with(&format!("server {url}: ")));
    server.join().unwrap();

    let (url, server) = serve_once(response("200 OK", r#"{"records":[{"body":1}]}"#));
    let error = remote(&url).membership("api").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Integrity, "{error}");
    server.join().unwrap();
}

#[test]
fn a_taken_number_is_a_lost_race() {
    let identity = Identity::generate("alice");
    let conflict = r#"{"error":{"code":"conflict","message":"taken","head":2}}"#;
    let (url, server) = serve_once(response("409 Conflict", conflict));
    assert!(
        !remote(&url)
            .create_version(&version(&identity), b"age")
            .unwrap()
    );
    let request = server.join().unwrap();
    assert!(request.starts_with("PUT /api/v1/projects/api/environments/production/versions/2 "));
    let body = &request[request.find("\r\n\r\n").unwrap() + 4..];
    let push: envsync_api::PushVersion = serde_json::from_str(body).unwrap();
    assert_eq!(push.ciphertext, "YWdl");

    let (url, server) = serve_once(response("201 Created", ""));
    assert!(
        remote(&url)
            .append_membership(&membership(&identity))
            .unwrap()
    );
    server.join().unwrap();

    let forbidden = r#"{"error":{"code":"forbidden","message":"this needs the writer role on project api; you are reader"}}"#;
    let (url, server) = serve_once(response("403 Forbidden", forbidden));
    let error = remote(&url)
        .create_version(&version(&identity), b"age")
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Access);
    assert!(error.to_string().ends_with("you are reader"), "{error}");
    server.join().unwrap();
}
