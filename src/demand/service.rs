//! Writing the counts, and the most asked questions for coordinators.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{Asked, DemandCounter};
use super::store;
use crate::auth::authz::{self, Action};
use crate::auth::model::Actor;
use crate::db::{self, DbConnection};
use crate::error::AppError;

/// Days a count is kept. The page shows 30; the rest lets a longer view be
/// asked for (`days` up to this) before it is forgotten.
pub const KEPT_DAYS: i64 = 90;
/// Rows of an organisation read to add up a view.
const MAX_ROWS: i64 = 100_000;

/// Writes the counts kept in memory in one transaction, and forgets days
/// past `KEPT_DAYS`. On failure the counts are kept for the next time.
pub fn flush(conn: &mut DbConnection, counter: &DemandCounter, today: NaiveDate) -> Result<usize, AppError> {
    let (rows, left_out) = counter.take();
    if left_out > 0 {
        log::warn!(
            "lookup demand: {left_out} questions were not counted (more than {} kept)",
            DemandCounter::MAX_PENDING
        );
    }
    if rows.is_empty() {
        return Ok(0);
    }
    let written = db::write(conn, |conn| {
        store::add(conn, &rows)?;
        store::forget_before(conn, today - Duration::days(KEPT_DAYS))?;
        Ok(rows.len())
    });
    if written.is_err() {
        counter.put_back(rows);
    }
    written
}

/// One question over a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DemandEntry {
    /// The question, normalised (lower case, spaces collapsed).
    pub query: String,
    /// Its latest answer.
    pub answer: Asked,
    /// With `not_assessed`: the service found, and its name.
    pub service_id: Option<String>,
    pub service_name: Option<String>,
    /// Times asked in the period.
    pub count: i64,
    /// The last day it was asked (Swedish date).
    pub last_asked: NaiveDate,
}

/// The most asked questions of `org` that the register could not answer yes
/// to, over the last `days` days (1 to `KEPT_DAYS`), most asked first. This
/// node's counts are written first, so that the list is current.
pub fn most_asked(
    conn: &mut DbConnection,
    counter: &DemandCounter,
    actor: &Actor,
    org: &str,
    days: i64,
    today: NaiveDate,
) -> Result<Vec<DemandEntry>, AppError> {
    authz::can(actor, Action::SeeDemand { org })?;
    flush(conn, counter, today)?;
    let days = days.clamp(1, KEPT_DAYS);
    let rows = store::since(conn, org, today - Duration::days(days - 1), MAX_ROWS)?;
    let mut by_query: HashMap<String, DemandEntry> = HashMap::new();
    for row in rows {
        let entry = by_query.entry(row.query.clone()).or_insert_with(|| DemandEntry {
            query: row.query,
            answer: row.answer,
            service_id: row.service_id.clone(),
            service_name: row.service_name.clone(),
            count: 0,
            last_asked: row.day,
        });
        entry.count += row.count;
        if row.day >= entry.last_asked {
            entry.last_asked = row.day;
            entry.answer = row.answer;
            entry.service_id = row.service_id;
            entry.service_name = row.service_name;
        }
    }
    let mut entries: Vec<DemandEntry> = by_query.into_values().collect();
    let order = crate::swedish::SwedishOrder::new();
    entries.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| order.compare(&a.query, &b.query)));
    Ok(entries)
}
