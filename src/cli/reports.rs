//! `tillit export compliance`.

use super::*;

pub(super) fn export_compliance(
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
        crate::i18n::catalogue().check().map_err(crate::error::AppError::internal)?;
        let readable = crate::reports::render::Readable::new(
            crate::lang::Lang::Sv,
            crate::organisations::store::all(&mut conn)?.into_iter().map(|o| (o.slug, o.name)).collect(),
        );
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
