//! The envsync sync server. It keeps what clients push (ciphertext, signed records, key
//! names, metadata) and cannot decrypt any of it: this crate does not link envsync-crypto.

mod api;
pub mod backup;
mod serve;
pub mod store;

pub use api::{CONTENT_SECURITY_POLICY, UNLOCK_SCRIPT, dashboard_assets};
pub use serve::{Bound, Server, ServerConfig, ServerError};

/// Plain HTTP/1.1 to a server on loopback, for tests that need no client library.
#[cfg(test)]
mod loopback {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The whole response to a body-less `method` request for `path`.
    pub async fn request(address: std::net::SocketAddr, method: &str, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }
}
