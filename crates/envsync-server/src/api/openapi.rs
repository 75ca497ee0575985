//! The OpenAPI document, generated from the handlers' annotations, and the health check.

use axum::Json;
use envsync_api::Health;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "envsync server", description = "Stores ciphertext and signed records for envsync clients; it cannot decrypt them."),
    paths(
        health,
        super::join::join,
        super::tokens::whoami,
        super::events::events,
        super::tokens::list,
        super::tokens::create,
        super::tokens::revoke,
        super::tokens::create_ci,
        super::members::log,
        super::members::append,
        super::members::requests,
        super::members::grants,
        super::members::put_request,
        super::members::delete_request,
        super::invites::create,
        super::invites::get,
        super::versions::environments,
        super::audit::page,
        super::audit::server_page,
        super::versions::head,
        super::versions::list,
        super::versions::get,
        super::versions::object,
        super::versions::create,
    ),
    modifiers(&BearerToken)
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Group operations by what they act on, instead of by Rust module.
        for (path, item) in openapi.paths.paths.iter_mut() {
            let tag = tag_of(path);
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation.tags = Some(vec![tag.to_owned()]);
            }
        }
    }
}

fn tag_of(path: &str) -> &'static str {
    if path.contains("/environments") {
        "versions"
    } else if path.contains("/members")
        || path.contains("/requests")
        || path.contains("/invites")
        || path.contains("/grants")
    {
        "members"
    } else if path.contains("audit") {
        "audit"
    } else if path.contains("token") || path.ends_with("/whoami") || path.ends_with("/join") {
        "accounts and tokens"
    } else if path.ends_with("/events") {
        "events"
    } else {
        "server"
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
