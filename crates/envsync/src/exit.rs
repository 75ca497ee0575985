//! Documented exit codes, and the one place errors are printed.

use std::process::ExitCode;

use envsync_client::{ClientError, ErrorKind};

use crate::output::{Failure, Versioned};
use crate::printer::Printer;

pub const FAILURE: u8 = 1;
pub const INPUT: u8 = 2;
pub const CONFLICT: u8 = 3;
pub const LOCAL_CHANGES: u8 = 4;
pub const ACCESS: u8 = 5;
pub const INTEGRITY: u8 = 6;
/// Not an error: `status --exit-code` or `diff --exit-code` found something not in sync,
/// for CI gates that must tell "different" from "failed".
pub const DIFFERENT: u8 = 7;

pub fn code_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Input => INPUT,
        ErrorKind::Conflict => CONFLICT,
        ErrorKind::LocalChanges => LOCAL_CHANGES,
        ErrorKind::Access => ACCESS,
        ErrorKind::Integrity => INTEGRITY,
        ErrorKind::Other => FAILURE,
    }
}

/// The exit code an error means.
pub fn code_of(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ClientError>())
        .map_or(FAILURE, |client| code_for(client.kind()))
}

/// Prints `error: …` (and `Caused by:` lines) on stderr; with `--json`, also a JSON error
/// object on stdout so tools always get a document.
pub fn report(printer: &Printer, error: &anyhow::Error) -> ExitCode {
    let client = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ClientError>());
    let code = code_of(error);
    let headline = error.to_string();
    printer.message(format!("error: {headline}"));
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !headline.contains(&cause) {
            printer.message(format!("  Caused by: {cause}"));
        }
    }
    if let Some(ClientError::NoIdentity(path)) = client {
        printer.message(format!(
            "hint: create one with `envsync keygen`, or set ENVSYNC_IDENTITY (expected at {})",
            path.display()
        ));
    }
    if let Some(hint) = client.and_then(ClientError::hint) {
        printer.message(format!("hint: {hint}"));
    }
    if printer.json {
        printer.json_line(&Versioned::new(&Failure {
            error: error.to_string(),
            exit_code: code,
        }));
    }
    ExitCode::from(code)
}
