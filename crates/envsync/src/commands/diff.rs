use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::{DiffSide, KeyDiff, Session, key_name_diffs, require_local};

use super::print_notices;
use crate::cli::DiffArgs;
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
    if printer.json {
        let changes: Vec<_> = diffs
            .iter()
            .map(|diff| to_json(diff, args.show_values))
            .collect();
        printer
            .json(&serde_json::json!({ "from": old_label, "to": new_label, "changes": changes }));
        return Ok(code);
    }
    printer.message(format!("from {old_label} to {new_label}:"));
    if diffs.is_empty() {
        printer.message("no differences");
    }
    for diff in &diffs {
        printer.data(line(diff, args.show_values));
    }
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
                side_label(&target.environment, side),
                format!("{} (local)", target.file_label),
                diffs,
            ))
        }
        [old, new] => {
            let old = session.workspace.target(project, Some(old))?;
            let new = session.workspace.target(project, Some(new))?;
            let (old_side, new_side, diffs) = session.diff_environments(&old, &new)?;
            Ok((
                side_label(&old.environment, old_side),
                side_label(&new.environment, new_side),
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
                side_label(&target.environment, side),
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
                side_label(&old.environment, old_side),
                side_label(&new.environment, new_side),
                key_name_diffs(&old_names, &new_names),
            ))
        }
        _ => Err(two_or_none()),
    }
}

fn two_or_none() -> anyhow::Error {
    ClientError::Input("diff takes no environment or two (ENV_A ENV_B)".into()).into()
}

fn side_label(environment: &str, side: DiffSide) -> String {
    match side {
        DiffSide::LocalFile => format!("{environment} (local file)"),
        DiffSide::RemoteHead(version) => format!("{environment} (remote version {version})"),
    }
}

fn line(diff: &KeyDiff, show_values: bool) -> String {
    let sign = match diff.kind {
        "added" => '+',
        "removed" => '-',
        _ => '~',
    };
    if !show_values {
        return format!("{sign} {}", diff.key);
    }
    match (&diff.old, &diff.new) {
        (Some(old), Some(new)) => format!("{sign} {}: {old} -> {new}", diff.key),
        (None, Some(new)) => format!("{sign} {}: {new}", diff.key),
        (Some(old), None) => format!("{sign} {}: {old}", diff.key),
        (None, None) => format!("{sign} {}", diff.key),
    }
}

fn to_json(diff: &KeyDiff, show_values: bool) -> serde_json::Value {
    let mut value = serde_json::json!({ "key": diff.key, "change": diff.kind });
    if show_values {
        value["old"] = serde_json::json!(diff.old);
        value["new"] = serde_json::json!(diff.new);
    }
    value
}
