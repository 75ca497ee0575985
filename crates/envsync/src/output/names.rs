//! Schema-only descriptions of values the documents carry as plain words because no crate
//! has a type for them (an action is what `Badge::action` names). Badges, roles and token
//! kinds describe themselves (the `schema` features of envsync-core and envsync-api).

use schemars::JsonSchema;

/// The command that brings an environment back to `synced`.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum Action {
    Pull,
    Push,
    Sync,
}
