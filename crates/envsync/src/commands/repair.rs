use std::process::ExitCode;

use anyhow::Result;

use super::print_notices;
use crate::cli::MembersProject;
use crate::output::Repair;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: MembersProject, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let project = session.workspace.project(args.project.as_deref())?;
    let result = session.repair(&project);
    print_notices(&mut session, printer);
    printer.emit(&Repair::from(result?));
    Ok(ExitCode::SUCCESS)
}
