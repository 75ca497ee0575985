//! One module per subcommand; each returns the process exit status.

mod audit;
mod ci;
mod completions;
mod dashboard;
mod diff;
mod dry_run;
mod export;
mod guard;
mod import;
mod init;
mod invite;
mod join;
mod keygen;
mod lint;
mod log;
mod login;
mod members;
mod publish;
mod pull;
mod push;
mod repair;
mod rollback;
mod rotate;
mod run;
mod server;
mod share;
mod show;
mod source;
mod status;
mod sync;
mod token;
mod use_env;
mod watch;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::Session;
use zeroize::Zeroizing;

use crate::cli::{Command, GlobalArgs, TargetArgs};
use crate::printer::Printer;
use crate::settings::Settings;

/// Runs `command`. Settings (identity, credentials, and perhaps a `git config` call for a
/// new identity's name) are resolved only for the commands that use them: `server`,
/// `lint`, `completions`, `man` and `schema` run without.
pub fn run(command: Command, global: &GlobalArgs, printer: &Printer) -> Result<ExitCode> {
    match command {
        Command::Lint(args) => lint::run(args, printer),
        Command::Completions(args) => completions::run(args, printer),
        Command::Man => completions::man(printer),
        Command::Schema => {
            printer.json(&crate::output::schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Server(args) => server::run(args, printer),
        command => with_settings(command, &Settings::resolve(global)?, printer),
    }
}

fn with_settings(command: Command, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    match command {
        Command::Init(args) => init::run(args, settings, printer),
        Command::Status(args) => status::run(args, settings, printer),
        Command::Pull(args) => pull::run(args, settings, printer),
        Command::Push(args) => push::run(args, settings, printer),
        Command::Sync(args) => sync::run(args, settings, printer),
        Command::Use(args) => use_env::run(args, settings, printer),
        Command::Watch(args) => watch::run(args, settings, printer),
        Command::Diff(args) => diff::run(args, settings, printer),
        Command::Show(args) => show::run(args, settings, printer),
        Command::Log(args) => log::run(args, settings, printer),
        Command::Rollback(args) => rollback::run(args, settings, printer),
        Command::Repair(args) => repair::run(args, settings, printer),
        Command::Rotate(args) => rotate::run(args, settings, printer),
        Command::Members(command) => members::run(command, settings, printer),
        Command::Share(args) => share::share(args, settings, printer),
        Command::Join(args) => join::run(args, settings, printer),
        Command::Login(args) => login::run(args, settings, printer),
        Command::Invite(args) => invite::run(args, settings, printer),
        Command::Dashboard(args) => dashboard::run(args, settings, printer),
        Command::Token(command) => token::run(command, settings, printer),
        Command::Ci(command) => ci::run(command, settings, printer),
        Command::Audit(args) => audit::run(args, settings, printer),
        Command::Keygen(args) => keygen::run(args, settings, printer),
        Command::Whoami => keygen::whoami(settings, printer),
        Command::Identity(command) => keygen::identity(command, settings, printer),
        Command::Run(args) => run::run(args, settings, printer),
        Command::Export(args) => export::run(args, settings, printer),
        Command::Import(args) => import::run(args, settings, printer),
        Command::Publish(args) => publish::run(args, settings, printer),
        Command::Guard(args) => guard::run(args, settings, printer),
        Command::Lint(_)
        | Command::Completions(_)
        | Command::Man
        | Command::Schema
        | Command::Server(_) => unreachable!("`run` starts these without settings"),
    }
}

/// Opens a session and resolves the target environment.
fn open(
    settings: &Settings,
    target: &TargetArgs,
) -> Result<(Session, envsync_client::workspace::Target)> {
    let session = settings.session()?;
    let target = session
        .workspace
        .target(target.project.as_deref(), target.environment.as_deref())?;
    Ok((session, target))
}

/// Reads a text file given on the command line; not UTF-8 is bad input (exit 2).
fn read_text_file(path: &std::path::Path) -> Result<String> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| envsync_client::ClientError::Io {
        what: format!("reading {label}"),
        source: error,
    })?;
    Ok(String::from_utf8(bytes).map_err(|error| {
        envsync_client::ClientError::Input(format!(
            "{label}: not valid UTF-8 (byte {})",
            error.utf8_error().valid_up_to()
        ))
    })?)
}

/// Prints what the engine noticed along the way (a new identity, keys trusted on first use).
fn print_notices(session: &mut Session, printer: &Printer) {
    for notice in session.take_notices() {
        printer.note(notice);
    }
}

/// A secret (`what`: "passphrase", "token") from a hidden prompt on a terminal, else from
/// a line of standard input, so it stays out of shell history and `ps`.
fn read_secret(what: &str) -> Result<Zeroizing<String>> {
    let secret = if std::io::stdin().is_terminal() {
        Zeroizing::new(
            rpassword::prompt_password(format!("{what}: ")).map_err(|error| ClientError::Io {
                what: format!("reading the {what}"),
                source: error,
            })?,
        )
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| ClientError::Io {
                what: format!("reading the {what} from standard input"),
                source: error,
            })?;
        line
    };
    let secret = Zeroizing::new(secret.trim().to_owned());
    if secret.is_empty() {
        return Err(ClientError::Input(format!("no {what} given")).into());
    }
    Ok(secret)
}
