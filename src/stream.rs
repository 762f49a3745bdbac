//! Streaming responses: blocking database code writes rows into a bounded
//! channel, and the response body reads from it. Memory stays flat whatever
//! the size, the first bytes leave at once, and a client that disconnects
//! stops the producer at its next write.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use tokio::sync::mpsc;

use crate::db::{Database, DbConnection};
use crate::error::AppError;

const CHUNK: usize = 64 * 1024;

/// Where a producer writes; buffered into 64 KiB chunks.
pub struct Sink {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

/// The client went away; the producer should stop.
#[derive(Debug)]
pub struct Closed;

impl From<Closed> for AppError {
    fn from(_: Closed) -> Self {
        AppError::internal("client disconnected")
    }
}

impl Sink {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK { self.flush() } else { Ok(()) }
    }

    pub fn flush(&mut self) -> Result<(), Closed> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| Closed)
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

struct Body(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Body {
    type Item = Result<Bytes, actix_web::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|item| item.map(|r| r.map_err(actix_web::Error::from)))
    }
}

/// Starts `produce` on the blocking pool and answers with its output as it
/// comes. An error after the first bytes ends the body early (the client
/// sees a truncated response, and the error is logged).
pub fn respond<F>(db: &Database, content_type: &str, headers: &[(&str, String)], produce: F) -> HttpResponse
where
    F: FnOnce(&mut DbConnection, &mut Sink) -> Result<(), AppError> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    let db = db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut sink = Sink { tx, buf: Vec::with_capacity(CHUNK) };
        let result = db.get().and_then(|mut conn| produce(&mut conn, &mut sink));
        match result {
            Ok(()) => {
                let _ = sink.flush();
            }
            Err(e) if sink.is_closed() => log::info!("stream stopped: the client went away ({e})"),
            Err(e) => {
                log::error!("stream failed: {e}");
                let _ = sink.tx.blocking_send(Err(std::io::Error::other("stream failed")));
            }
        }
    });
    let mut response = HttpResponse::Ok();
    response.content_type(content_type.to_string());
    for (name, value) in headers {
        response.insert_header((*name, value.clone()));
    }
    response.streaming(Body(rx))
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Sink::write(self, buf)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
