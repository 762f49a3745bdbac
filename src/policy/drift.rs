//! What changed between two rule-set versions: per rule and per service,
//! from the evaluations stored for both (their verdicts and compact rule
//! outcomes).

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConnection;
use crate::db::schema::{evaluations, revisions};
use crate::error::AppError;

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RuleDrift {
    pub rule: String,
    /// Revisions whose outcome for this rule changed.
    pub changed: u64,
    pub got_worse: u64,
    pub got_better: u64,
    /// "pass→fail" and so on, with counts.
    pub transitions: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleChange {
    pub rule: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDrift {
    pub service_id: String,
    pub name: String,
    pub revision: i32,
    pub verdict_from: String,
    pub verdict_to: String,
    pub changes: Vec<RuleChange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftReport {
    pub from: String,
    pub to: String,
    /// Revisions evaluated under both versions.
    pub compared: u64,
    pub rules: Vec<RuleDrift>,
    pub services: Vec<ServiceDrift>,
}

/// The rules of a stored compact outcome list (`R1=pass,R2=warn,…`), with
/// each outcome's name.
fn compact_outcomes(outcomes: &str) -> impl Iterator<Item = (&str, &str)> {
    super::model::compact_outcomes(outcomes).map(|(rule, outcome)| (rule, outcome.map_or("?", |o| o.as_str())))
}

fn rank(outcome: &str) -> u8 {
    match outcome {
        "warn" => 1,
        "fail" => 2,
        _ => 0,
    }
}

pub fn drift(conn: &mut DbConnection, from: &str, to: &str) -> Result<DriftReport, AppError> {
    let mut report =
        DriftReport { from: from.into(), to: to.into(), compared: 0, rules: Vec::new(), services: Vec::new() };
    let mut rules: BTreeMap<String, RuleDrift> = BTreeMap::new();
    let mut after = String::new();
    loop {
        let page: Vec<(String, String, String)> = evaluations::table
            .filter(evaluations::rule_set_version.eq(to))
            .filter(evaluations::revision_id.gt(&after))
            .order(evaluations::revision_id.asc())
            .limit(2_000)
            .select((evaluations::revision_id, evaluations::verdict, evaluations::rule_outcomes))
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.0.clone();
        let ids: Vec<&String> = page.iter().map(|(id, ..)| id).collect();
        let old: BTreeMap<String, (String, String)> = evaluations::table
            .filter(evaluations::rule_set_version.eq(from))
            .filter(evaluations::revision_id.eq_any(&ids))
            .select((evaluations::revision_id, evaluations::verdict, evaluations::rule_outcomes))
            .load::<(String, String, String)>(conn)?
            .into_iter()
            .map(|(id, verdict, outcomes)| (id, (verdict, outcomes)))
            .collect();
        let meta: BTreeMap<String, (String, String, i32)> = revisions::table
            .filter(revisions::id.eq_any(&ids))
            .select((revisions::id, revisions::service_id, revisions::name, revisions::revision))
            .load::<(String, String, String, i32)>(conn)?
            .into_iter()
            .map(|(id, service, name, number)| (id, (service, name, number)))
            .collect();
        for (revision_id, verdict, outcomes) in &page {
            let Some((old_verdict, old_outcomes)) = old.get(revision_id) else { continue };
            report.compared += 1;
            let old_rules: BTreeMap<&str, &str> = compact_outcomes(old_outcomes).collect();
            let mut changes = Vec::new();
            for (rule, now) in compact_outcomes(outcomes) {
                let was = old_rules.get(rule).copied().unwrap_or("not_applicable");
                if was == now {
                    continue;
                }
                let entry = rules
                    .entry(rule.to_string())
                    .or_insert_with(|| RuleDrift { rule: rule.to_string(), ..Default::default() });
                entry.changed += 1;
                if rank(now) > rank(was) {
                    entry.got_worse += 1;
                } else if rank(now) < rank(was) {
                    entry.got_better += 1;
                }
                *entry.transitions.entry(format!("{was}→{now}")).or_default() += 1;
                changes.push(RuleChange { rule: rule.to_string(), from: was.into(), to: now.into() });
            }
            if !changes.is_empty() {
                let (service_id, name, revision) = meta.get(revision_id).cloned().unwrap_or_default();
                report.services.push(ServiceDrift {
                    service_id,
                    name,
                    revision,
                    verdict_from: old_verdict.clone(),
                    verdict_to: verdict.clone(),
                    changes,
                });
            }
        }
    }
    report.rules = rules.into_values().collect();
    Ok(report)
}
