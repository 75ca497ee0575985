use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices};
use crate::cli::LogArgs;
use crate::output::Log;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: LogArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    let result = session.log(&target);
    print_notices(&mut session, printer);
    printer.emit(&Log::new(result?, target.to_string()));
    Ok(ExitCode::SUCCESS)
}
