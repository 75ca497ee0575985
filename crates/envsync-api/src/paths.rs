//! The API's routes, written once. [`route`] holds each path template as axum and OpenAPI
//! both write it (`{name}` marks a parameter): the server's router and its `#[utoipa::path]`
//! attributes use these constants, and the functions below fill them in for the client.
//! Project and environment names are validated by envsync-core to `[A-Za-z0-9._-]`, so
//! they need no escaping; fingerprints, hashes and numbers neither.

/// A path under the API's prefix, as a constant: `api_v1!("/health")`.
macro_rules! api_v1 {
    ($path:literal) => {
        concat!("/api/v1", $path)
    };
}

/// Path templates, one per route. Each one's doc says which methods it answers.
pub mod route {
    /// The prefix of every API path; the number changes only with an incompatible protocol.
    pub const PREFIX: &str = api_v1!("");
    /// `GET`: the OpenAPI document describing every route below (outside the prefix: it
    /// describes every version the server speaks).
    pub const OPENAPI: &str = "/api/openapi.json";
    /// `GET`: the server is up, and its version.
    pub const HEALTH: &str = api_v1!("/health");
    /// `GET`: the server can serve requests (its database answers); 503 when it cannot.
    /// For load balancers and orchestrators, which take a replica out of rotation on 503.
    pub const READY: &str = api_v1!("/ready");
    /// `GET`: counters, gauges and latency histograms in the Prometheus (OpenMetrics) text
    /// format, where Prometheus looks by default (outside the prefix, like the document).
    pub const METRICS: &str = "/metrics";
    /// `POST`: trade an invite or setup code for an account and a token.
    pub const JOIN: &str = api_v1!("/join");
    /// `GET`: who the token belongs to and what it may do.
    pub const WHOAMI: &str = api_v1!("/whoami");
    /// WebSocket (`GET`): live events of the projects the token may read.
    pub const EVENTS: &str = api_v1!("/events");
    /// `GET` a page of the whole server's audit log (server owners): every project, joins
    /// and failed sign-ins.
    pub const SERVER_AUDIT: &str = api_v1!("/audit");
    /// `GET` the caller's tokens, `POST` a new personal access token.
    pub const TOKENS: &str = api_v1!("/tokens");
    /// `DELETE`: revoke a token by its id.
    pub const TOKEN: &str = api_v1!("/tokens/{id}");
    /// `GET` the membership log.
    pub const MEMBERS: &str = api_v1!("/projects/{project}/members");
    /// `PUT` membership event `number` (create-only).
    pub const MEMBER_EVENT: &str = api_v1!("/projects/{project}/members/{number}");
    /// `GET` pending access requests.
    pub const REQUESTS: &str = api_v1!("/projects/{project}/requests");
    /// `PUT` (file or replace) or `DELETE` one access request.
    pub const REQUEST: &str = api_v1!("/projects/{project}/requests/{fingerprint}");
    /// `GET` every accepted account's role on the project (owners), and separately the
    /// accounts still pending: an invite grants nothing until an owner's membership entry
    /// admits the key.
    pub const GRANTS: &str = api_v1!("/projects/{project}/grants");
    /// `GET` the project's invites, `POST` a new one (owners).
    pub const INVITES: &str = api_v1!("/projects/{project}/invites");
    /// `GET` the owner-signed invite redeemed with the code of this SHA-256; `DELETE`
    /// revokes it while unredeemed (owners).
    pub const INVITE: &str = api_v1!("/projects/{project}/invites/{code_sha256}");
    /// `POST` a CI token (owners).
    pub const CI_TOKENS: &str = api_v1!("/projects/{project}/ci-tokens");
    /// `GET` a page of the project's audit log (owners).
    pub const AUDIT: &str = api_v1!("/projects/{project}/audit");
    /// `GET` the names of the project's environments that have versions (members).
    pub const ENVIRONMENTS: &str = api_v1!("/projects/{project}/environments");
    /// `GET` the head version's signed record of every environment of the project the caller
    /// may read, in one request: what `status` reads, however many environments there are.
    pub const HEADS: &str = api_v1!("/projects/{project}/heads");
    /// `POST` new versions of several environments at once, one each ([`crate::PushVersions`]):
    /// each is checked and created, or meets a conflict, as its own `PUT` would, in one
    /// commit. What a membership change sends when it re-encrypts every head.
    pub const NEW_VERSIONS: &str = api_v1!("/projects/{project}/versions");
    /// `GET` the environment's head number; with `?with=record` its record too, with
    /// `?with=version` its record and ciphertext ([`crate::HeadWith`]).
    pub const HEAD: &str = api_v1!("/projects/{project}/environments/{environment}/head");
    /// `GET` version records above `?after=N`, at most `?limit=`.
    pub const VERSIONS: &str = api_v1!("/projects/{project}/environments/{environment}/versions");
    /// `GET` one version's record; `PUT` creates it (409 if the number is taken).
    pub const VERSION: &str =
        api_v1!("/projects/{project}/environments/{environment}/versions/{number}");
    /// `GET` the environment's publication records (readers of the environment).
    pub const PUBLICATIONS: &str =
        api_v1!("/projects/{project}/environments/{environment}/publications");
    /// `PUT` publication record `number` (create-only; readers of the environment, signed
    /// with their own key).
    pub const PUBLICATION: &str =
        api_v1!("/projects/{project}/environments/{environment}/publications/{number}");
    /// `POST` a personal access token or a single-use sign-in code for a dashboard session
    /// (a cookie); `GET` the session's account and CSRF token; `DELETE` signs out.
    pub const SESSION: &str = api_v1!("/session");
    /// `POST` (bearer, personal token): a single-use code that signs a browser in as the
    /// caller within a minute (`envsync dashboard`).
    pub const SIGN_IN_CODES: &str = api_v1!("/session/codes");
    /// `GET`: the web dashboard's page.
    pub const DASHBOARD: &str = "/";
    /// `GET`: one of the dashboard's built assets (scripts, styles), by file name.
    pub const DASHBOARD_ASSET: &str = "/assets/{file}";
    /// `GET` a ciphertext by its SHA-256 (an age file, `application/octet-stream`).
    pub const OBJECT: &str =
        api_v1!("/projects/{project}/environments/{environment}/objects/{sha256}");
}

/// `template` with its `{…}` parameters replaced by `values`, in order.
fn fill(template: &str, values: &[&str]) -> String {
    let mut path = String::with_capacity(template.len() + 64);
    let mut values = values.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map_or(rest.len(), |close| open + close + 1);
        path.push_str(values.next().copied().unwrap_or_default());
        rest = &rest[close..];
    }
    path.push_str(rest);
    debug_assert!(values.next().is_none(), "{template}: too many values");
    path
}

pub fn health() -> String {
    route::HEALTH.to_owned()
}

pub fn ready() -> String {
    route::READY.to_owned()
}

pub fn metrics() -> String {
    route::METRICS.to_owned()
}

pub fn join() -> String {
    route::JOIN.to_owned()
}

pub fn whoami() -> String {
    route::WHOAMI.to_owned()
}

pub fn tokens() -> String {
    route::TOKENS.to_owned()
}

pub fn token(id: &str) -> String {
    fill(route::TOKEN, &[id])
}

pub fn members(project: &str) -> String {
    fill(route::MEMBERS, &[project])
}

/// The membership log's entries numbered above `after`.
pub fn members_after(project: &str, after: u64) -> String {
    format!("{}?after={after}", members(project))
}

pub fn member_event(project: &str, number: u64) -> String {
    fill(route::MEMBER_EVENT, &[project, &number.to_string()])
}

pub fn requests(project: &str) -> String {
    fill(route::REQUESTS, &[project])
}

pub fn request(project: &str, fingerprint: &str) -> String {
    fill(route::REQUEST, &[project, fingerprint])
}

pub fn grants(project: &str) -> String {
    fill(route::GRANTS, &[project])
}

pub fn invites(project: &str) -> String {
    fill(route::INVITES, &[project])
}

pub fn invite(project: &str, code_sha256: &str) -> String {
    fill(route::INVITE, &[project, code_sha256])
}

pub fn ci_tokens(project: &str) -> String {
    fill(route::CI_TOKENS, &[project])
}

pub fn audit(project: &str) -> String {
    fill(route::AUDIT, &[project])
}

pub fn server_audit() -> String {
    route::SERVER_AUDIT.to_owned()
}

pub fn environments(project: &str) -> String {
    fill(route::ENVIRONMENTS, &[project])
}

pub fn heads(project: &str) -> String {
    fill(route::HEADS, &[project])
}

pub fn new_versions(project: &str) -> String {
    fill(route::NEW_VERSIONS, &[project])
}

pub fn head(project: &str, environment: &str) -> String {
    fill(route::HEAD, &[project, environment])
}

/// [`head`] with the record, or the whole version, in the same answer.
pub fn head_with(project: &str, environment: &str, with: crate::HeadWith) -> String {
    format!("{}?with={}", head(project, environment), with.as_str())
}

pub fn versions(project: &str, environment: &str) -> String {
    fill(route::VERSIONS, &[project, environment])
}

pub fn version(project: &str, environment: &str, number: u64) -> String {
    fill(route::VERSION, &[project, environment, &number.to_string()])
}

pub fn object(project: &str, environment: &str, sha256: &str) -> String {
    fill(route::OBJECT, &[project, environment, sha256])
}

pub fn publications(project: &str, environment: &str) -> String {
    fill(route::PUBLICATIONS, &[project, environment])
}

pub fn publication(project: &str, environment: &str, number: u64) -> String {
    fill(
        route::PUBLICATION,
        &[project, environment, &number.to_string()],
    )
}

pub fn session() -> String {
    route::SESSION.to_owned()
}

pub fn sign_in_codes() -> String {
    route::SIGN_IN_CODES.to_owned()
}

pub fn dashboard_asset(file: &str) -> String {
    fill(route::DASHBOARD_ASSET, &[file])
}

pub fn events() -> String {
    route::EVENTS.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_in_order() {
        assert_eq!(
            version("app", "prod", 7),
            "/api/v1/projects/app/environments/prod/versions/7"
        );
        assert_eq!(request("app", "ab12"), "/api/v1/projects/app/requests/ab12");
        assert_eq!(token("0123"), "/api/v1/tokens/0123");
        assert_eq!(heads("app"), "/api/v1/projects/app/heads");
        assert_eq!(health(), "/api/v1/health");
        assert_eq!(route::PREFIX, "/api/v1");
    }
}
