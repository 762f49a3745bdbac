//! Rate limits on the public pages and the public lookup API: a token bucket
//! per client address, answered with 429 and `Retry-After` when empty.
//!
//! The client address is the TCP peer. `X-Forwarded-For` is believed only
//! when the peer is one of the configured trusted proxies
//! (`TILLIT_TRUSTED_PROXIES`), and then only its right-most entry that is
//! not itself a trusted proxy, so a client cannot choose its own address.
//! The state is in memory, per node; addresses are kept only as long as
//! their bucket is not full again (no log of addresses).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::HttpRequest;

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

const SHARDS: usize = 16;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    limit: Limit,
    trusted: Vec<IpAddr>,
    shards: Vec<Mutex<HashMap<IpAddr, Bucket>>>,
}

impl RateLimiter {
    pub fn new(limit: Limit, trusted: Vec<IpAddr>) -> RateLimiter {
        RateLimiter { limit, trusted, shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
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
        if self.limit.is_off() {
            return Ok(());
        }
        let Some(ip) = self.client(req) else { return Ok(()) };
        self.take(ip, Instant::now())
    }

    fn take(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let shard = match ip {
            IpAddr::V4(v4) => v4.octets()[3] as usize,
            IpAddr::V6(v6) => v6.octets()[15] as usize,
        } % SHARDS;
        let mut map = match self.shards[shard].lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Forget clients whose buckets are full again, now and then.
        if map.len() > 10_000 {
            let full = self.limit.burst / self.limit.per_second;
            map.retain(|_, b| now.duration_since(b.at).as_secs_f64() < full);
        }
        let bucket = map.entry(ip).or_insert(Bucket { tokens: self.limit.burst, at: now });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / self.limit.per_second).ceil().max(1.0) as u64)
        }
    }
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
    use std::time::Duration;

    #[test]
    fn a_bucket_empties_and_refills() {
        let limiter = RateLimiter::new(Limit { per_second: 2.0, burst: 3.0 }, Vec::new());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take(ip, t0).is_ok());
        }
        assert_eq!(limiter.take(ip, t0), Err(1));
        assert!(limiter.take(ip, t0 + Duration::from_millis(600)).is_ok());
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.take(other, t0).is_ok(), "per client");
    }

    #[test]
    fn the_default_lets_a_town_hall_behind_one_address_through_its_morning() {
        let limiter = RateLimiter::new(Limit::default(), Vec::new());
        let nat: IpAddr = "192.0.2.10".parse().unwrap();
        let t0 = Instant::now();
        // 1,000 employees look something up in the same second, then 40 a second for ten minutes.
        for _ in 0..1000 {
            assert!(limiter.take(nat, t0).is_ok());
        }
        for second in 1..=600u64 {
            for _ in 0..40 {
                assert!(limiter.take(nat, t0 + Duration::from_secs(second)).is_ok(), "second {second}");
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
