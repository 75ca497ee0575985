//! `envsync ci add NAME --env ENV`: a CI job gets its own identity (a reader of one
//! environment, so versions are encrypted to it) and a CI token bound to that identity's
//! member key (so the server lets it read that environment and nothing else). With
//! `--store URL`, the identity goes into a cloud secret store instead of onto the terminal.

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::accounts::{CiMember, add_ci_member};
use envsync_client::stores::StoreUrl;

use super::print_notices;
use crate::cli::{CiAddArgs, CiCommand};
use crate::output::CiAdded;
use crate::printer::Printer;
use crate::settings::{Settings, server_of};

pub fn run(command: CiCommand, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    match command {
        CiCommand::Add(args) => add(args, settings, printer),
    }
}

fn add(args: CiAddArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    // A malformed URL is refused before anything is created.
    let store = args.store.as_deref().map(StoreUrl::parse).transpose()?;
    let mut session = settings.session()?;
    let target = session
        .workspace
        .target(args.project.as_deref(), Some(&args.environment))?;
    let server = server_of(&session.workspace)?;
    let api = settings.api(&server)?;
    // The identity is only in memory: printed once below, never stored on this machine.
    let added = add_ci_member(
        &mut session,
        &api,
        &target,
        &args.name,
        args.expires,
        store.as_ref(),
    );
    print_notices(&mut session, printer);
    let CiMember { identity, created } = added?;
    let (project, environment) = (target.place.project, target.place.environment);
    let key = identity.member_key().clone();
    let secret_key = identity.expose_age_secret_key();
    printer.emit(&CiAdded {
        name: args.name,
        project,
        environment,
        member_key: key.to_string(),
        fingerprint: key.fingerprint().to_string(),
        token_id: created.info.id,
        expires_at: created.info.expires_at,
        // Kept in the store: the job's ENVSYNC_IDENTITY is the store's URL, not the key.
        identity: match &store {
            Some(_) => args.store.as_deref().unwrap_or_default().trim(),
            None => secret_key.as_str(),
        },
        identity_store: store.is_some(),
        token: created.token,
        server,
    });
    Ok(ExitCode::SUCCESS)
}
