//! Helpers for the campaigns that run the real binary: a tiny HTTP client,
//! starting and killing servers, tokens, verification and counts.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde_json::{Value, json};
use tillit::db::DatabaseUrl;

use super::{example, set_pointer};

pub const BIN: &str = env!("CARGO_BIN_EXE_tillit");

pub struct HttpResponse {
    pub status: u16,
    pub body: Value,
}

/// One HTTP/1.1 request on a fresh connection.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &str,
) -> std::io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(key) = key {
        request.push_str(&format!("Idempotency-Key: {key}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status =
        text.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("no status"))?;
    let body_text = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    // Bodies of our JSON answers are not chunked (they have a length).
    Ok(HttpResponse { status, body: serde_json::from_str(body_text).unwrap_or(Value::Null) })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[allow(clippy::zombie_processes)] // every caller kills and waits for the child
pub fn start_server(database: &str, port: u16) -> Child {
    start_server_with(database, port, &[])
}

#[allow(clippy::zombie_processes)] // every caller kills and waits for the child
pub fn start_server_with(database: &str, port: u16, env: &[(&str, &str)]) -> Child {
    let child = Command::new(BIN)
        .envs(env.iter().copied())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database", database, "--workers", "2"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if http(port, "GET", "/healthz", None, None, "").is_ok_and(|r| r.status == 200) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the server did not start");
}

pub fn token(database: &str, org: &str, name: &str, role: &str) -> String {
    let out = Command::new(BIN)
        .args(["token", "create", "--org", org, "--name", name, "--role", role, "--database", database])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_string()
}

pub fn verify(database: &str, checkpoints: &[String]) -> (i32, Value) {
    let mut cmd = Command::new(BIN);
    cmd.args(["audit", "verify", "--database", database]);
    for c in checkpoints {
        cmd.args(["--checkpoint", c]);
    }
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report)
}

pub fn document(name: &str) -> String {
    let mut doc = example("internal-assistant-pass");
    set_pointer(&mut doc, "/service/name", json!(name));
    doc.to_string()
}

#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

pub fn count(url: &DatabaseUrl, sql: &str) -> i64 {
    let rows: Vec<Count> = match url {
        DatabaseUrl::Sqlite(p) => {
            diesel::sql_query(sql).load(&mut diesel::SqliteConnection::establish(p.to_str().unwrap()).unwrap()).unwrap()
        }
        DatabaseUrl::Postgres(u) => {
            diesel::sql_query(sql).load(&mut diesel::PgConnection::establish(u).unwrap()).unwrap()
        }
    };
    rows[0].n
}
