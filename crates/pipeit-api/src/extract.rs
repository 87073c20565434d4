//! Request extractors whose errors name the field at fault.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Errors: 415 when not `application/json`, 413 above the body limit, 400 naming the
/// field when a value has the wrong type, a field is missing or unknown.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::unsupported_media_type().into_response());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large().into_response()
            } else {
                ApiError::malformed("body", rejection.body_text()).into_response()
            }
        })?;
        parse_json(&bytes)
            .map(ApiJson)
            .map_err(IntoResponse::into_response)
    }
}

/// Deserialises `bytes`, naming the field at fault in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        let field = field_of(&path, &message);
        let message = strip_position(&message);
        if inner.is_syntax() || inner.is_eof() {
            ApiError::malformed("body", format!("not valid JSON: {message}"))
        } else {
            ApiError::malformed(field, message)
        }
    })
}

/// The field a serde error is about: its path, or for a missing/unknown field the name inside the
/// message joined to the path of the object it belongs to.
fn field_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|start| message.split_once(start))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    match (path, named) {
        (".", Some(name)) => name,
        (path, Some(name)) if message.starts_with("missing") => format!("{path}.{name}"),
        (".", None) => "body".to_owned(),
        (path, _) => path.to_owned(),
    }
}

/// serde_json's " at line 1 column 42" suffix says nothing to an API client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// An invoice id in the path (`/v1/invoices/{id}`), refused with a problem naming `id`.
#[derive(Debug, Clone, Copy)]
pub struct InvoiceId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for InvoiceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|p| InvoiceId(p.0))
            .map_err(|_| ApiError::malformed("id", "an invoice id is a whole number"))
    }
}

/// Query parameters, with errors naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded_deserializer(query).map(ApiQuery)
    }
}

/// Decodes a query string, naming the parameter at fault.
fn serde_urlencoded_deserializer<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = form_urlencoded::parse(query.as_bytes());
    let mut seen = std::collections::HashSet::new();
    for (key, _) in pairs {
        if !seen.insert(key.clone()) {
            return Err(ApiError::malformed(key, "given twice"));
        }
    }
    let deserializer = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        ApiError::malformed(field_of(&path, &message), message)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        count: u32,
    }

    fn field(body: &str) -> String {
        parse_json::<Outer>(body.as_bytes())
            .unwrap_err()
            .problem()
            .errors[0]
            .field
            .clone()
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field(r#"{"inner":{"name":"a"},"count":"x"}"#), "count");
        assert_eq!(field(r#"{"inner":{"name":1},"count":1}"#), "inner.name");
        assert_eq!(field(r#"{"inner":{},"count":1}"#), "inner.name");
        assert_eq!(field(r#"{"inner":{"name":"a"}}"#), "count");
        assert_eq!(
            field(r#"{"inner":{"name":"a"},"count":1,"extra":1}"#),
            "extra"
        );
        assert_eq!(field(r#"{"inner":"#), "body");
    }

    #[test]
    fn query_is_decoded_and_errors_name_the_parameter() {
        #[derive(Debug, Deserialize)]
        struct Q {
            limit: Option<String>,
        }
        let q: Q = serde_urlencoded_deserializer("limit=a%20b").unwrap();
        assert_eq!(q.limit.as_deref(), Some("a b"));
        assert!(serde_urlencoded_deserializer::<Q>("limit=1&limit=2").is_err());
    }
}
