//! `envsync login URL`: stores an existing token (from `envsync token create` on another
//! machine, or a CI token) after checking it with the server.

use std::process::ExitCode;

use anyhow::Result;
use envsync_client::credentials::{ServerCredentials, Token};
use envsync_client::server_api::ApiClient;
use envsync_client::server_url::normalise_server_url;

use super::read_secret;
use crate::cli::LoginArgs;
use crate::output::LoggedIn;
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
    printer.emit(&LoggedIn {
        server,
        credentials: settings.credentials.path.display().to_string(),
        whoami: me.into(),
    });
    Ok(ExitCode::SUCCESS)
}
