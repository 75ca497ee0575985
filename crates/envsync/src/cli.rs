//! Command-line arguments. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Git-style pull / push / sync for .env files, end-to-end encrypted.
///
/// The remote (an envsync server at http(s)://, an s3://, gs:// or az:// bucket, or a shared
/// folder) only ever holds ciphertext and signed records. Exit codes: 0 ok, 1 error, 2 bad input or usage, 3 conflict (run
/// `envsync sync`), 4 local changes would be overwritten, 5 identity / membership / access, 6
/// a version or the history failed verification, 7 `status --exit-code` or `diff
/// --exit-code` found something not in sync. `envsync lint` and `envsync guard` exit 1
/// when they find a problem; `envsync run` exits with the command's status.
#[derive(Debug, Parser)]
#[command(
    name = "envsync",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Run as if envsync was started in DIR.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// Accept member keys that are new to you without asking (for CI).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
}

// Which environment a command acts on. (A plain comment: a flattened struct's doc would
// become the about text of every deferred subcommand that flattens it.)
#[derive(Debug, Args, Clone, Default)]
pub struct TargetArgs {
    /// Project in envsync.toml (default: the only one).
    #[arg(long, short = 'p')]
    pub project: Option<String>,

    /// Environment (default: the one `envsync use` chose on this machine, else the one the
    /// current git branch maps to in envsync.toml, else the project's default_environment,
    /// else its first one). Protected environments are acted on only when named here.
    #[arg(long = "env", short = 'e', value_name = "ENVIRONMENT")]
    pub environment: Option<String>,
}

/// Every subcommand enum here is `defer`red: clap builds a subcommand's arguments only when
/// that subcommand is the one parsed (or when help, completions or the man page need them all),
/// instead of building the whole tree at every start. That was 40 % of `envsync --version`'s
/// instructions (BENCHMARKS.md, issue 19, seventh pass).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Write envsync.toml, link an env file and git-ignore it.
    Init(InitArgs),
    /// One row per project and environment: synced, local changes, update available, diverged, not linked.
    Status(StatusArgs),
    /// Download the remote head, decrypt it and write the linked file (mode 0600).
    Pull(PullArgs),
    /// Encrypt the linked file and upload it as the next version.
    Push(PushArgs),
    /// Pull, merge key by key with your local edits, and push the result.
    Sync(SyncArgs),
    /// Point the project's default linked file at another environment, on this machine only.
    ///
    /// Refuses while the file has unpushed edits; writes that environment's verified head
    /// into it; `status`, `pull`, `push`, `sync` and the rest then treat the file as that
    /// environment. Recorded in .envsync/ (never in envsync.toml). `--reset` goes back.
    Use(UseArgs),
    /// Keep the workspace up to date: pull clean files as soon as the remote moves, flag edits.
    ///
    /// A folder remote is watched through filesystem events; an envsync server sends live
    /// events over a WebSocket, reconnecting after 0.5 s doubling to 30 s (with jitter) and
    /// catching up on every reconnect. Every remote is also polled every
    /// `auto_refresh_seconds` (envsync.toml; default 60, 0 never). A token the server refuses
    /// (revoked, expired) stops the watch with exit code 5.
    ///
    /// With --json, one object per line on stdout: the `WatchEvent` of `envsync schema`.
    Watch(WatchArgs),
    /// Keys added, removed and changed: local against remote, or ENV_A against ENV_B.
    Diff(DiffArgs),
    /// Print the remote head as dotenv text on stdout (verified and decrypted in memory,
    /// never written to disk), e.g. for an editor's diff view.
    Show(ShowArgs),
    /// The history of an environment, newest first.
    Log(LogArgs),
    /// Make version N the new head (as a new version; history is never rewritten).
    Rollback(RollbackArgs),
    /// List, add, remove and accept members of a project.
    #[command(subcommand)]
    Members(MembersCommand),
    /// Replace secrets a removed member could read, in one version (values from a hidden
    /// prompt, or one per line on standard input); `--dismiss` ends the reminder (owners).
    Rotate(RotateArgs),
    /// Put back what this machine verified and the remote lost (a server or bucket restored
    /// from an older backup): membership entries and versions, unchanged.
    Repair(MembersProject),
    /// Write a passphrase-encrypted .share bundle that lets a new teammate join in one step.
    Share(ShareArgs),
    /// Join a project: `join URL CODE` with an invite to an envsync server, or `join
    /// FILE.share` with a bundle from `envsync share`. Either way, asks for access.
    Join(JoinArgs),
    /// Sign in to an envsync server with an existing token and store it for later commands.
    Login(LoginArgs),
    /// Create a one-time invite code to the workspace's envsync server; `invite list` and
    /// `invite revoke` show and revoke the project's invites (owners).
    Invite(InviteArgs),
    /// Open the server's web dashboard in a browser, signed in (a single-use code in the
    /// URL fragment, which no server log sees); prints the URL when no browser opens.
    Dashboard(DashboardArgs),
    /// Create, list and revoke your tokens on an envsync server.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Give a CI job read access to one environment: a new identity and a CI token.
    #[command(subcommand)]
    Ci(CiCommand),
    /// The project's audit log on its envsync server (owners).
    Audit(AuditArgs),
    /// Create your identity (an age X25519 key; the signing key is derived from it).
    Keygen(KeygenArgs),
    /// Print your member key, for teammates to add.
    Whoami,
    /// Move your identity between machines.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Run a command with an environment's variables injected (never written to disk).
    Run(RunArgs),
    /// Print an environment's (or a file's) variables as json, yaml, shell, docker, k8s-secret or github-env.
    Export(ExportArgs),
    /// Merge variables from a dotenv, JSON or YAML file into an environment's linked file.
    Import(ImportArgs),
    /// Copy environments to the stores envsync.toml's [[projects.NAME.publish]] names.
    Publish(PublishArgs),
    /// Refuse commits that would add plaintext secrets; `guard install` adds the git hook.
    Guard(GuardArgs),
    /// Report lines of a .env file that dotenv ignores or reads differently than intended.
    Lint(LintArgs),
    /// Print shell completions: bash, zsh, fish, elvish or powershell.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `envsync man > /usr/local/share/man/man1/envsync.1`.
    Man,
    /// Print the JSON Schema of every `--json` document (for tools reading envsync's output).
    Schema,
    /// Run the envsync sync server (SQLite in your data dir unless --database-url says otherwise).
    Server(ServerArgs),
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Back up or restore the database instead of serving.
    #[command(subcommand)]
    pub action: Option<ServerAction>,
    /// Address and port to listen on; port 0 picks a free one (the address is printed).
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDRESS:PORT")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub database: ServerDatabaseArgs,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Take the client address (audit log, rate limits) from the last X-Forwarded-For entry,
    /// the one the proxy appends: only behind a proxy that sets it.
    #[arg(long)]
    pub behind_proxy: bool,
    /// Let the web dashboard decrypt values in the browser after the user unlocks it with
    /// their identity. The page that asks for the identity comes from this server: enable
    /// it only where users trust the server's operator (see README, "Unlocking").
    #[arg(long)]
    pub dashboard_unlock: bool,
    /// How log lines on standard error look: text, or json (one object a line, for log
    /// shippers).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Memory, in MiB, for version records and ciphertexts, which never change and which
    /// every push and pull reads again (a push reads its base version). Full, the cache
    /// starts over. The default, 64, holds some 80,000 records; the process then takes
    /// about a third more than this for the cache's own bookkeeping. 0 turns it off.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub record_cache_mib: usize,
}

// Which database `envsync server` (and its backup and restore) works on.
#[derive(Debug, Args)]
pub struct ServerDatabaseArgs {
    /// Where the embedded SQLite database lives (default: $XDG_DATA_HOME/envsync-server, else
    /// ~/.local/share/envsync-server).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store in this database instead: postgres://USER@HOST/DATABASE (for several replicas)
    /// or sqlite://PATH.
    #[arg(
        long,
        global = true,
        env = "ENVSYNC_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum ServerAction {
    /// Copy the SQLite database, while the server runs, into FILE: a consistent snapshot
    /// through SQLite's online backup API (PostgreSQL: use pg_dump, see README).
    Backup {
        /// The backup file to write (replaced if it exists).
        file: PathBuf,
    },
    /// Put a backup FILE back as the SQLite database (the server must be stopped).
    Restore {
        /// A file written by `envsync server backup`.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where versions live: an envsync server (http(s)://HOST:PORT), an s3://, gs:// or
    /// az:// bucket URL, a folder path (relative to the workspace) or a file:// URL.
    #[arg(long)]
    pub remote: Option<String>,
    /// Project name (default: the directory's name).
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Environment name.
    #[arg(long = "env", short = 'e', default_value = "development")]
    pub environment: String,
    /// The env file to link, relative to the workspace.
    #[arg(long, default_value = ".env")]
    pub file: String,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this project.
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Exit with 7 when any environment is not synced (a CI gate); errors keep their codes.
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct UseArgs {
    /// The environment the default file should hold.
    #[arg(required_unless_present = "reset", conflicts_with = "reset")]
    pub environment: Option<String>,
    /// Go back to the project's default environment.
    #[arg(long)]
    pub reset: bool,
    /// Project in envsync.toml (default: the only one).
    #[arg(long, short = 'p')]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Only this project.
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Pull nothing: report an update a clean file could take (a `would_pull` event) and
    /// leave the decision to the caller, e.g. an editor that knows about unsaved buffers.
    #[arg(long)]
    pub report: bool,
    /// Poll every remote every N seconds, 0 never (default: `auto_refresh_seconds` in
    /// envsync.toml, else 60).
    #[arg(long, value_name = "N")]
    pub refresh_seconds: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Overwrite unpushed local edits (a backup encrypted to you is kept in .envsync/).
    #[arg(long)]
    pub force: bool,
    /// Pull every environment in envsync.toml your role lets you read (of --project, if
    /// given); the others are skipped with a note.
    #[arg(long, conflicts_with = "environment")]
    pub all: bool,
    /// Say which keys would be added, changed or removed, and write nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// What changed, for `envsync log`.
    #[arg(long, short = 'm', default_value = "")]
    pub message: String,
    /// Say which keys the new version would add, change or remove, and write nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The keys to give new values.
    #[arg(required = true, value_name = "KEY")]
    pub keys: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Owners: record that these keys need no rotation (signed, as a version), ending the
    /// reminder `status` shows.
    #[arg(long)]
    pub dismiss: bool,
    /// Message for the version.
    #[arg(long, short = 'm', default_value = "rotate secrets")]
    pub message: String,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Message for the version pushed after merging.
    #[arg(long, short = 'm', default_value = "sync")]
    pub message: String,
    /// Resolve every conflict with your local value.
    #[arg(long, conflicts_with = "theirs")]
    pub ours: bool,
    /// Resolve every conflict with the remote value.
    #[arg(long)]
    pub theirs: bool,
    /// Say what would be pulled, merged and pushed (key names only), and write nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Decide one conflicting key: KEY=ours, KEY=theirs, or KEY=stdin (the next line of
    /// standard input is its new value; an empty line deletes it). Repeatable; nothing is
    /// written unless every conflicting key is decided.
    #[arg(long, value_name = "KEY=ours|theirs|stdin", value_parser = parse_key_choice)]
    pub resolve: Vec<KeyChoice>,
}

/// One `sync --resolve` argument.
#[derive(Debug, Clone)]
pub struct KeyChoice {
    pub key: String,
    pub choice: Choice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Ours,
    Theirs,
    /// A new value, read from standard input.
    Stdin,
}

fn parse_key_choice(argument: &str) -> Result<KeyChoice, String> {
    let (key, choice) = argument
        .rsplit_once('=')
        .ok_or_else(|| format!("`{argument}`: expected KEY=ours, KEY=theirs or KEY=stdin"))?;
    let choice = match choice {
        "ours" => Choice::Ours,
        "theirs" => Choice::Theirs,
        "stdin" => Choice::Stdin,
        other => return Err(format!("`{other}`: expected ours, theirs or stdin")),
    };
    if key.is_empty() {
        return Err(format!("`{argument}`: the key is missing"));
    }
    Ok(KeyChoice {
        key: key.to_owned(),
        choice,
    })
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The remote head (required: the linked file is on disk already).
    #[arg(long, required = true)]
    pub remote: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Compare these two environments (each from its linked file, else its remote head).
    /// Without them: the default environment's linked file against its remote head.
    #[arg(num_args = 0..=2, value_names = ["ENV_A", "ENV_B"])]
    pub environments: Vec<String>,
    /// With no ENV_A ENV_B: which environment.
    #[arg(long = "env", short = 'e', value_name = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// Print values instead of masking them.
    #[arg(long, conflicts_with = "keys_only")]
    pub show_values: bool,
    /// Compare key names only: a remote head is read from its signed version record and
    /// nothing is decrypted, so it works for environments your role cannot read.
    #[arg(long)]
    pub keys_only: bool,
    /// Exit with 7 when there is any difference (a CI gate), like `git diff --exit-code`.
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The version whose content becomes the new head.
    #[arg(value_name = "N")]
    pub number: u64,
    /// Owners: build on version N itself and void every version after it, the way out of a
    /// head that is forged, garbled or encrypted to nobody else.
    #[arg(long)]
    pub supersede: bool,
    /// Why, for `envsync log` (after the "rollback to version N" it always says).
    #[arg(long, short = 'm')]
    pub message: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum MembersCommand {
    /// Members, pending keys and access requests.
    List(MembersProject),
    /// Add a member key received out of band (e.g. `envsync whoami` on a CI runner).
    Add(MembersAddArgs),
    /// Remove a member and re-encrypt every head without them.
    Remove(MembersRemoveArgs),
    /// Accept a pending key or access request (by name or fingerprint), or all with --all.
    Accept(MembersAcceptArgs),
}

#[derive(Debug, Args)]
pub struct MembersProject {
    #[arg(long, short = 'p')]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct MembersAddArgs {
    /// The member key, `age1…:…`.
    pub key: String,
    /// A name teammates recognise (e-mail, `ci-production`).
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub access: AccessArgs,
    #[arg(long, short = 'p')]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct MembersRemoveArgs {
    /// Name or fingerprint.
    pub member: String,
    #[arg(long, short = 'p')]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct MembersAcceptArgs {
    /// Name or fingerprint, as `envsync status` shows it.
    #[arg(required_unless_present = "all")]
    pub member: Option<String>,
    /// Accept everyone waiting.
    #[arg(long, conflicts_with = "member")]
    pub all: bool,
    #[command(flatten)]
    pub access: AccessArgs,
    #[arg(long, short = 'p')]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Role for a new member: owner, writer or reader (default: writer; when accepting
    /// someone who joined a server by invite, the role and environments the invite gave).
    #[arg(long)]
    pub role: Option<envsync_core::role::Role>,
    /// Limit a new member to these environments (repeatable; default: all).
    #[arg(long = "env", short = 'e', value_name = "ENVIRONMENT")]
    pub environments: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// With a server remote, the bundle carries a one-time invite with this role and scope.
    #[command(flatten)]
    pub access: AccessArgs,
    /// Where to write the bundle (default: PROJECT.share).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct JoinArgs {
    /// An envsync server URL (then CODE is required), or a .share bundle (its passphrase is
    /// asked on the terminal, or read from ENVSYNC_PASSPHRASE or standard input).
    #[arg(value_name = "URL|BUNDLE")]
    pub source: String,
    /// The invite code (`esi_…`) from `envsync invite`, or the setup code the server printed
    /// on its first start (which makes you the server's owner). `-`: asked on the terminal
    /// or read from standard input, which keeps it out of `ps` and shell history.
    #[arg(value_name = "CODE")]
    pub code: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The envsync server, http(s)://HOST:PORT (the port may be omitted).
    pub url: String,
    /// The token (`esk_…`). Without it: ENVSYNC_TOKEN, else asked on the terminal or read
    /// from standard input, which keep it out of your shell history.
    #[arg(long)]
    pub token: Option<String>,
}

// `--server URL`, for commands that default to the workspace's remote.
#[derive(Debug, Args, Clone, Default)]
pub struct ServerArg {
    /// The envsync server (default: the remote in envsync.toml).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct InviteArgs {
    #[command(subcommand)]
    pub command: Option<InviteCommand>,
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    #[command(flatten)]
    pub access: AccessArgs,
    /// How long the code stays valid, e.g. 30m, 12h, 7d (default: the server's, 7 days).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_seconds)]
    pub expires: Option<u64>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum InviteCommand {
    /// The project's invites: role, environments, expiry, who made each and whether it was
    /// redeemed or revoked. Each is named by its code's SHA-256 (the server never has codes).
    List {
        #[arg(long, short = 'p')]
        project: Option<String>,
    },
    /// Revoke an invite nobody has redeemed, so that its code no longer joins: by its code's
    /// SHA-256 or a unique prefix of it (as `envsync invite list` shows it), or by the code.
    Revoke {
        #[arg(value_name = "CODE_SHA256_OR_PREFIX")]
        invite: String,
        #[arg(long, short = 'p')]
        project: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long)]
    pub no_open: bool,
    /// Instead of signing in: check that the server at URL serves exactly the dashboard
    /// build this binary embeds (exit 6 if not).
    #[arg(long, value_name = "URL", conflicts_with = "no_open")]
    pub verify: Option<String>,
    #[command(flatten)]
    pub server: ServerArg,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum TokenCommand {
    /// Create a personal access token (printed once) that acts as you, e.g. for a script.
    Create {
        /// What it is for, shown by `envsync token list`.
        label: String,
        /// Expire after, e.g. 30d or 12h (default: never).
        #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_seconds)]
        expires: Option<u64>,
        #[command(flatten)]
        server: ServerArg,
    },
    /// Your tokens, and the CI tokens of projects you own.
    List {
        #[command(flatten)]
        server: ServerArg,
    },
    /// Revoke a token by its id (as `envsync token list` shows it).
    Revoke {
        id: String,
        #[command(flatten)]
        server: ServerArg,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum CiCommand {
    /// Create an identity for a CI job, add it as a reader of one environment, and create a
    /// CI token bound to it. Prints ENVSYNC_IDENTITY and ENVSYNC_TOKEN (once) for your CI
    /// system's secrets, and ENVSYNC_SERVER, the only server the token is sent to.
    Add(CiAddArgs),
}

#[derive(Debug, Args)]
pub struct CiAddArgs {
    /// A name for the job, e.g. github-actions or deploy-production.
    pub name: String,
    /// The one environment it may read.
    #[arg(long = "env", short = 'e', value_name = "ENVIRONMENT")]
    pub environment: String,
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Expire the CI token after, e.g. 90d (default: never).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_seconds)]
    pub expires: Option<u64>,
    /// Write the job's identity into this cloud secret (aws-sm://NAME, aws-ssm:///PATH,
    /// gcp-sm://projects/P/secrets/S, azure-kv://VAULT/NAME, vault://MOUNT/PATH) instead of
    /// printing it; the job then sets ENVSYNC_IDENTITY to this URL.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// The whole server's log: every project, joins and failed sign-ins (server owners).
    #[arg(long, conflicts_with = "project")]
    pub server_wide: bool,
    /// Only entries by this actor (an account id, e.g. alice-3f9a).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only entries of this action, e.g. version.push, member.add, token.revoke, auth.failed.
    #[arg(long)]
    pub action: Option<String>,
    /// Entries per page: 1 to 1000 (the server refuses more); the server's default is 100.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: Option<u32>,
    /// Start after the entry with this id (what a previous page said).
    #[arg(long, value_name = "ID")]
    pub after: Option<i64>,
    /// Fetch every page, not just the first.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum IdentityCommand {
    /// Print your identity file (secret!) to stdout, or write it to --output with mode 0600.
    Export {
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Store an identity file (`-` for standard input) in the keychain, else the config dir.
    Import {
        file: PathBuf,
        /// Replace the identity this machine has.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Your name as teammates will see it (default: $ENVSYNC_NAME, git's user.email, or user@host).
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an existing identity (versions encrypted to the old one become unreadable to you).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Decrypt the remote head instead of reading the linked file (CI: with ENVSYNC_IDENTITY).
    #[arg(long)]
    pub remote: bool,
    /// Pass values as written, without `${VAR}` expansion.
    #[arg(long)]
    pub no_expand: bool,
    /// Let the environment's values replace variables already set in the calling process
    /// (by default, as with dotenv, the calling process wins).
    #[arg(long = "override")]
    pub override_existing: bool,
    /// The command and its arguments, after `--`.
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Read this .env file instead of an environment.
    #[arg(long, conflicts_with_all = ["remote", "project", "environment"])]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Decrypt the remote head instead of reading the linked file.
    #[arg(long)]
    pub remote: bool,
    #[arg(long, value_enum, default_value = "json")]
    pub format: ExportFormat,
    /// Secret name for `--format k8s-secret` (default: PROJECT-ENVIRONMENT).
    #[arg(long)]
    pub name: Option<String>,
    /// Write the encrypted file here (`--format dotenvx`, which requires it); its private
    /// key is printed on stdout, never written beside it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Yaml,
    Shell,
    Docker,
    K8sSecret,
    GithubEnv,
    /// A dotenvx-encrypted file (with --out); prints its DOTENV_PRIVATE_KEY… on stdout.
    Dotenvx,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import: dotenv, JSON (an object) or YAML (a mapping).
    pub file: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Its format (default: from the extension: .json, .yaml/.yml, else dotenv). `dotenvx`
    /// decrypts its `encrypted:` values with DOTENV_PRIVATE_KEY… from the environment or
    /// `.env.keys` beside it.
    #[arg(long, visible_alias = "from", value_enum)]
    pub format: Option<ImportFormat>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Only the targets of this environment.
    #[arg(long = "env", short = 'e', value_name = "ENVIRONMENT")]
    pub environment: Option<String>,
    /// Only this target (its URL as in envsync.toml).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// Say what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Report drift (missing, extra, changed keys) and exit 7 if any; write nothing.
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,
    /// Also remove keys the environment no longer has.
    #[arg(long)]
    pub prune: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    Dotenv,
    Json,
    Yaml,
    Dotenvx,
}

#[derive(Debug, Args)]
pub struct GuardArgs {
    #[command(subcommand)]
    pub action: Option<GuardAction>,
    /// Check what is staged for commit (what the pre-commit hook runs).
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,
    /// Files to check as they are on disk.
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum GuardAction {
    /// Add a pre-commit hook running `envsync guard --staged`; an existing hook is kept and chained.
    Install,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The .env file to check.
    pub file: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every subcommand, built as help and completions build them (deferred parts included).
    fn every_subcommand(command: &clap::Command, path: &str, into: &mut Vec<(String, String)>) {
        for sub in command
            .get_subcommands()
            .filter(|sub| sub.get_name() != "help")
        {
            let path = format!("{path} {}", sub.get_name());
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            into.push((path.clone(), about));
            every_subcommand(sub, &path, into);
        }
    }

    /// Deferred subcommands take their about text from their own doc comment, not from a
    /// struct they flatten (a doc comment on such a struct silently replaced it): every
    /// subcommand has one, and no two share it.
    #[test]
    fn each_subcommand_keeps_its_own_help() {
        let mut command = Cli::command();
        command.build();
        command.clone().debug_assert();
        let mut found = Vec::new();
        every_subcommand(&command, "envsync", &mut found);
        assert!(found.len() > 40, "{} subcommands", found.len());
        for (path, about) in &found {
            assert!(!about.is_empty(), "{path} has no help text");
            let same: Vec<_> = found.iter().filter(|(_, other)| other == about).collect();
            assert_eq!(same.len(), 1, "{path} shares its help text: {same:?}");
        }
    }
}
