//! `envsync audit`: who did what on the project, from its envsync server's audit log; with
//! `--server-wide`, everything the server recorded (server owners only).

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::server_api::AuditQuery;

use crate::cli::AuditArgs;
use crate::output::Audit;
use crate::printer::Printer;
use crate::settings::{Settings, server_of};

pub fn run(args: AuditArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let workspace = settings.workspace()?;
    let project = if args.server_wide {
        None
    } else {
        Some(workspace.project(args.project.as_deref())?)
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
    printer.emit(&Audit::from(page));
    Ok(ExitCode::SUCCESS)
}
