//! A blocking client for the envsync server's HTTP API (paths and bodies in envsync-api):
//! the account calls behind `join`, `login`, `invite`, `token`, `ci` and `audit`, and the
//! transport [`crate::remote::HttpRemote`] is built on.
//!
//! Blocking, like the `Remote` trait: a command reads in turn, except where it starts a read
//! ahead on a clone of the client ([`crate::remote::Ahead`]), which shares the connection
//! pool. Every failure is one line naming the server, and no message ever holds the token.

mod failure;
mod invites;
mod resolver;
mod websocket;

use std::time::Duration;

use envsync_api::{
    AuditPage, NewCiToken, NewToken, SignInCode, TokenCreated, TokenList, WhoAmI, paths,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::http;

pub(crate) use failure::Subject;
pub use invites::{DEFAULT_INVITE_SECONDS, InviteTerms, code_sha256, new_invite_code};
pub(crate) use websocket::trusted_roots;

use crate::credentials::Token;
use crate::env_vars::{self, EnvVars};
use crate::error::{ClientError, Result};
use crate::server_url::normalise_server_url;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Responses are records and age files of kilobytes; this only stops a hostile server from
/// filling memory.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone)]
pub struct ApiClient {
    server: String,
    token: Option<Token>,
    agent: ureq::Agent,
}

/// A response read in full, of any status.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `?after=&limit=&actor=&action=` of an audit page.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub after: Option<i64>,
    pub limit: Option<u32>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// Which certificate authorities HTTPS trusts: the web's (Mozilla's list) by default, or
/// only those in the PEM file `ENVSYNC_CA_CERT` names, for a server with a private CA or a
/// self-signed certificate.
fn tls_config() -> Result<ureq::tls::TlsConfig> {
    let builder = ureq::tls::TlsConfig::builder();
    let Some(path) = env_vars::var_os(EnvVars::ENVSYNC_CA_CERT) else {
        return Ok(builder.build());
    };
    let label = std::path::Path::new(&path).display().to_string();
    let pem = std::fs::read(&path).map_err(|error| ClientError::Io {
        what: format!("ENVSYNC_CA_CERT {label}"),
        source: error,
    })?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(error) => {
                return Err(ClientError::Input(format!(
                    "ENVSYNC_CA_CERT {label}: not a PEM file: {error}"
                )));
            }
        }
    }
    if certificates.is_empty() {
        return Err(ClientError::Input(format!(
            "ENVSYNC_CA_CERT {label}: no certificate in it"
        )));
    }
    Ok(builder
        .root_certs(ureq::tls::RootCerts::new_with_certs(&certificates))
        .build())
}

impl ApiClient {
    /// A client for `server` (`http(s)://host[:port]`), sending `token` when there is one.
    /// Makes no request.
    pub fn new(server: &str, token: Option<Token>) -> Result<Self> {
        let server = normalise_server_url(server)?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            // An envsync server never redirects, and a redirect followed would carry a push
            // or the token to wherever it points, https to plain http included.
            .max_redirects(0)
            .user_agent(format!("envsync/{}", env!("CARGO_PKG_VERSION")))
            .tls_config(tls_config()?)
            .build();
        Ok(Self {
            server,
            token,
            agent: resolver::agent(config),
        })
    }

    /// The normalised server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `server http://host:port`, for messages.
    pub fn describe(&self) -> String {
        format!("server {}", self.server)
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn whoami(&self) -> Result<WhoAmI> {
        self.get_json(&paths::whoami(), Subject::Account)
    }

    pub fn create_token(&self, request: &NewToken) -> Result<TokenCreated> {
        self.post_json(&paths::tokens(), request, Subject::Account)
    }

    /// A single-use code that signs a browser in to the server's dashboard as this token's
    /// account (`envsync dashboard`), valid for a minute.
    pub fn sign_in_code(&self) -> Result<SignInCode> {
        self.post_json(
            &paths::sign_in_codes(),
            &serde_json::json!({}),
            Subject::Account,
        )
    }

    /// The bytes the server serves at `path` (the dashboard's page or one of its assets), for
    /// `envsync dashboard --verify` to compare with the build this binary embeds.
    pub fn fetch(&self, path: &str) -> Result<Vec<u8>> {
        let reply = self.call(http::Method::GET, path, None)?;
        Ok(self.require_status(reply, &[200], Subject::Account)?.body)
    }

    pub fn list_tokens(&self) -> Result<TokenList> {
        self.get_json(&paths::tokens(), Subject::Account)
    }

    pub fn revoke_token(&self, id: &str) -> Result<()> {
        if id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            return Err(ClientError::Input(format!(
                "`{id}` is not a token id (see `envsync token list`)"
            )));
        }
        let reply = self.call(http::Method::DELETE, &paths::token(id), None)?;
        self.require_status(reply, &[200, 204], Subject::Token(id))
            .map(drop)
    }

    pub fn create_ci_token(&self, project: &str, request: &NewCiToken) -> Result<TokenCreated> {
        self.post_json(
            &paths::ci_tokens(project),
            request,
            Subject::Project(project),
        )
    }

    /// A page of `project`'s audit log, or with `None` the whole server's (server owners).
    pub fn audit(&self, project: Option<&str>, query: &AuditQuery) -> Result<AuditPage> {
        let mut pairs = Vec::new();
        if let Some(after) = query.after {
            pairs.push(("after", after.to_string()));
        }
        if let Some(limit) = query.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(actor) = &query.actor {
            pairs.push(("actor", actor.clone()));
        }
        if let Some(action) = &query.action {
            pairs.push(("action", action.clone()));
        }
        match project {
            Some(project) => {
                let path = format!("{}{}", paths::audit(project), query_string(&pairs));
                self.get_json(&path, Subject::Project(project))
            }
            None => {
                let path = format!("{}{}", paths::server_audit(), query_string(&pairs));
                self.get_json(&path, Subject::Account)
            }
        }
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str, subject: Subject<'_>) -> Result<T> {
        let reply = self.call(http::Method::GET, path, None)?;
        let reply = self.require_status(reply, &[200], subject)?;
        self.decode(&reply.body)
    }

    fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        subject: Subject<'_>,
    ) -> Result<T> {
        let bytes = serde_json::to_vec(body).expect("request bodies always serialise");
        let reply = self.call(http::Method::POST, path, Some(bytes))?;
        let reply = self.require_status(reply, &[200, 201], subject)?;
        self.decode(&reply.body)
    }

    /// Parses a successful response; a garbled one is the server's fault, not a panic.
    pub(crate) fn decode<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T> {
        serde_json::from_slice(body).map_err(|error| {
            ClientError::Remote(format!(
                "{}: the response is not what this envsync expects ({error}); is it an envsync server of the same version?",
                self.describe()
            ))
        })
    }

    /// Sends one request and reads the whole response, whatever its status. Only a failure
    /// to get a response at all is an error here.
    pub(crate) fn call(
        &self,
        method: http::Method,
        path: &str,
        json_body: Option<Vec<u8>>,
    ) -> Result<Reply> {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.server))
            .header("accept", "application/json");
        if let Some(token) = &self.token {
            builder = builder.header("authorization", format!("Bearer {}", token.expose_secret()));
        }
        // The server refuses a larger body from its headers and closes the connection while
        // the body is still being sent, which a client sees only as a broken pipe.
        if let Some(body) = &json_body
            && body.len() > envsync_api::MAX_BODY_BYTES
        {
            return Err(ClientError::Input(format!(
                "{}: the request is {} bytes, over the server's limit of {} bytes (4 MiB); \
                 an environment this large cannot be stored on an envsync server",
                self.describe(),
                body.len(),
                envsync_api::MAX_BODY_BYTES
            )));
        }
        let response = match json_body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(body)
                .map_err(|_| self.bad_request_line())
                .and_then(|request| self.run(request)),
            None => builder
                .body(())
                .map_err(|_| self.bad_request_line())
                .and_then(|request| self.run(request)),
        };
        let mut response = response?;
        if response.status().is_redirection() {
            return Err(self.redirect_refusal(&response));
        }
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|error| self.transport_error(&error))?;
        Ok(Reply { status, body })
    }

    fn run(
        &self,
        request: http::Request<impl ureq::AsSendBody>,
    ) -> Result<http::Response<ureq::Body>> {
        self.agent
            .run(request)
            .map_err(|error| self.transport_error(&error))
    }

    /// A token with characters a header cannot carry; never echoes the token.
    fn bad_request_line(&self) -> ClientError {
        ClientError::Input(format!(
            "{}: the token or a name holds characters that cannot be sent in a request",
            self.describe()
        ))
    }

    /// The reply if its status is one of `ok`, else the error it means.
    pub(crate) fn require_status(
        &self,
        reply: Reply,
        ok: &[u16],
        subject: Subject<'_>,
    ) -> Result<Reply> {
        if ok.contains(&reply.status) {
            Ok(reply)
        } else {
            Err(self.refusal(&reply, subject))
        }
    }
}

/// `?a=1&b=x%20y`; values are percent-encoded, names are ours.
fn query_string(pairs: &[(&str, String)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encode(value)))
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded() {
        assert_eq!(query_string(&[]), "");
        assert_eq!(
            query_string(&[("after", "5".into()), ("actor", "alice (a&b)".into())]),
            "?after=5&actor=alice%20%28a%26b%29"
        );
    }
}
