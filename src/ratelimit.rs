//! Rate limits on the public pages and the public lookup API: a token bucket
//! per client address, answered with 429 and `Retry-After` when empty.
//!
//! The client address is the TCP peer. `X-Forwarded-For` is believed only
//! when the peer is one of the configured trusted proxies
//! (`TILLIT_TRUSTED_PROXIES`), and then only its right-most entry that is
//! not itself a trusted proxy, so a client cannot choose its own address.
//! The state is in memory, per node; addresses are kept only as long as
//! their bucket is not full again (no log of addresses). The buckets are
//! `governor`'s.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actix_web::HttpRequest;
use governor::Quota;
use governor::clock::{Clock, DefaultClock};

/// Requests per second each client may make, sustained, and the burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub per_second: f64,
    pub burst: f64,
}

impl Limit {
    /// No limit (`TILLIT_RATE_LIMIT=0`).
    pub fn off() -> Limit {
        Limit { per_second: 0.0, burst: 0.0 }
    }

    pub fn is_off(&self) -> bool {
        self.per_second <= 0.0
    }
}

/// The default suits a town hall whose employees share one outgoing
/// address: a morning rush of 1,500 lookups at once, then 50 a second
/// (3,000 a minute) sustained; one address still cannot load the server
/// (a lookup costs microseconds).
impl Default for Limit {
    fn default() -> Self {
        Limit { per_second: 50.0, burst: 1500.0 }
    }
}

/// The per-address state: `governor`'s GCRA, the token bucket's
/// equivalent, in a sharded map.
type Buckets<C> = governor::RateLimiter<
    IpAddr,
    governor::state::keyed::DefaultKeyedStateStore<IpAddr>,
    C,
    governor::middleware::NoOpMiddleware<<C as Clock>::Instant>,
>;

/// Addresses kept before those whose buckets are full again are forgotten
/// (looked at every 1,024 checks).
const FORGET_ABOVE: usize = 10_000;

pub struct RateLimiter<C: Clock = DefaultClock> {
    trusted: Vec<IpAddr>,
    clock: C,
    /// None: no limit.
    buckets: Option<Buckets<C>>,
    /// Checks since the map's size was last looked at (counting its shards
    /// costs more than a check).
    checks: AtomicU32,
}

impl RateLimiter {
    pub fn new(limit: Limit, trusted: Vec<IpAddr>) -> RateLimiter {
        RateLimiter::with_clock(limit, trusted, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(limit: Limit, trusted: Vec<IpAddr>, clock: C) -> RateLimiter<C> {
        let buckets = quota(limit).map(|quota| {
            governor::RateLimiter::new(quota, governor::state::keyed::DefaultKeyedStateStore::default(), clock.clone())
        });
        RateLimiter { trusted, clock, buckets, checks: AtomicU32::new(0) }
    }

    /// The client's address, as described in the module documentation.
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr().map(|a| a.ip())?;
        if !self.trusted.contains(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|ip| ip.trim().parse().ok())
            .collect();
        Some(forwarded.into_iter().rev().find(|ip| !self.trusted.contains(ip)).unwrap_or(peer))
    }

    /// Takes one token for the client; `Err(seconds)` says when to retry.
    pub fn check(&self, req: &HttpRequest) -> Result<(), u64> {
        if self.buckets.is_none() {
            return Ok(());
        }
        let Some(ip) = self.client(req) else { return Ok(()) };
        self.take(ip)
    }

    fn take(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(buckets) = &self.buckets else { return Ok(()) };
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 0 && buckets.len() > FORGET_ABOVE {
            buckets.retain_recent();
        }
        buckets.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            (wait.as_secs_f64().ceil() as u64).max(1)
        })
    }
}

/// The limit as a quota: one request every `1 / per_second` seconds, and
/// `burst` at once (None: off).
fn quota(limit: Limit) -> Option<Quota> {
    if limit.is_off() {
        return None;
    }
    let burst = NonZeroU32::new(limit.burst.round().clamp(1.0, f64::from(u32::MAX)) as u32)?;
    Quota::with_period(Duration::from_secs_f64(1.0 / limit.per_second)).map(|q| q.allow_burst(burst))
}

/// Parses `TILLIT_RATE_LIMIT` ("10/60": 10 per second, burst 60; "0": off).
pub fn parse_limit(text: &str) -> Result<Limit, String> {
    let text = text.trim();
    if text == "0" || text.eq_ignore_ascii_case("off") {
        return Ok(Limit::off());
    }
    let (rate, burst) = text.split_once('/').unwrap_or((text, ""));
    let per_second: f64 = rate.trim().parse().map_err(|_| format!("'{text}' is not RATE or RATE/BURST"))?;
    let burst: f64 = if burst.is_empty() {
        per_second * 6.0
    } else {
        burst.trim().parse().map_err(|_| format!("bad burst in '{text}'"))?
    };
    if per_second <= 0.0 || burst < 1.0 {
        return Err(format!("'{text}': the rate must be above 0 and the burst at least 1"));
    }
    Ok(Limit { per_second, burst })
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_bucket_empties_and_refills() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(Limit { per_second: 2.0, burst: 3.0 }, Vec::new(), clock.clone());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.take(ip).is_ok());
        }
        assert_eq!(limiter.take(ip), Err(1));
        clock.advance(Duration::from_millis(600));
        assert!(limiter.take(ip).is_ok());
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.take(other).is_ok(), "per client");
    }

    #[test]
    fn the_default_lets_a_town_hall_behind_one_address_through_its_morning() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(Limit::default(), Vec::new(), clock.clone());
        let nat: IpAddr = "192.0.2.10".parse().unwrap();
        // 1,000 employees look something up in the same second, then 40 a second for ten minutes.
        for _ in 0..1000 {
            assert!(limiter.take(nat).is_ok());
        }
        for second in 1..=600u64 {
            clock.advance(Duration::from_secs(1));
            for _ in 0..40 {
                assert!(limiter.take(nat).is_ok(), "second {second}");
            }
        }
        assert_eq!(Limit::default(), parse_limit("50/1500").unwrap());
    }

    #[test]
    fn limits_parse() {
        assert_eq!(parse_limit("10/60").unwrap(), Limit { per_second: 10.0, burst: 60.0 });
        assert!(parse_limit("0").unwrap().is_off());
        assert_eq!(parse_limit("5").unwrap().burst, 30.0);
        assert!(parse_limit("x").is_err());
        assert!(parse_limit("-1").is_err());
    }
}
