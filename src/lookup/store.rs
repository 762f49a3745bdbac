//! Loading what the lookup index needs from the database, in pages.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::index::{DecisionData, OrgInfo, ServiceData, face_id, split_face};
use crate::approvals::model::DecisionKind;
use crate::audit::store as audit_store;
use crate::db::DbConnection;
use crate::db::schema::{decisions, evaluations, organisations, revisions};
use crate::error::AppError;
use crate::policy::reevaluate::ReReviewFlags;
use crate::submissions::model::Publication;

const PAGE: i64 = 20_000;

pub fn orgs(conn: &mut DbConnection) -> Result<Vec<OrgInfo>, AppError> {
    let rows: Vec<(String, String, String, String)> = organisations::table
        .order(organisations::slug.asc())
        .select((organisations::slug, organisations::name, organisations::function_name, organisations::function_email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(slug, name, function_name, contact)| OrgInfo { slug, name, function_name, contact })
        .collect())
}

type RevisionTuple = (String, i32, String, String, String, String, Publication);
/// A decision as the index reads it from its row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = decisions)]
struct DecisionRow {
    service_id: String,
    org_slug: String,
    decision: String,
    conditions: String,
    valid_until: Option<NaiveDate>,
    decided_at: NaiveDateTime,
    deciding_org_slug: String,
    via_delegation_id: Option<String>,
    revoked_at: Option<NaiveDateTime>,
    id: String,
    revision_id: String,
    rule_set_version: String,
    revision: i32,
}

/// The submitted revisions of one service, oldest first.
type Group = (String, Vec<RevisionTuple>);

fn service_data(rev: &RevisionTuple, id: String) -> ServiceData {
    let (_, _, name, vendor, aliases, domains, publication) = rev;
    ServiceData {
        id,
        name: name.clone(),
        vendor: vendor.clone(),
        aliases: serde_json::from_str(aliases).unwrap_or_default(),
        domains: serde_json::from_str(domains).unwrap_or_default(),
        published: *publication == Publication::Published,
        withheld: *publication == Publication::Withheld,
        decisions: Vec::new(),
    }
}

/// A decision as the index takes it, with the revision it was made on.
fn decision_data(row: DecisionRow, flags: &ReReviewFlags) -> Option<(String, i32, DecisionData)> {
    // Only an approval can need re-review (a flag on one since revoked is
    // kept; the lookup shows it only while the approval is live).
    let needs_re_review = row.decision != "rejected" && flags.flagged(&row.id, &row.revision_id, &row.rule_set_version);
    Some((
        row.service_id,
        row.revision,
        DecisionData {
            org: row.org_slug,
            kind: DecisionKind::parse(&row.decision)?,
            revoked: row.revoked_at.is_some(),
            deciding_org: row.deciding_org_slug,
            via_delegation: row.via_delegation_id.is_some(),
            needs_re_review,
            superseded: false,
            decided_on: crate::swedish::local_date(&row.decided_at),
            valid_until: row.valid_until,
            conditions: row.conditions,
        },
    ))
}

/// The index entries of services (groups sorted by id): per service, its
/// latest submitted revision with every organisation's latest decision
/// (marked superseded when made on an earlier revision), and each earlier
/// revision that an organisation's latest decision was made on, with those
/// decisions only. An approval thus covers exactly the revision approved.
fn entries_of(
    conn: &mut DbConnection,
    groups: Vec<Group>,
    mut decisions: Vec<DecisionRow>,
    out: &mut Vec<ServiceData>,
) -> Result<(), AppError> {
    decisions
        .sort_by(|a, b| (&a.service_id, &a.org_slug, a.decided_at).cmp(&(&b.service_id, &b.org_slug, b.decided_at)));
    // Only the latest decision per service and organisation counts, so
    // only those need their re-review flags.
    decisions.dedup_by(|later, earlier| {
        let same = later.service_id == earlier.service_id && later.org_slug == earlier.org_slug;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    let flags = ReReviewFlags::load(conn, decisions.iter().map(|d| (d.id.as_str(), d.revision_id.as_str())))?;
    let mut decisions = decisions.into_iter().filter_map(|row| decision_data(row, &flags)).peekable();
    for (service_id, revisions) in groups {
        let mut own: Vec<(i32, DecisionData)> = Vec::new();
        while let Some((sid, _, _)) = decisions.peek() {
            match sid.as_str().cmp(service_id.as_str()) {
                std::cmp::Ordering::Less => {
                    decisions.next();
                }
                std::cmp::Ordering::Equal => {
                    if let Some((_, revision, data)) = decisions.next() {
                        own.push((revision, data));
                    }
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        let Some(latest) = revisions.last() else { continue };
        let mut main = service_data(latest, service_id.clone());
        main.decisions =
            own.iter().map(|(revision, d)| DecisionData { superseded: *revision != latest.1, ..d.clone() }).collect();
        out.push(main);
        let mut earlier: Vec<i32> = own.iter().map(|(r, _)| *r).filter(|r| *r != latest.1).collect();
        earlier.sort_unstable();
        earlier.dedup();
        for revision in earlier {
            let Some(rev) = revisions.iter().find(|r| r.1 == revision) else { continue };
            let mut face = service_data(rev, face_id(&service_id, revision));
            face.decisions = own.iter().filter(|(r, _)| *r == revision).map(|(_, d)| d.clone()).collect();
            out.push(face);
        }
    }
    Ok(())
}

fn decisions_between(conn: &mut DbConnection, first: &str, last: &str) -> Result<Vec<DecisionRow>, AppError> {
    Ok(decisions::table
        .filter(decisions::service_id.ge(first))
        .filter(decisions::service_id.le(last))
        .select(DecisionRow::as_select())
        .load(conn)?)
}

type SearchColumns = (
    revisions::service_id,
    revisions::revision,
    revisions::name,
    revisions::vendor,
    revisions::aliases,
    revisions::domains,
    revisions::publication,
);
type SubmittedRevisions = diesel::dsl::Select<
    diesel::dsl::Filter<revisions::table, diesel::dsl::Eq<revisions::state, &'static str>>,
    SearchColumns,
>;

/// The search fields of every submitted revision.
fn submitted_revisions() -> SubmittedRevisions {
    revisions::table.filter(revisions::state.eq("submitted")).select(SearchColumns::default())
}

/// Groups rows sorted by (id, revision) per service.
fn group(rows: Vec<RevisionTuple>, out: &mut Vec<Group>) {
    for row in rows {
        match out.last_mut() {
            Some((id, revisions)) if *id == row.0 => revisions.push(row),
            _ => out.push((row.0.clone(), vec![row])),
        }
    }
}

/// The index entries of every service with a submitted revision, withheld
/// ones left out.
pub fn all_services(conn: &mut DbConnection) -> Result<Vec<ServiceData>, AppError> {
    let mut out: Vec<ServiceData> = Vec::new();
    let mut after = String::new();
    loop {
        let rows: Vec<RevisionTuple> = submitted_revisions()
            .filter(revisions::service_id.gt(&after))
            .order((revisions::service_id.asc(), revisions::revision.asc()))
            .limit(PAGE)
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        // Finish the last service of the page completely.
        let last_id = last.0.clone();
        let mut rows = rows;
        let rest: Vec<RevisionTuple> = submitted_revisions()
            .filter(revisions::service_id.eq(&last_id))
            .order(revisions::revision.asc())
            .load(conn)?;
        rows.retain(|r| r.0 != last_id);
        rows.extend(rest);
        let first_id = rows.first().map(|r| r.0.clone()).unwrap_or_default();
        let mut groups = Vec::new();
        group(rows, &mut groups);
        let decisions = decisions_between(conn, &first_id, &last_id)?;
        entries_of(conn, groups, decisions, &mut out)?;
        after = last_id;
    }
    out.retain(|s| !s.withheld);
    Ok(out)
}

/// The current index entries of some services; none for those not (or no
/// longer) in the lookup (no submitted revision, or withheld).
pub fn services(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<(String, Vec<ServiceData>)>, AppError> {
    let mut rows: Vec<RevisionTuple> = Vec::new();
    let mut decisions = Vec::new();
    for chunk in ids.chunks(500) {
        rows.extend(
            submitted_revisions()
                .filter(revisions::service_id.eq_any(chunk))
                .order((revisions::service_id.asc(), revisions::revision.asc()))
                .load::<RevisionTuple>(conn)?,
        );
        decisions.extend(
            decisions::table
                .filter(decisions::service_id.eq_any(chunk))
                .select(DecisionRow::as_select())
                .load::<DecisionRow>(conn)?,
        );
    }
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut groups = Vec::new();
    group(rows, &mut groups);
    let mut found: Vec<ServiceData> = Vec::new();
    entries_of(conn, groups, decisions, &mut found)?;
    let mut by_id: std::collections::HashMap<String, Vec<ServiceData>> = std::collections::HashMap::new();
    for data in found.into_iter().filter(|s| !s.withheld) {
        by_id.entry(split_face(&data.id).0.to_string()).or_default().push(data);
    }
    Ok(ids.iter().map(|id| (id.clone(), by_id.remove(id).unwrap_or_default())).collect())
}

/// What changed after `seq`: the new head, and the services touched (None
/// when a full rebuild is simpler: many changes, or organisations changed).
pub fn changes_since(
    conn: &mut DbConnection,
    seq: i64,
    max_events: i64,
) -> Result<(i64, Option<Vec<String>>), AppError> {
    let (head, _) = audit_store::head(conn)?;
    if head <= seq {
        return Ok((head, Some(Vec::new())));
    }
    if head - seq > max_events {
        return Ok((head, None));
    }
    let mut services = HashSet::new();
    let mut revision_ids = Vec::new();
    let mut decision_ids = Vec::new();
    let mut evaluation_ids = Vec::new();
    // One event can name many rows (a re-evaluation batch names a hundred
    // revisions), so the bound also counts the rows named.
    let mut named: i64 = 0;
    let mut after = seq;
    loop {
        let page = audit_store::page(conn, after, 1_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in &page {
            let event = row.to_event().map_err(AppError::internal)?;
            named += event.subjects.len() as i64;
            if named > max_events {
                return Ok((head, None));
            }
            for subject in event.subjects {
                match subject.t.as_str() {
                    "services" => {
                        services.insert(subject.id);
                    }
                    "revisions" => revision_ids.push(subject.id),
                    "decisions" => decision_ids.push(subject.id),
                    "evaluations" => evaluation_ids.push(subject.id),
                    "organisations" => return Ok((head, None)),
                    _ => {}
                }
            }
        }
        if after >= head {
            break;
        }
    }
    for chunk in evaluation_ids.chunks(500) {
        let ids: Vec<String> =
            evaluations::table.filter(evaluations::id.eq_any(chunk)).select(evaluations::revision_id).load(conn)?;
        revision_ids.extend(ids);
    }
    for chunk in revision_ids.chunks(500) {
        let ids: Vec<String> =
            revisions::table.filter(revisions::id.eq_any(chunk)).select(revisions::service_id).load(conn)?;
        services.extend(ids);
    }
    for chunk in decision_ids.chunks(500) {
        let ids: Vec<String> =
            decisions::table.filter(decisions::id.eq_any(chunk)).select(decisions::service_id).load(conn)?;
        services.extend(ids);
    }
    let mut services: Vec<String> = services.into_iter().collect();
    services.sort();
    Ok((after.max(seq), Some(services)))
}
