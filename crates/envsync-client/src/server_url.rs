//! Server URLs: which remotes name an envsync server, and the one form a server URL is
//! stored and compared in (credentials are kept per server, and `ENVSYNC_SERVER` must name
//! the remote's server exactly).

use crate::error::{ClientError, Result};

/// The form a server URL is stored and compared in: scheme and host in lower case, no
/// trailing slash, so `HTTPS://Host/` and `https://host` share one token.
pub fn normalise_server_url(url: &str) -> Result<String> {
    let url = url.trim();
    let invalid = || {
        ClientError::Input(format!(
            "`{url}` is not an envsync server URL: expected http://HOST[:PORT] or https://HOST[:PORT]"
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(invalid());
    }
    let rest = rest.trim_end_matches('/');
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty()
        || authority.contains('@')
        || rest.contains(['?', '#'])
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid());
    }
    let authority = authority.to_ascii_lowercase();
    Ok(if path.is_empty() {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}/{path}")
    })
}

/// Whether a remote spec names an envsync server.
pub fn is_server_url(spec: &str) -> bool {
    let lower = spec.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}
