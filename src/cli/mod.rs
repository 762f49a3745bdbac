//! The `tillit` command line: the commands and their options here, one file per
//! command group beside it.

mod audit;
mod check;
mod imports;
mod people;
mod policies;
mod reports;
mod seed;
mod serve;

pub use imports::ImportArgs;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::auth::Role;
use crate::config::{DEFAULT_BIND, DEFAULT_DATABASE, Settings};
use crate::db::{self, Database, DatabaseUrl};
use crate::dev::demo;
use crate::lang::Lang;
use crate::{AppState, build_app, organisations, policy};

#[derive(Debug, Parser)]
#[command(name = "tillit", version, about = "Registry of approved AI services for Swedish municipalities")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (creates and migrates the database on first start).
    Serve(ServeArgs),
    /// Run pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Evaluate a submission document offline against the AI rules.
    /// Exit 0: it meets the rules; 1: it does not; 2: the document is
    /// invalid or cannot be read.
    Check(CheckArgs),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// People and their roles.
    #[command(subcommand)]
    People(PeopleCommand),
    /// Local passwords for signing in on the web pages.
    #[command(subcommand)]
    Password(PasswordCommand),
    /// Roles of a person.
    #[command(subcommand)]
    Role(RoleCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Fill a database with synthetic services for load tests and benchmarks.
    Seed(SeedArgs),
    /// The rule set: re-evaluate after a change, or compare two versions.
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// Export reports.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Import an inventory of AI services (.xlsx or CSV, as the template
    /// from GET /api/v1/import-template.xlsx): each row becomes a draft of
    /// the organisation, or updates the draft an earlier import made.
    Import(ImportArgs),
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The compliance report (as GET /api/v1/reports/compliance), to a file or stdout.
    Compliance {
        /// Only this organisation's rows (its short name, such as kinda).
        #[arg(long)]
        org: Option<String>,
        /// Only rows with this status: allowed, allowed_with_conditions,
        /// not_allowed, expired or not_assessed.
        #[arg(long)]
        status: Option<String>,
        /// Only services of this risk class: prohibited, high_risk,
        /// limited_transparency, minimal or not_ai_system.
        #[arg(long = "risk-class")]
        risk_class: Option<String>,
        /// Only approvals that end within this many days.
        #[arg(long = "expiring-within-days")]
        expiring_within_days: Option<i64>,
        /// What the registry said at the end of this day in Sweden (YYYY-MM-DD).
        #[arg(long = "as-of")]
        as_of: Option<String>,
        /// csv, csv-excel, json, html or xlsx (html and xlsx in Swedish words).
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        policies: PolicyArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// Register the rule set in the policy directory (or the built-in one)
    /// and re-evaluate every revision with a live approval and the latest
    /// revision of every service against it. Resumes an interrupted run.
    Reload {
        #[command(flatten)]
        policies: PolicyArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// What changed between two rule-set versions, per rule and per service (JSON).
    Drift {
        /// The earlier rule-set version, as recorded (such as 2026.1+c87c65eedf32).
        #[arg(long)]
        from: String,
        /// Default: the rule set in the policy directory (or built in).
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        policies: PolicyArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many services.
    #[arg(long)]
    pub synthetic: usize,
    /// The seed: the same seed gives the same registry.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub policies: PolicyArgs,
}

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// List the people of an organisation with their roles.
    List {
        /// The organisation's short name, such as kinda.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The organisation's short name, such as kinda.
    #[arg(long)]
    pub org: String,
    /// The person's name in the organisation.
    #[arg(long)]
    pub name: String,
    /// coordinator, approver, auditor or admin
    #[arg(long)]
    pub role: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Grant a role (the person is created if new).
    Grant(RoleArgs),
    /// Revoke a role.
    Revoke(RoleArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the whole chain and check every business row against its
    /// latest event. Prints a JSON summary. Exit 0: intact; 1: tampered
    /// (including a row that cannot be read); 2: the database cannot be
    /// opened or read.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
        /// A head saved earlier outside Tillit (SEQ:HASH, or the JSON of
        /// GET /api/v1/audit/head, or @FILE holding either); repeatable.
        #[arg(long = "checkpoint")]
        checkpoints: Vec<String>,
    },
    /// Print the chain head as JSON, to save as a checkpoint.
    Head {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Write the audit log as JSON lines, one event per line in chain order
    /// (as GET /api/v1/audit), for checking with a tool of your own.
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Start after this sequence number (default: from the beginning).
        #[arg(long = "after-seq", default_value_t = 0)]
        after_seq: i64,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH or postgres://USER@HOST/DB
    #[arg(long = "database", env = "TILLIT_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub database: String,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A directory of policy files to use instead of the ones built in.
    #[arg(long = "policies", env = "TILLIT_POLICIES")]
    pub policies: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TILLIT_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// Seed realistic demo services and people, and print how to sign in.
    #[arg(long)]
    pub demo: bool,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "TILLIT_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Database connections in the pool (at least 4).
    #[arg(long, env = "TILLIT_POOL_SIZE", default_value_t = 8)]
    pub pool_size: u32,
    /// How often (ms) the lookup index checks for changes made by other nodes.
    #[arg(long, env = "TILLIT_INDEX_POLL_MS", default_value_t = 1000)]
    pub index_poll_ms: u64,
    /// How often (seconds) the lookup questions answered with no yes are
    /// written to the database (the counts coordinators see).
    #[arg(long, env = "TILLIT_DEMAND_FLUSH_SECONDS", default_value_t = 60)]
    pub demand_flush_seconds: u64,
    /// Where the lookup index is saved between starts ("none": rebuilt from
    /// the database at every start). Default: next to a SQLite database
    /// (`tillit.db.lookup`); none for PostgreSQL.
    #[arg(long, env = "TILLIT_INDEX_FILE")]
    pub index_file: Option<String>,
    /// Megabytes of lookup answers kept for questions asked again (0: none).
    /// Any change to a service or decision empties it.
    #[arg(long, env = "TILLIT_LOOKUP_CACHE_MB", default_value_t = 16)]
    pub lookup_cache_mb: u64,
    /// Per-client limit on the public lookup and pages: RATE/BURST requests
    /// per second ("50/1500": 50 a second, bursts of 1,500), or 0 for none.
    #[arg(long, env = "TILLIT_RATE_LIMIT", default_value = "50/1500")]
    pub rate_limit: String,
    /// Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed.
    #[arg(long, env = "TILLIT_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Comma-separated ids of people who may act for the whole deployment
    /// over HTTP (reloading the rule set). Empty: only the command line may.
    #[arg(long, env = "TILLIT_OPERATORS", default_value = "")]
    pub operators: String,
    /// A JSON file naming each organisation's OpenID Connect identity
    /// provider, for single sign-on (see the README).
    #[arg(long, env = "TILLIT_SSO_CONFIG")]
    pub sso_config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Language of the text format.
    #[arg(long, value_enum, default_value_t = Lang::Sv)]
    pub lang: Lang,
    #[command(flatten)]
    pub policies: PolicyArgs,
    /// The submission document, or - for standard input.
    pub file: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a person (or reuse them by name) with roles, and print a new
    /// bearer token as the last line of output.
    Create(TokenCreateArgs),
    /// Revoke a token at once.
    Revoke {
        /// The token's id (printed by `token create`).
        #[arg(long)]
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum PasswordCommand {
    /// Give a person a user name and a local password (read from the first
    /// line of standard input, 12-256 characters). Replacing a password ends
    /// the person's sessions.
    Set {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
        /// The person's name, as created by `token create` or the API.
        #[arg(long)]
        name: String,
        /// The user name to sign in with (a-z, 0-9, dot, underscore, hyphen).
        #[arg(long)]
        username: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The organisation's slug, such as kinda or itsam.
    #[arg(long)]
    pub org: String,
    /// The person's name (reused if it already exists in the organisation).
    #[arg(long)]
    pub name: String,
    /// coordinator, approver, auditor or admin; repeat for several.
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
    /// A label for the token.
    #[arg(long, default_value = "cli")]
    pub label: String,
    /// Days until the token expires.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("tillit: {message}");
    ExitCode::from(2)
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Migrate(args) => serve::migrate(args),
        Command::Check(args) => check::check(args),
        Command::Token(TokenCommand::Create(args)) => people::token_create(args),
        Command::Token(TokenCommand::Revoke { id, database }) => people::token_revoke(&id, &database.database),
        Command::People(PeopleCommand::List { org, database }) => people::people_list(&org, &database.database),
        Command::Password(PasswordCommand::Set { org, name, username, database }) => {
            people::password_set(&org, &name, &username, &database.database)
        }
        Command::Role(RoleCommand::Grant(args)) => people::role_change(args, true),
        Command::Role(RoleCommand::Revoke(args)) => people::role_change(args, false),
        Command::Audit(AuditCommand::Verify { database, checkpoints }) => {
            audit::audit_verify(&database.database, &checkpoints)
        }
        Command::Audit(AuditCommand::Head { database }) => audit::audit_head(&database.database),
        Command::Audit(AuditCommand::Export { database, after_seq, output }) => {
            audit::audit_export(&database.database, after_seq, output)
        }
        Command::Seed(args) => seed::seed(args),
        Command::Import(args) => imports::import(args),
        Command::Policies(PoliciesCommand::Reload { policies, database }) => {
            policies::policies_reload(&policies, &database.database)
        }
        Command::Export(ExportCommand::Compliance {
            org,
            status,
            risk_class,
            expiring_within_days,
            as_of,
            format,
            output,
            policies,
            database,
        }) => reports::export_compliance(
            crate::reports::routes::ReportQuery {
                org,
                status,
                risk_class,
                expiring_within_days,
                as_of,
                format: Some(format),
            },
            output,
            &policies,
            &database.database,
        ),
        Command::Policies(PoliciesCommand::Drift { from, to, policies, database }) => {
            policies::policies_drift(&from, to, &policies, &database.database)
        }
    }
}

/// A progress line for long runs: done, rate and time left.
pub fn progress_line(what: &str, done: usize, total: usize, started: std::time::Instant) -> String {
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let rate = done as f64 / secs;
    let left = if rate > 0.0 { (total.saturating_sub(done)) as f64 / rate } else { 0.0 };
    let width = 30;
    let filled = (done * width).checked_div(total).map_or(width, |f| f.min(width));
    format!(
        "{what} [{}{}] {done}/{total} {rate:.0}/s, {left:.0} s left",
        "#".repeat(filled),
        " ".repeat(width - filled)
    )
}

fn error_text(e: &crate::error::AppError) -> String {
    let (message, _) = e.messages();
    e.details().first().map(|d| d.message.clone()).unwrap_or(message)
}

/// Opens an existing database without migrating or seeding it (for read-only
/// and verification commands, which must not change what they inspect).
fn open_existing(url: &str) -> Result<db::DbConnection, String> {
    let url = DatabaseUrl::parse(url)?;
    if let DatabaseUrl::Sqlite(path) = &url {
        if !path.exists() {
            return Err(format!("no database at {}", path.display()));
        }
    }
    url.connect().map_err(|e| format!("{}: {e}", url.redacted()))
}

fn open_database(url: &str, pool_size: u32) -> Result<Database, String> {
    let url = DatabaseUrl::parse(url)?;
    let db = Database::open(&url, pool_size).map_err(|e| format!("{}: {e}", url.redacted()))?;
    let mut conn = db.get().map_err(|e| e.to_string())?;
    organisations::service::seed_defaults(&mut conn).map_err(|e| format!("seeding organisations: {e}"))?;
    crate::auth::oidc::record_credentials_from_before(&mut conn)
        .map_err(|e| format!("recording earlier credentials in the audit log: {e}"))?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command and every option says what it is for in `--help`.
    #[test]
    fn every_command_and_option_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "tillit", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }

    #[test]
    fn the_exit_codes_are_in_the_help() {
        let mut cli = Cli::command();
        let audit = cli.find_subcommand_mut("audit").unwrap();
        let verify = audit.find_subcommand_mut("verify").unwrap().render_long_help().to_string();
        assert!(verify.contains("0:") && verify.contains("1:") && verify.contains("2:"), "{verify}");
        let check = Cli::command().find_subcommand_mut("check").unwrap().render_long_help().to_string();
        assert!(check.contains("0:") && check.contains("2:"), "{check}");
    }
}
