//! `envsync join URL CODE` (an envsync server invite or setup code) and `envsync join
//! FILE.share` (a bundle from `envsync share`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use envsync_api::{Grant, JoinResponse};
use envsync_client::ClientError;
use envsync_client::credentials::{ServerCredentials, Token, is_server_url};
use envsync_client::engine::{AccessRequested, request_access};
use envsync_client::remote::HttpRemote;
use envsync_client::server_api::ApiClient;
use envsync_crypto::Identity;
use serde::Serialize;

use super::share;
use crate::cli::JoinArgs;
use crate::printer::Printer;
use crate::settings::{Settings, server_of};

pub fn run(args: JoinArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    if is_server_url(&args.source) {
        let code = args.code.ok_or_else(|| {
            ClientError::Input(format!(
                "`envsync join {} CODE`: the invite code is missing (an owner creates one with `envsync invite`)",
                args.source
            ))
        })?;
        return join_server(&args.source, &code, settings, printer);
    }
    if args.code.is_some() {
        return Err(ClientError::Input(format!(
            "`{}` is not an http(s):// server URL, and a .share bundle takes no code",
            args.source
        ))
        .into());
    }
    share::join_bundle(Path::new(&args.source), settings, printer)
}

/// What `join URL CODE` did; never holds the token.
#[derive(Serialize)]
struct Joined {
    server: String,
    account: String,
    admin: bool,
    grant: Option<Grant>,
    access_request: Option<AccessRequested>,
    credentials: String,
    /// Whether the current workspace's remote is this server.
    in_workspace: bool,
}

/// What redeeming a code made: the account, and its token, already stored.
struct Redeemed {
    identity: Identity,
    server: String,
    token: Token,
    account: String,
    admin: bool,
    grant: Option<Grant>,
}

/// Redeems `code` on the server at `url` with the user's identity (created if needed):
/// an account bound to its member key, and a token, stored in the credentials file.
fn redeem_code(
    url: &str,
    code: &str,
    settings: &Settings,
    printer: &Printer,
) -> Result<Redeemed, ClientError> {
    let (identity, created) = settings.identity.load_or_create()?;
    if created {
        printer.note(format!(
            "created your identity in {} (member key {}, fingerprint {})",
            settings.identity.origin(),
            identity.member_key(),
            identity.member_key().fingerprint()
        ));
    }
    let anonymous = ApiClient::new(url, None)?;
    let server = anonymous.server().to_owned();
    let JoinResponse {
        token,
        token_id,
        account,
        admin,
        grant,
    } = anonymous.join(&identity, code)?;
    let token = Token::new(token);
    settings.credentials.save(
        &server,
        &ServerCredentials {
            token: token.clone(),
            account: account.clone(),
            token_id: Some(token_id),
        },
    )?;
    Ok(Redeemed {
        identity,
        server,
        token,
        account,
        admin,
        grant,
    })
}

/// Redeems a code from a share bundle: the account and token, without the access request,
/// which the bundle's join files itself.
pub fn redeem(
    url: &str,
    code: &str,
    settings: &Settings,
    printer: &Printer,
) -> Result<(), ClientError> {
    redeem_code(url, code, settings, printer).map(|_| ())
}

fn join_server(url: &str, code: &str, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let Redeemed {
        identity,
        server,
        token,
        account,
        admin,
        grant,
    } = redeem_code(url, code, settings, printer)?;
    // The new token, not ENVSYNC_TOKEN: the request must come from the account just made.
    let access_request = match &grant {
        Some(grant) => {
            let remote = HttpRemote::new(ApiClient::new(&server, Some(token))?);
            let invite = Some(envsync_client::server_api::code_sha256(code));
            let requested = request_access(&remote, &identity, &grant.project, invite);
            Some(requested.with_context(|| {
                format!(
                    "joined {server} as account {account}, but asking for access to project `{}` failed; `envsync pull` in the workspace asks again",
                    grant.project
                )
            })?)
        }
        None => None,
    };
    let in_workspace = settings
        .workspace()
        .ok()
        .and_then(|workspace| server_of(&workspace).ok())
        .is_some_and(|remote| remote == server);
    let joined = Joined {
        server,
        account,
        admin,
        grant,
        access_request,
        credentials: settings.credentials.path.display().to_string(),
        in_workspace,
    };
    if printer.json {
        printer.json(&joined);
    } else {
        explain(&joined, printer);
    }
    Ok(ExitCode::SUCCESS)
}

fn explain(joined: &Joined, printer: &Printer) {
    let server = &joined.server;
    printer.message(format!(
        "joined {server} as account {}; your token is stored in {}",
        joined.account, joined.credentials
    ));
    if joined.admin {
        printer.message(format!(
            "you are this server's owner and may create projects: in your repository, `envsync init --remote {server}` (unless envsync.toml names it already), then `envsync push` creates the project with you as its owner. Invite teammates with `envsync invite`."
        ));
    }
    let (Some(grant), Some(request)) = (&joined.grant, &joined.access_request) else {
        return;
    };
    let project = &grant.project;
    let scope = match &grant.environments {
        Some(environments) => format!("environments {}", environments.join(", ")),
        None => "every environment".to_owned(),
    };
    match &request.fingerprint {
        Some(fingerprint) => {
            let owners = if request.owners.is_empty() {
                "an owner of the project".to_owned()
            } else {
                request.owners.join(" or ")
            };
            printer.message(format!(
                "the invite gives you the {} role on project `{project}` ({scope}). Your access request is on the server: {owners} must run `envsync members accept {fingerprint}` on their machine, which encrypts the secrets to you.",
                grant.role
            ));
        }
        None => printer.message(format!(
            "you already are a member of project `{project}` ({} role, {scope})",
            grant.role
        )),
    }
    if joined.in_workspace {
        printer.message("then run `envsync pull` here");
    } else {
        printer.message(format!(
            "then run `envsync pull` in your clone of the repository whose envsync.toml names remote {server} (none yet? `envsync init --remote {server} --project {project} --env ENVIRONMENT`)"
        ));
    }
}
