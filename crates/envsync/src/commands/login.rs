//! `envsync login URL`: stores an existing token (from `envsync token create` on another
//! machine, or a CI token) after checking it with the server.

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::credentials::{ServerCredentials, Token, normalise_server_url};
use envsync_client::server_api::ApiClient;

use super::read_secret;
use crate::cli::LoginArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: LoginArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let server = normalise_server_url(&args.url)?;
    let token = match (args.token, &settings.credentials.override_token) {
        (Some(token), _) => Token::new(token),
        (None, Some(token)) => token.clone(),
        (None, None) => Token::new(read_secret("token")?.as_str()),
    };
    let me = ApiClient::new(&server, Some(token.clone()))?.whoami()?;
    settings.credentials.save(
        &server,
        &ServerCredentials {
            token,
            account: me.account.clone(),
            token_id: None,
        },
    )?;
    if printer.json {
        printer.json(&serde_json::json!({
            "server": server,
            "credentials": settings.credentials.path.display().to_string(),
            "whoami": me,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    printer.message(format!(
        "logged in to {server} as {} (account {}{}, {} token); stored in {}",
        me.name,
        me.account,
        if me.admin { ", server owner" } else { "" },
        me.token_kind,
        settings.credentials.path.display()
    ));
    if me.grants.is_empty() {
        printer.message("no roles on any project yet");
    }
    for grant in &me.grants {
        let scope = grant
            .environments
            .as_ref()
            .map_or_else(|| "all environments".to_owned(), |list| list.join(", "));
        printer.data(format!("{}  {}  {scope}", grant.project, grant.role));
    }
    Ok(ExitCode::SUCCESS)
}
