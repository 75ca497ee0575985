use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices, read_secret};
use crate::cli::RotateArgs;
use crate::output::{Pushed, PushedBy};
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: RotateArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    let values = if args.dismiss {
        Vec::new()
    } else {
        let mut values = Vec::with_capacity(args.keys.len());
        for key in &args.keys {
            values.push((key.clone(), read_secret(&format!("new value for {key}"))?));
        }
        values
    };
    let dismiss = if args.dismiss {
        args.keys.clone()
    } else {
        Vec::new()
    };
    let result = session.rotate(&target, &values, &dismiss, &args.message);
    print_notices(&mut session, printer);
    let said = PushedBy::Rotate {
        keys: args.keys,
        dismissed: args.dismiss,
    };
    printer.emit(&Pushed::new(result?, said));
    Ok(ExitCode::SUCCESS)
}
