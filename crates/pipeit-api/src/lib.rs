//! The pipeit HTTP service (axum): businesses submit and follow invoices with an API key; investors
//! sign in with Ethereum (EIP-4361; EIP-1271 for contract wallets) and see their position; anyone
//! sees the vault's figures. Errors are `application/problem+json` (RFC 9457) naming the fields at
//! fault; every route is in the OpenAPI document served at `/openapi.json`.
//!
//! [`app`] builds the router over an [`AppState`] (database, node, settings); [`serve`] runs it on
//! a listener until a shutdown signal, finishing requests in flight. The service never holds a
//! key: money moves only through unsigned transactions the caller's wallet signs.
#![warn(missing_docs)]

pub mod auth;
pub mod business;
pub mod error;
pub mod extract;
pub mod investor;
pub mod invoices;
pub mod metrics;
pub mod ops;
pub mod state;
pub mod tax;
pub mod tx;
pub mod vault;

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::{middleware, Extension, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, FieldError, Problem};
pub use state::{ApiConfig, AppState, Chain, Clock};

/// The request id header (set when absent, echoed in the response, in every log line).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(title = "pipeit", description = "Invoice factoring on Base: businesses, investors, vault figures."),
    modifiers(&SecuritySchemes),
    tags(
        (name = "business", description = "API key (`Authorization: Bearer pk_…`)"),
        (name = "investor", description = "Sign-In with Ethereum, then `Authorization: Bearer pis_…`"),
        (name = "public", description = "No authentication"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |format: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format(format)
                    .build(),
            )
        };
        components.add_security_scheme("api_key", bearer("pk_<prefix>_<secret>"));
        components.add_security_scheme("session", bearer("pis_<token>"));
    }
}

/// Every route with its OpenAPI description (the router and the document come from one list).
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(business::routes())
        .merge(investor::routes())
        .merge(vault::routes())
        .merge(tax::routes())
        .merge(ops::routes())
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().split_for_parts().1
}

/// The service's router over `state`.
pub fn app(state: AppState) -> Router {
    let (router, doc) = documented().split_for_parts();
    let doc = ops::OpenApiJson(Arc::new(doc.to_pretty_json().unwrap_or_default()));
    let config = state.config().clone();
    let router = match &config.web_dir {
        // The app's own routes (`/invest`, …) are the app's: every other path that is not the
        // API's gets index.html, and the app routes it in the browser.
        Some(dir) => router
            .route("/v1/{*rest}", axum::routing::any(route_not_found))
            .fallback_service(
                tower_http::services::ServeDir::new(dir)
                    .fallback(tower_http::services::ServeFile::new(dir.join("index.html"))),
            ),
        None => router.fallback(route_not_found),
    };
    router
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::extract::DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(Extension(doc))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(cors(&config.cors_origins))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let id = request
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn route_not_found() -> ApiError {
    ApiError::not_found("route")
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([REQUEST_ID]);
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
        layer.allow_origin(list)
    }
}

/// Serves `app(state)` on `listener` until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
