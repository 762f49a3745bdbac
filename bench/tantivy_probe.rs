//! The lookup's own search against tantivy's on the same registry and the
//! same queries, in one process, without HTTP. Tantivy gets the same keys
//! (each name, alias and vendor normalized as the lookup does it, with the
//! rest of the name from each later word) in a raw-token field; a query is
//! a term query on its normalized text, then, with fewer than ten hits, a
//! fuzzy term query (one edit up to eight letters, two above; a
//! transposition counts one), as the lookup's own typo stage does.
//!
//! Prints build time and per-query percentiles for both, and how often the
//! two find the same best service.
//!
//! Usage: cargo run --release --features tantivy-probe --example tantivy_probe -- DB MIX
//! (MIX: a file of request paths, as bench/lookup_mix.py writes it).
use std::collections::HashSet;
use std::time::Instant;

use tantivy::collector::TopDocs;
use tantivy::query::{FuzzyTermQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, STORED, STRING, Schema, Value};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};
use tillit::db::DatabaseUrl;
use tillit::lookup::SearchIndex;
use tillit::lookup::normalize::{name_keys, normalize};

fn percentiles(mut times: Vec<f64>) -> String {
    times.sort_by(f64::total_cmp);
    let n = times.len().max(1);
    let p = |q: f64| times.get(((n as f64 * q) as usize).min(n - 1)).copied().unwrap_or(0.0);
    let mean = times.iter().sum::<f64>() / n as f64;
    format!("mean {mean:.1} µs, p50 {:.1}, p90 {:.1}, p99 {:.1}, max {:.1}", p(0.5), p(0.9), p(0.99), p(1.0))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(mix)) = (args.get(1), args.get(2)) else {
        return Err("usage: tantivy_probe DB MIX".into());
    };
    let url = DatabaseUrl::parse(&format!("sqlite://{db}"))?;
    let mut conn = url.connect()?;

    // The lookup's own index, from its saved file (as `serve` starts).
    let started = Instant::now();
    let file = std::path::PathBuf::from(format!("{db}.lookup"));
    let ours = SearchIndex::build(&mut conn, Some(&file))?;
    let ours_ready = started.elapsed().as_secs_f64();
    let snapshot = ours.snapshot();

    // Tantivy's, from the same entries.
    let mut schema = Schema::builder();
    let key = schema.add_text_field("key", STRING);
    let id = schema.add_text_field("id", STRING | STORED);
    let index = Index::create_in_ram(schema.build());
    let started = Instant::now();
    let mut writer: IndexWriter = index.writer(200_000_000)?;
    let mut entries = 0usize;
    for entry in snapshot.entries() {
        let mut doc = TantivyDocument::default();
        doc.add_text(id, entry.service_id().to_string());
        for text in std::iter::once(entry.name()).chain(entry.aliases()).chain(std::iter::once(entry.vendor())) {
            let (full, tails) = name_keys(text);
            for k in std::iter::once(full).chain(tails).filter(|k| !k.is_empty()) {
                doc.add_text(key, k);
            }
        }
        writer.add_document(doc)?;
        entries += 1;
    }
    writer.commit()?;
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let tantivy_build = started.elapsed().as_secs_f64();

    let queries: Vec<(String, String)> = std::fs::read_to_string(mix)?
        .lines()
        .filter_map(|path| {
            let (_, query) = path.split_once('?')?;
            let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            Some((get("org")?, get("q")?))
        })
        .collect();
    let today = chrono::Utc::now().date_naive();
    let (mut ours_times, mut tantivy_times) = (Vec::new(), Vec::new());
    let (mut same, mut both_found, mut only_ours, mut only_tantivy) = (0usize, 0usize, 0usize, 0usize);
    for round in 0..2 {
        for (org, q) in &queries {
            let org = snapshot.org_index(org);
            let t = Instant::now();
            let hits = snapshot.search(q, org, false, 10, today, &ours.fuzzy);
            let ours_took = t.elapsed().as_secs_f64() * 1e6;
            let ours_best = hits.first().map(|h| h.entry.service_id().to_string());

            let t = Instant::now();
            let text = normalize(q);
            let mut found = Vec::new();
            if !text.is_empty() {
                let term = Term::from_field_text(key, &text);
                found = searcher
                    .search(&TermQuery::new(term.clone(), IndexRecordOption::Basic), &TopDocs::with_limit(10))?;
                if found.len() < 10 {
                    let distance = if text.chars().count() <= 8 { 1 } else { 2 };
                    let seen: HashSet<_> = found.iter().map(|(_, a)| *a).collect();
                    let fuzzy =
                        searcher.search(&FuzzyTermQuery::new(term, distance, true), &TopDocs::with_limit(10))?;
                    found.extend(fuzzy.into_iter().filter(|(_, a)| !seen.contains(a)));
                    found.truncate(10);
                }
            }
            let tantivy_best = match found.first() {
                Some((_, address)) => searcher
                    .doc::<TantivyDocument>(*address)?
                    .get_first(id)
                    .and_then(|v| v.as_str().map(str::to_string)),
                None => None,
            };
            let tantivy_took = t.elapsed().as_secs_f64() * 1e6;
            if round == 1 {
                ours_times.push(ours_took);
                tantivy_times.push(tantivy_took);
                match (&ours_best, &tantivy_best) {
                    (Some(a), Some(b)) => {
                        both_found += 1;
                        same += usize::from(a == b);
                    }
                    (Some(_), None) => only_ours += 1,
                    (None, Some(_)) => only_tantivy += 1,
                    (None, None) => {}
                }
            }
        }
    }
    println!("{entries} entries, {} queries", queries.len());
    println!("ready: ours {ours_ready:.2} s (saved index), tantivy {tantivy_build:.2} s (built in RAM)");
    println!("ours:    {}", percentiles(ours_times));
    println!("tantivy: {}", percentiles(tantivy_times));
    println!(
        "best hit: both found {both_found} (the same service {same}), only ours {only_ours}, only tantivy {only_tantivy}"
    );
    Ok(())
}
