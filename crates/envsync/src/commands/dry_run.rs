//! How `--dry-run` ends: the plan (by key name; values are never shown) and, for a sync
//! that would stop at conflicts, the exit code sync would have (3).

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::DryRun;
use envsync_client::workspace::Target;

use crate::output::Plan;
use crate::printer::Printer;

/// Prints the plan; a sync that would stop at conflicts exits as sync would (3).
pub fn print(plan: DryRun, target: &Target, printer: &Printer) -> Result<ExitCode> {
    let plan = Plan::new(plan, target);
    printer.emit(&plan);
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
