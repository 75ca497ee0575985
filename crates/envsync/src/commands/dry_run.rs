//! How `--dry-run` reads: what would change, by key name (values are never shown), on
//! stdout, with the headings on stderr as `diff` has them.

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::DryRun;
use envsync_client::workspace::Target;
use envsync_core::merge::KeyChanges;

use crate::printer::Printer;

/// Prints the plan; a sync that would stop at conflicts exits as sync would (3).
pub fn print(plan: &DryRun, target: &Target, printer: &Printer) -> Result<ExitCode> {
    if printer.json {
        printer.json(plan);
    } else {
        describe(plan, target, printer);
    }
    if plan.conflicts.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if printer.json {
        return Ok(ExitCode::from(crate::exit::CONFLICT));
    }
    Err(ClientError::Conflict(format!(
        "sync would stop: {} key(s) of {} changed differently here and on the remote: {}. Pass --ours or --theirs, or run `envsync sync` on a terminal to choose",
        plan.conflicts.len(),
        target.file_label,
        plan.conflicts.join(", ")
    ))
    .into())
}

/// The plan for a person, ending with the reminder that nothing was written.
pub fn describe(plan: &DryRun, target: &Target, printer: &Printer) {
    let at = plan.remote_version.map_or_else(
        || "no versions yet".to_owned(),
        |head| format!("version {head}"),
    );
    match (plan.action, &plan.file) {
        ("nothing", _) => printer.message(format!(
            "{target} is up to date ({at} on the remote): nothing would change"
        )),
        (_, Some(file)) => {
            let verb = if plan.action == "merge" {
                "merge"
            } else {
                "pull"
            };
            printer.message(format!(
                "would {verb} {at} of {target} into {}:",
                target.file_label
            ));
            keys(file, printer);
        }
        _ => {}
    }
    if let Some(push) = &plan.push {
        printer.message(format!("would push version {} of {target}:", push.number));
        keys(&push.changes, printer);
    }
    printer.message("dry run: nothing was written");
}

fn keys(changes: &KeyChanges, printer: &Printer) {
    if changes.is_empty() {
        printer.message("  (no key changes)");
    }
    for key in &changes.added {
        printer.data(format!("+ {key}"));
    }
    for key in &changes.changed {
        printer.data(format!("~ {key}"));
    }
    for key in &changes.removed {
        printer.data(format!("- {key}"));
    }
}
