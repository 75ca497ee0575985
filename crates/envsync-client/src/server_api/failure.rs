//! What a failed request means, as one line naming the server and what to do. The server's
//! own message is shown where it helps, cleaned to one short line, since a server is
//! untrusted like every remote.

use envsync_api::ErrorBody;

use super::{ApiClient, Reply};
use crate::error::ClientError;

/// What a request was about, which decides what a 401 or 404 means.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// The caller's own account: whoami, tokens.
    Account,
    /// One token, by id.
    Token(&'a str),
    /// Joining with a code, without a token: a 401 is a bad code.
    Code,
    /// Anything under a project: a 404 is "no such project, or no role on it".
    Project(&'a str),
    /// One invite of a project: a 404 says which is missing, as the server words it (the
    /// invite, or the project itself to this caller).
    Invite(&'a str),
    /// A version or ciphertext the caller expects to exist: missing means the remote lost
    /// or hides it, as on a folder remote.
    Stored { project: &'a str, what: &'a str },
}

/// The longest `Location` a redirect refusal repeats; past it the message says "elsewhere".
const MAX_LOCATION_SHOWN: usize = 200;

impl ApiClient {
    /// A redirect is refused, not followed: the URL in `envsync.toml` is the server. The
    /// target is named when it is short printable text, since a server is untrusted.
    pub(crate) fn redirect_refusal<B>(&self, response: &ureq::http::Response<B>) -> ClientError {
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .filter(|value| value.len() <= MAX_LOCATION_SHOWN && !value.is_empty())
            .unwrap_or("elsewhere");
        ClientError::Remote(format!(
            "server {}: answered HTTP {}, a redirect to {location}; envsync follows no redirects \
             (an envsync server sends none): if the new address is right, put it in envsync.toml",
            self.server,
            response.status().as_u16()
        ))
    }

    pub(crate) fn refusal(&self, reply: &Reply, subject: Subject<'_>) -> ClientError {
        let server = &self.server;
        let body = error_body(reply);
        if reply.status == 401 && self.token.is_none() && !matches!(subject, Subject::Code) {
            return ClientError::Access(format!(
                "no token for server {server}: run `envsync join {server} CODE` (invite) or `envsync login {server}`"
            ));
        }
        // An envsync server explains every refusal in JSON; a bare 4xx comes from something
        // else on that address (another web server, a wrong port or path prefix), and must
        // not read as "no such project".
        if reply.status < 500 && body.is_none() {
            return ClientError::Remote(format!(
                "server {server}: answered HTTP {} without an envsync error: is this URL an envsync server?",
                reply.status
            ));
        }
        let message = server_message(body.as_ref(), reply.status);
        match reply.status {
            401 if matches!(subject, Subject::Code) => {
                ClientError::Access(format!("server {server}: {message}"))
            }
            401 => ClientError::Access(format!(
                "server {server} refused the token ({message}): run `envsync login {server}` or `envsync join {server} CODE`"
            )),
            403 => ClientError::Access(format!("server {server}: {message}")),
            404 => match subject {
                Subject::Project(project) => ClientError::Access(format!(
                    "server {server}: project {project} not found or you have no role on it"
                )),
                Subject::Stored { project, what } => ClientError::Integrity(format!(
                    "{what} is missing from the remote (server {server}), or you have no role on project {project}"
                )),
                Subject::Invite(project) => ClientError::Input(format!(
                    "server {server}: {message} (see `envsync invite list -p {project}`)"
                )),
                Subject::Token(id) => ClientError::Input(format!(
                    "server {server}: no token `{id}` of yours (see `envsync token list`)"
                )),
                Subject::Account | Subject::Code => ClientError::Remote(format!(
                    "server {server}: {message} (is this URL an envsync server?)"
                )),
            },
            409 => ClientError::Conflict(format!("server {server}: {message}")),
            400 | 413 | 415 | 422 => ClientError::Input(format!("server {server}: {message}")),
            429 => ClientError::Remote(format!(
                "server {server}: too many failed sign-ins; wait a minute"
            )),
            408 => ClientError::Remote(format!(
                "server {server}: the request timed out on the server"
            )),
            status if status >= 500 => {
                ClientError::Remote(format!("server {server}: server error {status}: {message}"))
            }
            status => ClientError::Remote(format!(
                "server {server}: unexpected HTTP status {status}: {message}"
            )),
        }
    }

    /// The error for a request that got no response.
    pub(crate) fn transport_error(&self, error: &ureq::Error) -> ClientError {
        let server = &self.server;
        let reason = match error {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => format!(
                "cannot connect: timed out after {} s",
                super::CONNECT_TIMEOUT.as_secs()
            ),
            ureq::Error::Timeout(_) => {
                format!("timed out after {} s", super::REQUEST_TIMEOUT.as_secs())
            }
            ureq::Error::HostNotFound => "cannot connect: host not found".to_owned(),
            ureq::Error::ConnectionFailed => "cannot connect".to_owned(),
            ureq::Error::Io(io) if is_connect_failure(io.kind()) => {
                format!("cannot connect: {io}")
            }
            ureq::Error::Io(io) => format!("connection failed: {io}"),
            ureq::Error::BodyExceedsLimit(_) => format!(
                "the response is larger than {} MiB",
                super::MAX_RESPONSE_BYTES / 1024 / 1024
            ),
            other => one_line(&other.to_string()),
        };
        ClientError::Remote(format!("server {server}: {reason}"))
    }
}

fn is_connect_failure(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        kind,
        ConnectionRefused
            | NotFound
            | AddrNotAvailable
            | HostUnreachable
            | NetworkUnreachable
            | PermissionDenied
    )
}

fn error_body(reply: &Reply) -> Option<ErrorBody> {
    serde_json::from_slice::<ErrorBody>(&reply.body).ok()
}

/// The server's one-line message, else its status.
fn server_message(body: Option<&ErrorBody>, status: u16) -> String {
    body.map(|body| one_line(&body.error.message))
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"))
}

/// Control characters become spaces and long text is cut, so a hostile server cannot
/// forge terminal output or flood it.
fn one_line(text: &str) -> String {
    const LIMIT: usize = 300;
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(LIMIT)
        .collect();
    if text.chars().count() > LIMIT {
        line.push('…');
    }
    line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Token;
    use crate::error::ErrorKind;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    fn body(code: &str, message: &str) -> String {
        serde_json::json!({ "error": { "code": code, "message": message } }).to_string()
    }

    #[test]
    fn statuses_become_actionable_errors() {
        let anonymous = ApiClient::new("http://127.0.0.1:9", None).unwrap();
        let error = anonymous.refusal(&reply(401, "garbage"), Subject::Account);
        assert_eq!(error.kind(), ErrorKind::Access);
        assert!(
            error.to_string().starts_with(
                "no token for server http://127.0.0.1:9: run `envsync join http://127.0.0.1:9 CODE`"
            ),
            "{error}"
        );

        let client =
            ApiClient::new("http://127.0.0.1:9/", Some(Token::new("esk_abc_secret"))).unwrap();
        let error = client.refusal(
            &reply(401, &body("unauthorized", "the token was revoked")),
            Subject::Account,
        );
        let text = error.to_string();
        assert!(
            text.contains("refused the token (the token was revoked)"),
            "{text}"
        );
        assert!(!text.contains("esk_abc_secret"));

        let error = client.refusal(
            &reply(404, &body("not_found", "no such project")),
            Subject::Project("api"),
        );
        assert_eq!(error.kind(), ErrorKind::Access);
        assert_eq!(
            error.to_string(),
            "server http://127.0.0.1:9: project api not found or you have no role on it"
        );
        let error = client.refusal(
            &reply(404, &body("not_found", "project api has no such invite")),
            Subject::Invite("api"),
        );
        assert_eq!(error.kind(), ErrorKind::Input);
        assert_eq!(
            error.to_string(),
            "server http://127.0.0.1:9: project api has no such invite \
             (see `envsync invite list -p api`)"
        );
        let stored = Subject::Stored {
            project: "api",
            what: "version 3 of api/dev",
        };
        assert_eq!(
            client
                .refusal(&reply(404, &body("not_found", "no such version")), stored)
                .kind(),
            ErrorKind::Integrity
        );
        let error = client.refusal(
            &reply(403, &body("forbidden", "this needs the writer role")),
            Subject::Project("api"),
        );
        assert_eq!(error.kind(), ErrorKind::Access);
        assert!(error.to_string().ends_with("this needs the writer role"));
        assert_eq!(
            client
                .refusal(
                    &reply(413, &body("too_large", "too large")),
                    Subject::Account
                )
                .kind(),
            ErrorKind::Input
        );
        let error = client.refusal(
            &reply(429, &body("rate_limited", "slow down")),
            Subject::Code,
        );
        assert!(
            error
                .to_string()
                .contains("too many failed sign-ins; wait a minute")
        );
        // Something else answering on the address: not "no such project".
        let error = client.refusal(
            &reply(404, "<html>Not Found</html>"),
            Subject::Project("api"),
        );
        assert_eq!(error.kind(), ErrorKind::Other);
        assert_eq!(
            error.to_string(),
            "server http://127.0.0.1:9: answered HTTP 404 without an envsync error: is this URL an envsync server?"
        );
        let error = client.refusal(&reply(502, "<html>\n</html>"), Subject::Account);
        assert_eq!(error.kind(), ErrorKind::Other);
        assert_eq!(
            error.to_string(),
            "server http://127.0.0.1:9: server error 502: HTTP 502"
        );
    }

    #[test]
    fn server_messages_are_one_short_line() {
        let message = |reply: Reply| server_message(error_body(&reply).as_ref(), reply.status);
        let short = message(reply(400, &body("bad_request", "a\nb\u{1b}[31m")));
        assert_eq!(short, "a b [31m");
        let long = message(reply(400, &body("bad_request", &"x".repeat(1000))));
        assert!(long.chars().count() <= 301);
    }
}
