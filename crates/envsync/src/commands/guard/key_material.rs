//! Credentials recognised by their shape rather than by a linked value: an age identity
//! exported into the repository, a copied `credentials.toml`, a CI token pasted into a
//! workflow file. None of them is a variable of a linked environment, so the value search
//! alone would let them through.

use envsync_api::{CODE_PREFIX, SECRET_TEXT_LENGTH, TOKEN_ID_LENGTH, TOKEN_PREFIX};

/// What a shape is, as the guard names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMaterial {
    AgeIdentity,
    ServerToken,
    InviteCode,
}

impl KeyMaterial {
    pub fn describe(self) -> &'static str {
        match self {
            Self::AgeIdentity => {
                "contains an age secret key (an identity); keep identities out of git"
            }
            Self::ServerToken => {
                "contains an envsync server token; if it was ever pushed, revoke it with `envsync token revoke`"
            }
            Self::InviteCode => {
                "contains an envsync invite or setup code; anyone who reads it can join until it is used or expires"
            }
        }
    }
}

const AGE_SECRET_PREFIX: &[u8] = b"AGE-SECRET-KEY-1";
/// Bech32 data of a 32-byte key plus checksum: 58 characters, upper case in identity files.
const AGE_SECRET_DATA_LENGTH: usize = 58;
const BECH32_UPPER: &[u8] = b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// Every credential in `bytes`, with its byte offset, in order of appearance.
pub fn find_all(bytes: &[u8]) -> Vec<(usize, KeyMaterial)> {
    let mut found = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        match at(&bytes[offset..]) {
            Some((kind, length)) => {
                found.push((offset, kind));
                offset += length;
            }
            None => offset += 1,
        }
    }
    found
}

/// The credential starting exactly at the front of `rest`, with its length.
fn at(rest: &[u8]) -> Option<(KeyMaterial, usize)> {
    match rest.first()? {
        b'A' => age_identity(rest).map(|length| (KeyMaterial::AgeIdentity, length)),
        b'e' => server_token(rest)
            .map(|length| (KeyMaterial::ServerToken, length))
            .or_else(|| invite_code(rest).map(|length| (KeyMaterial::InviteCode, length))),
        _ => None,
    }
}

fn age_identity(rest: &[u8]) -> Option<usize> {
    let data = rest.strip_prefix(AGE_SECRET_PREFIX)?;
    let length = run_of(data, |byte| BECH32_UPPER.contains(&byte));
    (length == AGE_SECRET_DATA_LENGTH).then_some(AGE_SECRET_PREFIX.len() + length)
}

fn server_token(rest: &[u8]) -> Option<usize> {
    let after_prefix = rest.strip_prefix(TOKEN_PREFIX.as_bytes())?;
    let id = run_of(after_prefix, |byte| byte.is_ascii_hexdigit());
    if id != TOKEN_ID_LENGTH || after_prefix.get(id) != Some(&b'_') {
        return None;
    }
    let secret = run_of(&after_prefix[id + 1..], is_base64url);
    (secret == SECRET_TEXT_LENGTH).then_some(TOKEN_PREFIX.len() + id + 1 + secret)
}

fn invite_code(rest: &[u8]) -> Option<usize> {
    let after_prefix = rest.strip_prefix(CODE_PREFIX.as_bytes())?;
    let length = run_of(after_prefix, is_base64url);
    (length == SECRET_TEXT_LENGTH).then_some(CODE_PREFIX.len() + length)
}

/// How many leading bytes satisfy `accept`.
fn run_of(bytes: &[u8], accept: impl Fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|&&byte| accept(byte)).count()
}

fn is_base64url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDENTITY: &str =
        "AGE-SECRET-KEY-1RP7MEGTEPTMDFDWZAY9G894EUR3V8R73KXSATGUZS8KY47FY0R4QG6XLG9";
    const TOKEN: &str = "esk_0123456789ab_Vk-Ob6TOAEqjz4pXrESxtAp95aZnOPhBPq31gTVq7H0";
    const CODE: &str = "esi_Vk-Ob6TOAEqjz4pXrESxtAp95aZnOPhBPq31gTVq7H0";

    #[test]
    fn finds_each_shape_where_it_starts() {
        let text = format!(
            "# created\n{IDENTITY}\n[servers.\"x\"]\ntoken = \"{TOKEN}\"\njoin with {CODE}.\n"
        );
        let found = find_all(text.as_bytes());
        assert_eq!(
            found,
            vec![
                (text.find(IDENTITY).unwrap(), KeyMaterial::AgeIdentity),
                (text.find(TOKEN).unwrap(), KeyMaterial::ServerToken),
                (text.find(CODE).unwrap(), KeyMaterial::InviteCode),
            ]
        );
    }

    #[test]
    fn placeholders_and_near_misses_are_not_credentials() {
        for text in [
            "token = \"esk_…\"",
            "ENVSYNC_IDENTITY=AGE-SECRET-KEY-1…",
            "esk_0123456789ab_short",
            "esk_zz23456789ab_Vk-Ob6TOAEqjz4pXrESxtAp95aZnOPhBPq31gTVq7H0",
            // One character too many: a longer random string that happens to start alike.
            "esi_Vk-Ob6TOAEqjz4pXrESxtAp95aZnOPhBPq31gTVq7H0x",
            // Lower case is not how age writes identities, and b/i/o are not bech32.
            "AGE-SECRET-KEY-1rp7megteptmdfdwzay9g894eur3v8r73kxsatguzs8ky47fy0r4qg6xlg9",
            "AGE-SECRET-KEY-1BIOMEGTEPTMDFDWZAY9G894EUR3V8R73KXSATGUZS8KY47FY0R4QG6XLG9",
        ] {
            assert_eq!(find_all(text.as_bytes()), vec![], "{text}");
        }
    }
}
