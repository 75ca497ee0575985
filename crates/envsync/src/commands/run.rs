use std::process::{Command, ExitCode};

use anyhow::Result;
use envsync_client::ClientError;
use envsync_core::expand::expand;

use super::source::Variables;
use crate::cli::RunArgs;
use crate::printer::Printer;
use crate::settings::{OWN_SECRETS, Settings};

/// Exit status of a command that could not be started, as shells use them.
const NOT_FOUND: u8 = 127;
const NOT_EXECUTABLE: u8 = 126;

/// Runs the command with the variables in its environment. On Unix the command replaces
/// envsync (exec), so its exit status and signals reach the caller unchanged.
pub fn run(args: RunArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let source = Variables::load(settings, printer, &args.target, args.remote)?;
    let vars = if args.no_expand {
        source.vars
    } else {
        let lookup = |key: &str| {
            if args.override_existing && source.vars.contains_key(key) {
                None
            } else {
                inherited(key)
            }
        };
        expand(&source.vars, &source.literal, &lookup)
    };
    let (program, arguments) = args.command.split_first().expect("clap requires a command");
    let mut command = Command::new(program);
    command.args(arguments);
    for name in OWN_SECRETS {
        command.env_remove(name);
    }
    for (key, value) in &vars {
        if key.is_empty() || value.contains('\0') {
            return Err(ClientError::Input(format!(
                "{}: `{key}` cannot be passed to a process (empty name or NUL byte in its value)",
                source.target.file_label
            ))
            .into());
        }
        if args.override_existing || !is_inherited(key) {
            command.env(key, value);
        }
    }
    let name = program.to_string_lossy().into_owned();
    exec(command, &name, printer)
}

/// A variable of the calling environment, as the command would inherit it: envsync's own
/// secrets are not inherited ([`OWN_SECRETS`]), so a file's `${ENVSYNC_TOKEN}` expands to
/// nothing and a file that sets one of those names itself still gets its own value through.
fn inherited(key: &str) -> Option<String> {
    if OWN_SECRETS.contains(&key) {
        return None;
    }
    std::env::var(key).ok()
}

/// Whether the command would inherit `key` (set, even if not UTF-8, and not our own secret).
fn is_inherited(key: &str) -> bool {
    !OWN_SECRETS.contains(&key) && std::env::var_os(key).is_some()
}

#[cfg(unix)]
fn exec(mut command: Command, name: &str, printer: &Printer) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    Ok(start_failure(&error, name, printer))
}

#[cfg(not(unix))]
fn exec(mut command: Command, name: &str, printer: &Printer) -> Result<ExitCode> {
    match command.status() {
        Ok(status) => Ok(ExitCode::from(
            status.code().unwrap_or(1).clamp(0, 255) as u8
        )),
        Err(error) => Ok(start_failure(&error, name, printer)),
    }
}

fn start_failure(error: &std::io::Error, name: &str, printer: &Printer) -> ExitCode {
    printer.message(format!("error: cannot run `{name}`: {error}"));
    ExitCode::from(match error.kind() {
        std::io::ErrorKind::NotFound => NOT_FOUND,
        _ => NOT_EXECUTABLE,
    })
}
