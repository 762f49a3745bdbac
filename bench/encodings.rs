//! Do the two compact text encodings still stored in columns pay for
//! themselves? Reads each row of a dump (`sqlite3 DB "select field_offsets
//! from revisions"`, `… rule_outcomes from evaluations`) and decodes it as a
//! re-evaluation does, then decodes the same data written as JSON, and
//! prints the cost per row and the bytes of each form.
//!
//! cargo run --release --example encodings -- OFFSETS.txt OUTCOMES.txt

use std::time::Instant;

use tillit::json::offsets_of;
use tillit::policy::model::{RuleOutcome, compact_outcomes};

/// The fields a rule change commonly makes a re-evaluation read.
const WANTED: [&str; 3] = ["data", "vendor", "transparency"];

fn offsets_as_json(compact: &str) -> String {
    let entries: Vec<String> = compact
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(':');
            Some(format!("\"{}\":[{},{}]", parts.next()?, parts.next()?, parts.next()?))
        })
        .collect();
    format!("{{{}}}", entries.join(","))
}

fn outcomes_as_json(compact: &str) -> String {
    let entries: Vec<String> =
        compact.split(',').filter_map(|pair| pair.split_once('=')).map(|(r, o)| format!("\"{r}\":\"{o}\"")).collect();
    format!("{{{}}}", entries.join(","))
}

fn per_row(rows: usize, started: Instant) -> f64 {
    started.elapsed().as_nanos() as f64 / rows as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [offsets_file, outcomes_file] = args.as_slice() else {
        return Err("usage: encodings OFFSETS.txt OUTCOMES.txt".into());
    };
    let offsets: Vec<String> = std::fs::read_to_string(offsets_file)?.lines().map(str::to_string).collect();
    let outcomes: Vec<String> = std::fs::read_to_string(outcomes_file)?.lines().map(str::to_string).collect();
    let offsets_json: Vec<String> = offsets.iter().map(|o| offsets_as_json(o)).collect();
    let outcomes_json: Vec<String> = outcomes.iter().map(|o| outcomes_as_json(o)).collect();
    let bytes = |rows: &[String]| rows.iter().map(String::len).sum::<usize>();

    println!(
        "| column | rows | compact bytes | JSON bytes | compact ns/row | JSON ns/row | JSON − compact over all rows |"
    );
    println!("|---|---|---|---|---|---|---|");
    for round in 0..3 {
        let started = Instant::now();
        let mut found = 0usize;
        for row in &offsets {
            for key in WANTED {
                if let Some(Some((_, start, end))) = offsets_of(row, key) {
                    found += end - start;
                }
            }
        }
        let compact = per_row(offsets.len(), started);
        let started = Instant::now();
        let mut found_json = 0usize;
        for row in &offsets_json {
            let map: std::collections::HashMap<&str, (usize, usize)> = serde_json::from_str(row)?;
            for key in WANTED {
                if let Some((start, end)) = map.get(key) {
                    found_json += end - start;
                }
            }
        }
        let json = per_row(offsets.len(), started);
        assert_eq!(found, found_json);
        if round == 2 {
            println!(
                "| revisions.field_offsets | {} | {} | {} | {compact:.0} | {json:.0} | {:.2} s |",
                offsets.len(),
                bytes(&offsets),
                bytes(&offsets_json),
                (json - compact) * offsets.len() as f64 / 1e9
            );
        }

        let started = Instant::now();
        let mut failing = 0usize;
        for row in &outcomes {
            failing += compact_outcomes(row).filter(|(_, o)| *o == Some(RuleOutcome::Fail)).count();
        }
        let compact = per_row(outcomes.len(), started);
        let started = Instant::now();
        let mut failing_json = 0usize;
        for row in &outcomes_json {
            let map: Vec<(&str, &str)> =
                serde_json::from_str::<std::collections::BTreeMap<&str, &str>>(row)?.into_iter().collect();
            failing_json += map.iter().filter(|(_, o)| RuleOutcome::parse(o) == Some(RuleOutcome::Fail)).count();
        }
        let json = per_row(outcomes.len(), started);
        assert_eq!(failing, failing_json);
        if round == 2 {
            println!(
                "| evaluations.rule_outcomes | {} | {} | {} | {compact:.0} | {json:.0} | {:.2} s |",
                outcomes.len(),
                bytes(&outcomes),
                bytes(&outcomes_json),
                (json - compact) * outcomes.len() as f64 / 1e9
            );
        }
    }
    Ok(())
}
