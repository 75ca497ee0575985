use std::process::ExitCode;

use anyhow::Result;

use super::{open, print_notices};
use crate::cli::PushArgs;
use crate::output::{Pushed, PushedBy};
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: PushArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    if args.dry_run {
        let result = session.push_dry_run(&target);
        print_notices(&mut session, printer);
        return super::dry_run::print(result?, &target, printer);
    }
    let result = session.push(&target, &args.message);
    print_notices(&mut session, printer);
    let file_label = target.file_label.clone();
    printer.emit(&Pushed::new(result?, PushedBy::Push { file_label }));
    Ok(ExitCode::SUCCESS)
}
