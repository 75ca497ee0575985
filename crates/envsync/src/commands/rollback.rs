use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices};
use crate::cli::RollbackArgs;
use crate::output::{Pushed, PushedBy};
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
    let said = PushedBy::Rollback {
        restores: args.number,
    };
    printer.emit(&Pushed::new(result?, said));
    Ok(ExitCode::SUCCESS)
}
