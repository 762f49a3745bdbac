//! Storage: one diesel `MultiConnection` over SQLite (the embedded default) and
//! PostgreSQL, chosen at run time from the database URL.

pub mod schema;
mod sqlite;
mod url;

use crate::error::AppError;
use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
pub use sqlite::*;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
pub use url::*;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Business tables whose every row is covered by the audit log.
pub const AUDITED_TABLES: &[&str] = &[
    "organisations",
    "users",
    "role_grants",
    "api_tokens",
    "services",
    "revisions",
    "evaluations",
    "delegations",
    "decisions",
    "rule_sets",
    "re_reviews",
    "revision_contributors",
    "password_credentials",
    "sso_identities",
];

/// How long an SQLite connection waits for the write lock before giving up.
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// How many times a write transaction is retried when the database reports
/// contention (`SQLITE_BUSY`, PostgreSQL serialization failure or deadlock).
const WRITE_RETRIES: u32 = 4;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

/// Runs the same diesel statement on whichever backend the connection is,
/// for the few statements the multi-backend type cannot express (batch
/// inserts, backend-specific SQL).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Postgres(_) => Backend::Postgres,
        }
    }
}

/// What must follow every committed write on this node: the lookup index
/// catching up. A trait, so that this floor knows nothing of the lookup.
pub trait AfterCommit: Send + Sync {
    fn after_commit(&self, conn: &mut DbConnection);
}

/// The database handle kept in the application state.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    url: DatabaseUrl,
    /// Set once when the application state is built.
    after_commit: Arc<OnceLock<Arc<dyn AfterCommit>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("url", &self.url).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("cannot build the connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("durability check failed: {0}")]
    Durability(String),
}

impl Database {
    /// Opens the database, sets WAL once (SQLite), runs pending migrations,
    /// checks the durability settings and builds the pool.
    pub fn open(url: &DatabaseUrl, pool_size: u32) -> Result<Database, OpenError> {
        let mut conn = url.connect()?;
        if let DbConnection::Sqlite(c) = &mut conn {
            diesel::sql_query("PRAGMA journal_mode = WAL").execute(c).map_err(ConnectError::from)?;
        }
        run_migrations(&mut conn)?;
        check_durability(&mut conn)?;
        drop(conn);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.clone() })?;
        Ok(Database { pool, url: url.clone(), after_commit: Arc::new(OnceLock::new()) })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// A pooled connection, for blocking code.
    pub fn get(&self) -> Result<PooledConnection, AppError> {
        self.pool.get().map_err(|e| {
            log::error!("database pool: {e}");
            AppError::Unavailable
        })
    }

    /// Runs blocking database work on actix's blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
    }

    /// Sets what follows every committed write (`committing`); once.
    pub fn on_commit(&self, hook: Arc<dyn AfterCommit>) {
        if self.after_commit.set(hook).is_err() {
            log::warn!("the after-commit hook was already set");
        }
    }

    /// Runs `f`, which commits its writes (`write`), then the after-commit
    /// hook: the one place a write is followed by the lookup's refresh. The
    /// hook runs when `f` fails too, since a long job may have committed
    /// batches before it failed.
    pub fn committing<T, F>(&self, conn: &mut DbConnection, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError>,
    {
        let result = f(conn);
        if let Some(hook) = self.after_commit.get() {
            hook.after_commit(conn);
        }
        result
    }

    /// `committing` on actix's blocking pool.
    pub async fn run_committing<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        self.run(move |conn| db.committing(conn, f)).await
    }
}

/// Runs every pending migration for the connection's backend. On PostgreSQL an
/// advisory lock keeps two starting nodes from migrating at the same time.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, OpenError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
        }
        DbConnection::Postgres(c) => {
            diesel::sql_query("SELECT pg_advisory_lock(7242655)")
                .execute(c)
                .map_err(|e| OpenError::Migration(e.to_string()))?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>());
            diesel::sql_query("SELECT pg_advisory_unlock(7242655)")
                .execute(c)
                .map_err(|e| OpenError::Migration(e.to_string()))?;
            result
        }
    };
    applied.map_err(|e| OpenError::Migration(e.to_string()))
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn setting(conn: &mut DbConnection, sql: &str) -> Result<String, OpenError> {
    let rows: Vec<Setting> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
        DbConnection::Postgres(c) => diesel::sql_query(sql).load(c),
    }
    .map_err(|e| OpenError::Durability(e.to_string()))?;
    Ok(rows.into_iter().next().map(|s| s.value).unwrap_or_default())
}

/// Refuses to run with settings that could lose an acknowledged write.
pub fn check_durability(conn: &mut DbConnection) -> Result<(), OpenError> {
    let checks: &[(&str, &str)] = match conn.backend() {
        Backend::Sqlite => &[
            ("SELECT journal_mode AS value FROM pragma_journal_mode()", "wal"),
            ("SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous()", "2"),
            ("SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys()", "1"),
        ],
        Backend::Postgres => &[
            ("SELECT setting AS value FROM pg_settings WHERE name = 'fsync'", "on"),
            ("SELECT setting AS value FROM pg_settings WHERE name = 'synchronous_commit'", "on"),
        ],
    };
    for (sql, expected) in checks {
        let value = setting(conn, sql)?;
        if !value.eq_ignore_ascii_case(expected) {
            return Err(OpenError::Durability(format!("`{sql}` gave '{value}', expected '{expected}'")));
        }
    }
    Ok(())
}

/// Current UTC time at the precision both backends store (microseconds).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// `YYYY-MM-DD`, the one textual form of a date (the same as `%Y-%m-%d`,
/// without parsing a format string for every date of a report or an answer).
pub fn date_text(d: &chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// RFC 3339 UTC text with microseconds, the one textual form of a timestamp.
pub fn rfc3339(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn rfc3339_opt(t: &Option<NaiveDateTime>) -> Option<String> {
    t.as_ref().map(rfc3339)
}

/// Takes the chain-head row as the first statement of a write transaction.
/// On SQLite the no-op UPDATE acquires the write lock at once (like
/// `BEGIN IMMEDIATE`, waiting up to the busy timeout); on PostgreSQL the row
/// lock serialises writers across every node.
fn lock_head(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(c)?,
        DbConnection::Postgres(c) => {
            diesel::sql_query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").execute(c)?
        }
    };
    Ok(())
}

/// The one write path: a transaction that first takes the chain head, runs
/// `f`, and commits. Contention is retried a bounded number of times, then
/// answered with 503. Nothing is acknowledged before COMMIT returns.
pub fn write<T, F>(conn: &mut DbConnection, mut f: F) -> Result<T, AppError>
where
    F: FnMut(&mut DbConnection) -> Result<T, AppError>,
{
    let mut attempt = 0;
    loop {
        let result = conn.transaction::<T, AppError, _>(|conn| {
            if crate::fault::active() != crate::fault::Fault::SkipCas {
                lock_head(conn)?;
            }
            f(conn)
        });
        match result {
            Err(AppError::Busy) if attempt < WRITE_RETRIES => {
                attempt += 1;
                let jitter = u64::from(getrandom::u32().unwrap_or(0) % 50);
                std::thread::sleep(Duration::from_millis(20 * u64::from(attempt) + jitter));
            }
            Err(AppError::Busy) => return Err(AppError::Unavailable),
            other => return other,
        }
    }
}

/// A read-only transaction, so that several queries see one snapshot.
pub fn read<T, F>(conn: &mut DbConnection, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError>,
{
    conn.transaction::<T, AppError, _>(f)
}

/// Stores an enum with `as_str` and `parse` in a TEXT column (which a CHECK
/// constrains in both migrations), so that rows hold the enum, never a
/// string. The enum derives `AsExpression` and `FromSqlRow` for `Text`.
macro_rules! text_enum {
    ($ty:ty) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value(self.as_str());
                Ok(diesel::serialize::IsNull::No)
            }
        }
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                std::io::Write::write_all(out, self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn from_sql(
                bytes: <diesel::sqlite::Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::from_sql(
                        bytes,
                    )?;
                <$ty>::parse(&text).ok_or_else(|| format!("not a {}: {text:.40}", stringify!($ty)).into())
            }
        }
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(
                bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(bytes)?;
                <$ty>::parse(&text).ok_or_else(|| format!("not a {}: {text:.40}", stringify!($ty)).into())
            }
        }
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                bytes.from_sql::<$ty, diesel::sql_types::Text>()
            }
        }
    };
}
pub(crate) use text_enum;

#[cfg(test)]
mod tests;
