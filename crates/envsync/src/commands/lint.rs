use std::process::ExitCode;

use anyhow::Result;
use envsync_core::dotenv::Document;

use crate::cli::LintArgs;
use crate::printer::Printer;

/// Exits 0 when the file is clean, 1 when it has warnings.
pub fn run(args: LintArgs, printer: &Printer) -> Result<ExitCode> {
    let label = args.file.display().to_string();
    let text = super::read_text_file(&args.file)?;
    let warnings = Document::parse(&text).warnings();
    if printer.json {
        let list: Vec<_> = warnings
            .iter()
            .map(|warning| serde_json::json!({"line": warning.line, "column": warning.column, "message": warning.message}))
            .collect();
        printer.json(&serde_json::json!({ "file": label, "warnings": list }));
    } else {
        for warning in &warnings {
            printer.data(format!(
                "{label}:{}:{}: {}",
                warning.line, warning.column, warning.message
            ));
        }
        if warnings.is_empty() {
            printer.message(format!("{label}: no problems found"));
        }
    }
    Ok(if warnings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
