//! One WebSocket to the server's live events (`GET /api/v1/events`), blocking like the rest
//! of the HTTP remote. The server says only *that* an environment it lets us read has a new
//! head (or that a project's membership changed); the watcher then refreshes through the
//! ordinary, verified code path, so an event is a hint and never trusted data.
//!
//! TLS is a rustls stream of our own with the ring provider and the authorities ureq trusts
//! for every other request (Mozilla's list, or `ENVSYNC_CA_CERT`), so `https://` and
//! `wss://` trust the same servers.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use envsync_api::{Event, paths};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::header::{AUTHORIZATION, HeaderValue};
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use crate::credentials::Token;
use crate::error::{ClientError, Result};
use crate::server_api::{ApiClient, Reply, Subject, trusted_roots};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The server pings every 20 s, so this much silence means the connection is dead (a laptop
/// that slept, a NAT that forgot us) even though no error reached the socket.
const SILENCE_TIMEOUT: Duration = Duration::from_secs(50);
/// Events are a few dozen bytes; this only stops a hostile server from filling memory.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Where to open the event stream, and with which token. Owns what it needs, so a watcher's
/// background thread can reconnect while the command's session stays on the main thread.
#[derive(Clone)]
pub struct EventSource {
    server: String,
    token: Option<Token>,
}

/// An open event stream.
pub struct EventStream {
    server: String,
    socket: WebSocket<Transport>,
}

impl EventSource {
    /// `server` is a normalised `http(s)://host[:port][/path]`, as [`ApiClient`] keeps it.
    pub(crate) fn new(server: String, token: Option<Token>) -> Self {
        Self { server, token }
    }

    /// The server URL, for messages and `--json` lines.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Opens the socket. A refused token is an `Access` error, which retrying cannot fix; an
    /// unreachable server is a `Remote` error, which retrying may.
    pub fn connect(&self) -> Result<EventStream> {
        let endpoint = Endpoint::parse(&self.server)?;
        let tcp = self.open_tcp(&endpoint)?;
        let transport = if endpoint.secure {
            Transport::Tls(Box::new(self.tls(&endpoint, tcp)?))
        } else {
            Transport::Plain(tcp)
        };
        let mut request = endpoint
            .url
            .as_str()
            .into_client_request()
            .map_err(|error| self.failed(&error.to_string()))?;
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| {
                    ClientError::Input(format!(
                        "server {}: the token holds characters that cannot be sent in a request",
                        self.server
                    ))
                })?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        match tungstenite::client::client_with_config(request, transport, Some(config)) {
            Ok((socket, _)) => Ok(EventStream {
                server: self.server.clone(),
                socket,
            }),
            Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                let reply = Reply {
                    status: response.status().as_u16(),
                    body: response.into_body().unwrap_or_default(),
                };
                Err(ApiClient::new(&self.server, self.token.clone())?
                    .refusal(&reply, Subject::Account))
            }
            Err(HandshakeError::Failure(error)) => Err(self.failed(&error.to_string())),
            Err(HandshakeError::Interrupted(_)) => Err(self.failed("the handshake timed out")),
        }
    }

    fn open_tcp(&self, endpoint: &Endpoint) -> Result<TcpStream> {
        let addresses = (endpoint.host.as_str(), endpoint.port)
            .to_socket_addrs()
            .map_err(|_| self.failed("cannot connect: host not found"))?;
        let mut last = None;
        for address in addresses {
            match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT) {
                Ok(tcp) => {
                    let configured = tcp
                        .set_read_timeout(Some(SILENCE_TIMEOUT))
                        .and_then(|()| tcp.set_write_timeout(Some(CONNECT_TIMEOUT)))
                        .and_then(|()| tcp.set_nodelay(true));
                    return configured
                        .map(|()| tcp)
                        .map_err(|error| self.failed(&format!("cannot connect: {error}")));
                }
                Err(error) => last = Some(error),
            }
        }
        Err(self.failed(&match last {
            Some(error) => format!("cannot connect: {error}"),
            None => "cannot connect: host not found".to_owned(),
        }))
    }

    fn tls(
        &self,
        endpoint: &Endpoint,
        tcp: TcpStream,
    ) -> Result<StreamOwned<ClientConnection, TcpStream>> {
        let roots = trusted_roots()?;
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|error| self.failed(&format!("TLS setup: {error}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        let name = ServerName::try_from(endpoint.host.clone())
            .map_err(|_| self.failed("the host name is not valid for TLS"))?;
        let connection = ClientConnection::new(Arc::new(config), name)
            .map_err(|error| self.failed(&format!("TLS: {error}")))?;
        Ok(StreamOwned::new(connection, tcp))
    }

    fn failed(&self, reason: &str) -> ClientError {
        ClientError::Remote(format!(
            "server {}: live events: {}",
            self.server,
            one_line(reason)
        ))
    }
}

impl EventStream {
    /// Blocks until the next event. Pings are answered on the way; messages this version
    /// does not understand are skipped. Any error means the stream is over: reconnect.
    pub fn next_event(&mut self) -> Result<Event> {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    if let Ok(event) = serde_json::from_str::<Event>(text.as_str()) {
                        return Ok(event);
                    }
                }
                Ok(Message::Close(frame)) => return Err(self.closed(frame.as_ref())),
                Ok(_) => {}
                Err(tungstenite::Error::Io(error))
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(self.lost(&format!(
                        "no message or ping for {} s",
                        SILENCE_TIMEOUT.as_secs()
                    )));
                }
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    return Err(self.closed(None));
                }
                Err(error) => return Err(self.lost(&error.to_string())),
            }
        }
    }

    fn closed(&self, frame: Option<&CloseFrame>) -> ClientError {
        let reason = match frame {
            Some(frame) if !frame.reason.is_empty() => {
                format!(
                    "{} {}",
                    u16::from(frame.code),
                    one_line(frame.reason.as_str())
                )
            }
            Some(frame) => u16::from(frame.code).to_string(),
            None => "connection closed".to_owned(),
        };
        self.lost(&format!("closed by the server ({reason})"))
    }

    fn lost(&self, reason: &str) -> ClientError {
        ClientError::Remote(format!(
            "server {}: live events: {}",
            self.server,
            one_line(reason)
        ))
    }
}

/// The parts of a server URL a socket needs.
struct Endpoint {
    secure: bool,
    host: String,
    port: u16,
    /// `ws(s)://authority[/path]/api/v1/events`.
    url: String,
}

impl Endpoint {
    fn parse(server: &str) -> Result<Self> {
        let invalid = || ClientError::Input(format!("`{server}` is not an envsync server URL"));
        let (scheme, rest) = server.split_once("://").ok_or_else(invalid)?;
        let secure = scheme.eq_ignore_ascii_case("https");
        let (authority, path) = match rest.split_once('/') {
            Some((authority, path)) => (authority, format!("/{path}")),
            None => (rest, String::new()),
        };
        let default_port = if secure { 443 } else { 80 };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                (host, port.parse().map_err(|_| invalid())?)
            }
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(invalid());
        }
        let websocket = if secure { "wss" } else { "ws" };
        Ok(Self {
            secure,
            host: host.to_owned(),
            port,
            url: format!("{websocket}://{authority}{path}{}", paths::events()),
        })
    }
}

/// A plain or TLS connection; tungstenite only needs `Read + Write`.
enum Transport {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Transport {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(stream) => stream.read(buffer),
            Transport::Tls(stream) => stream.read(buffer),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(stream) => stream.write(buffer),
            Transport::Tls(stream) => stream.write(buffer),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(stream) => stream.flush(),
            Transport::Tls(stream) => stream.flush(),
        }
    }
}

/// A server's close reason is untrusted text: one short line, no control characters.
fn one_line(text: &str) -> String {
    const LIMIT: usize = 200;
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(LIMIT)
        .collect();
    line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_become_socket_endpoints() {
        let plain = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert!(!plain.secure);
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 8080));
        assert_eq!(plain.url, "ws://127.0.0.1:8080/api/v1/events");

        let secure = Endpoint::parse("https://sync.example.com/envsync").unwrap();
        assert!(secure.secure);
        assert_eq!(
            (secure.host.as_str(), secure.port),
            ("sync.example.com", 443)
        );
        assert_eq!(secure.url, "wss://sync.example.com/envsync/api/v1/events");

        let ipv6 = Endpoint::parse("http://[::1]:9000").unwrap();
        assert_eq!((ipv6.host.as_str(), ipv6.port), ("::1", 9000));
        let ipv6 = Endpoint::parse("https://[::1]").unwrap();
        assert_eq!((ipv6.host.as_str(), ipv6.port), ("::1", 443));

        assert!(Endpoint::parse("http://host:port").is_err());
    }

    #[test]
    fn an_unreachable_server_is_a_retryable_error_without_the_token() {
        let source = EventSource::new(
            super::super::tests::closed_port_url(),
            Some(Token::new("esk_0123456789ab_s3cret")),
        );
        let error = source.connect().err().unwrap();
        assert_eq!(error.kind(), crate::ErrorKind::Other);
        let text = error.to_string();
        assert!(text.contains("cannot connect"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
