//! The `envsync` binary: arguments, settings, output and exit codes around the client.
//!
//! Its entry point is a C `main`, not std's (see `start.rs` for what that saves).

// The unit tests' harness brings its own `main`.
#![cfg_attr(not(test), no_main)]

mod cli;
mod commands;
mod duration;
mod exec;
mod exit;
mod output;
mod printer;
mod settings;
mod start;

use std::ffi::{c_char, c_int};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::printer::Printer;

/// The process's entry point, the C `main`, called by the C runtime; std reads the arguments
/// itself. It ends in `std::process::exit`, which flushes standard output as returning from
/// std's `main` would, and a panic ends the process with 101 as it would under std's `main`
/// (unwinding out of a C function would abort instead). The unit tests' harness has a
/// `main` of its own, so there this is an ordinary function.
#[allow(unsafe_code)]
#[cfg_attr(not(test), unsafe(export_name = "main"))]
#[cfg_attr(test, allow(dead_code))]
extern "C" fn c_main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    if let Err(error) = start::prepare() {
        eprintln!("error: preparing the process: {error}");
        std::process::exit(i32::from(exit::FAILURE));
    }
    let code = std::panic::catch_unwind(run).unwrap_or(ExitCode::from(101));
    std::process::exit(start::number(code))
}

fn run() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.json);
    let result = commands::run(cli.command, &cli.global, &printer);
    match result {
        Ok(code) => code,
        Err(error) => exit::report(&printer, &error),
    }
}
