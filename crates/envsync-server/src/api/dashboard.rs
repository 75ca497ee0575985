//! The web dashboard's page and assets, embedded at build time (see `build.rs`), served on
//! the API's own origin under a strict Content-Security-Policy: scripts and styles only
//! from this origin (the page pins its script with Subresource Integrity), no inline
//! script, no framing, no third-party origin of any kind.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use envsync_api::paths::route;

use super::{ApiError, AppState};

/// The script that takes an identity and decrypts values, loaded by the page on *Unlock*.
/// Served only when the operator enabled unlocking: a server without the flag cannot be
/// made to run it by a page that asks for it.
pub const UNLOCK_SCRIPT: &str = "unlock.js";

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/dashboard_assets.rs"));
}

/// The built assets this binary embeds: (file name, content type, bytes). Empty when the
/// binary was built without `dashboard/scripts/build.sh` having run.
pub fn assets() -> &'static [(&'static str, &'static str, &'static [u8])] {
    embedded::ASSETS
}

/// `connect-src 'self'` covers the page's own `ws:`/`wss:` event stream in current
/// browsers. `form-action` and `base-uri` close what `default-src` does not.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Shown when the binary embeds no dashboard build: how to make one.
const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>envsync dashboard</title></head>\
<body><main><h1>envsync dashboard: not built</h1>\
<p>This <code>envsync</code> binary was built without the web dashboard (it needs Node.js \
and npm at build time). The API works as usual.</p>\
<p>To build it, from the envsync source tree run:</p>\
<pre>dashboard/scripts/build.sh\ncargo build --release -p envsync</pre>\
<p><code>scripts/demo.sh</code> and <code>scripts/test.sh</code> do this for you.</p>\
</main></body></html>\n";

#[utoipa::path(get, path = route::DASHBOARD,
    responses((status = 200, content_type = "text/html",
        description = "the dashboard's page (or, in a build without it, how to build it)")))]
pub async fn page() -> Response {
    match find("index.html") {
        Some((kind, bytes)) => respond(kind, bytes),
        None => respond("text/html; charset=utf-8", NOT_BUILT.as_bytes()),
    }
}

#[utoipa::path(get, path = route::DASHBOARD_ASSET,
    params(("file" = String, Path)),
    responses((status = 200, description = "a script, style or image of the dashboard"),
        (status = 404, body = envsync_api::ErrorBody)))]
pub async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let served =
        file != "index.html" && (file != UNLOCK_SCRIPT || state.options().dashboard_unlock);
    let (kind, bytes) = find(&file)
        .filter(|_| served)
        .ok_or_else(|| ApiError::not_found(format!("no dashboard asset {file}")))?;
    Ok(respond(kind, bytes))
}

fn find(file: &str) -> Option<(&'static str, &'static [u8])> {
    assets()
        .iter()
        .find(|(name, _, _)| *name == file)
        .map(|(_, kind, bytes)| (*kind, *bytes))
}

/// An asset with the headers every dashboard response carries. Not cached without asking:
/// the page's integrity hashes change with every build.
fn respond(kind: &'static str, bytes: &'static [u8]) -> Response {
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(kind)),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ),
        (
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (StatusCode::OK, headers, bytes).into_response()
}
