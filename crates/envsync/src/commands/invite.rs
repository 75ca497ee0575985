//! `envsync invite`: a one-time code with which a teammate joins the workspace's server.

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::server_api::{DEFAULT_INVITE_SECONDS, InviteTerms};

use super::format_time;
use crate::cli::InviteArgs;
use crate::printer::Printer;
use crate::settings::{Settings, server_of};

pub fn run(args: InviteArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let workspace = settings.workspace()?;
    let project = workspace.target(args.project.as_deref(), None)?.project;
    workspace.require_environments(&project, &args.access.environments)?;
    let server = server_of(&workspace)?;
    let environments = (!args.access.environments.is_empty()).then_some(args.access.environments);
    let identity = settings.identity.require()?;
    let seconds = args.expires.map_or(DEFAULT_INVITE_SECONDS, |seconds| {
        i64::try_from(seconds).unwrap_or(i64::MAX)
    });
    let (code, invite) = settings.api(&server)?.create_invite(
        &project,
        &identity,
        &InviteTerms {
            role: args.access.role.unwrap_or(envsync_core::role::Role::Writer),
            environments,
            expires_in_seconds: seconds,
        },
    )?;
    let command = format!("envsync join {server} {code}");
    if printer.json {
        printer.json(&serde_json::json!({
            "server": server,
            "code": code,
            "grant": invite.grant,
            "expires_at": invite.expires_at,
            "join_command": command,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let scope = invite
        .grant
        .environments
        .as_ref()
        .map_or_else(|| "every environment".to_owned(), |list| list.join(", "));
    printer.message(format!(
        "invite code {code} to project `{project}` as {} ({scope}); it works once, until {}.",
        invite.grant.role,
        format_time(invite.expires_at)
    ));
    printer.message("send your teammate this command on a private channel; they run it in their clone of the repository:");
    printer.data(&command);
    // Accepting without --role applies what the invite promised; the signed membership
    // event decides in the end, and the server follows it.
    printer.message(
        "once they have, their access request shows in `envsync status`: accept it with `envsync members accept NAME`",
    );
    Ok(ExitCode::SUCCESS)
}
