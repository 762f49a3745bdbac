//! The one error type. Every failure of every handler ends up here and is
//! written as one JSON envelope (or, for pages, an HTML error page):
//!
//! ```json
//! {"error": {"status": 422, "code": "invalid_document", "message": "…",
//!            "message_sv": "…", "details": [{"pointer": "/x", "message": "…"}],
//!            "error_id": "e3b0c44298fc"}}
//! ```
//!
//! Internal details (SQL, paths, Rust types) go to the log under the error id,
//! never to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::DatabaseErrorKind;
use serde::Serialize;

use crate::i18n::Message;

/// One problem with one field, in both languages.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer to the field at fault ("" for the whole body).
    pub pointer: String,
    pub message: String,
    pub message_sv: String,
}

impl FieldError {
    /// A problem whose words come with it: a rule's message from the
    /// policies, or a message already put into words.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>, message_sv: impl Into<String>) -> Self {
        FieldError { pointer: pointer.into(), message: message.into(), message_sv: message_sv.into() }
    }

    /// A problem told by a message of the catalogue.
    pub fn of(pointer: impl Into<String>, message: Message) -> Self {
        let (en, sv) = message.both();
        FieldError::new(pointer, en, sv)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request could not be read: malformed JSON, a bad parameter.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A submission document that fails the schema; every error is listed.
    #[error("the document does not follow the submission schema")]
    InvalidDocument(Vec<FieldError>),
    /// A well-formed request that breaks a business rule.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: Message, details: Vec<FieldError> },
    #[error("authentication required")]
    Unauthorized,
    /// `why` is the id of the catalogue's reason (`why-…`).
    #[error("forbidden: {why}")]
    Forbidden { why: &'static str },
    /// A decision refused because the approver, or whoever granted them the
    /// approver role, wrote, edited or submitted the service.
    #[error("separation of duties: {why}")]
    SeparationOfDuties { why: &'static str },
    #[error("not found")]
    NotFound,
    /// A 404 that says what was not found (an unknown organisation slug).
    #[error("{message}")]
    NotFoundWith { code: &'static str, message: Message },
    /// The path exists, but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// No route matches the path (as opposed to a missing object).
    #[error("no such route")]
    RouteNotFound,
    #[error("conflict: {message}")]
    Conflict { code: &'static str, message: Message },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// Contention on the database; retried by the write path, never shown.
    #[error("database busy")]
    Busy,
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(detail: impl Into<String>) -> Self {
        AppError::Internal(detail.into())
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        AppError::BadRequest(detail.into())
    }

    pub fn unprocessable(code: &'static str, message: Message) -> Self {
        AppError::Unprocessable { code, message, details: Vec::new() }
    }

    /// A 422 about one field: the message is both the error's and the field's.
    pub fn field(code: &'static str, pointer: &str, message: Message) -> Self {
        let details = vec![FieldError::of(pointer, message.clone())];
        AppError::Unprocessable { code, message, details }
    }

    pub fn conflict(code: &'static str, message: Message) -> Self {
        AppError::Conflict { code, message }
    }

    pub fn not_found(code: &'static str, message: Message) -> Self {
        AppError::NotFoundWith { code, message }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::InvalidDocument(_) => "invalid_document",
            AppError::Unprocessable { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::NotFoundWith { code, .. } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden { .. } => "forbidden",
            AppError::SeparationOfDuties { .. } => "separation_of_duties",
            AppError::NotFound => "not_found",
            AppError::RouteNotFound => "route_not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Busy | AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// What the client is told, in English and Swedish.
    pub fn messages(&self) -> (String, String) {
        let message = match self {
            AppError::BadRequest(detail) => Message::new("error-bad_request").with("detail", detail.as_str()),
            AppError::InvalidDocument(errors) => Message::new("error-invalid_document").with("count", errors.len()),
            AppError::Unprocessable { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::NotFoundWith { message, .. } => return message.both(),
            AppError::Unauthorized => Message::new("error-unauthorized"),
            AppError::Forbidden { why } | AppError::SeparationOfDuties { why } => {
                Message::new("error-forbidden").with("why", Message::new(why))
            }
            AppError::NotFound => Message::new("error-not_found"),
            AppError::MethodNotAllowed => Message::new("error-method_not_allowed"),
            AppError::RouteNotFound => Message::new("error-route_not_found"),
            AppError::PayloadTooLarge => Message::new("error-payload_too_large"),
            AppError::UnsupportedMediaType => Message::new("error-unsupported_media_type"),
            AppError::TooManyRequests { .. } => Message::new("error-too_many_requests"),
            AppError::Busy | AppError::Unavailable => Message::new("error-unavailable"),
            AppError::Internal(_) => Message::new("error-internal"),
        };
        message.both()
    }

    pub fn details(&self) -> &[FieldError] {
        match self {
            AppError::InvalidDocument(d) | AppError::Unprocessable { details: d, .. } => d,
            _ => &[],
        }
    }

    /// Builds the envelope body and logs the error once under a new error id.
    pub fn envelope(&self) -> ErrorEnvelope {
        let error_id = new_error_id();
        let status = self.status_code();
        if status.is_server_error() {
            log::error!("error_id={error_id} status={} {:?}", status.as_u16(), self.to_string());
        } else {
            log::info!("error_id={error_id} status={} code={}", status.as_u16(), self.code());
        }
        let (message, message_sv) = self.messages();
        ErrorEnvelope {
            error: ErrorBody {
                status: status.as_u16(),
                code: self.code().to_string(),
                message,
                message_sv,
                details: self.details().to_vec(),
                error_id,
            },
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub message_sv: String,
    pub details: Vec<FieldError>,
    /// Also written to the server log, so support can find the details.
    pub error_id: String,
}

fn new_error_id() -> String {
    let mut bytes = [0u8; 6];
    if getrandom::fill(&mut bytes).is_err() {
        return "000000000000".into();
    }
    hex::encode(bytes)
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::InvalidDocument(_) | AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } | AppError::SeparationOfDuties { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::RouteNotFound | AppError::NotFoundWith { .. } => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy | AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code()).json(self.envelope());
        let headers = response.headers_mut();
        match self {
            AppError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"tillit\""));
            }
            AppError::TooManyRequests { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            AppError::Busy | AppError::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::Error as E;
        match e {
            E::NotFound => AppError::NotFound,
            E::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict("conflict", Message::new("error-conflict"))
            }
            E::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => AppError::Busy,
            E::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => AppError::Unavailable,
            E::DatabaseError(_, info) if is_contention(info.message()) => AppError::Busy,
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

fn is_contention(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked") || m.contains("database is busy") || m.contains("deadlock detected")
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(format!("json: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_out_of_the_body() {
        let err = AppError::internal("SELECT * FROM secret_table at /root/src/x.rs");
        let body = serde_json::to_string(&err.envelope()).unwrap();
        assert!(!body.contains("secret_table"));
        assert!(!body.contains("/root"));
        assert!(body.contains("\"error_id\""));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn database_contention_is_retryable() {
        assert!(is_contention("database is locked"));
        assert!(is_contention("ERROR: deadlock detected"));
        assert!(!is_contention("no such table"));
    }

    #[test]
    fn messages_come_from_the_catalogue_in_both_languages() {
        let err = AppError::conflict("deactivated", Message::new("error-deactivated"));
        assert_eq!(err.messages(), ("The person is deactivated.".into(), "Personen är avaktiverad.".into()));
        let err = AppError::Forbidden { why: "why-approvers_decide" };
        let (en, sv) = err.messages();
        assert_eq!(en, "You do not have permission to do this: only approvers decide.");
        assert_eq!(sv, "Du har inte behörighet att göra detta: bara beslutsfattare (approver) beslutar.");
        let err = AppError::InvalidDocument(vec![FieldError::new("/a", "x", "y")]);
        assert!(err.messages().1.ends_with("(1 fel)."), "{:?}", err.messages());
        let err = AppError::field("invalid_days", "/d", Message::new("error-text_too_long").with("max", 40));
        assert_eq!(err.details()[0].message_sv, "Högst 40 tecken.");
    }
}
