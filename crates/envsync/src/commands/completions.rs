use std::process::ExitCode;

use anyhow::Result;
use clap::{Command, CommandFactory};

use crate::cli::{Cli, CompletionsArgs};
use crate::printer::Printer;

/// Rendered into memory first: clap_complete panics when a write fails, and a closed pipe
/// (`envsync completions bash | head -1`) is a normal way for a reader to stop.
pub fn run(args: CompletionsArgs, printer: &Printer) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut whole_tree(), "envsync", &mut script);
    printer.bytes(&script);
    Ok(ExitCode::SUCCESS)
}

pub fn man(printer: &Printer) -> Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    printer.bytes(&page);
    Ok(ExitCode::SUCCESS)
}

/// The command tree built whole, with `help`'s copy of it complete. The subcommands are
/// deferred (`cli.rs`), and clap copies the tree under `help` before a subcommand's own
/// subcommands exist, so `envsync help invite <TAB>` would offer nothing.
fn whole_tree() -> Command {
    let mut tree = Cli::command();
    tree.build();
    let built = tree.clone();
    if let Some(help) = tree.find_subcommand_mut("help") {
        copy_for_help(&built, help);
    }
    tree
}

/// Adds to `copy`, a node of the tree under `help`, the subcommands of `command` it lacks:
/// name, about text and visibility, as clap copies them.
fn copy_for_help(command: &Command, copy: &mut Command) {
    for child in command.get_subcommands() {
        if child.get_name() == "help" {
            continue;
        }
        if let Some(existing) = copy.find_subcommand_mut(child.get_name()) {
            copy_for_help(child, existing);
            continue;
        }
        let bin_name = format!(
            "{} {}",
            copy.get_bin_name().unwrap_or_default(),
            child.get_name()
        );
        // clap takes `'static` names unless its `string` feature is on, which slows every
        // command's parse a little; this one-shot command leaks the few names it adds.
        let name: &'static str = Box::leak(child.get_name().to_owned().into_boxed_str());
        let mut node = Command::new(name)
            .bin_name(bin_name)
            .hide(child.is_hide_set())
            .disable_help_flag(true)
            .disable_version_flag(true);
        if let Some(about) = child.get_about() {
            node = node.about(about.clone());
        }
        copy_for_help(child, &mut node);
        *copy = std::mem::take(copy).subcommand(node);
    }
}
