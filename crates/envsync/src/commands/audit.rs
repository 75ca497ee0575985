//! `envsync audit`: who did what on the project, from its envsync server's audit log; with
//! `--server-wide`, everything the server recorded (server owners only).

use std::process::ExitCode;

use anyhow::Result;
use envsync_api::AuditPage;
use envsync_client::server_api::AuditQuery;

use super::format_time;
use crate::cli::AuditArgs;
use crate::printer::{Printer, table};
use crate::settings::{Settings, server_of};

pub fn run(args: AuditArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let workspace = settings.workspace()?;
    let project = if args.server_wide {
        None
    } else {
        Some(workspace.target(args.project.as_deref(), None)?.project)
    };
    let api = settings.api(&server_of(&workspace)?)?;
    let mut query = AuditQuery {
        after: args.after,
        limit: args.limit,
        actor: args.actor,
        action: args.action,
    };
    let mut page = api.audit(project.as_deref(), &query)?;
    while args.all
        && let Some(after) = page.next_after
    {
        query.after = Some(after);
        let next = api.audit(project.as_deref(), &query)?;
        page.entries.extend(next.entries);
        // A server whose pages do not move forward would keep this loop going forever.
        page.next_after = next.next_after.filter(|&next_after| next_after > after);
    }
    if printer.json {
        printer.json(&page);
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&page, printer);
    if let Some(after) = page.next_after {
        printer.message(format!(
            "more entries: run with --all, or --after {after} for the next page"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(page: &AuditPage, printer: &Printer) {
    let mut rows = vec![
        ["TIME", "ACTOR", "ACTION", "TARGET", "SOURCE"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for entry in &page.entries {
        rows.push(vec![
            format_time(entry.at),
            entry.actor.clone(),
            entry.action.clone(),
            entry.target.clone(),
            entry
                .source_address
                .clone()
                .unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    for line in table(&rows) {
        printer.data(line);
    }
}
