//! `envsync invite`: a one-time code with which a teammate joins the workspace's server.

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::server_api::{DEFAULT_INVITE_SECONDS, InviteTerms};

use crate::cli::InviteArgs;
use crate::output::Invited;
use crate::printer::Printer;
use crate::settings::{Settings, server_of};

pub fn run(args: InviteArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let workspace = settings.workspace()?;
    let project = workspace.project(args.project.as_deref())?;
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
    printer.emit(&Invited {
        server,
        code,
        grant: invite.grant.into(),
        expires_at: invite.expires_at,
        join_command: command,
    });
    Ok(ExitCode::SUCCESS)
}
