//! The HTTP every store client shares: one blocking agent with short timeouts and no
//! redirects (a redirect would carry a signed request or a bearer token elsewhere), and
//! replies whose bodies may hold a secret, so they are zeroized when dropped.

use std::time::Duration;

use zeroize::Zeroizing;

use super::StoreFailure;

/// A reply: status and body. The body may be a secret value.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Zeroizing<String>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, or why not. (`serde_json::Value` cannot be zeroized: callers take
    /// the secret out into a `Zeroizing` string and drop the value at once.)
    pub fn json(&self) -> Result<serde_json::Value, StoreFailure> {
        serde_json::from_str(&self.body)
            .map_err(|_| StoreFailure::BadResponse(format!("HTTP {}: not JSON", self.status)))
    }

    /// The provider's own words for a failure, shortened: error messages name the failure
    /// (and sometimes the secret's name), never a value.
    pub fn failure(&self) -> StoreFailure {
        let message = provider_message(&self.body);
        match self.status {
            404 => StoreFailure::NotFound,
            401 | 403 => StoreFailure::Denied {
                status: self.status,
                message,
            },
            status => StoreFailure::Refused { status, message },
        }
    }
}

fn provider_message(body: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let text = json
        .as_ref()
        .and_then(|json| {
            ["message", "Message", "error_description"]
                .iter()
                .find_map(|key| json.get(*key).and_then(|value| value.as_str()))
                .or_else(|| {
                    json.pointer("/error/message")
                        .and_then(|value| value.as_str())
                })
                .or_else(|| {
                    json.get("errors")
                        .and_then(|errors| errors.get(0))
                        .and_then(|first| first.as_str())
                })
                .or_else(|| json.get("__type").and_then(|value| value.as_str()))
        })
        .unwrap_or("");
    let mut text: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if text.is_empty() {
        text = "no details".into();
    }
    text
}

/// One agent per process.
pub(crate) fn agent() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(30)))
            .max_redirects(0)
            .user_agent(format!("envsync/{}", env!("CARGO_PKG_VERSION")))
            .build();
        ureq::Agent::new_with_config(config)
    })
}

/// Sends one request; `headers` may carry a credential and are never shown.
pub(crate) fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<Reply, StoreFailure> {
    let method = ureq::http::Method::from_bytes(method.as_bytes())
        .map_err(|_| StoreFailure::BadResponse(format!("bad method {method}")))?;
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(body.map(<[u8]>::to_vec).unwrap_or_default())
        .map_err(|error| StoreFailure::Unreachable(format!("bad request: {error}")))?;
    let mut response = agent()
        .run(request)
        .map_err(|error| StoreFailure::Unreachable(error.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(4 * 1024 * 1024)
        .read_to_string()
        .map_err(|error| StoreFailure::Unreachable(format!("reading the reply: {error}")))?;
    Ok(Reply {
        status,
        body: Zeroizing::new(body),
    })
}
