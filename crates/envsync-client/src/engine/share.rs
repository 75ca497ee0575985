//! Onboarding in one step: a `.share` bundle, encrypted to a one-time diceware passphrase
//! that travels on another channel, carries everything a new teammate needs to join.

use std::path::Path;

use envsync_core::config::{self, Config};
use envsync_core::share::{self as bundle_format, ShareBundle};
use serde::Serialize;
use zeroize::Zeroizing;

use super::Session;
use crate::error::{ClientError, Result};
use crate::files::write_atomic;

/// What `join` did, for the binary to explain the next step.
#[derive(Debug, Serialize)]
pub struct BundleJoined {
    pub project: String,
    pub remote: String,
    pub shared_by: String,
    pub wrote_config: bool,
    /// `None` when the joiner already was a member.
    pub request_fingerprint: Option<String>,
    /// Whether the bundle carried a server invite, now redeemed.
    pub redeemed_invite: bool,
}

impl Session {
    /// `envsync share`: the bundle's bytes and its passphrase (to be printed once). With a
    /// server remote, `invite` is a fresh invite code for the bundle to carry.
    pub fn share(
        &mut self,
        project: &str,
        invite: Option<String>,
    ) -> Result<(Vec<u8>, Zeroizing<String>)> {
        let view = self.project_view(project)?;
        let mut config = self.workspace.config.clone();
        // The bundle is for this project only: a monorepo's other projects are not the
        // joiner's business, and with them a plain `pull` would ask which project.
        config.projects.retain(|name, _| name == project);
        // A folder given relative to this clone means nothing in the joiner's: give its path.
        if let Some(folder) =
            crate::remote::RemoteSpec::parse(&config.remote)?.folder_in(&self.workspace.root)
        {
            config.remote = folder.display().to_string();
        }
        let identity = self.identity()?;
        let key = identity.member_key().to_string();
        if !view
            .roster
            .find(&key)
            .is_some_and(|member| member.is_active())
        {
            return Err(ClientError::Access(format!(
                "only a member of project `{project}` can share it; run `envsync push` to found it, or ask to join"
            )));
        }
        let bundle = ShareBundle {
            format: bundle_format::FORMAT,
            project: project.to_owned(),
            config: config.to_toml(),
            shared_by: identity.name().to_owned(),
            shared_by_key: key,
            invite,
        };
        let json = Zeroizing::new(bundle.to_json());
        let passphrase = envsync_crypto::generate_passphrase(envsync_crypto::PASSPHRASE_WORDS);
        let sealed = envsync_crypto::encrypt_with_passphrase(&json, &passphrase)
            .map_err(|error| ClientError::Input(format!("sealing the bundle: {error}")))?;
        Ok((sealed, passphrase))
    }
}

/// `envsync join FILE.share`: opens the bundle, writes envsync.toml into `directory` unless
/// one is there, redeems the bundle's server invite with `redeem(server, code)` if it has
/// one, checks the sharer is a member on the remote, and files an access request.
pub fn join(
    sealed: &[u8],
    passphrase: &str,
    directory: &Path,
    redeem: impl FnOnce(&str, &str) -> Result<()>,
    open: impl FnOnce(&Path) -> Result<Session>,
) -> Result<BundleJoined> {
    let (bundle, shared) = open_bundle(sealed, passphrase)?;
    let config_path = directory.join(config::FILE_NAME);
    let wrote_config = !config_path.exists();
    if wrote_config {
        write_atomic(&config_path, bundle.config.as_bytes())?;
    }
    if let Some(code) = &bundle.invite {
        redeem(&shared.remote, code)?;
    }
    let mut session = open(directory)?;
    if !session
        .workspace
        .config
        .projects
        .contains_key(&bundle.project)
    {
        return Err(ClientError::Input(format!(
            "{} exists here but has no project `{}`: run join in the right repository",
            config_path.display(),
            bundle.project
        )));
    }
    let view = session.project_view(&bundle.project)?;
    if !view
        .roster
        .find(&bundle.shared_by_key)
        .is_some_and(|member| member.is_active())
    {
        return Err(ClientError::Integrity(format!(
            "{} shared this bundle but is not a member of `{}` on the remote: the remote may have been tampered with",
            bundle.shared_by, bundle.project
        )));
    }
    let me = session.identity()?.member_key().clone();
    let request_fingerprint = if view
        .roster
        .find(me.as_str())
        .is_some_and(|member| member.is_active())
    {
        None
    } else {
        let invite = bundle.invite.as_deref().map(crate::server_api::code_sha256);
        session.file_access_request(&view, invite)?;
        Some(me.fingerprint())
    };
    Ok(BundleJoined {
        project: bundle.project,
        remote: shared.remote,
        shared_by: bundle.shared_by,
        wrote_config,
        request_fingerprint,
        redeemed_invite: bundle.invite.is_some(),
    })
}

/// Decrypts and parses a bundle: a wrong passphrase is an access failure; what
/// [`ShareBundle::parse`] refuses is bad input.
fn open_bundle(sealed: &[u8], passphrase: &str) -> Result<(ShareBundle, Config)> {
    let json =
        envsync_crypto::decrypt_with_passphrase(sealed, passphrase.trim()).map_err(|_| {
            ClientError::Access(
                "the passphrase does not open this bundle (or the bundle is corrupt)".into(),
            )
        })?;
    Ok(ShareBundle::parse(&json)?)
}
