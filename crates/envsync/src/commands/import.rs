use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::Session;
use envsync_client::files::write_atomic;
use envsync_core::dotenv::{Document, is_valid_key};
use indexmap::IndexMap;
use yaml_rust2::{Yaml, YamlLoader};

use crate::cli::{ImportArgs, ImportFormat};
use crate::printer::Printer;
use crate::settings::Settings;

/// Sets every imported variable in the linked file: existing keys are updated in place
/// (their line, quoting and comments kept), new keys are appended. Nothing is pushed.
pub fn run(args: ImportArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let workspace = settings.workspace()?;
    let target = workspace.target(
        args.target.project.as_deref(),
        args.target.environment.as_deref(),
    )?;
    let label = args.file.display().to_string();
    let text = super::read_text_file(&args.file)?;
    let format = args.format.unwrap_or_else(|| detect(&args.file));
    let incoming = match format {
        ImportFormat::Dotenvx => envsync_client::dotenvx::decrypt_file(&args.file, &text)?,
        _ => parse(&text, format, &label).map_err(ClientError::Input)?,
    };
    let path = workspace.linked_file(&target)?;
    let existing = match std::fs::read(&path) {
        Ok(bytes) => Session::parse_local(&target, &bytes)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Document::parse(""),
        Err(error) => {
            return Err(ClientError::Io {
                what: format!("reading {}", target.file_label),
                source: error,
            }
            .into());
        }
    };
    let mut document = existing.clone();
    let (mut added, mut changed) = (0, 0);
    for (key, value) in &incoming {
        match existing.get(key) {
            Some(current) if current == value => continue,
            Some(_) => changed += 1,
            None => added += 1,
        }
        document.set(key, value)?;
    }
    write_atomic(&path, document.as_str().as_bytes())?;
    printer.message(format!(
        "imported {} variable(s) from {label} into {}: {added} added, {changed} changed; run `envsync push` to publish",
        incoming.len(),
        target.file_label
    ));
    Ok(ExitCode::SUCCESS)
}

fn detect(path: &Path) -> ImportFormat {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("json") => ImportFormat::Json,
        Some("yaml" | "yml") => ImportFormat::Yaml,
        _ => ImportFormat::Dotenv,
    }
}

fn parse(
    text: &str,
    format: ImportFormat,
    label: &str,
) -> Result<IndexMap<String, String>, String> {
    let vars = match format {
        ImportFormat::Dotenv | ImportFormat::Dotenvx => Document::parse(text).vars(),
        ImportFormat::Json => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|error| format!("{label}: invalid JSON: {error}"))?;
            let object = value
                .as_object()
                .ok_or_else(|| format!("{label}: expected a JSON object of variables"))?;
            let mut vars = IndexMap::new();
            for (key, value) in object {
                let text = match value {
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Number(number) => number.to_string(),
                    serde_json::Value::Bool(flag) => flag.to_string(),
                    serde_json::Value::Null => String::new(),
                    _ => {
                        return Err(format!(
                            "{label}: `{key}` is not a string, number or boolean"
                        ));
                    }
                };
                vars.insert(key.clone(), text);
            }
            vars
        }
        ImportFormat::Yaml => parse_yaml(text, label)?,
    };
    if let Some(bad) = vars.keys().find(|key| !is_valid_key(key)) {
        return Err(format!("{label}: `{bad}` is not a valid variable name"));
    }
    Ok(vars)
}

fn parse_yaml(text: &str, label: &str) -> Result<IndexMap<String, String>, String> {
    let documents = YamlLoader::load_from_str(text)
        .map_err(|error| format!("{label}: invalid YAML: {error}"))?;
    let Some(Yaml::Hash(hash)) = documents.into_iter().next() else {
        return Err(format!("{label}: expected a YAML mapping of variables"));
    };
    let mut vars = IndexMap::new();
    for (key, value) in hash {
        let key = scalar(&key).ok_or_else(|| format!("{label}: a key is not a scalar"))?;
        let value =
            scalar(&value).ok_or_else(|| format!("{label}: `{key}` is not a scalar value"))?;
        vars.insert(key, value);
    }
    Ok(vars)
}

fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(number) => Some(number.to_string()),
        Yaml::Boolean(flag) => Some(flag.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}
