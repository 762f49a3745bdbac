//! `tillit audit verify`, `audit head` and `audit export`.

use super::*;

pub(super) fn audit_verify(database: &str, checkpoints: &[String]) -> ExitCode {
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

pub(super) fn audit_head(database: &str) -> ExitCode {
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

pub(super) fn audit_export(database: &str, after_seq: i64, output: Option<PathBuf>) -> ExitCode {
    let mut conn = match open_existing(database) {
        Ok(conn) => conn,
        Err(e) => return fail(e),
    };
    let mut sink: Box<dyn Write> = match &output {
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => Box::new(std::io::BufWriter::new(file)),
            Err(e) => return fail(format!("cannot write {}: {e}", path.display())),
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let written = crate::audit::store::export_lines(&mut conn, after_seq.max(0), |line| {
        sink.write_all(line).map_err(|e| crate::error::AppError::internal(format!("cannot write: {e}")))
    });
    match written.and_then(|n| {
        sink.flush().map_err(|e| crate::error::AppError::internal(format!("cannot write: {e}")))?;
        Ok(n)
    }) {
        Ok(n) => {
            eprintln!("{n} events");
            ExitCode::SUCCESS
        }
        Err(e) => fail(error_text(&e)),
    }
}
