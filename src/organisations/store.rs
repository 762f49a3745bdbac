use diesel::prelude::*;

use super::model::OrganisationRow;
use crate::db::DbConnection;
use crate::db::schema::organisations;
use crate::error::AppError;

pub fn all(conn: &mut DbConnection) -> Result<Vec<OrganisationRow>, AppError> {
    Ok(organisations::table.order(organisations::slug.asc()).select(OrganisationRow::as_select()).load(conn)?)
}

pub fn find(conn: &mut DbConnection, slug: &str) -> Result<Option<OrganisationRow>, AppError> {
    Ok(organisations::table
        .filter(organisations::slug.eq(slug))
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, AppError> {
    Ok(organisations::table.count().get_result(conn)?)
}

pub fn insert(conn: &mut DbConnection, row: &OrganisationRow) -> Result<(), AppError> {
    diesel::insert_into(organisations::table).values(row).execute(conn)?;
    Ok(())
}
