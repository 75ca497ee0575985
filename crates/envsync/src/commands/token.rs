//! `envsync token create | list | revoke`: personal access tokens on an envsync server.

use std::process::ExitCode;

use anyhow::Result;
use envsync_api::NewToken;

use super::format_time;
use crate::cli::TokenCommand;
use crate::printer::{Printer, table};
use crate::settings::Settings;

pub fn run(command: TokenCommand, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    match command {
        TokenCommand::Create {
            label,
            expires,
            server,
        } => {
            let server = settings.server(server.server.as_deref())?;
            let created = settings.api(&server)?.create_token(&NewToken {
                label,
                expires_in_seconds: expires,
            })?;
            if printer.json {
                printer.json(&created);
                return Ok(ExitCode::SUCCESS);
            }
            printer.data(&created.token);
            printer.message(format!(
                "created token {} ({}) on {server}, {}. It acts as you: it is shown only this once, keep it in a secret store; revoke it with `envsync token revoke {}`",
                created.info.id,
                created.info.label,
                created
                    .info
                    .expires_at
                    .map_or_else(|| "never expires".to_owned(), |at| format!("expires {}", format_time(at))),
                created.info.id
            ));
        }
        TokenCommand::List { server } => {
            let server = settings.server(server.server.as_deref())?;
            let list = settings.api(&server)?.list_tokens()?;
            if printer.json {
                printer.json(&list);
                return Ok(ExitCode::SUCCESS);
            }
            let mut rows = vec![
                [
                    "ID", "LABEL", "KIND", "SCOPE", "CREATED", "EXPIRES", "STATUS",
                ]
                .map(str::to_owned)
                .to_vec(),
            ];
            for token in list.tokens {
                let scope = match (&token.project, &token.environment) {
                    (Some(project), Some(environment)) => format!("{project}/{environment}"),
                    (Some(project), None) => project.clone(),
                    _ => format!("account {}", token.account),
                };
                rows.push(vec![
                    token.id,
                    token.label,
                    token.kind,
                    scope,
                    format_time(token.created_at),
                    token
                        .expires_at
                        .map_or_else(|| "never".to_owned(), format_time),
                    token.revoked_at.map_or_else(
                        || "active".to_owned(),
                        |at| format!("revoked {}", format_time(at)),
                    ),
                ]);
            }
            for line in table(&rows) {
                printer.data(line);
            }
        }
        TokenCommand::Revoke { id, server } => {
            let server = settings.server(server.server.as_deref())?;
            settings.api(&server)?.revoke_token(&id)?;
            // The stored token for this server is dead now: forget it rather than fail later.
            let stored = settings.credentials.get(&server)?;
            let forgot = stored
                .is_some_and(|stored| stored.token_id.as_deref() == Some(id.as_str()))
                && settings.credentials.remove(&server)?;
            if printer.json {
                printer.json(&serde_json::json!({ "revoked": id, "forgot_stored_token": forgot }));
            } else {
                printer.message(format!("revoked token {id} on {server}"));
                if forgot {
                    printer.message(format!(
                        "it was the token this machine used for {server}: sign in again with `envsync login {server}`"
                    ));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
