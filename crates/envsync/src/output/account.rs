//! The documents of identity, server account and onboarding commands: `keygen`, `whoami`,
//! `login`, `join`, `share`, `invite`, `token`, `ci add`.

use envsync_api::{Grant, TokenInfo, TokenKind, WhoAmI};
use envsync_client::EnvironmentRef;
use envsync_client::engine::AccessRequested;
use envsync_core::role::Role;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Document, format_time};
use crate::printer::{Printer, table};

/// `envsync keygen`, `whoami --json`: the public facts about the identity.
#[derive(Serialize, JsonSchema)]
pub struct IdentityInfo {
    pub name: String,
    pub member_key: String,
    pub fingerprint: String,
    /// Where the identity is kept (a file, the keychain, `ENVSYNC_IDENTITY`).
    pub identity: String,
    /// Whether `keygen` just created it (for the text only).
    #[serde(skip)]
    pub created: bool,
}

impl Document for IdentityInfo {
    fn text(&self, printer: &Printer) {
        printer.data(&self.member_key);
        if self.created {
            printer.message(format!(
                "created identity for {} in {} (fingerprint {})",
                self.name, self.identity, self.fingerprint
            ));
            printer.message(
                "back it up with `envsync identity export`: without it you cannot read what is encrypted to you",
            );
        } else {
            printer.message(format!(
                "{} (fingerprint {}), identity from {}",
                self.name, self.fingerprint, self.identity
            ));
        }
    }
}

/// A role on one project, possibly limited to some environments.
#[derive(Serialize, JsonSchema)]
pub struct ProjectRole {
    pub project: String,
    pub role: Role,
    /// `null`: every environment.
    pub environments: Option<Vec<String>>,
}

impl From<Grant> for ProjectRole {
    fn from(grant: Grant) -> Self {
        Self {
            project: grant.project,
            role: grant.role,
            environments: grant.environments,
        }
    }
}

impl ProjectRole {
    fn scope(&self, every: &str) -> String {
        self.environments
            .as_ref()
            .map_or_else(|| every.to_owned(), |list| list.join(", "))
    }
}

/// `envsync login --json`.
#[derive(Serialize, JsonSchema)]
pub struct LoggedIn {
    pub server: String,
    /// Where the token is stored.
    pub credentials: String,
    pub whoami: Account,
}

/// The account a token acts as.
#[derive(Serialize, JsonSchema)]
pub struct Account {
    pub account: String,
    pub name: String,
    pub member_key: Option<String>,
    /// A server owner, who may create projects.
    pub admin: bool,
    pub token_kind: TokenKind,
    pub grants: Vec<ProjectRole>,
    /// Projects whose invite this account redeemed and where no owner admitted it yet.
    pub pending: Vec<String>,
}

impl From<WhoAmI> for Account {
    fn from(me: WhoAmI) -> Self {
        Self {
            account: me.account,
            name: me.name,
            member_key: me.member_key,
            admin: me.admin,
            token_kind: me.token_kind,
            grants: me.grants.into_iter().map(ProjectRole::from).collect(),
            pending: me.pending,
        }
    }
}

impl Document for LoggedIn {
    fn text(&self, printer: &Printer) {
        let me = &self.whoami;
        printer.message(format!(
            "logged in to {} as {} (account {}{}, {} token); stored in {}",
            self.server,
            me.name,
            me.account,
            if me.admin { ", server owner" } else { "" },
            me.token_kind,
            self.credentials
        ));
        if me.grants.is_empty() {
            printer.message("no roles on any project yet");
        }
        for grant in &me.grants {
            let scope = grant.scope("all environments");
            printer.data(format!("{}  {}  {scope}", grant.project, grant.role));
        }
    }
}

/// `envsync join URL CODE --json`.
#[derive(Serialize, JsonSchema)]
pub struct JoinedServer {
    pub server: String,
    pub account: String,
    /// The code was the server's setup code: this account owns the server.
    pub admin: bool,
    /// What the invite offers; `null` for the setup code.
    pub grant: Option<ProjectRole>,
    /// The access request filed for the invite's project.
    pub access_request: Option<AccessRequest>,
    /// Where the token is stored.
    pub credentials: String,
    /// Whether the current workspace's remote is this server.
    pub in_workspace: bool,
}

#[derive(Serialize, JsonSchema)]
pub struct AccessRequest {
    pub project: String,
    /// The requester's fingerprint; `null` when the key already is an active member.
    pub fingerprint: Option<String>,
    /// The names of the project's owners, who can accept the request.
    pub owners: Vec<String>,
}

impl From<AccessRequested> for AccessRequest {
    fn from(request: AccessRequested) -> Self {
        Self {
            project: request.project,
            fingerprint: request.fingerprint,
            owners: request.owners,
        }
    }
}

impl Document for JoinedServer {
    fn text(&self, printer: &Printer) {
        let server = &self.server;
        printer.message(format!(
            "joined {server} as account {}; your token is stored in {}",
            self.account, self.credentials
        ));
        if self.admin {
            printer.message(format!(
                "you are this server's owner and may create projects: in your repository, `envsync init --remote {server}` (unless envsync.toml names it already), then `envsync push` creates the project with you as its owner. Invite teammates with `envsync invite`."
            ));
        }
        let (Some(grant), Some(request)) = (&self.grant, &self.access_request) else {
            return;
        };
        let project = &grant.project;
        let scope = match &grant.environments {
            Some(environments) => format!("environments {}", environments.join(", ")),
            None => "every environment".to_owned(),
        };
        match &request.fingerprint {
            Some(fingerprint) => {
                let owners = if request.owners.is_empty() {
                    "an owner of the project".to_owned()
                } else {
                    request.owners.join(" or ")
                };
                printer.message(format!(
                    "the invite gives you the {} role on project `{project}` ({scope}). Your access request is on the server: {owners} must run `envsync members accept {fingerprint}` on their machine, which encrypts the secrets to you.",
                    grant.role
                ));
            }
            None => printer.message(format!(
                "you already are a member of project `{project}` ({} role, {scope})",
                grant.role
            )),
        }
        if self.in_workspace {
            printer.message("then run `envsync pull` here");
        } else {
            printer.message(format!(
                "then run `envsync pull` in your clone of the repository whose envsync.toml names remote {server} (none yet? `envsync init --remote {server} --project {project} --env ENVIRONMENT`)"
            ));
        }
    }
}

/// `envsync join FILE.share --json`.
#[derive(Serialize, JsonSchema)]
pub struct JoinedBundle {
    pub project: String,
    pub remote: String,
    pub shared_by: String,
    /// Whether envsync.toml was written from the bundle.
    pub wrote_config: bool,
    /// The access request's fingerprint; `null` when the joiner already was a member.
    pub request_fingerprint: Option<String>,
    /// Whether the bundle carried a server invite, now redeemed.
    pub redeemed_invite: bool,
}

impl From<envsync_client::engine::BundleJoined> for JoinedBundle {
    fn from(joined: envsync_client::engine::BundleJoined) -> Self {
        Self {
            project: joined.project,
            remote: joined.remote,
            shared_by: joined.shared_by,
            wrote_config: joined.wrote_config,
            request_fingerprint: joined.request_fingerprint,
            redeemed_invite: joined.redeemed_invite,
        }
    }
}

impl Document for JoinedBundle {
    fn text(&self, printer: &Printer) {
        if self.wrote_config {
            printer.message("wrote envsync.toml from the bundle");
        }
        printer.message(match &self.request_fingerprint {
            Some(fingerprint) => format!(
                "joined project `{}` on {}. Ask {} to run `envsync members accept {fingerprint}` on their machine, then run `envsync pull`",
                self.project, self.remote, self.shared_by
            ),
            None => format!(
                "you already are a member of `{}`: run `envsync pull`",
                self.project
            ),
        });
    }
}

/// `envsync share --json`. The passphrase is shown this once.
#[derive(Serialize, JsonSchema)]
pub struct Shared<'a> {
    /// The bundle file written.
    pub bundle: String,
    pub passphrase: &'a str,
}

impl Document for Shared<'_> {
    fn text(&self, printer: &Printer) {
        printer.message(format!(
            "wrote {}: send it to your new teammate.",
            self.bundle
        ));
        printer.message("send this passphrase on another channel (a call, a different chat); it is shown only once:");
        printer.data(self.passphrase);
        let file = std::path::Path::new(&self.bundle)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("PROJECT.share");
        printer.message(format!(
            "they run `envsync join {file}` in their clone of the repository, then you accept them with `envsync members accept NAME`"
        ));
    }
}

/// `envsync invite --json`.
#[derive(Serialize, JsonSchema)]
pub struct Invited {
    pub server: String,
    /// The one-time code.
    pub code: String,
    pub grant: ProjectRole,
    /// Unix seconds.
    pub expires_at: i64,
    /// What the teammate runs.
    pub join_command: String,
}

impl Document for Invited {
    fn text(&self, printer: &Printer) {
        printer.message(format!(
            "invite code {} to project `{}` as {} ({}); it works once, until {}.",
            self.code,
            self.grant.project,
            self.grant.role,
            self.grant.scope("every environment"),
            format_time(self.expires_at)
        ));
        printer.message("send your teammate this command on a private channel; they run it in their clone of the repository:");
        printer.data(&self.join_command);
        // Accepting without --role applies what the invite promised; the signed membership
        // event decides in the end, and the server follows it.
        printer.message(
            "once they have, their access request shows in `envsync status`: accept it with `envsync members accept NAME`",
        );
    }
}

/// A token on a server (never the token itself).
#[derive(Serialize, JsonSchema)]
pub struct Token {
    /// A short public id to revoke it by.
    pub id: String,
    pub label: String,
    pub kind: TokenKind,
    pub account: String,
    pub project: Option<String>,
    pub environment: Option<String>,
    /// Unix seconds, as are the other times.
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<TokenInfo> for Token {
    fn from(info: TokenInfo) -> Self {
        Self {
            id: info.id,
            label: info.label,
            kind: info.kind,
            account: info.account,
            project: info.project,
            environment: info.environment,
            created_at: info.created_at,
            expires_at: info.expires_at,
            revoked_at: info.revoked_at,
        }
    }
}

/// `envsync token create --json`. The token is shown this once.
#[derive(Serialize, JsonSchema)]
pub struct TokenCreated {
    pub token: String,
    pub info: Token,
    #[serde(skip)]
    pub server: String,
}

impl Document for TokenCreated {
    fn text(&self, printer: &Printer) {
        let info = &self.info;
        printer.data(&self.token);
        let expiry = info.expires_at.map_or_else(
            || "never expires".to_owned(),
            |at| format!("expires {}", format_time(at)),
        );
        printer.message(format!(
            "created token {} ({}) on {}, {expiry}. It acts as you: it is shown only this once, keep it in a secret store; revoke it with `envsync token revoke {}`",
            info.id, info.label, self.server, info.id
        ));
    }
}

/// `envsync token list --json`.
#[derive(Serialize, JsonSchema)]
pub struct Tokens {
    pub tokens: Vec<Token>,
}

impl Document for Tokens {
    fn text(&self, printer: &Printer) {
        let header = [
            "ID", "LABEL", "KIND", "SCOPE", "CREATED", "EXPIRES", "STATUS",
        ];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        for token in &self.tokens {
            let scope = match (&token.project, &token.environment) {
                (Some(project), Some(environment)) => {
                    EnvironmentRef::new(project, environment).to_string()
                }
                (Some(project), None) => project.clone(),
                _ => format!("account {}", token.account),
            };
            rows.push(vec![
                token.id.clone(),
                token.label.clone(),
                token.kind.to_string(),
                scope,
                format_time(token.created_at),
                token
                    .expires_at
                    .map_or_else(|| "never".to_owned(), format_time),
                token.revoked_at.map_or_else(
                    || "active".to_owned(),
                    |at| format!("revoked {}", format_time(at)),
                ),
            ]);
        }
        for line in table(&rows) {
            printer.data(line);
        }
    }
}

/// `envsync token revoke --json`.
#[derive(Serialize, JsonSchema)]
pub struct TokenRevoked {
    pub revoked: String,
    /// It was the token this machine used for the server, now forgotten.
    pub forgot_stored_token: bool,
    #[serde(skip)]
    pub server: String,
}

impl Document for TokenRevoked {
    fn text(&self, printer: &Printer) {
        let server = &self.server;
        printer.message(format!("revoked token {} on {server}", self.revoked));
        if self.forgot_stored_token {
            printer.message(format!(
                "it was the token this machine used for {server}: sign in again with `envsync login {server}`"
            ));
        }
    }
}

/// `envsync ci add --json`: the CI job's identity and token, shown this once.
#[derive(Serialize, JsonSchema)]
pub struct CiAdded<'a> {
    pub name: String,
    pub project: String,
    pub environment: String,
    pub member_key: String,
    pub fingerprint: String,
    pub token_id: String,
    pub expires_at: Option<i64>,
    /// The identity itself, or (with `identity_store`) the URL of the secret holding it:
    /// what the job's `ENVSYNC_IDENTITY` is set to either way.
    #[serde(rename = "ENVSYNC_IDENTITY")]
    pub identity: &'a str,
    /// Whether the identity was written into a cloud secret store (`--store`) rather than
    /// shown.
    pub identity_store: bool,
    #[serde(rename = "ENVSYNC_TOKEN")]
    pub token: String,
    #[serde(rename = "ENVSYNC_SERVER")]
    pub server: String,
}

impl Document for CiAdded<'_> {
    fn text(&self, printer: &Printer) {
        let environment = &self.environment;
        printer.message(format!(
            "added {} ({}) as a reader of {}, re-encrypted its head to it, and created CI token {}.",
            self.name,
            self.fingerprint,
            EnvironmentRef::new(&self.project, environment),
            self.token_id
        ));
        if self.identity_store {
            printer.message(format!(
                "wrote its identity into {}; the job reads it from there with its own cloud \
                 credentials. Set these in your CI system, ENVSYNC_TOKEN as a secret; it is \
                 shown only this once and this machine keeps neither:",
                self.identity
            ));
        } else {
            printer.message(
                "set these in your CI system, the first two as secrets; they are shown only this \
                 once and this machine keeps neither (the token is sent only to ENVSYNC_SERVER):",
            );
        }
        printer.data(format!("ENVSYNC_IDENTITY={}", self.identity));
        printer.data(format!("ENVSYNC_TOKEN={}", self.token));
        printer.data(format!("ENVSYNC_SERVER={}", self.server));
        printer.message(format!(
            "the job then runs e.g. `envsync run --remote --yes -e {environment} -- COMMAND`; revoke with `envsync token revoke {}` and `envsync members remove {}`",
            self.token_id, self.name
        ));
    }
}

/// `envsync dashboard --json`: the sign-in link, and whether a browser was asked to open
/// it. The link signs a browser in once, until `expires_at`.
#[derive(Serialize, JsonSchema)]
pub struct DashboardLink {
    pub url: String,
    pub opened: bool,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Document for DashboardLink {
    fn text(&self, printer: &Printer) {
        if self.opened {
            printer.message("opened the dashboard in your browser, signed in");
            return;
        }
        printer.data(&self.url);
        printer.message(format!(
            "open this link in your browser to sign in to the dashboard; it works once, until {}",
            format_time(self.expires_at)
        ));
    }
}

/// `envsync dashboard --verify URL --json`: whether the server serves the dashboard build
/// this binary embeds, asset by asset.
#[derive(Serialize, JsonSchema)]
pub struct DashboardVerified {
    pub server: String,
    pub matches: bool,
    pub assets: Vec<DashboardAsset>,
}

#[derive(Serialize, JsonSchema)]
pub struct DashboardAsset {
    pub path: String,
    pub expected_sha256: String,
    /// `null`: the server does not serve this asset, which is right only for the unlock
    /// script on a server that has unlocking off.
    pub served_sha256: Option<String>,
    pub matches: bool,
}

impl Document for DashboardVerified {
    fn text(&self, printer: &Printer) {
        for asset in self.assets.iter().filter(|asset| !asset.matches) {
            printer.message(format!(
                "{}{}: served SHA-256 {}, this build's {}",
                self.server,
                asset.path,
                asset.served_sha256.as_deref().unwrap_or("(not served)"),
                asset.expected_sha256
            ));
        }
        if self.matches {
            printer.message(format!(
                "{} serves the dashboard this envsync embeds ({} assets, SHA-256 checked)",
                self.server,
                self.assets.len()
            ));
        } else {
            printer.message(format!(
                "error: {} does not serve the dashboard build this envsync embeds; do not \
                 trust its page with anything",
                self.server
            ));
        }
    }
}
