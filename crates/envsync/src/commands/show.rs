//! `envsync show --remote`: the remote head as dotenv text on stdout, for a person or an
//! editor's diff view. Decrypted in memory and never written to disk.

use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices};
use crate::cli::ShowArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: ShowArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    let result = session.head_plaintext(&target);
    print_notices(&mut session, printer);
    let (_, content) = result?;
    printer.bytes(&content);
    Ok(ExitCode::SUCCESS)
}
