//! Where `run` and `export` take variables from: the linked file, or the remote head.

use std::collections::HashSet;

use anyhow::Result;
use envsync_client::engine::Session;
use envsync_client::workspace::Target;
use envsync_core::dotenv::Document;
use indexmap::IndexMap;

use crate::cli::TargetArgs;
use crate::printer::Printer;
use crate::settings::Settings;

/// An environment's variables, with the keys whose values were single-quoted (literal for
/// expansion).
pub struct Variables {
    pub target: Target,
    pub vars: IndexMap<String, String>,
    pub literal: HashSet<String>,
}

impl Variables {
    pub fn load(
        settings: &Settings,
        printer: &Printer,
        target: &TargetArgs,
        remote: bool,
    ) -> Result<Self> {
        let mut session = settings.session()?;
        let target = session
            .workspace
            .target(target.project.as_deref(), target.environment.as_deref())?;
        let content = if remote {
            let result = session.head_plaintext(&target);
            super::print_notices(&mut session, printer);
            result?.1
        } else {
            session.local_plaintext(&target)?
        };
        let document = Session::parse_local(&target, &content)?;
        Ok(Self {
            vars: document.vars(),
            literal: single_quoted(&document),
            target,
        })
    }
}

/// Keys whose effective value was written in single quotes.
pub fn single_quoted(document: &Document) -> HashSet<String> {
    document
        .single_quoted_keys()
        .into_iter()
        .map(str::to_owned)
        .collect()
}
