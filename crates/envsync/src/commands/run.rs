use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_core::expand::expand;
use indexmap::IndexMap;

use super::source::Variables;
use crate::cli::RunArgs;
use crate::exec::Replacement;
use crate::printer::Printer;
use crate::settings::{OWN_SECRETS, Settings};

/// Exit status of a command that could not be started, as shells use them.
const NOT_FOUND: u8 = 127;
const NOT_EXECUTABLE: u8 = 126;

/// Runs the command with the variables in its environment. On Unix the command replaces
/// envsync (exec), so its exit status and signals reach the caller unchanged.
pub fn run(args: RunArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let source = Variables::load(settings, printer, &args.target, args.remote)?;
    let calling: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let vars = if args.no_expand {
        source.vars
    } else {
        let mut inherited = inheritable(&calling);
        if args.override_existing {
            // The file's own keys win: the calling environment does not shadow them.
            inherited.retain(|name, _| !source.vars.contains_key(*name));
        }
        let lookup = |key: &str| inherited.get(key).map(|value| (*value).to_owned());
        expand(source.vars, &source.literal, &lookup)
    };
    let (program, arguments) = args.command.split_first().expect("clap requires a command");
    let replacement = Replacement {
        program: program.clone(),
        args: arguments.to_vec(),
        env: environment(
            calling,
            vars,
            args.override_existing,
            &source.target.file_label,
        )?,
    };
    let name = program.to_string_lossy().into_owned();
    exec(replacement, &name, printer)
}

/// The command's whole environment: the calling one without envsync's own secrets, then the
/// file's variables, which replace inherited ones only with `--override`.
fn environment(
    calling: Vec<(OsString, OsString)>,
    vars: IndexMap<String, String>,
    override_existing: bool,
    file_label: &str,
) -> Result<Vec<(OsString, OsString)>> {
    if let Some((key, _)) = vars
        .iter()
        .find(|(key, value)| key.is_empty() || value.contains('\0'))
    {
        return Err(ClientError::Input(format!(
            "{file_label}: `{key}` cannot be passed to a process \
             (empty name or NUL byte in its value)"
        ))
        .into());
    }
    let from_file = |name: &OsStr| name.to_str().is_some_and(|name| vars.contains_key(name));
    let mut env: Vec<(OsString, OsString)> = calling
        .into_iter()
        .filter(|(name, _)| {
            let own = name
                .to_str()
                .is_some_and(|name| OWN_SECRETS.contains(&name));
            let replaced = override_existing && from_file(name);
            !(own || replaced)
        })
        .collect();
    let inherited: HashSet<&OsStr> = env.iter().map(|(name, _)| name.as_os_str()).collect();
    // The file's strings move into the environment: no copy of each name and value.
    let added: Vec<(OsString, OsString)> = vars
        .into_iter()
        .filter(|(key, _)| override_existing || !inherited.contains(OsStr::new(key.as_str())))
        .map(|(key, value)| (OsString::from(key), OsString::from(value)))
        .collect();
    env.extend(added);
    Ok(env)
}

/// The calling environment's variables as the command would inherit them, for expansion:
/// envsync's own secrets are not inherited ([`OWN_SECRETS`]), so a file's `${ENVSYNC_TOKEN}`
/// expands to nothing and a file that sets one of those names itself still gets its own
/// value through; a name or value that is not UTF-8 is not seen (as `std::env::var`). Read
/// once, not with a `getenv` per variable of the file.
fn inheritable(calling: &[(OsString, OsString)]) -> HashMap<&str, &str> {
    let mut inherited = HashMap::with_capacity(calling.len());
    for (name, value) in calling {
        if let (Some(name), Some(value)) = (name.to_str(), value.to_str())
            && !OWN_SECRETS.contains(&name)
        {
            // The first of a name given twice, as `getenv` finds it.
            inherited.entry(name).or_insert(value);
        }
    }
    inherited
}

#[cfg(unix)]
fn exec(replacement: Replacement, name: &str, printer: &Printer) -> Result<ExitCode> {
    let error = replacement.exec();
    Ok(start_failure(&error, name, printer))
}

#[cfg(not(unix))]
fn exec(replacement: Replacement, name: &str, printer: &Printer) -> Result<ExitCode> {
    match replacement.status() {
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
