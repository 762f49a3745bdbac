//! `tillit seed`: synthetic data for load tests and benchmarks.

use super::*;

pub(super) fn seed(args: SeedArgs) -> ExitCode {
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
        crate::dev::seed::synthetic(&mut conn, &policies, total, args.seed, |done| {
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
