use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::printer::Printer;

/// Rendered into memory first: clap_complete panics when a write fails, and a closed pipe
/// (`envsync completions bash | head -1`) is a normal way for a reader to stop.
pub fn run(args: CompletionsArgs, printer: &Printer) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "envsync", &mut script);
    printer.bytes(&script);
    Ok(ExitCode::SUCCESS)
}

pub fn man(printer: &Printer) -> Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    printer.bytes(&page);
    Ok(ExitCode::SUCCESS)
}
