//! Which database a URL names, and connecting to it.

use std::path::PathBuf;

use diesel::prelude::*;

use super::{Backend, DbConnection, apply_sqlite_pragmas};

/// A parsed database URL. Anything other than `sqlite://PATH` or
/// `postgres://…` is refused, so that a typo never silently creates a new,
/// empty SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.redacted())
    }
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("the sqlite:// URL has no file path (use sqlite://tillit.db)".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            if !path.is_empty() && !path.starts_with(':') {
                return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
            }
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err(format!("unsupported database URL '{}': use sqlite://PATH or postgres://USER@HOST/DB", redact(url)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with any password removed, for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => redact(u),
        }
    }

    /// Opens one connection, with the SQLite pragmas applied.
    pub fn connect(&self) -> Result<DbConnection, ConnectError> {
        match self {
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_str().ok_or(ConnectError::Path)?;
                let mut conn = diesel::SqliteConnection::establish(path)?;
                apply_sqlite_pragmas(&mut conn)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => Ok(DbConnection::Postgres(diesel::PgConnection::establish(url)?)),
        }
    }
}

fn redact(url: &str) -> String {
    // postgres://user:secret@host/db -> postgres://user:***@host/db
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("database setup failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("the SQLite path is not valid UTF-8")]
    Path,
}

/// r2d2 manager that connects by the parsed URL (diesel's derived
/// `establish` would try every backend in turn, which is not safe for SQLite).
#[derive(Debug, Clone)]
pub struct Manager {
    pub(super) url: DatabaseUrl,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

pub type PooledConnection = r2d2::PooledConnection<Manager>;
