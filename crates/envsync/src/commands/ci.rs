//! `envsync ci add NAME --env ENV`: a CI job gets its own identity (a reader of one
//! environment, so versions are encrypted to it) and a CI token bound to that identity's
//! member key (so the server lets it read that environment and nothing else).

use std::process::ExitCode;

use anyhow::{Context, Result};
use envsync_api::NewCiToken;
use envsync_core::role::Role;
use envsync_crypto::Identity;

use super::print_notices;
use crate::cli::{CiAddArgs, CiCommand};
use crate::printer::Printer;
use crate::settings::{Settings, server_of};

pub fn run(command: CiCommand, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    match command {
        CiCommand::Add(args) => add(args, settings, printer),
    }
}

fn add(args: CiAddArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let target = session
        .workspace
        .target(args.project.as_deref(), Some(&args.environment))?;
    let (project, environment) = (target.project, target.environment);
    let server = server_of(&session.workspace)?;
    let api = settings.api(&server)?;
    // Only in memory: printed once below, never stored on this machine.
    let identity = Identity::generate(&args.name);
    let key = identity.member_key().clone();
    // The token first: if it is refused (not an owner, no token), nothing has changed yet.
    let created = api.create_ci_token(
        &project,
        &NewCiToken {
            name: args.name.clone(),
            environment: environment.clone(),
            member_key: key.to_string(),
            expires_in_seconds: args.expires,
        },
    )?;
    let added = session.members_add(
        &project,
        key.as_str(),
        &args.name,
        Role::Reader,
        Some(vec![environment.clone()]),
    );
    print_notices(&mut session, printer);
    if let Err(error) = added {
        let revoked = api.revoke_token(&created.info.id).is_ok();
        return Err(error).with_context(|| {
            format!(
                "adding {} as a member failed, so its CI token {} was {}",
                args.name,
                created.info.id,
                if revoked {
                    "revoked again"
                } else {
                    "created but not revoked: run `envsync token revoke` with that id"
                }
            )
        });
    }
    let secret_key = identity.expose_age_secret_key();
    if printer.json {
        printer.json(&serde_json::json!({
            "name": args.name,
            "project": project,
            "environment": environment,
            "member_key": key.to_string(),
            "fingerprint": key.fingerprint(),
            "token_id": created.info.id,
            "expires_at": created.info.expires_at,
            "ENVSYNC_IDENTITY": secret_key.as_str(),
            "ENVSYNC_TOKEN": created.token,
            "ENVSYNC_SERVER": server,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    printer.message(format!(
        "added {} ({}) as a reader of {project}/{environment}, re-encrypted its head to it, and created CI token {}.",
        args.name,
        key.fingerprint(),
        created.info.id
    ));
    printer.message(
        "set these in your CI system, the first two as secrets; they are shown only this once \
         and this machine keeps neither (the token is sent only to ENVSYNC_SERVER):",
    );
    printer.data(format!("ENVSYNC_IDENTITY={}", secret_key.as_str()));
    printer.data(format!("ENVSYNC_TOKEN={}", created.token));
    printer.data(format!("ENVSYNC_SERVER={server}"));
    printer.message(format!(
        "the job then runs e.g. `envsync run --remote --yes -e {environment} -- COMMAND`; revoke with `envsync token revoke {}` and `envsync members remove {}`",
        created.info.id, args.name
    ));
    Ok(ExitCode::SUCCESS)
}
