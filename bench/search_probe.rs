//! The lookup search alone, without HTTP: loads the index of a seeded
//! database (its saved file, as `serve` does) and times each query of a
//! file (one URL-encoded query per line, as bench/lookup_bench.py writes
//! them), each asked once per round, in order, the first round as a warm-up.
//! Prints the mean and percentiles in µs (with SLOWEST set, also the slowest
//! searches). For comparing two builds of the search on the same machine in
//! the same minutes (BENCHMARKS.md), without the HTTP stack's noise.
//!
//! Usage: cargo run --release --example search_probe -- DB QUERIES [ORG] [ROUNDS]
use std::time::Instant;

use tillit::db::DatabaseUrl;
use tillit::lookup::SearchIndex;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(queries)) = (args.get(1), args.get(2)) else {
        return Err("usage: search_probe DB QUERIES [ORG] [ROUNDS]".into());
    };
    let org = args.get(3).map_or("kinda", String::as_str);
    let rounds: usize = args.get(4).map_or(Ok(3), |r| r.parse())?;
    let url = DatabaseUrl::parse(&format!("sqlite://{db}"))?;
    let mut conn = url.connect()?;
    let file = std::path::PathBuf::from(format!("{db}.lookup"));
    let index = SearchIndex::build(&mut conn, Some(&file))?;
    let snapshot = index.snapshot();
    let org = snapshot.org_index(org);
    let today = chrono::Utc::now().date_naive();
    let text = std::fs::read_to_string(queries)?;
    let queries: Vec<String> = text
        .lines()
        .map(|line| form_urlencoded::parse(format!("q={line}").as_bytes()).map(|(_, v)| v.into_owned()).collect())
        .collect();
    let mut times = Vec::new();
    let mut slow: Vec<(f64, String, usize)> = Vec::new();
    let mut hits = 0usize;
    for round in 0..rounds {
        for q in &queries {
            let start = Instant::now();
            let found = snapshot.search(q, org, false, 10, today, &index.fuzzy);
            let took = start.elapsed().as_secs_f64() * 1e6;
            if round > 0 {
                times.push(took);
                hits += found.len();
                if std::env::var_os("SLOWEST").is_some() {
                    slow.push((took, q.clone(), found.len()));
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    slow.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (took, q, n) in slow.iter().take(12) {
        println!("{took:8.1} µs  {n:2} hits  {q}");
    }
    let n = times.len().max(1);
    let mean = times.iter().sum::<f64>() / n as f64;
    let p = |q: f64| times.get(((n as f64 * q) as usize).min(n - 1)).copied().unwrap_or(0.0);
    println!(
        "{} searches: mean {mean:.1} µs, p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}; {:.2} hits each",
        times.len(),
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0),
        hits as f64 / n as f64
    );
    Ok(())
}
