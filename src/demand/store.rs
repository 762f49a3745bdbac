//! The counts in the database.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::model::DemandRow;
use crate::db::DbConnection;
use crate::db::schema::lookup_demand;
use crate::error::AppError;

/// Adds each row's count to the day's count of that question (several nodes
/// add to the same row); the latest answer replaces the one stored.
pub fn add(conn: &mut DbConnection, rows: &[DemandRow]) -> Result<(), AppError> {
    use lookup_demand::dsl as d;
    // One statement a row: SQLite takes no upsert of several rows at once.
    for row in rows {
        crate::on_backend!(&mut *conn, |c| {
            diesel::insert_into(d::lookup_demand)
                .values(row)
                .on_conflict((d::org_slug, d::query, d::day))
                .do_update()
                .set((
                    d::count.eq(d::count + excluded(d::count)),
                    d::answer.eq(excluded(d::answer)),
                    d::service_id.eq(excluded(d::service_id)),
                    d::service_name.eq(excluded(d::service_name)),
                ))
                .execute(c)
        })?;
    }
    Ok(())
}

/// Every count of an organisation from `since` on (at most `max` rows, the
/// most counted first).
pub fn since(conn: &mut DbConnection, org: &str, since: NaiveDate, max: i64) -> Result<Vec<DemandRow>, AppError> {
    Ok(lookup_demand::table
        .filter(lookup_demand::org_slug.eq(org))
        .filter(lookup_demand::day.ge(since))
        .order((lookup_demand::count.desc(), lookup_demand::query.asc()))
        .limit(max)
        .select(DemandRow::as_select())
        .load(conn)?)
}

/// Forgets the counts of days before `before`.
pub fn forget_before(conn: &mut DbConnection, before: NaiveDate) -> Result<usize, AppError> {
    Ok(diesel::delete(lookup_demand::table.filter(lookup_demand::day.lt(before))).execute(conn)?)
}
