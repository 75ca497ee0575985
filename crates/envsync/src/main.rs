//! The `envsync` binary: arguments, settings, output and exit codes around the client.

mod cli;
mod commands;
mod duration;
mod exec;
mod exit;
mod output;
mod printer;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::printer::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.json);
    let result = commands::run(cli.command, &cli.global, &printer);
    match result {
        Ok(code) => code,
        Err(error) => exit::report(&printer, &error),
    }
}
