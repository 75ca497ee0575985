use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::join;
use envsync_client::files::write_atomic;
use envsync_client::workspace::Workspace;
use zeroize::Zeroizing;

use envsync_client::remote::RemoteSpec;
use envsync_client::server_api::{DEFAULT_INVITE_SECONDS, InviteTerms};

use super::{print_notices, read_secret};
use crate::cli::ShareArgs;
use crate::output::{JoinedBundle, Shared};
use crate::printer::Printer;
use crate::settings::Settings;
use crate::settings::server_of;

/// Said before the passphrase key is derived (scrypt, on purpose slow: about three seconds)
/// so the wait does not look like a hang. Always on stderr, which scripts do not parse.
const DERIVING: &str = "deriving the passphrase key (a few seconds)…";

pub fn share(args: ShareArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let project = session.workspace.project(args.project.as_deref())?;
    session
        .workspace
        .require_environments(&project, &args.access.environments)?;
    let invite = if RemoteSpec::parse(&session.workspace.config.remote)?.is_server() {
        let server = server_of(&session.workspace)?;
        let environments =
            (!args.access.environments.is_empty()).then(|| args.access.environments.clone());
        let identity = settings.identity.require()?;
        let (code, _) = settings.api(&server)?.create_invite(
            &project,
            &identity,
            &InviteTerms {
                role: args.access.role.unwrap_or(envsync_core::role::Role::Writer),
                environments,
                expires_in_seconds: DEFAULT_INVITE_SECONDS,
            },
        )?;
        Some(code)
    } else {
        None
    };
    printer.message(DERIVING);
    let result = session.share(&project, invite);
    print_notices(&mut session, printer);
    let (sealed, passphrase) = result?;
    let output = args
        .output
        .unwrap_or_else(|| settings.directory.join(format!("{project}.share")));
    write_atomic(&output, &sealed)?;
    printer.emit(&Shared {
        bundle: output.display().to_string(),
        passphrase: passphrase.as_str(),
    });
    Ok(ExitCode::SUCCESS)
}

/// `envsync join FILE.share`.
pub fn join_bundle(bundle: &Path, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let sealed = std::fs::read(bundle).map_err(|error| ClientError::Io {
        what: format!("reading {}", bundle.display()),
        source: error,
    })?;
    let passphrase = read_passphrase(settings)?;
    printer.message(DERIVING);
    let open = |directory: &Path| settings.session_in(Workspace::load(directory)?);
    let redeem = |server: &str, code: &str| super::join::redeem(server, code, settings, printer);
    let joined = join(&sealed, &passphrase, &settings.directory, redeem, open)?;
    printer.emit(&JoinedBundle::from(joined));
    Ok(ExitCode::SUCCESS)
}

/// `ENVSYNC_PASSPHRASE`, else a hidden prompt on a terminal, else a line of standard input.
fn read_passphrase(settings: &Settings) -> Result<Zeroizing<String>> {
    if let Some(passphrase) = &settings.passphrase {
        return Ok(Zeroizing::new(passphrase.clone()));
    }
    read_secret("passphrase")
}
