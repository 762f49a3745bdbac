//! HTTP plumbing shared by every capability: the raw JSON body extractor,
//! extractor error handlers, and the security headers.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest};

use crate::error::AppError;
use crate::i18n::Message;

/// Largest request body accepted anywhere.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON request body as raw bytes: content type checked (415), size
/// limited (413). Parsing is left to the caller, which keeps the bytes as
/// submitted.
#[derive(Debug)]
pub struct RawJson(pub Bytes);

pub fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl FromRequest for RawJson {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json_content_type(req) {
            return Box::pin(async { Err(AppError::UnsupportedMediaType) });
        }
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|len| len > MAX_BODY_BYTES);
        if declared_too_large {
            return Box::pin(async { Err(AppError::PayloadTooLarge) });
        }
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            match bytes.await {
                Ok(bytes) if bytes.len() > MAX_BODY_BYTES => Err(AppError::PayloadTooLarge),
                Ok(bytes) => Ok(RawJson(bytes)),
                Err(e) if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    Err(AppError::PayloadTooLarge)
                }
                Err(e) => Err(AppError::bad_request(format!("the body could not be read ({e})"))),
            }
        })
    }
}

/// Extractor configuration: limits and errors in the one envelope.
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::JsonConfig::default().limit(MAX_BODY_BYTES).error_handler(json_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error));
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app_error = match &err {
        JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => AppError::PayloadTooLarge,
        JsonPayloadError::Deserialize(e) if e.is_data() => AppError::unprocessable(
            "invalid_request",
            Message::new("error-request_fields").with("detail", plain_serde_error(&e.to_string())),
        ),
        JsonPayloadError::Deserialize(e) => AppError::bad_request(format!("malformed JSON: {e}")),
        other => AppError::bad_request(other.to_string()),
    };
    app_error.into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    AppError::bad_request(format!("invalid query parameters: {err}")).into()
}

fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::NotFound.into()
}

/// Headers on every response.
/// "/api/v1/lookup/" and "//api//v1/lookup" are "/api/v1/lookup": trailing
/// slashes trimmed and runs of slashes merged, before routing.
pub fn normalize_path() -> actix_web::middleware::NormalizePath {
    actix_web::middleware::NormalizePath::trim()
}

/// The Content-Security-Policy of pages: no inline script or style.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
/// The Content-Security-Policy of every other answer (JSON, CSV, CSS, text):
/// such a document loads nothing and is never framed.
const DATA_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Sets the security headers the handler did not set. Every answer gets
/// nosniff, no referrer, no framing, a CSP and HSTS; HTML pages get the
/// pages' CSP, a Permissions-Policy and Cross-Origin-Opener-Policy (they
/// concern documents a browser shows), every other answer the strict CSP
/// of a document that loads nothing.
pub fn add_security_headers(headers: &mut actix_web::http::header::HeaderMap) {
    use actix_web::http::header::{HeaderName, HeaderValue};
    let page = headers.get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().trim_ascii_start().get(..9).is_some_and(|t| t.eq_ignore_ascii_case(b"text/html"))
    });
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    if page {
        set(header::CONTENT_SECURITY_POLICY, PAGE_CSP);
        set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
        set(HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()");
    } else {
        set(header::CONTENT_SECURITY_POLICY, DATA_CSP);
    }
}

/// A 200 answer with `body` as JSON, written into one buffer sized for a
/// typical answer (the usual `HttpResponse::json` grows its buffer from a
/// few bytes, copying it each time).
pub fn json_ok<T: serde::Serialize>(body: &T, size_hint: usize) -> Result<actix_web::HttpResponse, AppError> {
    let mut out = Vec::with_capacity(size_hint);
    serde_json::to_writer(&mut out, body)?;
    Ok(actix_web::HttpResponse::Ok().insert_header(header::ContentType::json()).body(out))
}

/// Parses a JSON request body into a typed request: strictly (duplicate keys
/// are refused), with control and bidi characters refused anywhere, and with
/// unknown or missing fields answered by 422.
pub fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let value = crate::json::parse_strict(bytes)
        .map_err(|e| AppError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let bad = crate::json::forbidden_text_pointers(&value);
    if !bad.is_empty() {
        return Err(AppError::Unprocessable {
            code: "invalid_request",
            message: Message::new("error-request_characters"),
            details: bad
                .into_iter()
                .map(|p| crate::error::FieldError::of(p, Message::new("error-character_not_allowed")))
                .collect(),
        });
    }
    if !value.is_object() {
        return Err(AppError::field("invalid_request", "", Message::new("error-body_not_object")));
    }
    T::deserialize(value).map_err(|e| {
        AppError::unprocessable(
            "invalid_request",
            Message::new("error-request_fields").with("detail", plain_serde_error(&e.to_string())),
        )
    })
}

/// A deserializer's message in plain words, naming no Rust type
/// ("expected u32" is "expected a whole number"), as a message of the
/// catalogue (`serde-…`) that chooses its words by the kinds it names.
pub fn plain_serde_error(message: &str) -> Message {
    let message = message.split(" at line ").next().unwrap_or(message);
    let wanted = |t: &str| -> &'static str {
        let t = t.trim().trim_start_matches("struct ").trim_start_matches("enum ");
        match t {
            "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => "whole",
            "f32" | "f64" => "number",
            "a string" | "string" => "text",
            "a boolean" | "boolean" => "boolean",
            "a sequence" | "sequence" => "list",
            "a map" | "map" => "object",
            _ if t.starts_with(|c: char| c.is_ascii_uppercase()) => "object",
            _ => "other",
        }
    };
    let given = |t: &str| -> (&'static str, String) {
        let t = t.trim();
        // Numbers come in backticks (`113.0`), texts in quotes ("x").
        let value = t.split('`').nth(1).or_else(|| t.split('"').nth(1)).unwrap_or("").to_string();
        let kind = if t.starts_with("floating point") || t.starts_with("integer") {
            "number"
        } else if t.starts_with("string") {
            "text"
        } else if t.starts_with("boolean") {
            "boolean"
        } else if t == "null" {
            "null"
        } else if t.starts_with("sequence") {
            "list"
        } else {
            "object"
        };
        (kind, value)
    };
    if let Some(rest) = message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: ")) {
        if let Some((what, expected)) = rest.split_once(", expected ") {
            let (got, value) = given(what);
            return Message::new("serde-wrong_kind")
                .with("got", got)
                .with("value", value)
                .with("want", wanted(expected));
        }
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return Message::new("serde-missing_field").with("field", field);
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let field = rest.split(',').next().unwrap_or(rest);
        return Message::new("serde-unknown_field").with("field", field);
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (value, allowed) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return Message::new("serde-unknown_value").with("value", value).with("allowed", allowed);
    }
    Message::new("serde-other")
}

#[cfg(test)]
mod plain_errors {
    use super::plain_serde_error;

    #[test]
    fn no_rust_type_is_named() {
        let cases = [
            "invalid type: floating point `113.0`, expected u32 at line 1 column 12",
            "invalid type: string \"x\", expected a boolean",
            "invalid value: integer `-1`, expected u64",
            "missing field `org`",
            "unknown field `x`, expected one of `a`, `b`",
            "unknown variant `maybe`, expected one of `approved`, `rejected`",
            "invalid type: map, expected struct RoleRequest",
        ];
        for case in cases {
            let (en, sv) = plain_serde_error(case).both();
            for text in [&en, &sv] {
                for rust in ["u32", "u64", "struct", "RoleRequest", "line 1"] {
                    assert!(!text.contains(rust), "{case} -> {text}");
                }
            }
        }
        assert_eq!(plain_serde_error(cases[0]).both().0, "the number 113.0 where a whole number is expected");
        assert_eq!(plain_serde_error(cases[0]).both().1, "talet 113.0 där det ska stå ett heltal");
        assert_eq!(plain_serde_error(cases[1]).both().1, "texten \"x\" där det ska stå true eller false");
    }
}

/// For endpoints that take no body: an empty request body, or 400. (A body
/// sent to such an endpoint is a client mistake and is never ignored.)
#[derive(Debug)]
pub struct NoBody;

impl FromRequest for NoBody {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            match bytes.await {
                Ok(bytes) if bytes.is_empty() => Ok(NoBody),
                Ok(_) => Err(AppError::bad_request("this endpoint takes no request body")),
                Err(e) if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    Err(AppError::PayloadTooLarge)
                }
                Err(e) => Err(AppError::bad_request(format!("the body could not be read ({e})"))),
            }
        })
    }
}

/// An optional JSON body: empty is None; anything else must be JSON, as
/// `RawJson` requires (415, 413).
#[derive(Debug)]
pub struct OptionalJson(pub Option<Bytes>);

impl FromRequest for OptionalJson {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json_content_type(req);
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            match bytes.await {
                Ok(bytes) if bytes.is_empty() => Ok(OptionalJson(None)),
                Ok(_) if !json => Err(AppError::UnsupportedMediaType),
                Ok(bytes) => Ok(OptionalJson(Some(bytes))),
                Err(e) if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    Err(AppError::PayloadTooLarge)
                }
                Err(e) => Err(AppError::bad_request(format!("the body could not be read ({e})"))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test as actix_test;
    use actix_web::{App, HttpRequest, web};

    /// The path a handler sees for a requested one.
    fn normalized_path(path: &str) -> Option<String> {
        actix_web::rt::System::new().block_on(async {
            let app = actix_test::init_service(
                App::new()
                    .default_service(web::to(|req: HttpRequest| async move { req.path().to_string() }))
                    .wrap(super::normalize_path()),
            )
            .await;
            let seen =
                actix_test::call_and_read_body(&app, actix_test::TestRequest::get().uri(path).to_request()).await;
            let seen = String::from_utf8_lossy(&seen).into_owned();
            (seen != path).then_some(seen)
        })
    }

    #[test]
    fn paths_lose_trailing_and_doubled_slashes() {
        assert_eq!(normalized_path("/api/v1/lookup"), None);
        assert_eq!(normalized_path("/"), None);
        assert_eq!(normalized_path("/api/v1/lookup/").as_deref(), Some("/api/v1/lookup"));
        assert_eq!(normalized_path("//api//v1/lookup//").as_deref(), Some("/api/v1/lookup"));
        assert_eq!(normalized_path("//").as_deref(), Some("/"));
        assert_eq!(normalized_path("/register/kinda/").as_deref(), Some("/register/kinda"));
    }
}
