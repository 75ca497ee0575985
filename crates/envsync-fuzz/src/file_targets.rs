//! Targets for the files a user is handed or keeps: an opened `.share` bundle (after its
//! passphrase: scrypt is not what is fuzzed) and the credentials file of server tokens.

use envsync_core::credentials::{self, CredentialEntry, Credentials, CredentialsError};
use envsync_core::share::{FORMAT, ShareBundle, ShareBundleError};

use crate::texts;

/// Arbitrary bytes as an opened bundle: parsing never panics, a bundle that parses writes
/// out as JSON that parses to the same bundle, and a refusal never quotes the invite code.
/// Then the input cut into a bundle's fields, so that the checks after the JSON (format,
/// config, project, sharer) see varied bundles and not only the JSON parser's refusals.
pub fn share_bundle(data: &[u8]) {
    check_bundle_bytes(data);
    let Some([project, config, shared_by, shared_by_key, invite]) = texts::<5>(data) else {
        return;
    };
    let bundle = ShareBundle {
        format: FORMAT,
        project: project.to_owned(),
        config: config.to_owned(),
        shared_by: shared_by.to_owned(),
        shared_by_key: shared_by_key.to_owned(),
        invite: (!invite.is_empty()).then(|| invite.to_owned()),
    };
    match ShareBundle::parse(&bundle.to_json()) {
        Ok((read, _)) => assert!(read == bundle, "a written bundle read back different"),
        Err(ShareBundleError::NotABundle(_)) => panic!("a written bundle is not JSON"),
        Err(error) => refused_without_invite(&error, Some(&bundle)),
    }
}

fn check_bundle_bytes(data: &[u8]) {
    match ShareBundle::parse(data) {
        Ok((bundle, config)) => {
            let (again, config_again) =
                ShareBundle::parse(&bundle.to_json()).expect("a parsed bundle reads back");
            assert!(
                again == bundle,
                "parse -> to_json -> parse changed the bundle"
            );
            assert!(
                config_again == config,
                "the bundle's config read back different"
            );
        }
        Err(error) => {
            let raw: Option<ShareBundle> = serde_json::from_slice(data).ok();
            refused_without_invite(&error, raw.as_ref());
        }
    }
}

/// The bundle's invite code, unless another field a refusal may quote (the project's name,
/// the config) holds the same text: quoting that field is no leak of the code.
fn invite_alone(bundle: &ShareBundle) -> Option<&str> {
    let invite = bundle.invite.as_deref()?;
    let others = [
        &bundle.project,
        &bundle.config,
        &bundle.shared_by,
        &bundle.shared_by_key,
    ];
    (!others.iter().any(|field| field.contains(invite))).then_some(invite)
}

/// A refusal of `bundle` says something, and not its invite code (long enough not to be a
/// coincidence). Words the refusal of the same bundle without an invite says too are no leak
/// of it: an invite of `ndle's envsync.toml` is in every refusal of a bad config
/// (`fuzz/regressions/share_bundle/crash-00bd6a82…`).
fn refused_without_invite(error: &ShareBundleError, bundle: Option<&ShareBundle>) {
    let message = error.to_string();
    assert!(!message.trim().is_empty(), "an empty refusal");
    let Some(bundle) = bundle else { return };
    let quoted = |invite: &&str| invite.len() >= 12 && message.contains(invite);
    let Some(invite) = invite_alone(bundle).filter(quoted) else {
        return;
    };
    let uninvited = ShareBundle {
        invite: None,
        ..bundle.clone()
    };
    let said_anyway = ShareBundle::parse(&uninvited.to_json())
        .err()
        .is_some_and(|refusal| refusal.to_string().contains(invite));
    assert!(said_anyway, "a refusal quoted the invite code");
}

/// Arbitrary bytes as a credentials file: parsing never panics, a file that parses writes
/// out as TOML that parses to the same entries, and a syntax error names a line the text
/// has. Then the input cut into one entry's fields, which must always write and read back.
pub fn credentials(data: &[u8]) {
    match credentials::parse(data) {
        Ok(entries) => read_back(&entries),
        Err(CredentialsError::Syntax { line }) => {
            let lines = data.split(|&byte| byte == b'\n').count();
            assert!(line >= 1 && line <= lines, "line {line} of {lines}");
        }
        Err(error) => assert!(!error.to_string().is_empty(), "an empty refusal"),
    }
    let Some([server, token, account, token_id]) = texts::<4>(data) else {
        return;
    };
    let entry = CredentialEntry {
        token: token.to_owned(),
        account: account.to_owned(),
        token_id: (!token_id.is_empty()).then(|| token_id.to_owned()),
    };
    read_back(&Credentials::from([(server.to_owned(), entry)]));
}

fn read_back(entries: &Credentials) {
    let text = credentials::to_toml(entries);
    let Ok(again) = credentials::parse(text.as_bytes()) else {
        panic!("written credentials do not parse");
    };
    assert!(&again == entries, "to_toml -> parse changed the entries");
}
