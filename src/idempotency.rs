//! The authenticated write path with `Idempotency-Key` support.
//!
//! Every state-changing API request runs `perform`: one transaction that
//! takes the chain head, authenticates the caller, looks up the idempotency
//! key, runs the use case (which authorizes, changes and audits), stores the
//! response under the key, and commits. The same key with the same request
//! returns the first response without a second effect; the same key with a
//! different request is refused with 422. Failed requests store nothing, so
//! they may be retried with the same key. Records are kept for
//! `RETENTION_DAYS` days.

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::auth::service::authenticate;
use crate::auth::{Actor, Credentials};
use crate::db::schema::idempotency_keys;
use crate::db::{self, DbConnection};
use crate::error::AppError;
use crate::i18n::Message;

pub const HEADER: &str = "Idempotency-Key";
pub const RETENTION_DAYS: i64 = 30;

/// The value of an `Idempotency-Key` header: 1–200 visible ASCII characters.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let values: Vec<_> = req.headers().get_all(HEADER).collect();
        let result = match values.as_slice() {
            [] => Ok(IdempotencyKey(None)),
            [value] => match value.to_str() {
                Ok(v)
                    if !v.trim().is_empty()
                        && v.len() <= 200
                        && v.bytes().all(|b| b.is_ascii_graphic() || b == b' ') =>
                {
                    Ok(IdempotencyKey(Some(v.trim().to_string())))
                }
                _ => Err(AppError::bad_request("the Idempotency-Key header must be 1-200 visible ASCII characters")),
            },
            _ => Err(AppError::bad_request("send the Idempotency-Key header once")),
        };
        std::future::ready(result)
    }
}

/// One authenticated, idempotent write with a JSON body, as it arrives:
/// the caller's credentials, the `Idempotency-Key`, the body and its
/// fingerprint. Extracted in that order, so a missing token is 401 before
/// the body is looked at.
pub struct Write {
    creds: Credentials,
    key: IdempotencyKey,
    body: actix_web::web::Bytes,
    fingerprint: String,
}

impl Write {
    /// The body as the request type (strict JSON; 400 or 422 otherwise).
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, AppError> {
        crate::http::parse_body(&self.body)
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// Runs the use case as one authenticated, idempotent write (`handle`).
    pub async fn run<F>(self, state: &crate::state::AppState, f: F) -> Result<HttpResponse, AppError>
    where
        F: FnMut(&mut DbConnection, &Actor) -> Result<Reply, AppError> + Send + 'static,
    {
        handle(state, self.creds, self.key, self.fingerprint, f).await
    }
}

type Extracting<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, AppError>>>>;

/// The caller's credentials and idempotency key, then the body as `body`
/// reads it: the one way both kinds of write are taken from a request.
fn extract_write<F>(
    req: &HttpRequest,
    payload: &mut Payload,
    body: impl FnOnce(&HttpRequest, &mut Payload) -> F,
) -> Extracting<Write>
where
    F: std::future::Future<Output = Result<actix_web::web::Bytes, AppError>> + 'static,
{
    let creds = Credentials::from_request(req, payload);
    let key = IdempotencyKey::from_request(req, payload);
    let body = body(req, payload);
    let req = req.clone();
    Box::pin(async move {
        let creds = creds.await?;
        let key = key.await?;
        let body = body.await?;
        let fingerprint = fingerprint(&req, &body);
        Ok(Write { creds, key, body, fingerprint })
    })
}

impl FromRequest for Write {
    type Error = AppError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        extract_write(req, payload, |req, payload| {
            let json = crate::http::RawJson::from_request(req, payload);
            async move { Ok(json.await?.0) }
        })
    }
}

/// One authenticated, idempotent write that takes no body (a body is 400);
/// run it as its `Write`.
pub struct EmptyWrite(pub Write);

impl FromRequest for EmptyWrite {
    type Error = AppError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let write = extract_write(req, payload, |req, payload| {
            let none = crate::http::NoBody::from_request(req, payload);
            async move {
                none.await?;
                Ok(actix_web::web::Bytes::new())
            }
        });
        Box::pin(async move { Ok(EmptyWrite(write.await?)) })
    }
}

/// A response of a write, as stored for replay.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
    /// Top-level fields of the body that are shown once and never stored
    /// for replay (a new token's secret).
    pub shown_once: &'static [&'static str],
}

impl Reply {
    pub fn new<T: Serialize>(status: StatusCode, body: &T) -> Result<Reply, AppError> {
        Ok(Reply { status, body: serde_json::to_value(body)?, location: None, shown_once: &[] })
    }

    pub fn created<T: Serialize>(body: &T, location: String) -> Result<Reply, AppError> {
        Ok(Reply {
            status: StatusCode::CREATED,
            body: serde_json::to_value(body)?,
            location: Some(location),
            shown_once: &[],
        })
    }

    pub fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = self.location {
            response.insert_header((actix_web::http::header::LOCATION, location));
        }
        response.json(self.body)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct IdempotencyRow {
    user_id: String,
    idempotency_key: String,
    fingerprint: String,
    status: i32,
    body: String,
    location: Option<String>,
    created_at: NaiveDateTime,
}

/// A fingerprint of the request: method, path and body.
pub fn fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut material = Vec::with_capacity(body.len() + 64);
    material.extend_from_slice(req.method().as_str().as_bytes());
    material.push(b' ');
    material.extend_from_slice(req.path().as_bytes());
    material.push(b'\n');
    material.extend_from_slice(body);
    crate::json::sha256_hex(&material)
}

/// Runs one authenticated write. See the module documentation.
pub fn perform<F>(
    conn: &mut DbConnection,
    creds: &Credentials,
    key: &IdempotencyKey,
    fingerprint: &str,
    f: F,
) -> Result<Reply, AppError>
where
    F: FnMut(&mut DbConnection, &Actor) -> Result<Reply, AppError>,
{
    perform_with(conn, creds, key, fingerprint, f, &mut |_| {})
}

/// `perform`, calling `before_commit` with the reply inside the transaction
/// (the fault injection uses it to answer too early).
fn perform_with<F>(
    conn: &mut DbConnection,
    creds: &Credentials,
    key: &IdempotencyKey,
    fingerprint: &str,
    mut f: F,
    before_commit: &mut dyn FnMut(&Reply),
) -> Result<Reply, AppError>
where
    F: FnMut(&mut DbConnection, &Actor) -> Result<Reply, AppError>,
{
    db::write(conn, |conn| {
        let actor = authenticate(conn, &creds.token_hash)?;
        if let Some(key) = &key.0 {
            let stored: Option<IdempotencyRow> = idempotency_keys::table
                .filter(idempotency_keys::user_id.eq(&actor.user_id))
                .filter(idempotency_keys::idempotency_key.eq(key))
                .select(IdempotencyRow::as_select())
                .first(conn)
                .optional()?;
            if let Some(stored) = stored {
                if stored.fingerprint != fingerprint {
                    return Err(AppError::field(
                        "idempotency_key_reused",
                        "",
                        Message::new("error-idempotency_key_reused"),
                    ));
                }
                return Ok(Reply {
                    status: StatusCode::from_u16(stored.status as u16).unwrap_or(StatusCode::OK),
                    body: serde_json::from_str(&stored.body)?,
                    location: stored.location,
                    shown_once: &[],
                });
            }
        }
        let reply = f(conn, &actor)?;
        if let Some(key) = &key.0 {
            let mut stored_body = reply.body.clone();
            if let Some(map) = stored_body.as_object_mut() {
                for field in reply.shown_once {
                    map.remove(*field);
                }
            }
            let row = IdempotencyRow {
                user_id: actor.user_id.clone(),
                idempotency_key: key.clone(),
                fingerprint: fingerprint.to_string(),
                status: i32::from(reply.status.as_u16()),
                body: serde_json::to_string(&stored_body)?,
                location: reply.location.clone(),
                created_at: db::now(),
            };
            diesel::insert_into(idempotency_keys::table).values(&row).execute(conn)?;
        }
        before_commit(&reply);
        Ok(reply)
    })
}

/// Deletes records older than the retention period.
pub fn purge_expired(conn: &mut DbConnection) -> Result<usize, AppError> {
    let cutoff = db::now() - Duration::days(RETENTION_DAYS);
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff))).execute(conn)?)
}

/// Runs `f` as one authenticated, idempotent write on the blocking pool and
/// turns its reply into the HTTP response.
pub async fn handle<F>(
    state: &crate::state::AppState,
    creds: Credentials,
    key: IdempotencyKey,
    fingerprint: String,
    f: F,
) -> Result<HttpResponse, AppError>
where
    F: FnMut(&mut DbConnection, &Actor) -> Result<Reply, AppError> + Send + 'static,
{
    if crate::fault::active() == crate::fault::Fault::AckBeforeCommit {
        let write = move |conn: &mut DbConnection, before_commit: &mut dyn FnMut(&Reply)| {
            perform_with(conn, &creds, &key, &fingerprint, f, before_commit)
        };
        return acknowledge_before_commit(state, write).await;
    }
    let reply = state.db.run_committing(move |conn| perform(conn, &creds, &key, &fingerprint, f)).await?;
    Ok(reply.into_response())
}

/// The `ack-before-commit` fault: the reply leaves before the transaction
/// commits, 300 ms later. Only for proving that the crash campaign notices.
async fn acknowledge_before_commit<W>(state: &crate::state::AppState, write: W) -> Result<HttpResponse, AppError>
where
    W: FnOnce(&mut DbConnection, &mut dyn FnMut(&Reply)) -> Result<Reply, AppError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel::<Reply>();
    let db = state.db.clone();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let result = db.get().and_then(|mut conn| {
            write(&mut conn, &mut |reply| {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(reply.clone());
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
            })
        });
        if let Err(e) = result {
            log::warn!("fault-injected write failed: {e}");
        }
    });
    match rx.await {
        Ok(reply) => Ok(reply.into_response()),
        Err(_) => Err(AppError::Unavailable),
    }
}
