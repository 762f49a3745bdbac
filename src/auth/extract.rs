//! The bearer-token extractor. Tokens are accepted only in the Authorization
//! header, never in the URL, and only their hash is ever looked up.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};

use super::service::TOKEN_PREFIX;
use crate::error::AppError;
use crate::ids::hash_token;

/// The hash of the presented bearer token. Who it belongs to is decided
/// inside the request's transaction (`auth::service::authenticate`).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub token_hash: String,
}

impl Credentials {
    pub fn from_request_headers(req: &HttpRequest) -> Result<Credentials, AppError> {
        let value = req.headers().get(header::AUTHORIZATION).ok_or(AppError::Unauthorized)?;
        let value = value.to_str().map_err(|_| AppError::Unauthorized)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AppError::Unauthorized)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || !token.starts_with(TOKEN_PREFIX)
            || token.len() > 128
            || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(AppError::Unauthorized);
        }
        Ok(Credentials { token_hash: hash_token(token) })
    }
}

impl FromRequest for Credentials {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Credentials::from_request_headers(req))
    }
}

/// Credentials when present; anonymous otherwise (for endpoints that show
/// more to signed-in callers).
#[derive(Debug, Clone)]
pub struct MaybeCredentials(pub Option<Credentials>);

impl FromRequest for MaybeCredentials {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.headers().contains_key(header::AUTHORIZATION) {
            ready(Credentials::from_request_headers(req).map(|c| MaybeCredentials(Some(c))))
        } else {
            ready(Ok(MaybeCredentials(None)))
        }
    }
}
