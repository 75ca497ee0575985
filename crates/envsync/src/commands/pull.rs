use std::process::ExitCode;

use anyhow::Result;
use envsync_client::engine::{PullOutcome, Session};
use envsync_client::workspace::Target;

use super::{dry_run, open, print_notices};
use crate::cli::PullArgs;
use crate::exit;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: PullArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    if args.all {
        return all(&args, settings, printer);
    }
    let (mut session, target) = open(settings, &args.target)?;
    if args.dry_run {
        let result = session.pull_dry_run(&target, args.force);
        print_notices(&mut session, printer);
        return dry_run::print(&result?, &target, printer);
    }
    let result = session.pull(&target, args.force);
    print_notices(&mut session, printer);
    let outcome = result?;
    if printer.json {
        printer.json(&outcome);
        return Ok(ExitCode::SUCCESS);
    }
    describe(&outcome, &target, printer);
    Ok(ExitCode::SUCCESS)
}

fn describe(outcome: &PullOutcome, target: &Target, printer: &Printer) {
    if let Some(backup) = &outcome.backup {
        printer.message(format!(
            "kept your previous {} encrypted to you at {backup}",
            target.file_label
        ));
    }
    match (outcome.version, outcome.updated) {
        (None, _) => printer.message(format!("{target} has no versions yet; nothing to pull")),
        (Some(version), true) => printer.message(format!(
            "pulled version {version} of {target} into {}",
            target.file_label
        )),
        (Some(version), false) => printer.message(format!(
            "{} is already at version {version} of {target}",
            target.file_label
        )),
    }
}

/// `pull --all`: every environment the user's role covers, each reported. One that fails
/// (unpushed edits, say) does not stop the others; the exit code is the first failure's.
/// Not being a member of the project at all stops at once, as a plain pull does.
fn all(args: &PullArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let targets = session.workspace.targets(args.target.project.as_deref())?;
    let mut first_failure = None;
    let mut results = Vec::new();
    for target in targets {
        let readable = session.may_read(&target);
        print_notices(&mut session, printer);
        if !readable? {
            if !printer.json {
                printer.note(format!("skipped {target}: your role does not cover it"));
            }
            results.push(serde_json::json!({
                "project": target.project, "environment": target.environment, "skipped": true,
            }));
            continue;
        }
        let result = pull_one(&mut session, &target, args, printer);
        print_notices(&mut session, printer);
        let mut entry = serde_json::json!({
            "project": target.project, "environment": target.environment, "skipped": false,
        });
        match result {
            Ok(value) => entry["result"] = value,
            Err(error) => {
                let code = exit::code_of(&error);
                first_failure.get_or_insert(code);
                if !printer.json {
                    printer.message(format!("error: {error}"));
                }
                entry["error"] = serde_json::json!(error.to_string());
                entry["exit_code"] = serde_json::json!(code);
            }
        }
        results.push(entry);
    }
    if printer.json {
        printer.json(&serde_json::json!({ "environments": results }));
    }
    Ok(first_failure.map_or(ExitCode::SUCCESS, ExitCode::from))
}

/// One environment of `pull --all`, printed for a person; the outcome as JSON.
fn pull_one(
    session: &mut Session,
    target: &Target,
    args: &PullArgs,
    printer: &Printer,
) -> Result<serde_json::Value> {
    if args.dry_run {
        let plan = session.pull_dry_run(target, args.force)?;
        if !printer.json {
            dry_run::describe(&plan, target, printer);
        }
        return Ok(serde_json::to_value(&plan)?);
    }
    let outcome = session.pull(target, args.force)?;
    if !printer.json {
        describe(&outcome, target, printer);
    }
    Ok(serde_json::to_value(&outcome)?)
}
