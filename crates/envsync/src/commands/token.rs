//! `envsync token create | list | revoke`: personal access tokens on an envsync server.

use std::process::ExitCode;

use anyhow::Result;
use envsync_api::NewToken;
use envsync_client::accounts::revoke_token;

use crate::cli::TokenCommand;
use crate::output::{Token, TokenCreated, TokenRevoked, Tokens};
use crate::printer::Printer;
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
            printer.emit(&TokenCreated {
                token: created.token,
                info: created.info.into(),
                server,
            });
        }
        TokenCommand::List { server } => {
            let server = settings.server(server.server.as_deref())?;
            let list = settings.api(&server)?.list_tokens()?;
            printer.emit(&Tokens {
                tokens: list.tokens.into_iter().map(Token::from).collect(),
            });
        }
        TokenCommand::Revoke { id, server } => {
            let server = settings.server(server.server.as_deref())?;
            let api = settings.api(&server)?;
            let forgot = revoke_token(&api, &settings.credentials, &server, &id)?;
            printer.emit(&TokenRevoked {
                revoked: id,
                forgot_stored_token: forgot,
                server,
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
