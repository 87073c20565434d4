//! Errors as `application/problem+json` (RFC 9457), with the fields at fault.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field at fault: its JSON path (`debtor.country`, `amount`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, or the header / query parameter name.
    pub field: String,
    /// What is wrong and, where there is one, the fix.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The fields at fault (empty when the problem is not about one field).
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

/// An error a handler returns; becomes a [`Problem`] response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// 422: the request is well-formed but these fields are wrong.
    pub fn invalid(errors: Vec<FieldError>) -> ApiError {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        ApiError {
            errors,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
        }
    }

    /// 422 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// 400: the body or a parameter could not be read at all.
    pub fn malformed(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let error = FieldError {
            field: field.into(),
            message: message.into(),
        };
        ApiError {
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
            ..ApiError::new(StatusCode::BAD_REQUEST, "malformed", "")
        }
    }

    /// 401 naming the header at fault.
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        let detail = detail.into();
        ApiError {
            errors: vec![FieldError {
                field: "Authorization".to_owned(),
                message: detail.clone(),
            }],
            ..ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
        }
    }

    /// 401 for a refused sign-in, naming the field at fault.
    pub fn sign_in_refused(field: &str, detail: impl Into<String>) -> ApiError {
        let detail = detail.into();
        ApiError {
            errors: vec![FieldError {
                field: field.to_owned(),
                message: detail.clone(),
            }],
            ..ApiError::new(StatusCode::UNAUTHORIZED, "sign-in-refused", detail)
        }
    }

    /// 404 (also for another business's invoice: its existence is not disclosed).
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what} not found"),
        )
    }

    /// 409 with the field at fault.
    pub fn conflict(field: &str, detail: impl Into<String>) -> ApiError {
        let detail = detail.into();
        ApiError {
            errors: vec![FieldError {
                field: field.to_owned(),
                message: detail.clone(),
            }],
            ..ApiError::new(StatusCode::CONFLICT, "conflict", detail)
        }
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media_type() -> ApiError {
        ApiError {
            errors: vec![FieldError {
                field: "Content-Type".to_owned(),
                message: "send the body as application/json".to_owned(),
            }],
            ..ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "the body must be application/json",
            )
        }
    }

    /// 413: the body is above the service's limit.
    pub fn too_large() -> ApiError {
        ApiError {
            errors: vec![FieldError {
                field: "body".to_owned(),
                message: "too large".to_owned(),
            }],
            ..ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "the body is too large",
            )
        }
    }

    /// 405 for a route without this method.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "this route does not take this method",
        )
    }

    /// 429 with the key's limit.
    pub fn rate_limited(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail)
    }

    /// 503: a dependency (database, node) is unavailable.
    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// 500 without internals: the cause goes to the log, never to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; the request id in the x-request-id header finds it in the log",
        )
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("https://pipeit.dev/problems/{}", self.kind),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        (self.status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response()
    }
}

impl From<pipeit_db::Error> for ApiError {
    fn from(error: pipeit_db::Error) -> ApiError {
        use pipeit_db::Error as E;
        match &error {
            E::Conflict { what, .. } => ApiError::conflict(what, error.to_string()),
            E::NotFound { what, .. } => ApiError::not_found(what),
            E::InvalidTransition { .. } => ApiError::conflict("status", error.to_string()),
            E::Connect { .. } => ApiError::unavailable("the database is unavailable"),
            _ => ApiError::internal(&error),
        }
    }
}

/// A result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
