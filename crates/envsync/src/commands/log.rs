use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices};
use crate::cli::LogArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: LogArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    let result = session.log(&target);
    print_notices(&mut session, printer);
    let entries = result?;
    if printer.json {
        printer.json(&entries);
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        printer.message(format!(
            "{}/{} has no versions yet",
            target.project, target.environment
        ));
    }
    for entry in &entries {
        printer.data(format!(
            "version {}  {} ({})  {}",
            entry.version, entry.author, entry.fingerprint, entry.time
        ));
        if !entry.message.is_empty() {
            printer.data(format!("    {}", entry.message));
        }
        let changes = entry
            .changes
            .added
            .iter()
            .map(|key| format!("+{key}"))
            .chain(entry.changes.changed.iter().map(|key| format!("~{key}")))
            .chain(entry.changes.removed.iter().map(|key| format!("-{key}")))
            .collect::<Vec<_>>();
        if !changes.is_empty() {
            printer.data(format!("    {}", changes.join(" ")));
        }
    }
    Ok(ExitCode::SUCCESS)
}
