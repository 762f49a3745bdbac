//! `tillit policies reload` and `policies drift`.

use super::*;

pub(super) fn policies_reload(args: &PolicyArgs, database: &str) -> ExitCode {
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

pub(super) fn policies_drift(from: &str, to: Option<String>, args: &PolicyArgs, database: &str) -> ExitCode {
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
