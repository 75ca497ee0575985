use std::process::ExitCode;

use anyhow::Result;
use envsync_client::engine::Session;
use envsync_client::workspace::Target;

use super::{dry_run, open, print_notices};
use crate::cli::PullArgs;
use crate::exit;
use crate::output::{Plan, PullResult, Pulled, PulledAll, PulledOne};
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: PullArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    if args.all {
        return all(&args, settings, printer);
    }
    let (mut session, target) = open(settings, &args.target)?;
    if args.dry_run {
        let result = session.pull_dry_run(&target, args.force);
        print_notices(&mut session, printer);
        return dry_run::print(result?, &target, printer);
    }
    let result = session.pull(&target, args.force);
    print_notices(&mut session, printer);
    printer.emit(&Pulled::new(result?, &target));
    Ok(ExitCode::SUCCESS)
}

/// `pull --all`: every environment the user's role covers, each reported. One that fails
/// (unpushed edits, say) does not stop the others; the exit code is the first failure's.
/// Not being a member of the project at all stops at once, as a plain pull does. An
/// environment whose file holds another on this machine (`envsync use`) is left out, with
/// a note: its file is pulled as the environment it holds.
fn all(args: &PullArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let mut targets = session.workspace.targets(args.target.project.as_deref())?;
    targets.retain(|target| {
        if let envsync_client::workspace::Link::Displaced { holder } = &target.link {
            printer.note(format!(
                "{target}: {} holds {holder} on this machine (`envsync use`); not pulled",
                target.file_label
            ));
        }
        !target.is_displaced()
    });
    let mut first_failure = None;
    let mut environments = Vec::new();
    for target in targets {
        let readable = session.may_read(&target);
        print_notices(&mut session, printer);
        let mut one = PulledOne {
            project: target.project.clone(),
            environment: target.environment.clone(),
            skipped: !readable?,
            result: None,
            error: None,
            exit_code: None,
        };
        if !one.skipped {
            let result = pull_one(&mut session, &target, args);
            print_notices(&mut session, printer);
            match result {
                Ok(result) => one.result = Some(result),
                Err(error) => {
                    let code = exit::code_of(&error);
                    first_failure.get_or_insert(code);
                    one.error = Some(error.to_string());
                    one.exit_code = Some(code);
                }
            }
        }
        environments.push(one);
    }
    printer.emit(&PulledAll { environments });
    Ok(first_failure.map_or(ExitCode::SUCCESS, ExitCode::from))
}

/// One environment of `pull --all`.
fn pull_one(session: &mut Session, target: &Target, args: &PullArgs) -> Result<PullResult> {
    if args.dry_run {
        let plan = session.pull_dry_run(target, args.force)?;
        return Ok(PullResult::Plan(Plan::new(plan, target)));
    }
    let outcome = session.pull(target, args.force)?;
    Ok(PullResult::Pulled(Pulled::new(outcome, target)))
}
