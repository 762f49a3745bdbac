//! The `tillit` command line: serve, migrate, check, token.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::auth::Role;
use crate::config::{DEFAULT_BIND, DEFAULT_DATABASE, Settings};
use crate::db::{self, Database, DatabaseUrl};
use crate::policy::text::Lang;
use crate::{AppState, build_app, demo, organisations, policy};

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
        Command::Serve(args) => serve(args),
        Command::Migrate(args) => migrate(args),
        Command::Check(args) => check(args),
        Command::Token(TokenCommand::Create(args)) => token_create(args),
        Command::Token(TokenCommand::Revoke { id, database }) => token_revoke(&id, &database.database),
        Command::People(PeopleCommand::List { org, database }) => people_list(&org, &database.database),
        Command::Password(PasswordCommand::Set { org, name, username, database }) => {
            password_set(&org, &name, &username, &database.database)
        }
        Command::Role(RoleCommand::Grant(args)) => role_change(args, true),
        Command::Role(RoleCommand::Revoke(args)) => role_change(args, false),
        Command::Audit(AuditCommand::Verify { database, checkpoints }) => {
            audit_verify(&database.database, &checkpoints)
        }
        Command::Audit(AuditCommand::Head { database }) => audit_head(&database.database),
        Command::Seed(args) => seed(args),
        Command::Policies(PoliciesCommand::Reload { policies, database }) => {
            policies_reload(&policies, &database.database)
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
        }) => export_compliance(
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
            policies_drift(&from, to, &policies, &database.database)
        }
    }
}

fn export_compliance(
    query: crate::reports::routes::ReportQuery,
    output: Option<PathBuf>,
    policies: &PolicyArgs,
    database: &str,
) -> ExitCode {
    let version = match policy::load(policies.policies.as_deref()) {
        Ok(p) => p.version().to_string(),
        Err(e) => return fail(e),
    };
    let mut conn = match open_existing(database) {
        Ok(conn) => conn,
        Err(e) => return fail(e),
    };
    let result = (|| -> Result<u64, crate::error::AppError> {
        let orgs: Vec<String> = crate::organisations::store::all(&mut conn)?.into_iter().map(|o| o.slug).collect();
        let (filter, format) = crate::reports::routes::parse(query, &orgs)?;
        let meta = crate::reports::routes::meta(&mut conn, &filter, &version)?;
        let sink: Box<dyn Write> =
            match &output {
                Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| {
                    crate::error::AppError::bad_request(format!("cannot write {}: {e}", path.display()))
                })?)),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
        let views = crate::web::Views::load().map_err(crate::error::AppError::internal)?;
        let readable = crate::reports::render::Readable {
            lang: "sv",
            strings: views.strings(crate::web::Lang::Sv).clone(),
            org_names: crate::organisations::store::all(&mut conn)?.into_iter().map(|o| (o.slug, o.name)).collect(),
        };
        let mut writer = crate::reports::render::Writer::new(format, sink, readable);
        writer.start(&meta)?;
        let rows = db::read(&mut conn, |conn| crate::reports::query::rows(conn, &filter, |row| writer.row(row)))?;
        writer.finish()?.flush().map_err(|e| crate::error::AppError::internal(e.to_string()))?;
        Ok(rows)
    })();
    match result {
        Ok(rows) => {
            eprintln!("{rows} rows");
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

fn policies_reload(args: &PolicyArgs, database: &str) -> ExitCode {
    let policies = match policy::load(args.policies.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    // One connection writes while two others read the next pages.
    let db = match open_database(database, 3) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let started = std::time::Instant::now();
    let result = db.get().and_then(|mut conn| {
        let (mut pages, mut history) = (db.get()?, db.get()?);
        let job = crate::policy::reevaluate::start_job(&mut conn, &policies)?;
        eprintln!("re-evaluating against rule set {} (job {})", policies.version(), job.id);
        crate::policy::reevaluate::run_job(&mut conn, [&mut pages, &mut history], &policies, job, |j| {
            eprint!("\r{}", progress_line("re-evaluating", j.done as usize, j.total as usize, started));
        })
    });
    eprintln!();
    match result {
        Ok(job) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::policy::reevaluate::JobStatus::from(&job)).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

fn policies_drift(from: &str, to: Option<String>, args: &PolicyArgs, database: &str) -> ExitCode {
    let to = match to {
        Some(to) => to,
        None => match policy::load(args.policies.as_deref()) {
            Ok(p) => p.version().to_string(),
            Err(e) => return fail(e),
        },
    };
    let mut conn = match open_existing(database) {
        Ok(conn) => conn,
        Err(e) => return fail(e),
    };
    match crate::policy::drift::drift(&mut conn, from, &to) {
        Ok(report) => {
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
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

fn seed(args: SeedArgs) -> ExitCode {
    let policies = match policy::load(args.policies.policies.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let db = match open_database(&args.database.database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let started = std::time::Instant::now();
    let total = args.synthetic;
    let result = db.get().and_then(|mut conn| {
        crate::seed::synthetic(&mut conn, &policies, total, args.seed, |done| {
            eprint!("\r{}", progress_line("seeding", done, total, started));
        })
    });
    eprintln!();
    match result {
        Ok(report) => {
            println!(
                "seeded {} services ({} failing a rule) and {} decisions in {:.1} s",
                report.services, report.failing, report.decisions, report.seconds
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
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

fn token_revoke(id: &str, database: &str) -> ExitCode {
    let db = match open_database(database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result =
        db.get().and_then(|mut conn| db::write(&mut conn, |conn| crate::auth::service::revoke_token(conn, None, id)));
    match result {
        Ok(revoked) => {
            println!("token {} revoked at {}", revoked.token_id, revoked.revoked_at);
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

fn people_list(org: &str, database: &str) -> ExitCode {
    let db = match open_database(database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result = db.get().and_then(|mut conn| {
        organisations::service::require(&mut conn, org)?;
        let users = crate::auth::store::users_of(&mut conn, org)?;
        let mut lines = Vec::new();
        for user in users {
            let roles: Vec<&str> =
                crate::auth::store::active_roles(&mut conn, &user.id)?.iter().map(|r| r.as_str()).collect();
            let state = if user.deactivated_at.is_some() { " (deactivated)" } else { "" };
            lines.push(format!("{}  {}{}  {}", user.id, user.name, state, roles.join(",")));
        }
        Ok(lines)
    });
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

fn role_change(args: RoleArgs, grant: bool) -> ExitCode {
    let Some(role) = Role::parse(&args.role) else {
        return fail(format!("unknown role '{}': use coordinator, approver, auditor or admin", args.role));
    };
    let db = match open_database(&args.database.database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result = db.get().and_then(|mut conn| {
        db::write(&mut conn, |conn| {
            if grant {
                let (user, _) = crate::auth::service::find_or_create_person(conn, &args.org, &args.name, None)?;
                crate::auth::service::grant_roles(conn, &user, &[role], None)?;
                Ok(user.id)
            } else {
                let user = crate::auth::store::find_user_by_name(conn, &args.org, args.name.trim())?
                    .ok_or(crate::error::AppError::NotFound)?;
                crate::auth::service::revoke_role_of(conn, &user, role, None)?;
                Ok(user.id)
            }
        })
    });
    match result {
        Ok(id) => {
            println!("{} {role} for {} ({id}) in {}", if grant { "granted" } else { "revoked" }, args.name, args.org);
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

fn audit_verify(database: &str, checkpoints: &[String]) -> ExitCode {
    let mut parsed = Vec::new();
    for c in checkpoints {
        let text = match c.strip_prefix('@') {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => return fail(format!("cannot read {path}: {e}")),
            },
            None => c.clone(),
        };
        match crate::audit::verify::Checkpoint::parse(&text) {
            Ok(cp) => parsed.push(cp),
            Err(e) => return fail(e),
        }
    }
    let mut conn = match open_existing(database) {
        Ok(conn) => conn,
        Err(e) => return fail(e),
    };
    match crate::audit::verify::verify(&mut conn, &parsed) {
        Ok(report) => {
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            if report.intact {
                ExitCode::SUCCESS
            } else {
                match report.first_tampered_event {
                    Some(seq) => eprintln!("tillit: the audit log is NOT intact; first tampered event: {seq}"),
                    None => eprintln!("tillit: the audit log is NOT intact"),
                }
                ExitCode::from(1)
            }
        }
        Err(e) => fail(format!("cannot verify: {}", error_text(&e))),
    }
}

fn audit_head(database: &str) -> ExitCode {
    let mut conn = match open_existing(database) {
        Ok(conn) => conn,
        Err(e) => return fail(e),
    };
    match crate::audit::store::head(&mut conn) {
        Ok((seq, entry_hash)) => {
            println!("{}", serde_json::json!({ "seq": seq, "entry_hash": entry_hash }));
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
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

fn migrate(args: DatabaseArgs) -> ExitCode {
    match open_database(&args.database, 1) {
        Ok(db) => {
            println!("database {} is migrated", db.url().redacted());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn check(args: CheckArgs) -> ExitCode {
    let policies = match policy::load(args.policies.policies.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let mut bytes = Vec::new();
    let read = if args.file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(&args.file).map(|b| bytes = b)
    };
    if let Err(e) = read {
        return fail(format!("cannot read {}: {e}", args.file));
    }
    let evaluation = match policies.evaluate_bytes(&bytes) {
        Ok((_, evaluation)) => evaluation,
        Err(e) => {
            // Not JSON at all: still answer in the contract's shape.
            crate::policy::model::Evaluation {
                verdict: crate::policy::Verdict::Invalid,
                rule_set_version: policies.version().into(),
                rules: Vec::new(),
                errors: vec![crate::error::FieldError::new(
                    "",
                    format!("The file is not valid JSON: {e}"),
                    format!("Filen är inte giltig JSON: {e}"),
                )],
            }
        }
    };
    let output = match args.format {
        Format::Json => serde_json::to_string_pretty(&evaluation).unwrap_or_default() + "\n",
        Format::Text => crate::policy::text::render(&args.file, &evaluation, args.lang),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(output.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    ExitCode::from(evaluation.verdict.exit_code() as u8)
}

fn token_create(args: TokenCreateArgs) -> ExitCode {
    let mut roles = Vec::new();
    for r in &args.roles {
        match Role::parse(r) {
            Some(role) => roles.push(role),
            None => {
                return fail(format!("unknown role '{r}': use coordinator, approver, auditor or admin"));
            }
        }
    }
    let db = match open_database(&args.database.database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result = db.get().and_then(|mut conn| {
        crate::auth::service::create_token(&mut conn, &args.org, &args.name, &roles, &args.label, args.days)
    });
    match result {
        Ok(issued) => {
            let roles: Vec<&str> = issued.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "{} {} in {} with roles {}",
                if issued.user_created { "created person" } else { "person" },
                issued.user_id,
                args.org,
                roles.join(", ")
            );
            println!("token {} expires {}", issued.token_id, db::rfc3339(&issued.expires_at));
            println!("{}", issued.secret);
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}

fn password_set(org: &str, name: &str, username: &str, database: &str) -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        return fail(format!("reading the password from standard input: {e}"));
    }
    let password = line.trim_end_matches(['\r', '\n']);
    let db = match open_database(database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result =
        db.get().and_then(|mut conn| crate::auth::sessions::set_password(&mut conn, org, name, username, password));
    match result {
        Ok(user_id) => {
            println!("{name} ({user_id}) in {org} signs in as {username}");
            ExitCode::SUCCESS
        }
        Err(crate::error::AppError::NotFound) => fail(format!("no person named '{name}' in {org}; create them first")),
        Err(e) => fail(error_text(&e)),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let policies = match policy::load(args.policies.policies.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    log::info!("rule set {} loaded from {}", policies.version(), policies.origin());
    // At least four: a re-evaluation after a rule change holds three while
    // it runs (one writes, two read ahead), and requests need one more.
    let db = match open_database(&args.database.database, args.pool_size.max(4)) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    if let Ok(mut conn) = db.get() {
        match crate::idempotency::purge_expired(&mut conn) {
            Ok(n) if n > 0 => {
                log::info!("purged {n} idempotency records older than {} days", crate::idempotency::RETENTION_DAYS)
            }
            Ok(_) => {}
            Err(e) => log::warn!("purging idempotency records: {e}"),
        }
    }
    if args.demo {
        let seeded = db.get().and_then(|mut conn| demo::seed(&mut conn, &policies));
        match seeded {
            Ok(logins) => demo::print_logins(&logins, &args.bind),
            Err(e) => return fail(format!("seeding the demo: {e}")),
        }
    }
    let rate_limit = match crate::ratelimit::parse_limit(&args.rate_limit) {
        Ok(limit) => limit,
        Err(e) => return fail(format!("--rate-limit: {e}")),
    };
    let mut trusted_proxies = Vec::new();
    for item in args.trusted_proxies.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.parse() {
            Ok(ip) => trusted_proxies.push(ip),
            Err(_) => return fail(format!("--trusted-proxies: '{item}' is not an IP address")),
        }
    }
    let sso = match &args.sso_config {
        Some(path) => match crate::auth::oidc::load(path) {
            Ok(sso) => {
                log::info!("single sign-on: {} identity providers", sso.providers.len());
                sso
            }
            Err(e) => return fail(format!("--sso-config: {e}")),
        },
        None => crate::auth::oidc::SsoSettings::default(),
    };
    let index_file = match args.index_file.as_deref() {
        Some("none") => None,
        Some(path) => Some(std::path::PathBuf::from(path)),
        None => Settings::default_index_file(db.url()),
    };
    let settings = Settings {
        sso,
        index_file,
        lookup_cache_bytes: args.lookup_cache_mb.saturating_mul(1024 * 1024),
        bind: args.bind.clone(),
        database: db.url().clone(),
        policies_dir: args.policies.policies.clone(),
        pool_size: args.pool_size,
        workers: args.workers,
        rate_limit,
        trusted_proxies,
        operators: args.operators.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
    };
    let started = std::time::Instant::now();
    let state = match AppState::new(db, policies, settings) {
        Ok(state) => state,
        Err(e) => return fail(format!("building the lookup index: {e}")),
    };
    let snapshot = state.lookup.snapshot();
    log::info!(
        "lookup index: {} services, about {} MB, built in {:.2} s; {} MB of it in memory advised for huge pages",
        snapshot.len(),
        snapshot.memory_bytes() / 1_000_000,
        started.elapsed().as_secs_f64(),
        snapshot.huge_page_bytes() / 1_000_000
    );
    drop(snapshot);
    // A changed rule set (or an interrupted re-evaluation) is picked up at start.
    let pending = state.db.get().and_then(|mut conn| crate::policy::reevaluate::pending(&mut conn, &state.policies()));
    match pending {
        Ok(true) => match state.spawn_reevaluation() {
            Ok(job) => log::info!(
                "re-evaluating against rule set {} in the background (job {})",
                job.rule_set_version,
                job.job_id
            ),
            Err(e) => log::error!("cannot start the re-evaluation: {e}"),
        },
        Ok(false) => {}
        Err(e) => log::error!("cannot check the rule set: {e}"),
    }
    // Other nodes' changes reach this node's index within the poll interval.
    let poller = state.clone();
    let poll = std::time::Duration::from_millis(args.index_poll_ms.max(50));
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(poll);
            if let Ok(mut conn) = poller.db.get() {
                poller.refresh_lookup(&mut conn);
            }
        }
    });
    let workers =
        if args.workers == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { args.workers };
    let result = actix_web::rt::System::new().block_on(async move {
        // Slow clients cannot hold a worker: the head of a request must arrive
        // within 10 s, and a closing connection is dropped after 5 s.
        let server = actix_web::HttpServer::new(move || build_app(state.clone()))
            .workers(workers)
            .client_request_timeout(std::time::Duration::from_secs(10))
            .client_disconnect_timeout(std::time::Duration::from_secs(5))
            .keep_alive(std::time::Duration::from_secs(30))
            .bind(&args.bind)?;
        log::info!("listening on http://{}", args.bind);
        server.run().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("server: {e}")),
    }
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
