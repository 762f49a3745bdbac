//! The floor for HTTP benchmarks: a minimal actix-web JSON handler, built
//! with the same actix-web and allocator as Tillit and run the same way.
//! `cargo build --release --example floor`; then `floor 127.0.0.1:PORT`.

use actix_web::{App, HttpResponse, HttpServer, get};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[get("/json")]
async fn json() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "message": "Hello, World!" }))
}

fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".to_string());
    actix_web::rt::System::new()
        .block_on(async move { HttpServer::new(|| App::new().service(json)).workers(1).bind(bind)?.run().await })
}
