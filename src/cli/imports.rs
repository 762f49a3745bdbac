//! `tillit import`: an inventory file into an organisation's drafts.

use super::*;
use crate::imports::{pages::in_words, service as imports};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The .xlsx or CSV file.
    pub file: PathBuf,
    /// The organisation whose drafts the rows become (its short name, such as kinda).
    #[arg(long)]
    pub org: String,
    /// The person who imports: a coordinator of the organisation, by name.
    /// Without it, the organisation's only coordinator.
    #[arg(long = "as")]
    pub as_name: Option<String>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Language of the text format.
    #[arg(long, value_enum, default_value_t = Lang::Sv)]
    pub lang: Lang,
    #[command(flatten)]
    pub policies: PolicyArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

pub(super) fn import(args: ImportArgs) -> ExitCode {
    let policies = match policy::load(args.policies.policies.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(e) => return fail(format!("cannot read {}: {e}", args.file.display())),
    };
    let db = match open_database(&args.database.database, 1) {
        Ok(db) => db,
        Err(e) => return fail(e),
    };
    let result = db.get().and_then(|mut conn| {
        db::write(&mut conn, |conn| {
            let actor = crate::auth::service::command_line_actor(conn, &args.org, args.as_name.as_deref())?;
            imports::import_file(conn, &actor, &policies, &args.org, &bytes)
        })
    });
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            let (en, sv) = e.messages();
            return fail(if args.lang == Lang::Sv { sv } else { en });
        }
    };
    let output = match args.format {
        Format::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        Format::Text => {
            let lang = args.lang;
            let words = in_words(&report, lang);
            let text = |key: &str| crate::i18n::catalogue().text(lang, key);
            let mut out = format!("{}\n", words.summary);
            if !words.ignored_columns.is_empty() {
                out += &format!("{} {}\n", text("import_ignored_columns"), words.ignored_columns);
            }
            for row in &words.rows {
                out += &format!("\n{} {}: {}  {}\n", text("import_col_row"), row.row, row.name, row.outcome);
                if !row.filled.is_empty() {
                    out += &format!("  {}: {}\n", text("import_col_filled"), row.filled.join(", "));
                }
                if row.ready {
                    out += &format!("  {}: {}\n", text("import_col_missing"), text("import_nothing_missing"));
                } else if !row.missing.is_empty() {
                    out += &format!("  {}: {}\n", text("import_col_missing"), row.missing.join(", "));
                }
                for problem in &row.problems {
                    out += &format!("  {problem}\n");
                }
            }
            out
        }
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(output.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
