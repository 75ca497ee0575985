use std::process::ExitCode;

use anyhow::Result;
use envsync_client::engine::{MemberStatus, Session};
use envsync_core::role::Role;

use super::print_notices;
use crate::cli::{AccessArgs, MembersCommand};
use crate::printer::{Printer, table};
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
            if printer.json {
                printer.json(&removal);
            } else {
                printer.message(format!(
                    "removed {} from project `{project}`; every head is re-encrypted without them",
                    removal.name
                ));
                for (environment, keys) in &removal.exposed {
                    if !keys.is_empty() {
                        printer.message(format!(
                            "rotate these secrets of {project}/{environment}, which {} could read: {}",
                            removal.name,
                            keys.join(", ")
                        ));
                    }
                }
            }
            Ok(())
        }
        MembersCommand::Accept(args) => {
            let project = project(&session, args.project.as_deref())?;
            let (role, environments) = access(args.access);
            let accepted =
                session.members_accept(&project, args.member.as_deref(), role, environments)?;
            if printer.json {
                printer.json(&serde_json::json!({ "accepted": accepted }));
            } else {
                printer.message(format!("accepted: {}", accepted.join(", ")));
            }
            Ok(())
        }
    };
    print_notices(&mut session, printer);
    result.map(|()| ExitCode::SUCCESS)
}

fn project(session: &Session, project: Option<&str>) -> Result<String> {
    Ok(session.workspace.target(project, None)?.project)
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
    let rows = session.members(project)?;
    if printer.json {
        printer.json(&rows);
        return Ok(());
    }
    let mut lines = vec![
        ["NAME", "FINGERPRINT", "ROLE", "ENVIRONMENTS", "STATUS"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for row in rows {
        let status = match row.status {
            MemberStatus::Trusted => "member",
            MemberStatus::NewKey => "new key: run `envsync members accept`",
            MemberStatus::Request => "asks for access",
            MemberStatus::Removed => "removed",
        };
        lines.push(vec![
            if row.you {
                format!("{} (you)", row.name)
            } else {
                row.name
            },
            row.fingerprint,
            row.role
                .map(|role| role.to_string())
                .unwrap_or_else(|| "-".into()),
            row.environments
                .map(|list| list.join(","))
                .unwrap_or_else(|| "all".into()),
            status.to_owned(),
        ]);
    }
    for line in table(&lines) {
        printer.data(line);
    }
    Ok(())
}
