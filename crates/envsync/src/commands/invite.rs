//! `envsync invite`: a one-time code with which a teammate joins the workspace's server;
//! `invite list` and `invite revoke` show and withdraw the project's invites.

use std::process::ExitCode;

use anyhow::Result;
use envsync_api::InviteInfo;
use envsync_client::ClientError;
use envsync_client::records::now_unix;
use envsync_client::server_api::{DEFAULT_INVITE_SECONDS, InviteTerms, code_sha256};

use crate::cli::{InviteArgs, InviteCommand};
use crate::output::{InviteRevoked, Invited, Invites};
use crate::printer::Printer;
use crate::settings::{Settings, server_of};

pub fn run(args: InviteArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    match args.command {
        Some(InviteCommand::List { project }) => list(project, settings, printer),
        Some(InviteCommand::Revoke { invite, project }) => {
            revoke(&invite, project, settings, printer)
        }
        None => create(args, settings, printer),
    }
}

fn create(args: InviteArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
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

fn list(project: Option<String>, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let workspace = settings.workspace()?;
    let project = workspace.project(project.as_deref())?;
    let api = settings.api(&server_of(&workspace)?)?;
    let invites = api.list_invites(&project)?.invites;
    printer.emit(&Invites::new(project, invites, now_unix()));
    Ok(ExitCode::SUCCESS)
}

fn revoke(
    invite: &str,
    project: Option<String>,
    settings: &Settings,
    printer: &Printer,
) -> Result<ExitCode> {
    let workspace = settings.workspace()?;
    let project = workspace.project(project.as_deref())?;
    let api = settings.api(&server_of(&workspace)?)?;
    let invites = api.list_invites(&project)?.invites;
    let hash = resolve(invite, &project, &invites)?;
    api.revoke_invite(&project, &hash)?;
    printer.emit(&InviteRevoked {
        project,
        code_sha256: hash,
    });
    Ok(ExitCode::SUCCESS)
}

/// The one invite `given` names: the code itself (`esi_…`, hashed here), its SHA-256, or a
/// prefix of it that only one of the project's invites has.
fn resolve(given: &str, project: &str, invites: &[InviteInfo]) -> Result<String, ClientError> {
    let given = given.trim();
    let wanted = if given.starts_with(envsync_api::CODE_PREFIX) {
        code_sha256(given)
    } else {
        given.to_ascii_lowercase()
    };
    if wanted.is_empty() || !wanted.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(ClientError::Input(format!(
            "`{given}` is not an invite's code SHA-256 or a prefix of one (see `envsync invite list`)"
        )));
    }
    let matching: Vec<&InviteInfo> = invites
        .iter()
        .filter(|invite| invite.code_sha256.starts_with(&wanted))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.code_sha256.clone()),
        [] => Err(ClientError::Input(format!(
            "project {project} has no invite whose code SHA-256 starts with `{wanted}` (see `envsync invite list`)"
        ))),
        several => Err(ClientError::Input(format!(
            "`{wanted}` starts {} invites' code SHA-256 on project {project}: give more of it",
            several.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use envsync_core::role::Role;

    use super::*;

    fn invite(code_sha256: &str) -> InviteInfo {
        InviteInfo {
            code_sha256: code_sha256.to_owned(),
            role: Role::Reader,
            environments: None,
            created_by: "alice-0001".to_owned(),
            created_at: 1,
            expires_at: 2,
            redeemed_at: None,
            redeemed_by: None,
            revoked_at: None,
            revoked_by: None,
            signed: None,
        }
    }

    #[test]
    fn an_invite_is_named_by_a_unique_prefix_its_hash_or_its_code() {
        let code = "esi_example-code";
        let hash = code_sha256(code);
        let invites = [invite("ab12ff"), invite("ab34ff"), invite(&hash)];
        assert_eq!(resolve("AB12", "app", &invites).unwrap(), "ab12ff");
        assert_eq!(resolve(code, "app", &invites).unwrap(), hash);
        assert_eq!(resolve(&hash, "app", &invites).unwrap(), hash);
        let ambiguous = resolve("ab", "app", &invites).unwrap_err().to_string();
        assert!(ambiguous.contains("2 invites"), "{ambiguous}");
        let none = resolve("cd", "app", &invites).unwrap_err().to_string();
        assert!(none.contains("no invite"), "{none}");
        for bad in ["", "xyz", "ab 12"] {
            assert!(resolve(bad, "app", &invites).is_err(), "{bad:?}");
        }
    }
}
