use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envsync_client::ClientError;
use envsync_client::dotenvx;
use envsync_client::files::write_atomic;
use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use indexmap::IndexMap;

use super::source::Variables;
use crate::cli::{ExportArgs, ExportFormat};
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: ExportArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (vars, default_name) = match &args.file {
        Some(file) => (
            Document::parse(&super::read_text_file(file)?).vars(),
            "env".to_owned(),
        ),
        None => {
            let source = Variables::load(settings, printer, &args.target, args.remote)?;
            let name = format!("{}-{}", source.target.project, source.target.environment);
            (source.vars, name)
        }
    };
    if let ExportFormat::Dotenvx = args.format {
        return export_dotenvx(&vars, args.out.as_deref(), printer);
    }
    if let Some(out) = &args.out {
        return Err(ClientError::Input(format!(
            "--out {} is for --format dotenvx; the other formats go to stdout",
            out.display()
        ))
        .into());
    }
    let name = args.name.unwrap_or(default_name);
    let text = render(&vars, args.format, &name).map_err(ClientError::Input)?;
    printer.data(text.trim_end_matches('\n'));
    Ok(ExitCode::SUCCESS)
}

/// Writes the dotenvx file (0600, atomically: it is ciphertext, but a half-written one would
/// stop a service) and prints the private key that opens it on stdout: the key goes to
/// wherever the service reads it, never into a file beside the ciphertext.
fn export_dotenvx(
    vars: &IndexMap<String, String>,
    out: Option<&Path>,
    printer: &Printer,
) -> Result<ExitCode> {
    let out = out.ok_or_else(|| {
        ClientError::Input(
            "--format dotenvx writes a file: pass --out FILE (e.g. --out .env.production)".into(),
        )
    })?;
    let (key, names, fresh) = dotenvx::export_key(out)?;
    let text = dotenvx::encrypt_file(vars, out, &key)?;
    write_atomic(out, text.as_bytes())?;
    printer.message(format!(
        "wrote {} variable(s) to {} encrypted with dotenvx's scheme ({}); its private key is \
         below: give it to the service as {} and keep it out of the repository",
        vars.len(),
        out.display(),
        if fresh {
            "a new key"
        } else {
            "the key in the environment"
        },
        names.private
    ));
    printer.data(format!("{}={}", names.private, key.expose_hex().as_str()));
    Ok(ExitCode::SUCCESS)
}

/// Renders variables in one of the export formats; errors name the key that cannot be
/// represented, never its value.
pub fn render(
    vars: &IndexMap<String, String>,
    format: ExportFormat,
    name: &str,
) -> Result<String, String> {
    let quote = |text: &str| serde_json::to_string(text).expect("strings always serialise");
    let mut out = String::new();
    match format {
        ExportFormat::Json => {
            out = serde_json::to_string_pretty(vars).expect("strings always serialise")
        }
        // JSON strings are valid YAML double-quoted scalars, escapes included.
        ExportFormat::Yaml => {
            for (key, value) in vars {
                out.push_str(&format!("{}: {}\n", quote(key), quote(value)));
            }
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
        ExportFormat::K8sSecret => {
            out.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n");
            out.push_str(&format!("  name: {}\ntype: Opaque\ndata:\n", quote(name)));
            for (key, value) in vars {
                out.push_str(&format!("  {}: {}\n", quote(key), STANDARD.encode(value)));
            }
        }
        ExportFormat::Dotenvx => {
            return Err("--format dotenvx writes a file: pass --out FILE".into());
        }
        ExportFormat::GithubEnv => {
            for (key, value) in vars {
                if value.contains(['\n', '\r']) {
                    let delimiter = heredoc_delimiter(key, value);
                    out.push_str(&format!("{key}<<{delimiter}\n{value}\n{delimiter}\n"));
                } else {
                    out.push_str(&format!("{key}={value}\n"));
                }
            }
        }
    }
    Ok(out)
}

/// A GitHub Actions heredoc delimiter that does not occur in the value.
fn heredoc_delimiter(key: &str, value: &str) -> String {
    let mut counter = 0u32;
    loop {
        let delimiter = format!(
            "ENVSYNC_EOF_{}",
            &sha256_hex(format!("{key}{counter}").as_bytes())[..16]
        );
        if !value.contains(&delimiter) {
            return delimiter;
        }
        counter += 1;
    }
}

fn is_shell_name(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
