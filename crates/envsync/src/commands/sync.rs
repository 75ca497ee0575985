use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use envsync_core::merge::{Conflict, Resolution};

use super::{open, print_notices};
use envsync_client::ClientError;
use zeroize::Zeroizing;

use crate::cli::{Choice, KeyChoice, SyncArgs};
use crate::output::Synced;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: SyncArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    // Read before anything is decided, so a short input fails before the merge starts.
    let decided = decisions(&args.resolve)?;
    // A dry run asks nothing: it lists the conflicts a real sync would ask about.
    let interactive =
        !args.dry_run && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut resolver = |conflict: &Conflict| -> Option<Resolution> {
        if let Some((_, resolution)) = decided.iter().find(|(key, _)| *key == conflict.key) {
            Some(resolution.clone())
        } else if args.ours {
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
        return super::dry_run::print(result?, &target, printer);
    }
    let result = session.sync(&target, &args.message, &mut resolver);
    print_notices(&mut session, printer);
    printer.emit(&Synced::new(result?, &target));
    Ok(ExitCode::SUCCESS)
}

/// `--resolve` as resolutions by key; `KEY=stdin` values are the lines of standard input,
/// in the order given (an empty line deletes the key, as the terminal's edit does).
fn decisions(choices: &[KeyChoice]) -> Result<Vec<(String, Resolution)>> {
    let mut stdin = std::io::stdin().lock();
    let mut decided = Vec::with_capacity(choices.len());
    for KeyChoice { key, choice } in choices {
        let resolution = match choice {
            Choice::Ours => Resolution::Ours,
            Choice::Theirs => Resolution::Theirs,
            Choice::Stdin => {
                let mut line = Zeroizing::new(String::new());
                let read = stdin
                    .read_line(&mut line)
                    .map_err(|error| ClientError::Io {
                        what: format!("reading the value of {key} from standard input"),
                        source: error,
                    })?;
                if read == 0 {
                    return Err(ClientError::Input(format!(
                        "--resolve {key}=stdin: standard input ended before a line for {key}"
                    ))
                    .into());
                }
                let value = line.trim_end_matches(['\n', '\r']);
                Resolution::Value((!value.is_empty()).then(|| value.to_owned()))
            }
        };
        decided.push((key.clone(), resolution));
    }
    Ok(decided)
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
