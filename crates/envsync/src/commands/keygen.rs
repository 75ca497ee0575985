use std::process::ExitCode;

use anyhow::Result;

use crate::cli::KeygenArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: KeygenArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let identity = settings.identity.create(args.name.as_deref(), args.force)?;
    let key = identity.member_key();
    if printer.json {
        printer.json(&serde_json::json!({
            "name": identity.name(),
            "member_key": key.to_string(),
            "fingerprint": key.fingerprint(),
            "identity": settings.identity.default_path.display().to_string(),
        }));
    } else {
        printer.data(key.to_string());
        printer.message(format!(
            "created identity for {} at {} (fingerprint {})",
            identity.name(),
            settings.identity.default_path.display(),
            key.fingerprint()
        ));
        printer.message("keep that file secret and backed up: without it you cannot read what is encrypted to you");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn whoami(settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let identity = settings.identity.require()?;
    let key = identity.member_key();
    if printer.json {
        printer.json(&serde_json::json!({
            "name": identity.name(),
            "member_key": key.to_string(),
            "fingerprint": key.fingerprint(),
            "identity": settings.identity.origin(),
        }));
    } else {
        printer.data(key.to_string());
        printer.message(format!(
            "{} (fingerprint {}), identity from {}",
            identity.name(),
            key.fingerprint(),
            settings.identity.origin()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
