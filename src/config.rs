//! Settings, passed in to `build_app` (never global).

use std::path::PathBuf;

use crate::db::DatabaseUrl;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "sqlite://tillit.db";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on (`TILLIT_BIND`, `--bind`).
    pub bind: String,
    /// The database (`TILLIT_DATABASE_URL`, `--database`).
    pub database: DatabaseUrl,
    /// A directory of policies to use instead of the built-in ones
    /// (`TILLIT_POLICIES`, `--policies`).
    pub policies_dir: Option<PathBuf>,
    /// Connections in the pool.
    pub pool_size: u32,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Per-client limit on the public lookup and pages (`TILLIT_RATE_LIMIT`).
    pub rate_limit: crate::ratelimit::Limit,
    /// Proxies whose `X-Forwarded-For` is believed (`TILLIT_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Single sign-on: each organisation's identity provider
    /// (`TILLIT_SSO_CONFIG`, `--sso-config`).
    pub sso: crate::auth::oidc::SsoSettings,
    /// Where the lookup index is saved between starts (`TILLIT_INDEX_FILE`,
    /// `--index-file`); None: rebuilt from the database at every start.
    pub index_file: Option<PathBuf>,
    /// Bytes of lookup answers kept for questions asked again
    /// (`TILLIT_LOOKUP_CACHE_MB`, `--lookup-cache-mb`); 0 keeps none.
    pub lookup_cache_bytes: u64,
    /// People (ids) who may act for the whole deployment over HTTP, such as
    /// reloading the rule set (`TILLIT_OPERATORS`, `--operators`). None by
    /// default: then only the command line, which is the operator, does.
    pub operators: Vec<String>,
}

impl Settings {
    pub fn for_database(database: DatabaseUrl) -> Settings {
        Settings {
            bind: DEFAULT_BIND.to_string(),
            policies_dir: None,
            pool_size: 8,
            workers: 0,
            rate_limit: crate::ratelimit::Limit::default(),
            trusted_proxies: Vec::new(),
            sso: crate::auth::oidc::SsoSettings::default(),
            index_file: Settings::default_index_file(&database),
            lookup_cache_bytes: crate::lookup::service::DEFAULT_ANSWER_CACHE_BYTES,
            operators: Vec::new(),
            database,
        }
    }

    /// Next to a SQLite database (`tillit.db` → `tillit.db.lookup`); none for
    /// PostgreSQL, where nodes share no disk.
    pub fn default_index_file(database: &DatabaseUrl) -> Option<PathBuf> {
        match database {
            DatabaseUrl::Sqlite(path) => {
                let mut file = path.as_os_str().to_owned();
                file.push(".lookup");
                Some(PathBuf::from(file))
            }
            DatabaseUrl::Postgres(_) => None,
        }
    }
}
