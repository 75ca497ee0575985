//! `envsync use ENV` / `envsync use --reset`.

use std::process::ExitCode;

use anyhow::Result;

use super::print_notices;
use crate::cli::UseArgs;
use crate::output::Used;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: UseArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let environment = if args.reset {
        None
    } else {
        args.environment.as_deref()
    };
    let result = session.use_environment(args.project.as_deref(), environment);
    print_notices(&mut session, printer);
    printer.emit(&Used::from(result?));
    Ok(ExitCode::SUCCESS)
}
