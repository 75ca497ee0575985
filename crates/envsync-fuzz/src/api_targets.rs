//! Every JSON body the server accepts, deserialised as the server does (envsync-api's types).

use envsync_api::{JoinRequest, NewCiToken, NewInvite, NewToken, PushVersion};
use envsync_core::records::{InviteBody, Signed, VersionRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first byte picks the body; the rest is the JSON. Reading never panics, and a body read
/// writes back as JSON that reads again; the signed records inside parse without panicking.
pub fn api_body(data: &[u8]) {
    let Some((&kind, json)) = data.split_first() else {
        return;
    };
    match kind % 5 {
        0 => drop(round_trip::<JoinRequest>(json)),
        1 => drop(round_trip::<NewToken>(json)),
        2 => drop(round_trip::<NewCiToken>(json)),
        3 => {
            if let Some(invite) = round_trip::<NewInvite>(json) {
                let _ = Signed::<InviteBody>::from_json(invite.signed.get().as_bytes(), "invite");
            }
        }
        _ => {
            if let Some(push) = round_trip::<PushVersion>(json) {
                let _ = VersionRecord::from_json(push.record.get().as_bytes(), "record");
            }
        }
    }
}

fn round_trip<T: Serialize + DeserializeOwned>(json: &[u8]) -> Option<T> {
    let body: T = serde_json::from_slice(json).ok()?;
    let written = serde_json::to_vec(&body).expect("a body read always writes back");
    assert!(
        serde_json::from_slice::<T>(&written).is_ok(),
        "a body written does not read back"
    );
    Some(body)
}
