use std::process::ExitCode;

use anyhow::Result;
use std::io::{BufRead, IsTerminal};

use envsync_client::engine::{Acceptance, Session};
use envsync_core::role::Role;

use super::print_notices;
use crate::cli::{AccessArgs, MembersCommand};
use crate::output::{Accepted, Members, Removed};
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(command: MembersCommand, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let result = match command {
        MembersCommand::List(args) => {
            let project = project(&session, args.project.as_deref())?;
            list(&mut session, &project, printer)
        }
        MembersCommand::Add(args) => {
            let project = project(&session, args.project.as_deref())?;
            let (role, environments) = access(args.access);
            let role = role.unwrap_or(Role::Writer);
            session.members_add(&project, &args.key, &args.name, role, environments)?;
            printer.message(format!(
                "added {} to project `{project}` as {role}; every environment's head is re-encrypted for them",
                args.name
            ));
            Ok(())
        }
        MembersCommand::Remove(args) => {
            let project = project(&session, args.project.as_deref())?;
            let removal = session.members_remove(&project, &args.member)?;
            printer.emit(&Removed::new(removal, &project));
            Ok(())
        }
        MembersCommand::Accept(args) => {
            let project = project(&session, args.project.as_deref())?;
            let (role, environments) = access(args.access);
            let mut confirm =
                |acceptance: &Acceptance| confirm_grant(acceptance, settings, printer);
            let accepted = session.members_accept(
                &project,
                args.member.as_deref(),
                role,
                environments,
                &mut confirm,
            )?;
            printer.emit(&Accepted::from(accepted));
            Ok(())
        }
    };
    print_notices(&mut session, printer);
    result.map(|()| ExitCode::SUCCESS)
}

/// Shows what accepting is about to sign, before it is signed; on a terminal without
/// `--yes`, asks. Owners see the role, the environments and where they came from, so a
/// server cannot slip a wider grant past them.
fn confirm_grant(acceptance: &Acceptance, settings: &Settings, printer: &Printer) -> bool {
    let what = match acceptance.kind {
        "key" => format!(
            "trust the key of {} ({}), {} added by an owner",
            acceptance.name,
            acceptance.fingerprint,
            acceptance
                .role
                .map_or_else(|| "-".into(), |role| role.to_string())
        ),
        _ => format!(
            "admit {} ({}) as {} on {} (from {})",
            acceptance.name,
            acceptance.fingerprint,
            acceptance
                .role
                .map_or_else(|| "-".into(), |role| role.to_string()),
            acceptance
                .environments
                .as_ref()
                .map_or_else(|| "every environment".into(), |list| list.join(", ")),
            acceptance.source
        ),
    };
    printer.message(format!("about to {what}"));
    if settings.yes || !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return true;
    }
    eprint!("sign this? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes")
}

fn project(session: &Session, project: Option<&str>) -> Result<String> {
    Ok(session.workspace.project(project)?)
}

/// The role and environments given on the command line; `None` for the role when neither
/// `--role` nor `--env` was, which lets `accept` apply what an invite promised.
fn access(args: AccessArgs) -> (Option<Role>, Option<Vec<String>>) {
    let environments = (!args.environments.is_empty()).then_some(args.environments);
    let role = match (args.role, &environments) {
        (None, None) => None,
        (role, _) => Some(role.unwrap_or(Role::Writer)),
    };
    (role, environments)
}

fn list(session: &mut Session, project: &str, printer: &Printer) -> Result<()> {
    printer.emit(&Members::from(session.members(project)?));
    Ok(())
}
