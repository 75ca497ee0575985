use std::process::ExitCode;

use anyhow::Result;

use super::print_notices;
use crate::cli::StatusArgs;
use crate::output::Status;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: StatusArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let report = session.status(args.project.as_deref())?;
    print_notices(&mut session, printer);
    let status = Status::from(report);
    printer.emit(&status);
    // `--exit-code`: 7 when any environment is not synced (local changes, an update, a
    // divergence, or nothing linked yet), so CI can gate on it; members waiting and secrets
    // to rotate do not count.
    Ok(if args.exit_code && status.behind() {
        ExitCode::from(crate::exit::DIFFERENT)
    } else {
        ExitCode::SUCCESS
    })
}
