use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use envsync_core::merge::{Conflict, Resolution};

use super::{open, print_notices};
use crate::cli::SyncArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: SyncArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    // A dry run asks nothing: it lists the conflicts a real sync would ask about.
    let interactive =
        !args.dry_run && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut resolver = |conflict: &Conflict| -> Option<Resolution> {
        if args.ours {
            Some(Resolution::Ours)
        } else if args.theirs {
            Some(Resolution::Theirs)
        } else if interactive {
            ask(conflict)
        } else {
            None
        }
    };
    if args.dry_run {
        let result = session.sync_dry_run(&target, &mut resolver);
        print_notices(&mut session, printer);
        return super::dry_run::print(&result?, &target, printer);
    }
    let result = session.sync(&target, &args.message, &mut resolver);
    print_notices(&mut session, printer);
    let outcome = result?;
    if printer.json {
        printer.json(&outcome);
        return Ok(ExitCode::SUCCESS);
    }
    let place = format!("{}/{}", target.project, target.environment);
    if !outcome.resolved.is_empty() {
        printer.message(format!("resolved: {}", outcome.resolved.join(", ")));
    }
    if let Some(backup) = &outcome.backup {
        printer.message(format!(
            "kept your file as it was, encrypted to you, at {backup} (`age -d -i` your identity reads it)"
        ));
    }
    match (outcome.pulled, outcome.pushed, outcome.version) {
        (_, Some(pushed), _) if outcome.pulled => printer.message(format!(
            "merged remote changes and pushed version {pushed} of {place}"
        )),
        (_, Some(pushed), _) => printer.message(format!("pushed version {pushed} of {place}")),
        (true, None, Some(version)) => printer.message(format!(
            "pulled version {version} of {place} into {}",
            target.file_label
        )),
        (_, None, Some(version)) => {
            printer.message(format!("{place} is in sync at version {version}"))
        }
        (_, None, None) => printer.message(format!(
            "{place} has no versions and no local file; nothing to do"
        )),
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal: mine, theirs, edit, or show the values first.
fn ask(conflict: &Conflict) -> Option<Resolution> {
    let describe = |value: &Option<String>| match value {
        Some(_) => "set",
        None => "deleted",
    };
    let mut stderr = std::io::stderr();
    let stdin = std::io::stdin();
    let _ = writeln!(
        stderr,
        "conflict: {} (here: {}, remote: {})",
        conflict.key,
        describe(&conflict.ours),
        describe(&conflict.theirs)
    );
    loop {
        let _ = write!(
            stderr,
            "  keep [m]ine, take [t]heirs, [e]dit, [v]iew values, [q]uit? "
        );
        let _ = stderr.flush();
        let mut answer = String::new();
        if stdin.lock().read_line(&mut answer).ok()? == 0 {
            return None;
        }
        match answer.trim() {
            "m" | "mine" => return Some(Resolution::Ours),
            "t" | "theirs" => return Some(Resolution::Theirs),
            "v" | "view" => {
                let show =
                    |value: &Option<String>| value.clone().unwrap_or_else(|| "(deleted)".into());
                let _ = writeln!(stderr, "    base:   {}", show(&conflict.base));
                let _ = writeln!(stderr, "    mine:   {}", show(&conflict.ours));
                let _ = writeln!(stderr, "    theirs: {}", show(&conflict.theirs));
            }
            "e" | "edit" => {
                let _ = write!(
                    stderr,
                    "  new value for {} (empty line deletes it): ",
                    conflict.key
                );
                let _ = stderr.flush();
                let mut value = String::new();
                stdin.lock().read_line(&mut value).ok()?;
                let value = value.trim_end_matches(['\n', '\r']).to_owned();
                return Some(Resolution::Value((!value.is_empty()).then_some(value)));
            }
            "q" | "quit" => return None,
            _ => {}
        }
    }
}
