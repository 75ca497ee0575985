use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices};
use crate::cli::PullArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: PullArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    let result = session.pull(&target, args.force);
    print_notices(&mut session, printer);
    let outcome = result?;
    if printer.json {
        printer.json(&outcome);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(backup) = &outcome.backup {
        printer.message(format!(
            "kept your previous {} encrypted to you at {backup}",
            target.file_label
        ));
    }
    match (outcome.version, outcome.updated) {
        (None, _) => printer.message(format!(
            "{}/{} has no versions yet; nothing to pull",
            target.project, target.environment
        )),
        (Some(version), true) => printer.message(format!(
            "pulled version {version} of {}/{} into {}",
            target.project, target.environment, target.file_label
        )),
        (Some(version), false) => printer.message(format!(
            "{} is already at version {version} of {}/{}",
            target.file_label, target.project, target.environment
        )),
    }
    Ok(ExitCode::SUCCESS)
}
