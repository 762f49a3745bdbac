//! The application state handed to `build_app`. No globals: everything a
//! handler needs is in here.

use std::sync::{Arc, RwLock};

use crate::config::Settings;
use crate::db::Database;
use crate::error::AppError;
use crate::lookup::SearchIndex;
use crate::policy::PolicySet;
use crate::policy::reevaluate::{self, JobStatus};
use crate::ratelimit::RateLimiter;
use crate::web::Views;

#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    policies: Arc<RwLock<Arc<PolicySet>>>,
    pub settings: Arc<Settings>,
    /// The in-memory lookup index.
    pub lookup: Arc<SearchIndex>,
    /// Lookup questions answered with no yes, counted until written.
    pub demand: Arc<crate::demand::DemandCounter>,
    /// Page templates and translations.
    pub views: Arc<Views>,
    /// Per-client limits on the public lookup and pages.
    pub limiter: Arc<RateLimiter>,
    /// Sign-in attempts per client address: a burst of 10, then one every
    /// six seconds, so passwords cannot be guessed at speed.
    pub sign_in_limiter: Arc<RateLimiter>,
    /// The HTTP client for identity providers (single sign-on).
    pub http: reqwest::Client,
    /// Identity providers' discovery documents and key sets, kept a while.
    pub sso_metadata: Arc<crate::auth::oidc::MetadataCache>,
}

impl AppState {
    /// Builds the state; this loads the lookup index from the database and
    /// records the rule set in force (once per version), so that the
    /// evaluations stored from here on can be stored in the lean form.
    pub fn new(db: Database, policies: PolicySet, settings: Settings) -> Result<Self, AppError> {
        let lookup = {
            let mut conn = db.get()?;
            crate::policy::reevaluate::register_rule_set(&mut conn, &policies)?;
            let mut index = SearchIndex::build(&mut conn, settings.index_file.as_deref())?;
            index.keep_answers(settings.lookup_cache_bytes);
            index
        };
        let lookup = Arc::new(lookup);
        db.on_commit(lookup.clone());
        let views = Views::load().map_err(AppError::internal)?;
        let limiter = RateLimiter::new(settings.rate_limit, settings.trusted_proxies.clone());
        let sign_in = if settings.rate_limit.is_off() {
            crate::ratelimit::Limit::off()
        } else {
            crate::ratelimit::Limit { per_second: 1.0 / 6.0, burst: 10.0 }
        };
        let sign_in_limiter = RateLimiter::new(sign_in, settings.trusted_proxies.clone());
        let http = crate::auth::oidc::http_client().map_err(AppError::internal)?;
        Ok(AppState {
            http,
            sso_metadata: Arc::new(crate::auth::oidc::MetadataCache::default()),
            limiter: Arc::new(limiter),
            sign_in_limiter: Arc::new(sign_in_limiter),
            views: Arc::new(views),
            db,
            policies: Arc::new(RwLock::new(Arc::new(policies))),
            settings: Arc::new(settings),
            lookup,
            demand: Arc::new(crate::demand::DemandCounter::default()),
        })
    }

    /// Writes the lookup questions counted on this node (kept for the next
    /// time when the database cannot take them).
    pub fn flush_demand(&self) {
        let written = self
            .db
            .get()
            .and_then(|mut conn| crate::demand::service::flush(&mut conn, &self.demand, crate::swedish::today()));
        if let Err(e) = written {
            log::warn!("lookup demand not written yet: {e}");
        }
    }

    /// Starts (or resumes) the job for the rule set in force in the background
    /// of a running server; the lookup index follows when it is done.
    pub fn spawn_reevaluation(&self) -> Result<JobStatus, AppError> {
        let policies = self.policies();
        let mut conn = self.db.get()?;
        let job = reevaluate::start_job(&mut conn, &policies)?;
        let status = JobStatus::from(&job);
        let state = self.clone();
        std::thread::spawn(move || {
            let result = state.db.get().and_then(|mut conn| {
                let (mut pages, mut history) = (state.db.get()?, state.db.get()?);
                state.db.committing(&mut conn, |conn| {
                    reevaluate::run_job(conn, [&mut pages, &mut history], &policies, job, |j| {
                        log::info!("re-evaluation {}: {}/{} revisions, {} flagged", j.id, j.done, j.total, j.flagged)
                    })
                })
            });
            if let Err(e) = result {
                log::error!("re-evaluation failed: {e}");
            }
        });
        Ok(status)
    }

    /// Brings the lookup index up to date with changes other nodes made
    /// (this node's own writes do it through `Database::committing`).
    pub fn refresh_lookup(&self, conn: &mut crate::db::DbConnection) {
        crate::db::AfterCommit::after_commit(&*self.lookup, conn);
    }

    /// The rule set in force. Cheap: a shared pointer, never a copy.
    pub fn policies(&self) -> Arc<PolicySet> {
        match self.policies.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts a new rule set in force; requests already running keep theirs.
    pub fn replace_policies(&self, policies: PolicySet) {
        let new = Arc::new(policies);
        match self.policies.write() {
            Ok(mut guard) => *guard = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}

impl AppState {
    /// 429 with `Retry-After` when the client has used up its bucket.
    pub fn rate_limit_sign_in(&self, req: &actix_web::HttpRequest) -> Result<(), AppError> {
        self.sign_in_limiter.check(req).map_err(|retry_after_secs| {
            log::info!("sign-in rate limit reached");
            AppError::TooManyRequests { retry_after_secs }
        })
    }

    pub fn rate_limit(&self, req: &actix_web::HttpRequest) -> Result<(), AppError> {
        self.limiter.check(req).map_err(|retry_after_secs| {
            log::info!("rate limit reached on {}", req.path());
            AppError::TooManyRequests { retry_after_secs }
        })
    }
}
