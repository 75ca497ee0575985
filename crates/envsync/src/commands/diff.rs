use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::{KeyDiff, Session, key_name_diffs, require_local};

use super::print_notices;
use crate::cli::DiffArgs;
use crate::output::Diff;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: DiffArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let (old_label, new_label, diffs) = if args.keys_only {
        key_names(&args, &mut session)?
    } else {
        values(&args, &mut session)?
    };
    print_notices(&mut session, printer);
    let code = if args.exit_code && !diffs.is_empty() {
        ExitCode::from(crate::exit::DIFFERENT)
    } else {
        ExitCode::SUCCESS
    };
    printer.emit(&Diff::new(old_label, new_label, diffs, args.show_values));
    Ok(code)
}

type Labelled = (String, String, Vec<KeyDiff>);

/// Values compared: the remote side is decrypted.
fn values(args: &DiffArgs, session: &mut Session) -> Result<Labelled> {
    let project = args.project.as_deref();
    match args.environments.as_slice() {
        [] => {
            let target = session
                .workspace
                .target(project, args.environment.as_deref())?;
            let (side, diffs) = session.diff_with_remote(&target)?;
            Ok((
                Diff::side(&target.environment, side),
                format!("{} (local)", target.file_label),
                diffs,
            ))
        }
        [old, new] => {
            let old = session.workspace.target(project, Some(old))?;
            let new = session.workspace.target(project, Some(new))?;
            let (old_side, new_side, diffs) = session.diff_environments(&old, &new)?;
            Ok((
                Diff::side(&old.environment, old_side),
                Diff::side(&new.environment, new_side),
                diffs,
            ))
        }
        _ => Err(two_or_none()),
    }
}

/// `--keys-only`: names only, a remote head's from its signed record; nothing decrypted.
fn key_names(args: &DiffArgs, session: &mut Session) -> Result<Labelled> {
    let project = args.project.as_deref();
    match args.environments.as_slice() {
        [] => {
            let target = session
                .workspace
                .target(project, args.environment.as_deref())?;
            let local = require_local(&target, session.local_key_names(&target)?)?;
            let (side, remote) = session.remote_key_names(&target)?;
            Ok((
                Diff::side(&target.environment, side),
                format!("{} (local)", target.file_label),
                key_name_diffs(&remote, &local),
            ))
        }
        [old, new] => {
            let old = session.workspace.target(project, Some(old))?;
            let new = session.workspace.target(project, Some(new))?;
            let (old_side, old_names) = session.key_names(&old)?;
            let (new_side, new_names) = session.key_names(&new)?;
            Ok((
                Diff::side(&old.environment, old_side),
                Diff::side(&new.environment, new_side),
                key_name_diffs(&old_names, &new_names),
            ))
        }
        _ => Err(two_or_none()),
    }
}

fn two_or_none() -> anyhow::Error {
    ClientError::Input("diff takes no environment or two (ENV_A ENV_B)".into()).into()
}
