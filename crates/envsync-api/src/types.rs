//! Request and response bodies.

use envsync_core::role::Role;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Stable machine-readable error codes: a client may match on these, never on messages.
pub mod code {
    pub const BAD_REQUEST: &str = "bad_request";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    /// A create-only write lost: the number is taken. `head` says where the remote is.
    pub const CONFLICT: &str = "conflict";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The request was not done within the server's time limit (30 s).
    pub const TIMEOUT: &str = "timeout";
    pub const INTERNAL: &str = "internal";
    pub const UNAVAILABLE: &str = "unavailable";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// One of [`code`]'s constants.
    pub code: String,
    /// One line for a human; never contains a token or a secret.
    pub message: String,
    /// On `conflict`: the environment's current head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<u64>,
}

impl ErrorBody {
    pub fn code(&self) -> &str {
        &self.error.code
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct JoinRequest {
    /// An invite code, or the owner setup code the server printed on its first start.
    pub code: String,
    /// The joiner's member key (`age1…:…`), which the server binds the account to.
    pub member_key: String,
    /// A display name for the account, e.g. "Alice".
    pub name: String,
    /// Proof of holding `member_key`: the standard-base64 Ed25519 signature, by that key,
    /// over `signed_bytes(JoinProofBody { format, member_key, name, code_sha256 })`, where
    /// `code_sha256` is the lowercase hex SHA-256 of the trimmed code. Member keys are
    /// public; without this anyone with any code could take over the key's account.
    pub proof: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct JoinResponse {
    /// A personal access token, shown this once.
    pub token: String,
    pub token_id: String,
    pub account: String,
    /// True when the code was the owner setup code: the account may create projects.
    pub admin: bool,
    /// What the invite offers (project, role, environments); `None` for the setup code.
    /// It grants nothing yet: the account waits until an owner admits its key in the
    /// signed membership log.
    pub grant: Option<Grant>,
}

/// A role on one project, possibly limited to some environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Grant {
    pub project: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "writer"))]
    pub role: Role,
    /// `None`: every environment.
    pub environments: Option<Vec<String>>,
}

/// An account's role on a project, as the server enforces it: set by the invite the
/// account joined with, then by the membership events the server stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccountGrant {
    pub account: String,
    pub name: String,
    pub member_key: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "reader"))]
    pub role: Role,
    pub environments: Option<Vec<String>>,
}

/// An account that redeemed an invite and waits for an owner to admit its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PendingAccount {
    pub account: String,
    pub name: String,
    pub member_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProjectGrants {
    /// Accounts an owner admitted in the signed membership log.
    pub grants: Vec<AccountGrant>,
    /// Accounts that redeemed an invite and have no role yet.
    #[serde(default)]
    pub pending: Vec<PendingAccount>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WhoAmI {
    pub account: String,
    pub name: String,
    pub member_key: Option<String>,
    pub admin: bool,
    pub token_kind: TokenKind,
    pub grants: Vec<Grant>,
    /// Projects whose invite this account redeemed and on which no owner has admitted it
    /// yet: it may read their membership log and file its access request, nothing more.
    #[serde(default)]
    pub pending: Vec<String>,
}

/// An environment's head number and, when `?with=` asks, what a client reads next anyway:
/// the head's record and its ciphertext, so that a `pull`, a `push` or a `run --remote` need
/// not ask for each in a request of its own. The server cannot check either; the client
/// verifies them as it verifies each read alone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Head {
    pub head: Option<u64>,
    /// With `?with=record` or `?with=version`: the head's signed version record, exactly as
    /// `GET …/versions/{number}` serves it. Absent with no head, and from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub record: Option<Box<RawValue>>,
    /// With `?with=version`: the age ciphertext the record names, standard base64, as
    /// `GET …/objects/{sha256}` serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
}

/// What `GET …/head?with=` adds to the number: the record (what every `pull`, `push` and
/// `sync` verifies next), or the whole version (what `run --remote` decrypts next).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum HeadWith {
    /// The head's record.
    Record,
    /// The head's record and its ciphertext.
    Version,
}

impl HeadWith {
    /// The query parameter's value, as the server parses it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Record => "record",
            Self::Version => "version",
        }
    }
}

/// The head of every environment of a project that the caller may read and that has a
/// version, sorted by environment: one request where a head and a record per environment
/// would take two each. Environments the caller's role does not cover are left out, as are
/// those with no version yet.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Heads {
    pub heads: Vec<HeadRecord>,
}

/// One environment's head: its number and its signed version record, exactly as
/// `GET …/versions/{number}` serves it. The server cannot check the signature; the client
/// verifies the record as it verifies one read alone.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HeadRecord {
    pub environment: String,
    pub number: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub record: Box<RawValue>,
}

/// The environments of a project that have at least one version, sorted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Environments {
    pub environments: Vec<String>,
}

/// A push: the signed version record and its ciphertext. The server stores both exactly as
/// sent; it can read the record's header fields but not check its signature.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushVersion {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub record: Box<RawValue>,
    /// The age ciphertext, standard base64.
    pub ciphertext: String,
}

/// New versions of several environments, at most one each and at most
/// [`MAX_PUSHED_VERSIONS`]: each as its own `PUT` would send it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushVersions {
    pub versions: Vec<PushVersion>,
}

/// The most versions one `POST …/versions` may carry; a client sends more in several.
pub const MAX_PUSHED_VERSIONS: usize = 100;

/// What became of each version of a [`PushVersions`], in the order they were sent.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushOutcomes {
    pub outcomes: Vec<PushOutcome>,
}

/// One version's outcome: created, or not because its number is taken (what a `PUT`
/// answers with 409), with the environment's head as it is now.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushOutcome {
    pub environment: String,
    pub number: u64,
    pub created: bool,
    /// The environment's head after the request: `number` when created.
    pub head: Option<u64>,
}

/// Signed records (versions, membership events or access requests), oldest first.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Records {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub records: Vec<Box<RawValue>>,
}

/// A new invite. The inviting owner's client makes the one-time code (the server never
/// sees it) and signs the invite's terms, so the server cannot change the role an
/// accepting owner grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewInvite {
    /// Lowercase hex SHA-256 of the code.
    pub code_sha256: String,
    /// A `Signed<InviteBody>` (envsync-core), signed by the caller's member key.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub signed: Box<RawValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Invite {
    pub code_sha256: String,
    pub grant: Grant,
    /// Unix seconds.
    pub expires_at: i64,
}

/// An invite as an owner lists it: its terms and what became of it. Never the code, which
/// the server does not have; the code's SHA-256 names the invite.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InviteInfo {
    /// Lowercase hex SHA-256 of the code.
    pub code_sha256: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "writer"))]
    pub role: Role,
    /// `null`: every environment.
    pub environments: Option<Vec<String>>,
    /// The account that created it.
    pub created_by: String,
    /// Unix seconds, as are the other times.
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was redeemed; an invite is redeemed once.
    pub redeemed_at: Option<i64>,
    /// The account that joined with it.
    pub redeemed_by: Option<String>,
    /// When an owner revoked it; a revoked code no longer joins.
    pub revoked_at: Option<i64>,
    /// The owner who revoked it.
    pub revoked_by: Option<String>,
    /// The terms as the owner signed them, a `Signed<InviteBody>` (envsync-core), as
    /// `…/invites/{code_sha256}` serves them: what a client believes, after checking the
    /// signature, of the role its joiner is granted. One list answers for every pending
    /// request. `null` for an invite stored without them.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub signed: Option<Box<RawValue>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InviteList {
    /// Newest first.
    pub invites: Vec<InviteInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewToken {
    pub label: String,
    #[serde(default, deserialize_with = "whole_seconds")]
    pub expires_in_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewCiToken {
    /// A name for the CI account, e.g. "github-actions".
    pub name: String,
    pub environment: String,
    /// The CI identity's member key: the token can only read what is encrypted to it.
    pub member_key: String,
    #[serde(default, deserialize_with = "whole_seconds")]
    pub expires_in_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenCreated {
    /// Shown this once; the server keeps only its hash.
    pub token: String,
    pub info: TokenInfo,
}

/// What a token may do: a personal token acts for its account; a CI token only reads the
/// one environment of the one project it was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TokenKind {
    Personal,
    Ci,
}

impl TokenKind {
    /// As the wire and the server's database write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Personal => "personal",
            Self::Ci => "ci",
        }
    }
}

impl std::fmt::Display for TokenKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::str::FromStr for TokenKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "personal" => Ok(Self::Personal),
            "ci" => Ok(Self::Ci),
            other => Err(format!("`{other}` is not a token kind (personal or ci)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenInfo {
    /// A short public id (not the token) to revoke it by.
    pub id: String,
    pub label: String,
    pub kind: TokenKind,
    pub account: String,
    pub project: Option<String>,
    pub environment: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub project: Option<String>,
    pub target: String,
    pub source_address: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `?after=` for the next page; `None` on the last page.
    pub next_after: Option<i64>,
}

/// One message on the events WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Event {
    pub project: String,
    /// `None` for a membership change.
    pub environment: Option<String>,
    /// The environment's new head, or the membership log's newest number.
    pub number: u64,
    /// Who made the change: a version's author as its record names them, or the account
    /// that changed membership. Informational; clients verify the record itself.
    #[serde(default)]
    pub author: Option<String>,
}

/// Signing a browser in to the dashboard: exactly one of a personal access token or a
/// single-use sign-in code from `envsync dashboard`. An enum, so that the document says
/// "one of" as the server means it (`{}` or both fields are refused).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum NewSession {
    Token(TokenSignIn),
    Code(CodeSignIn),
}

/// A personal access token (`envsync token create`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenSignIn {
    pub token: String,
}

/// A single-use sign-in code, valid for a minute (`envsync dashboard`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CodeSignIn {
    pub code: String,
}

/// The signed-in dashboard session: who it is and the CSRF token every state-changing
/// request must carry in `X-CSRF-Token`. The session itself is an HttpOnly cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionInfo {
    pub account: String,
    pub name: String,
    pub admin: bool,
    pub csrf_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Whether the server's operator enabled unlocking (`envsync server
    /// --dashboard-unlock`): the page offers to decrypt values in the browser only then.
    #[serde(default)]
    pub unlock: bool,
}

/// A single-use code that signs a browser in as the caller (`envsync dashboard`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignInCode {
    pub code: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A number of seconds, as JSON Schema reads an integer: `60.0` is one (and the document
/// says `integer`), though serde's `u64` refuses it; `60.5` and `-1` are not.
fn whole_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(whole) = number.as_u64() {
        return Ok(Some(whole));
    }
    number
        .as_f64()
        .filter(|seconds| seconds.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(seconds))
        .map(|seconds| Some(seconds as u64))
        .ok_or_else(|| serde::de::Error::custom("expected a whole number of seconds, at least 0"))
}

#[cfg(test)]
mod tests {
    use super::NewToken;

    fn seconds(json: &str) -> Result<Option<u64>, serde_json::Error> {
        serde_json::from_str::<NewToken>(json).map(|token| token.expires_in_seconds)
    }

    #[test]
    fn seconds_are_whole_numbers_however_json_writes_them() {
        assert_eq!(seconds(r#"{"label":"a"}"#).unwrap(), None);
        assert_eq!(
            seconds(r#"{"label":"a","expires_in_seconds":null}"#).unwrap(),
            None
        );
        assert_eq!(
            seconds(r#"{"label":"a","expires_in_seconds":60}"#).unwrap(),
            Some(60)
        );
        assert_eq!(
            seconds(r#"{"label":"a","expires_in_seconds":60.0}"#).unwrap(),
            Some(60)
        );
        assert_eq!(
            seconds(r#"{"label":"a","expires_in_seconds":6e1}"#).unwrap(),
            Some(60)
        );
        for bad in ["60.5", "-1", "\"60\"", "1e400"] {
            let json = format!(r#"{{"label":"a","expires_in_seconds":{bad}}}"#);
            assert!(seconds(&json).is_err(), "{bad}");
        }
    }
}
