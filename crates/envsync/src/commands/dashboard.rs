//! `envsync dashboard`: opens the server's web dashboard signed in. The CLI asks the server
//! for a single-use sign-in code with its own token and puts it in the URL's fragment,
//! which browsers never send in a request line, so no access log or proxy sees it; the page
//! trades it by POST for its session cookie.
//!
//! Run in a workspace on that server, it also puts there, per project, the newest
//! membership entry this machine has verified (`pin=PROJECT:NUMBER:DIGEST`): a page that
//! decrypts values checks the server's membership log against it instead of trusting it.

use std::process::{Command, ExitCode, Stdio};

use anyhow::{Result, bail};
use envsync_api::paths;
use envsync_client::server_api::ApiClient;
use envsync_core::hash::sha256_hex;

use crate::cli::DashboardArgs;
use crate::output::{DashboardAsset, DashboardLink, DashboardVerified};
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: DashboardArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    if let Some(url) = &args.verify {
        return verify(url, printer);
    }
    let server = settings.server(args.server.server.as_deref())?;
    let api = settings.api(&server)?;
    let code = api.sign_in_code()?;
    let pins = verified_pins(settings, api.server())?;
    let url = format!("{}/#signin={}{pins}", api.server(), code.code);
    let opened = !args.no_open && open_browser(&url);
    printer.emit(&DashboardLink {
        url,
        opened,
        expires_at: code.expires_at,
    });
    Ok(ExitCode::SUCCESS)
}

/// `&pin=PROJECT:NUMBER:DIGEST` for each of the workspace's projects whose membership log
/// this machine verified on `server`; empty outside a workspace on that server.
fn verified_pins(settings: &Settings, server: &str) -> Result<String> {
    let Ok(workspace) = settings.workspace() else {
        return Ok(String::new());
    };
    if crate::settings::server_of(&workspace).ok().as_deref() != Some(server) {
        return Ok(String::new());
    }
    let projects: Vec<String> = workspace.config.projects.keys().cloned().collect();
    let session = settings.session_in(workspace)?;
    let mut pins = String::new();
    for project in projects {
        if let Some(pin) = session.verified_membership(&project)? {
            pins.push_str(&format!("&pin={project}:{}:{}", pin.number, pin.digest));
        }
    }
    Ok(pins)
}

/// Hands `url` to the desktop's browser opener; `false` when there is none (a server over
/// SSH, a container), and the caller prints the URL instead.
fn open_browser(url: &str) -> bool {
    let (program, leading): (&str, &[&str]) = if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        ("rundll32", &["url.dll,FileProtocolHandler"])
    } else {
        ("xdg-open", &[])
    };
    Command::new(program)
        .args(leading)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Compares each asset the server at `url` serves with the one this binary embeds, by
/// SHA-256: unlocking values in a page means trusting its script, and this is how a user
/// checks that the script is the build they have.
fn verify(url: &str, printer: &Printer) -> Result<ExitCode> {
    let embedded = envsync_server::dashboard_assets();
    if embedded.is_empty() {
        bail!(
            "this envsync was built without the dashboard, so it has nothing to compare; \
             build it with dashboard/scripts/build.sh before cargo build"
        );
    }
    let api = ApiClient::new(url, None)?;
    let mut assets = Vec::new();
    for (file, _, bytes) in embedded {
        let path = match *file {
            "index.html" => "/".to_owned(),
            file => paths::dashboard_asset(file),
        };
        let expected = sha256_hex(bytes);
        // The unlock script is served only where the operator enabled unlocking; a server
        // that does not serve it runs no other script than the one compared here.
        let served = match api.fetch(&path) {
            Ok(body) => Some(sha256_hex(&body)),
            Err(_) if *file == envsync_server::UNLOCK_SCRIPT => None,
            Err(error) => return Err(error.into()),
        };
        assets.push(DashboardAsset {
            matches: served.is_none() || served.as_deref() == Some(expected.as_str()),
            path,
            expected_sha256: expected,
            served_sha256: served,
        });
    }
    let matches = assets.iter().all(|asset| asset.matches);
    printer.emit(&DashboardVerified {
        server: api.server().to_owned(),
        matches,
        assets,
    });
    Ok(if matches {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::INTEGRITY)
    })
}
