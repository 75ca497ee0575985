//! The OpenAPI document, generated from the handlers' annotations, and the health check.

use axum::Json;
use envsync_api::Health;
use envsync_api::paths::route;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "envsync server", description = "Stores ciphertext and signed records for envsync clients; it cannot decrypt them."),
    paths(
        health,
        super::metrics::ready,
        super::metrics::metrics,
        super::dashboard::page,
        super::dashboard::asset,
        super::session::sign_in,
        super::session::current,
        super::session::sign_out,
        super::session::new_code,
        super::join::join,
        super::tokens::whoami,
        super::events::events,
        super::tokens::list,
        super::tokens::create,
        super::tokens::revoke,
        super::tokens::create_ci,
        super::log::log,
        super::log::append,
        super::requests::requests,
        super::grants::grants,
        super::requests::put_request,
        super::requests::delete_request,
        super::invites::create,
        super::invites::get,
        super::invites::list,
        super::invites::revoke,
        super::versions::environments,
        super::audit::page,
        super::audit::server_page,
        super::versions::heads,
        super::versions::head,
        super::versions::list,
        super::versions::get,
        super::versions::object,
        super::push::create,
        super::push::create_many,
        super::publications::list,
        super::publications::append,
    ),
    modifiers(&BearerToken)
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        super::contract::complete(openapi);
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
    if !path.starts_with("/api") || path.contains("/session") {
        "dashboard"
    } else if path.contains("/environments") || path.ends_with("/heads") {
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

#[utoipa::path(get, path = route::HEALTH, responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// The router and the document describe one contract: every path and method the router
/// answers is in the document, and every one the document lists is answered. Asked of a
/// real server on loopback, since axum does not list its routes.
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi;

    use super::ApiDoc;
    use crate::api::{AppState, route, router, routes};
    use crate::store::Store;

    const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "PATCH"];

    /// A template with every `{parameter}` filled with a plausible value.
    fn sample(template: &str) -> String {
        template
            .split('/')
            .map(|segment| match segment {
                "{number}" => "1",
                _ if segment.starts_with('{') => "x1",
                _ => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Whether the router has a handler for `method` on `path`: not its fallbacks' 404 or 405.
    async fn answers(address: std::net::SocketAddr, method: &str, path: &str) -> bool {
        let response = crate::loopback::request(address, method, path).await;
        let status = response.split(' ').nth(1).unwrap_or_default();
        !(status == "405" || (status == "404" && response.contains("no such API path")))
    }

    fn documented() -> BTreeSet<(String, String)> {
        let document = ApiDoc::openapi();
        let mut pairs = BTreeSet::new();
        for (path, item) in &document.paths.paths {
            let operations = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
            for (method, operation) in METHODS.iter().zip(operations) {
                if operation.is_some() {
                    pairs.insert((path.clone(), (*method).to_owned()));
                }
            }
        }
        pairs
    }

    #[tokio::test]
    async fn router_and_document_agree() {
        let directory = tempfile::tempdir().unwrap();
        let url = directory.path().join("server.db").display().to_string();
        let store = Store::open(&url).await.unwrap();
        let state = AppState::new(store, crate::api::Options::default())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut routed = BTreeSet::new();
        for (template, _) in routes() {
            for method in METHODS {
                if answers(address, method, &sample(template)).await {
                    routed.insert((template.to_owned(), method.to_owned()));
                }
            }
        }
        // The document does not describe itself.
        assert!(routed.remove(&(route::OPENAPI.to_owned(), "GET".to_owned())));
        assert_eq!(
            routed,
            documented(),
            "router (left) and OpenAPI document (right)"
        );
    }
}
