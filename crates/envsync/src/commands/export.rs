use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_core::dotenv::Document;
use indexmap::IndexMap;

use crate::cli::{ExportArgs, ExportFormat};
use crate::printer::Printer;

pub fn run(args: ExportArgs, printer: &Printer) -> Result<ExitCode> {
    let label = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).map_err(|error| ClientError::Io {
        what: format!("reading {label}"),
        source: error,
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        ClientError::Input(format!(
            "{label}: not valid UTF-8 (byte {})",
            error.utf8_error().valid_up_to()
        ))
    })?;
    let vars = Document::parse(&text).vars();
    printer.data(
        render(&vars, args.format)
            .map_err(ClientError::Input)?
            .trim_end_matches('\n'),
    );
    Ok(ExitCode::SUCCESS)
}

/// Renders variables in one of the export formats; errors name the key that cannot be
/// represented, never its value.
pub fn render(vars: &IndexMap<String, String>, format: ExportFormat) -> Result<String, String> {
    let mut out = String::new();
    match format {
        ExportFormat::Json => {
            out = serde_json::to_string_pretty(vars).expect("strings always serialise");
        }
        ExportFormat::Shell => {
            for (key, value) in vars {
                if !is_shell_name(key) {
                    return Err(format!("`{key}` is not a valid shell variable name"));
                }
                out.push_str(&format!(
                    "export {key}='{}'\n",
                    value.replace('\'', "'\\''")
                ));
            }
        }
        ExportFormat::Yaml => {
            // JSON strings are valid YAML double-quoted scalars, escapes included.
            for (key, value) in vars {
                out.push_str(&format!(
                    "{}: {}\n",
                    serde_json::to_string(key).expect("strings serialise"),
                    serde_json::to_string(value).expect("strings serialise")
                ));
            }
        }
        ExportFormat::Docker => {
            for (key, value) in vars {
                if value.contains(['\n', '\r']) {
                    return Err(format!(
                        "`{key}` has a multi-line value, which docker's --env-file format cannot hold"
                    ));
                }
                out.push_str(&format!("{key}={value}\n"));
            }
        }
    }
    Ok(out)
}

fn is_shell_name(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
