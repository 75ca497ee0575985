use std::io::Read;
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::files::write_atomic;
use envsync_crypto::Identity;

use crate::cli::{IdentityCommand, KeygenArgs};
use crate::output::IdentityInfo;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: KeygenArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let identity = settings.identity.create(args.name.as_deref(), args.force)?;
    printer.emit(&describe(&identity, settings, true));
    Ok(ExitCode::SUCCESS)
}

/// Creates the identity when there is none, as every command that needs one does: a
/// newcomer's first question is "what is my key?", which should not be an error.
pub fn whoami(settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (identity, created) = settings.identity.load_or_create()?;
    if created {
        printer.note(format!(
            "created your identity at {} (fingerprint {})",
            settings.identity.origin(),
            identity.member_key().fingerprint()
        ));
    }
    printer.emit(&describe(&identity, settings, false));
    Ok(ExitCode::SUCCESS)
}

/// The public facts about an identity.
fn describe(identity: &Identity, settings: &Settings, created: bool) -> IdentityInfo {
    let key = identity.member_key();
    IdentityInfo {
        name: identity.name().to_owned(),
        member_key: key.to_string(),
        fingerprint: key.fingerprint().to_string(),
        identity: settings.identity.origin().to_string(),
        created,
    }
}

pub fn identity(
    command: IdentityCommand,
    settings: &Settings,
    printer: &Printer,
) -> Result<ExitCode> {
    match command {
        IdentityCommand::Export { output } => {
            let identity = settings.identity.require()?;
            let text = identity.to_identity_file(&envsync_client::records::now_rfc3339());
            match output {
                Some(path) => {
                    write_atomic(&path, text.as_bytes())?;
                    printer.message(format!(
                        "wrote your identity to {} (mode 0600): keep it secret",
                        path.display()
                    ));
                }
                None => printer.data(text.trim_end()),
            }
        }
        IdentityCommand::Import { file, force } => {
            let mut text = zeroize::Zeroizing::new(String::new());
            let read = if file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text).map(drop)
            } else {
                std::fs::read_to_string(&file).map(|contents| *text = contents)
            };
            read.map_err(|error| ClientError::Io {
                what: format!("reading {}", file.display()),
                source: error,
            })?;
            let identity =
                settings
                    .identity
                    .parse(&text)
                    .map_err(|error| ClientError::BadIdentity {
                        origin: file.display().to_string(),
                        reason: error.to_string(),
                    })?;
            settings.identity.store(&identity, force)?;
            printer.message(format!(
                "imported the identity of {} (fingerprint {}) into {}",
                identity.name(),
                identity.member_key().fingerprint(),
                settings.identity.origin()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
