//! `envsync join URL CODE` (an envsync server invite or setup code) and `envsync join
//! FILE.share` (a bundle from `envsync share`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::accounts::{self, Redeemed};
use envsync_client::server_url::is_server_url;

use zeroize::Zeroizing;

use super::{read_secret, share};
use crate::cli::JoinArgs;
use crate::output::{AccessRequest, JoinedServer, ProjectRole};
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
        // `-` keeps the code out of the command line (`ps`) and shell history, as editors do.
        let code = match code.as_str() {
            "-" => read_secret("invite code")?,
            _ => Zeroizing::new(code),
        };
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
    accounts::redeem_code(url, code, identity, &settings.credentials)
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
    let redeemed = redeem_code(url, code, settings, printer)?;
    let access_request = accounts::request_granted_access(&redeemed, code)?;
    let Redeemed {
        server,
        account,
        admin,
        grant,
        ..
    } = redeemed;
    let in_workspace = settings
        .workspace()
        .ok()
        .and_then(|workspace| server_of(&workspace).ok())
        .is_some_and(|remote| remote == server);
    printer.emit(&JoinedServer {
        server,
        account,
        admin,
        grant: grant.map(ProjectRole::from),
        access_request: access_request.map(AccessRequest::from),
        credentials: settings.credentials.path.display().to_string(),
        in_workspace,
    });
    Ok(ExitCode::SUCCESS)
}
