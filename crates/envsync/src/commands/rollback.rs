use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices};
use crate::cli::RollbackArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: RollbackArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    let result = session.rollback(
        &target,
        args.number,
        args.supersede,
        args.message.as_deref(),
    );
    print_notices(&mut session, printer);
    let outcome = result?;
    if printer.json {
        printer.json(&outcome);
    } else if let Some(version) = outcome.version {
        printer.message(format!(
            "version {version} of {}/{} restores version {}{}",
            target.project,
            target.environment,
            args.number,
            super::push::summary(&outcome.changes)
        ));
    }
    Ok(ExitCode::SUCCESS)
}
