//! dotenvx files in and out: the conventions dotenvx follows (which key names a file's keys
//! carry, where its private key is looked for) around the value encryption of
//! `envsync_crypto::dotenvx`.

use std::path::Path;

use envsync_core::dotenv::Document;
use envsync_crypto::dotenvx::{DotenvxKey, ENCRYPTED_PREFIX, encrypt_value};
use indexmap::IndexMap;
use zeroize::Zeroizing;

use crate::env_vars::{self, EnvVars};
use crate::error::{ClientError, Result};

const PUBLIC_PREFIX: &str = "DOTENV_PUBLIC_KEY";
const PRIVATE_PREFIX: &str = EnvVars::DOTENV_PRIVATE_KEY;

/// The names of a file's key pair: `DOTENV_PUBLIC_KEY_PRODUCTION` and
/// `DOTENV_PRIVATE_KEY_PRODUCTION` for `.env.production`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    pub public: String,
    pub private: String,
}

impl KeyNames {
    /// As dotenvx chooses them: the file's own `DOTENV_PUBLIC_KEY…` line wins; else from the
    /// file name (`.env` → no suffix, `.env.production` → `_PRODUCTION`, `.env.a.b.c` →
    /// `_A_B`).
    pub fn of(path: &Path, document: Option<&Document>) -> Self {
        let declared = document.and_then(|document| {
            document
                .keys()
                .into_iter()
                .find(|key| key.starts_with(PUBLIC_PREFIX))
                .map(str::to_owned)
        });
        let public = declared.unwrap_or_else(|| format!("{PUBLIC_PREFIX}{}", suffix(path)));
        let private = public.replacen(PUBLIC_PREFIX, PRIVATE_PREFIX, 1);
        Self { public, private }
    }
}

fn suffix(path: &Path) -> String {
    let mut name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.starts_with(".env") && name.ends_with(".txt") {
        name.truncate(name.len() - 4);
    }
    if name == ".env" {
        return String::new();
    }
    let parts: Vec<&str> = name.split('.').skip(2).take(2).collect();
    let environment = if parts.is_empty() {
        name.replacen(".env", "development", 1)
    } else {
        parts.join("_")
    };
    format!("_{}", environment.to_uppercase())
}

/// Decrypts a dotenvx file: every `encrypted:` value opened with its private key (from the
/// environment, else `.env.keys` beside the file), plain values kept as they are, the
/// `DOTENV_PUBLIC_KEY…` line left out. Errors name the file and key, never a value.
pub fn decrypt_file(path: &Path, text: &str) -> Result<IndexMap<String, String>> {
    let label = path.display().to_string();
    let document = Document::parse(text);
    let names = KeyNames::of(path, Some(&document));
    let vars = document.vars();
    let needs_key = vars
        .values()
        .any(|value| value.starts_with(ENCRYPTED_PREFIX));
    let key = if needs_key {
        Some(private_key(path, &names, vars.get(&names.public))?)
    } else {
        None
    };
    let mut out = IndexMap::new();
    for (name, value) in vars {
        if name.starts_with(PUBLIC_PREFIX) {
            continue;
        }
        let plain = match (&key, value.starts_with(ENCRYPTED_PREFIX)) {
            (Some(key), true) => key
                .decrypt(&value)
                .map_err(|error| ClientError::Input(format!("{label}: `{name}`: {error}")))?,
            _ => Zeroizing::new(value),
        };
        out.insert(name, plain.to_string());
    }
    Ok(out)
}

/// The private key for `names`: `DOTENV_PRIVATE_KEY…` in the environment (dotenvx allows
/// several, comma-separated), else in `.env.keys` beside the file or in the current
/// directory (where dotenvx writes it). When the file states its public key, the private
/// key must be that key's.
fn private_key(path: &Path, names: &KeyNames, public: Option<&String>) -> Result<DotenvxKey> {
    let (text, origin) = match env_vars::var(&names.private) {
        Some(text) => (Zeroizing::new(text), names.private.clone()),
        None => key_from_keys_file(path, names)?,
    };
    let mut candidates = Vec::new();
    for part in text.split(',').filter(|part| !part.trim().is_empty()) {
        let key = DotenvxKey::from_hex(part)
            .map_err(|error| ClientError::Input(format!("{origin}: {error}")))?;
        candidates.push(key);
    }
    let matching = candidates
        .into_iter()
        .find(|key| public.is_none_or(|public| key.public_hex() == public.trim()));
    matching.ok_or_else(|| {
        ClientError::Input(format!(
            "{origin} is not the private key of {}'s {}",
            path.display(),
            names.public
        ))
    })
}

/// The key line from the first `.env.keys` that has it: beside the file, then here.
fn key_from_keys_file(path: &Path, names: &KeyNames) -> Result<(Zeroizing<String>, String)> {
    let beside = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .join(".env.keys");
    let here = Path::new(".env.keys").to_path_buf();
    for keys_path in [&beside, &here] {
        let Ok(file) = std::fs::read_to_string(keys_path).map(Zeroizing::new) else {
            continue;
        };
        if let Some(text) = Document::parse(&file).get(&names.private) {
            let origin = format!("{} in {}", names.private, keys_path.display());
            return Ok((Zeroizing::new(text.to_owned()), origin));
        }
    }
    Err(ClientError::Input(format!(
        "{}: its values are encrypted, and neither the environment, {} nor ./.env.keys holds {}",
        path.display(),
        beside.display(),
        names.private
    )))
}

/// A dotenvx file of `vars`, every value encrypted to `key`'s public key, under the header
/// dotenvx writes, so that `dotenvx run`, `decrypt` and `encrypt` take it as their own.
pub fn encrypt_file(
    vars: &IndexMap<String, String>,
    path: &Path,
    key: &DotenvxKey,
) -> Result<String> {
    let names = KeyNames::of(path, None);
    let public = key.public_hex();
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = String::from(
        "#/-------------------[DOTENV_PUBLIC_KEY]--------------------/\n\
         #/            public-key encryption for .env files          /\n\
         #/       [how it works](https://dotenvx.com/encryption)     /\n\
         #/----------------------------------------------------------/\n",
    );
    out.push_str(&format!("{}=\"{public}\"\n\n# {file_name}\n", names.public));
    for (name, value) in vars {
        let sealed = encrypt_value(&public, value)
            .map_err(|error| ClientError::Input(format!("`{name}`: {error}")))?;
        out.push_str(&format!("{name}=\"{sealed}\"\n"));
    }
    Ok(out)
}

/// The private key an export encrypts to: the one in the environment under the file's key
/// name, so that a service keeps its key across exports; else a new one.
pub fn export_key(path: &Path) -> Result<(DotenvxKey, KeyNames, bool)> {
    let names = KeyNames::of(path, None);
    match env_vars::var(&names.private) {
        Some(text) => {
            let first = text.split(',').next().unwrap_or_default().to_owned();
            let key = DotenvxKey::from_hex(&Zeroizing::new(first))
                .map_err(|error| ClientError::Input(format!("{}: {error}", names.private)))?;
            Ok((key, names, false))
        }
        None => Ok((DotenvxKey::generate(), names, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_follow_dotenvx() {
        let names = |file: &str| KeyNames::of(Path::new(file), None).private;
        assert_eq!(names("app/.env"), "DOTENV_PRIVATE_KEY");
        assert_eq!(names(".env.production"), "DOTENV_PRIVATE_KEY_PRODUCTION");
        assert_eq!(names(".env.prod.local.x"), "DOTENV_PRIVATE_KEY_PROD_LOCAL");
        assert_eq!(names(".env1"), "DOTENV_PRIVATE_KEY_DEVELOPMENT1");
        let document = Document::parse("DOTENV_PUBLIC_KEY_CI=\"02ab\"\nA=1\n");
        let declared = KeyNames::of(Path::new(".env"), Some(&document));
        assert_eq!(declared.private, "DOTENV_PRIVATE_KEY_CI");
    }
}
