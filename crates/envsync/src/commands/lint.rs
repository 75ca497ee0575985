use std::process::ExitCode;

use anyhow::Result;
use envsync_core::dotenv::Document;

use crate::cli::LintArgs;
use crate::output::{Lint, LintWarning};
use crate::printer::Printer;

/// Exits 0 when the file is clean, 1 when it has warnings.
pub fn run(args: LintArgs, printer: &Printer) -> Result<ExitCode> {
    let label = args.file.display().to_string();
    let text = super::read_text_file(&args.file)?;
    let warnings = Document::parse(&text).warnings();
    let lint = Lint {
        file: label,
        warnings: warnings
            .into_iter()
            .map(|warning| LintWarning {
                line: warning.line,
                column: warning.column,
                message: warning.message,
            })
            .collect(),
    };
    printer.emit(&lint);
    Ok(if lint.warnings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
