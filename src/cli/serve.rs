//! `tillit serve` and `tillit migrate`.

use super::*;

pub(super) fn migrate(args: DatabaseArgs) -> ExitCode {
    match open_database(&args.database, 1) {
        Ok(db) => {
            println!("database {} is migrated", db.url().redacted());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub(super) fn serve(args: ServeArgs) -> ExitCode {
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
    // The lookup's unanswered questions, written in batches (and once more
    // when the server stops), so that a lookup never waits for the database.
    let flusher = state.clone();
    let every = std::time::Duration::from_secs(args.demand_flush_seconds.max(1));
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(every);
            flusher.flush_demand();
        }
    });
    let last_flush = state.clone();
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
    last_flush.flush_demand();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("server: {e}")),
    }
}
