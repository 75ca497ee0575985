//! Every environment variable the envsync client and binary read, declared once (as uv
//! declares its own): the binary's settings, the TLS setup and the object-storage remotes
//! read them through these names, and docs/guide.md lists them all in one table.

use std::ffi::OsString;

/// The names, each with what it means.
pub struct EnvVars;

impl EnvVars {
    /// Path to an identity file, an `AGE-SECRET-KEY-1…` key itself (CI), or the URL of a
    /// cloud secret holding it (`aws-sm://`, `aws-ssm:///`, `gcp-sm://`, `azure-kv://`,
    /// `vault://`), fetched into memory only.
    pub const ENVSYNC_IDENTITY: &'static str = "ENVSYNC_IDENTITY";
    /// Your name for a new identity.
    pub const ENVSYNC_NAME: &'static str = "ENVSYNC_NAME";
    /// `off` (or `0`) keeps new identities in the config file instead of the OS keychain.
    pub const ENVSYNC_KEYCHAIN: &'static str = "ENVSYNC_KEYCHAIN";
    /// The passphrase of a `.share` bundle, for `envsync join` in scripts.
    pub const ENVSYNC_PASSPHRASE: &'static str = "ENVSYNC_PASSPHRASE";
    /// An envsync server token (`esk_…`, e.g. a CI token), used instead of the stored one,
    /// and only for the server `ENVSYNC_SERVER` names.
    pub const ENVSYNC_TOKEN: &'static str = "ENVSYNC_TOKEN";
    /// The server URL `ENVSYNC_TOKEN` belongs to; required with it.
    pub const ENVSYNC_SERVER: &'static str = "ENVSYNC_SERVER";
    /// The git branch the branch map of `envsync.toml` follows, instead of the one checked
    /// out (a CI whose variables envsync does not read, a script).
    pub const ENVSYNC_BRANCH: &'static str = "ENVSYNC_BRANCH";
    /// `envsync server`'s database (as `--database-url`, which clap reads it for).
    pub const ENVSYNC_DATABASE_URL: &'static str = "ENVSYNC_DATABASE_URL";
    /// `envsync server`'s log filter (`info` by default), read by the binary, which owns
    /// logging.
    pub const ENVSYNC_LOG: &'static str = "ENVSYNC_LOG";
    /// A PEM file of the certificate authorities to trust for `https://` servers instead of
    /// the web's.
    pub const ENVSYNC_CA_CERT: &'static str = "ENVSYNC_CA_CERT";
    /// Where the ledger of verified histories is kept (`$XDG_STATE_HOME/envsync/`).
    pub const XDG_STATE_HOME: &'static str = "XDG_STATE_HOME";
    /// Where the identity and server tokens are kept (`$XDG_CONFIG_HOME/envsync/`).
    pub const XDG_CONFIG_HOME: &'static str = "XDG_CONFIG_HOME";
    /// Where git remotes keep their bare caches (`$XDG_CACHE_HOME/envsync/git/`).
    pub const XDG_CACHE_HOME: &'static str = "XDG_CACHE_HOME";
    /// Where `envsync server` keeps its data by default (`$XDG_DATA_HOME/envsync-server`).
    pub const XDG_DATA_HOME: &'static str = "XDG_DATA_HOME";
    /// The fallback for the XDG directories (`~/.config`, `~/.local/state`, …) and `~/.aws`.
    pub const HOME: &'static str = "HOME";
    /// Part of the default name of a new identity (`user@host`).
    pub const USER: &'static str = "USER";
    /// S3 credentials; with none, a profile, then the instance metadata service.
    pub const AWS_ACCESS_KEY_ID: &'static str = "AWS_ACCESS_KEY_ID";
    /// Other S3 credential sources that count as configured (web identity, containers).
    pub const AWS_WEB_IDENTITY_TOKEN_FILE: &'static str = "AWS_WEB_IDENTITY_TOKEN_FILE";
    pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &'static str =
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
    pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &'static str =
        "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    /// The S3 region, when the bucket URL gives none (`AWS_DEFAULT_REGION` after it).
    pub const AWS_REGION: &'static str = "AWS_REGION";
    pub const AWS_DEFAULT_REGION: &'static str = "AWS_DEFAULT_REGION";
    /// An S3-compatible endpoint, when the bucket URL gives none (in this order).
    pub const AWS_ENDPOINT_URL_S3: &'static str = "AWS_ENDPOINT_URL_S3";
    pub const AWS_ENDPOINT_URL: &'static str = "AWS_ENDPOINT_URL";
    pub const AWS_ENDPOINT: &'static str = "AWS_ENDPOINT";
    /// The profile to read from the AWS CLI's files (`default`).
    pub const AWS_PROFILE: &'static str = "AWS_PROFILE";
    /// The AWS CLI's files, when not `~/.aws/credentials` and `~/.aws/config`.
    pub const AWS_SHARED_CREDENTIALS_FILE: &'static str = "AWS_SHARED_CREDENTIALS_FILE";
    pub const AWS_CONFIG_FILE: &'static str = "AWS_CONFIG_FILE";
    /// Endpoints of AWS Secrets Manager and SSM (identity stores, publish), before
    /// `AWS_ENDPOINT_URL`, as the AWS SDKs read them.
    pub const AWS_ENDPOINT_URL_SECRETS_MANAGER: &'static str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";
    pub const AWS_ENDPOINT_URL_SSM: &'static str = "AWS_ENDPOINT_URL_SSM";
    /// A Google OAuth access token for Secret Manager (else Application Default Credentials:
    /// `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's login, the metadata server).
    pub const GOOGLE_OAUTH_ACCESS_TOKEN: &'static str = "GOOGLE_OAUTH_ACCESS_TOKEN";
    /// Azure Key Vault credentials, as Azure's SDKs read them: a service principal with a
    /// client secret or a federated token file (workload identity, GitHub OIDC); else `az`.
    pub const AZURE_TENANT_ID: &'static str = "AZURE_TENANT_ID";
    pub const AZURE_CLIENT_ID: &'static str = "AZURE_CLIENT_ID";
    pub const AZURE_CLIENT_SECRET: &'static str = "AZURE_CLIENT_SECRET";
    pub const AZURE_FEDERATED_TOKEN_FILE: &'static str = "AZURE_FEDERATED_TOKEN_FILE";
    /// The Microsoft identity platform's host (`https://login.microsoftonline.com`).
    pub const AZURE_AUTHORITY_HOST: &'static str = "AZURE_AUTHORITY_HOST";
    /// HashiCorp Vault's address and token (else `~/.vault-token`), and namespace.
    pub const VAULT_ADDR: &'static str = "VAULT_ADDR";
    pub const VAULT_TOKEN: &'static str = "VAULT_TOKEN";
    pub const VAULT_NAMESPACE: &'static str = "VAULT_NAMESPACE";
    /// A GitHub token for `github:` publish targets (`GH_TOKEN` first, as the `gh` CLI reads
    /// them; else `gh auth token`).
    pub const GH_TOKEN: &'static str = "GH_TOKEN";
    pub const GITHUB_TOKEN: &'static str = "GITHUB_TOKEN";
    /// GitHub's REST API (`https://api.github.com`; GitHub Enterprise Server's otherwise), as
    /// Actions runners set it.
    pub const GITHUB_API_URL: &'static str = "GITHUB_API_URL";
    /// GitHub Actions' own variables, read for the branch map while HEAD is detached:
    /// `true` in a job, the ref it runs for, its short name, and a pull request's source
    /// branch.
    pub const GITHUB_ACTIONS: &'static str = "GITHUB_ACTIONS";
    pub const GITHUB_REF: &'static str = "GITHUB_REF";
    pub const GITHUB_REF_NAME: &'static str = "GITHUB_REF_NAME";
    pub const GITHUB_HEAD_REF: &'static str = "GITHUB_HEAD_REF";
    /// GitLab CI's, for the same: `true` in a job, the branch or tag, the tag alone, and a
    /// merge request's source branch.
    pub const GITLAB_CI: &'static str = "GITLAB_CI";
    pub const CI_COMMIT_REF_NAME: &'static str = "CI_COMMIT_REF_NAME";
    pub const CI_COMMIT_TAG: &'static str = "CI_COMMIT_TAG";
    pub const CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: &'static str =
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME";
    /// dotenvx private keys (`DOTENV_PRIVATE_KEY`, `DOTENV_PRIVATE_KEY_PRODUCTION`, …): the
    /// prefix of the name `import --from dotenvx` reads a file's key from (before
    /// `.env.keys`), and `export --format dotenvx` reuses instead of making a new key.
    pub const DOTENV_PRIVATE_KEY: &'static str = "DOTENV_PRIVATE_KEY";
}

/// The variable's value; `None` when it is unset, not UTF-8, or blank.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// The variable's value as the OS holds it (a path); `None` when unset or empty.
pub fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}
