use std::process::ExitCode;

use anyhow::Result;

use envsync_client::engine::StatusReport;
use envsync_core::status::Badge;

use super::print_notices;
use crate::cli::StatusArgs;
use crate::printer::{Printer, table};
use crate::settings::Settings;

/// Schema version of `status --json`, bumped on any incompatible change.
const STATUS_SCHEMA: u32 = 1;

pub fn run(args: StatusArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let report = session.status(args.project.as_deref())?;
    print_notices(&mut session, printer);
    if printer.json {
        printer.json(&serde_json::json!({
            "schema": STATUS_SCHEMA,
            "environments": report.rows,
            "pending_members": report.pending,
            "rotations": report.rotations,
        }));
        return Ok(gate(&args, &report));
    }
    let version =
        |version: Option<u64>| version.map_or("-".to_owned(), |number| format!("v{number}"));
    let mut rows = vec![
        [
            "PROJECT",
            "ENVIRONMENT",
            "FILE",
            "STATUS",
            "LOCAL",
            "REMOTE",
            "ACTION",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for row in &report.rows {
        rows.push(vec![
            row.project.clone(),
            row.environment.clone(),
            row.file.clone(),
            row.badge.label().to_owned(),
            version(row.local_version),
            version(row.remote_version),
            row.action
                .map(|action| format!("envsync {action}"))
                .unwrap_or_default(),
        ]);
    }
    for line in table(&rows) {
        printer.data(line);
    }
    if !report.pending.is_empty() {
        let count = report.pending.len();
        let names: Vec<_> = report
            .pending
            .iter()
            .map(|pending| {
                format!(
                    "{} ({}, {})",
                    pending.name, pending.fingerprint, pending.project
                )
            })
            .collect();
        let command = match report.pending.as_slice() {
            [only] => format!("envsync members accept {}", only.fingerprint),
            _ => "envsync members accept --all".to_owned(),
        };
        printer.data(format!(
            "{count} member{} waiting for access: {} — run `{command}`",
            if count == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    for rotation in &report.rotations {
        printer.data(format!(
            "rotate {} of {}/{}: {} was removed and could read its value (version {}) — run `envsync rotate {} --env {}`",
            rotation.key,
            rotation.project,
            rotation.environment,
            rotation.removed,
            rotation.since_version,
            rotation.key,
            rotation.environment
        ));
    }
    Ok(gate(&args, &report))
}

/// `--exit-code`: 7 when any environment is not synced (local changes, an update, a
/// divergence, or nothing linked yet), so CI can gate on it; members waiting and secrets
/// to rotate do not count.
fn gate(args: &StatusArgs, report: &StatusReport) -> ExitCode {
    let behind = report.rows.iter().any(|row| row.badge != Badge::Synced);
    if args.exit_code && behind {
        ExitCode::from(crate::exit::DIFFERENT)
    } else {
        ExitCode::SUCCESS
    }
}
