use std::process::ExitCode;

use anyhow::Result;

use super::print_notices;
use crate::cli::MembersProject;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: MembersProject, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let project = session
        .workspace
        .target(args.project.as_deref(), None)?
        .project;
    let result = session.repair(&project);
    print_notices(&mut session, printer);
    let repaired = result?;
    if printer.json {
        printer.json(&repaired);
        return Ok(ExitCode::SUCCESS);
    }
    let mut restored = false;
    if !repaired.membership.is_empty() {
        restored = true;
        printer.message(format!(
            "put back membership entries {} of project `{project}`",
            list(&repaired.membership)
        ));
    }
    for (environment, versions) in &repaired.versions {
        restored = true;
        printer.message(format!(
            "put back versions {} of {project}/{environment}",
            list(versions)
        ));
    }
    for missing in &repaired.missing {
        printer.message(format!(
            "could not put back {missing}: a teammate who pulled it can"
        ));
    }
    if !restored && repaired.missing.is_empty() {
        printer.message(format!(
            "nothing to repair: the remote holds everything of project `{project}` this machine verified"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn list(numbers: &[u64]) -> String {
    numbers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
