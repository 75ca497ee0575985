//! The `envsync` binary: arguments, settings, output and exit codes around the client.

mod cli;
mod commands;
mod duration;
mod exit;
mod printer;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::printer::Printer;
use crate::settings::Settings;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer {
        json: cli.global.json,
    };
    let result = Settings::resolve(&cli.global)
        .and_then(|settings| commands::run(cli.command, &settings, &printer));
    match result {
        Ok(code) => code,
        Err(error) => exit::report(&printer, &error),
    }
}
