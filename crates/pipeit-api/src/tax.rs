//! CSV tax reports over HTTP: the same `pipeit-tax` writers as `pipeit tax`, streamed as they are
//! read (memory stays flat however many rows).

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use pipeit_tax::{BusinessReportRequest, InvestorReportRequest, TaxError, VaultReportRequest};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{BusinessAuth, InvestorAuth};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::vault::indexed;

/// The tax routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(investor_tax))
        .routes(routes!(business_tax))
        .routes(routes!(vault_income_statement))
}

/// A refused report request: the field at fault, or an unknown address as 404.
fn refused(error: TaxError) -> ApiError {
    match error {
        TaxError::UnknownAddress { .. } => {
            ApiError::not_found("activity of this address in the vault")
        }
        e if e.is_client_error() => ApiError::field(e.field().unwrap_or("query"), e.to_string()),
        e => ApiError::internal(&e),
    }
}

/// A CSV download. Errors after the first byte cut the response short (the log has the cause).
fn csv(
    filename: String,
    stream: impl futures_util::Stream<Item = pipeit_tax::Result<bytes::Bytes>> + Send + 'static,
) -> Response {
    let stream = stream.map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = %e, "tax report failed mid-stream");
            std::io::Error::other(e.to_string())
        })
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// An investor's report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct InvestorTaxQuery {
    /// Tax year (not in the future).
    year: String,
    /// fifo (default), lifo or hifo.
    method: Option<String>,
    /// koinly (default), 8949 or ledger.
    format: Option<String>,
    /// IANA time zone of the tax year's boundaries (default UTC).
    tz: Option<String>,
}

/// The signed-in investor's tax report for a year, as CSV.
#[utoipa::path(get, path = "/v1/investor/tax", tag = "investor", params(InvestorTaxQuery),
    responses(
        (status = 200, description = "CSV (a year without activity: the header only)", body = String, content_type = "text/csv"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no activity of this wallet in the vault", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "year in the future, unknown method, format or time zone", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = [])))]
async fn investor_tax(
    State(state): State<AppState>,
    auth: InvestorAuth,
    ApiQuery(q): ApiQuery<InvestorTaxQuery>,
) -> ApiResult<Response> {
    let address = format!("{:#x}", auth.address);
    let request = InvestorReportRequest::parse(
        indexed(state.chain()),
        &address,
        &q.year,
        q.method.as_deref(),
        q.format.as_deref(),
        q.tz.as_deref(),
        state.chain_now().await?,
    )
    .map_err(refused)?;
    pipeit_tax::check_investor(state.db(), &request)
        .await
        .map_err(refused)?;
    let name = format!(
        "pipeit-{address}-{}-{}.csv",
        q.year,
        q.format.as_deref().unwrap_or("koinly")
    );
    Ok(csv(
        name,
        pipeit_tax::investor_report(state.db().clone(), request),
    ))
}

/// A business's or the vault's report period.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct YearQuery {
    /// Tax year (not in the future).
    year: Option<String>,
    /// First day (YYYY-MM-DD), with `to`, instead of a year (vault only).
    from: Option<String>,
    /// Last day (YYYY-MM-DD), with `from` (vault only).
    to: Option<String>,
    /// IANA time zone of the period's boundaries (default UTC).
    tz: Option<String>,
}

/// The business's financing report for a year (per invoice: advances, fees, late fees, repayments,
/// write-offs), as CSV.
#[utoipa::path(get, path = "/v1/business/tax", tag = "business", params(YearQuery),
    responses(
        (status = 200, body = String, content_type = "text/csv"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no advance was ever paid to this business", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "no payout address set yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn business_tax(
    State(state): State<AppState>,
    auth: BusinessAuth,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Response> {
    if q.from.is_some() || q.to.is_some() {
        return Err(ApiError::field(
            "from",
            "a business report covers a tax year: give year",
        ));
    }
    let year = q
        .year
        .ok_or_else(|| ApiError::field("year", "required, e.g. 2026"))?;
    let business = state
        .db()
        .business(auth.business_id)
        .await?
        .ok_or_else(|| ApiError::not_found("business"))?;
    if business.payout_address.is_zero() {
        return Err(ApiError::conflict(
            "payout_address",
            "no payout address is set, so nothing was ever advanced",
        ));
    }
    let address = format!("{:#x}", business.payout_address);
    let request = BusinessReportRequest::parse(
        indexed(state.chain()),
        &address,
        &year,
        q.tz.as_deref(),
        state.chain_now().await?,
    )
    .map_err(refused)?;
    pipeit_tax::check_business(state.db(), &request)
        .await
        .map_err(refused)?;
    Ok(csv(
        format!("pipeit-business-{}-{year}.csv", business.id),
        pipeit_tax::business_report(state.db().clone(), request),
    ))
}

/// The vault's income statement over a year or a date range, as CSV (public).
#[utoipa::path(get, path = "/v1/vault/income-statement", tag = "public", params(YearQuery),
    responses(
        (status = 200, body = String, content_type = "text/csv"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
async fn vault_income_statement(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> ApiResult<Response> {
    let request = VaultReportRequest::parse(
        indexed(state.chain()),
        q.year.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        q.tz.as_deref(),
        state.chain_now().await?,
    )
    .map_err(refused)?;
    let name = match (&q.year, &q.from, &q.to) {
        (Some(year), _, _) => format!("pipeit-vault-{year}.csv"),
        (_, Some(from), Some(to)) => format!("pipeit-vault-{from}-{to}.csv"),
        _ => "pipeit-vault.csv".to_owned(),
    };
    Ok(csv(
        name,
        pipeit_tax::vault_report(state.db().clone(), request),
    ))
}
