//! The append-only audit table. There is no update or delete function here,
//! and triggers refuse them in the database too.

use diesel::prelude::*;

use super::model::{AuditEvent, EventFields, NewEvent, SealedEvent, Subject, entry_hash};
use crate::db::schema::{audit_events, audit_head};
use crate::db::{self, DbConnection};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEventRow {
    pub seq: i64,
    pub occurred_at: chrono::NaiveDateTime,
    pub actor_id: Option<String>,
    pub org_slug: Option<String>,
    pub via_delegation_id: Option<String>,
    pub action: String,
    pub subjects: String,
    pub prev_hash: String,
    pub entry_hash: String,
}

impl AuditEventRow {
    /// Decodes the row. A row whose subjects cannot be read is reported, not
    /// skipped: it is a sign of tampering.
    pub fn to_event(&self) -> Result<AuditEvent, String> {
        let subjects: Vec<Subject> = serde_json::from_str(&self.subjects)
            .map_err(|e| format!("event {}: unreadable subjects: {e}", self.seq))?;
        Ok(AuditEvent {
            seq: self.seq,
            occurred_at: db::rfc3339(&self.occurred_at),
            actor_id: self.actor_id.clone(),
            org_slug: self.org_slug.clone(),
            via_delegation_id: self.via_delegation_id.clone(),
            action: self.action.clone(),
            subjects,
            prev_hash: self.prev_hash.clone(),
            entry_hash: self.entry_hash.clone(),
        })
    }
}

/// The current head of the chain.
pub fn head(conn: &mut DbConnection) -> Result<(i64, String), AppError> {
    Ok(audit_head::table.filter(audit_head::id.eq(1)).select((audit_head::seq, audit_head::entry_hash)).first(conn)?)
}

/// Appends one event after the current head. Must run inside `db::write`,
/// which holds the head row for the whole transaction.
pub fn append(conn: &mut DbConnection, event: NewEvent) -> Result<AuditEvent, AppError> {
    let (seq, prev_hash) = head(conn)?;
    let occurred_at = db::now();
    let mut stored = AuditEvent {
        seq: seq + 1,
        occurred_at: db::rfc3339(&occurred_at),
        actor_id: event.actor_id,
        org_slug: event.org_slug,
        via_delegation_id: event.via_delegation_id,
        action: event.action.as_str().to_string(),
        subjects: event.subjects,
        prev_hash,
        entry_hash: String::new(),
    };
    stored.entry_hash = stored.compute_hash();
    let row = AuditEventRow {
        seq: stored.seq,
        occurred_at,
        actor_id: stored.actor_id.clone(),
        org_slug: stored.org_slug.clone(),
        via_delegation_id: stored.via_delegation_id.clone(),
        action: stored.action.clone(),
        subjects: serde_json::to_string(&stored.subjects)?,
        prev_hash: stored.prev_hash.clone(),
        entry_hash: stored.entry_hash.clone(),
    };
    diesel::insert_into(audit_events::table).values(&row).execute(conn)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set((audit_head::seq.eq(stored.seq), audit_head::entry_hash.eq(&stored.entry_hash)))
        .execute(conn)?;
    Ok(stored)
}

/// A page of events in chain order, starting after `after_seq`.
pub fn page(conn: &mut DbConnection, after_seq: i64, limit: i64) -> Result<Vec<AuditEventRow>, AppError> {
    Ok(audit_events::table
        .filter(audit_events::seq.gt(after_seq))
        .order(audit_events::seq.asc())
        .limit(limit)
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

/// The events after `after_seq`, in chain order, each as one line of JSON
/// (the form of `GET /api/v1/audit` and `tillit audit export`). Returns how
/// many.
pub fn export_lines(
    conn: &mut DbConnection,
    mut after_seq: i64,
    mut emit: impl FnMut(&[u8]) -> Result<(), AppError>,
) -> Result<u64, AppError> {
    let mut count = 0;
    loop {
        let rows = page(conn, after_seq, 1_000)?;
        let Some(last) = rows.last() else { return Ok(count) };
        after_seq = last.seq;
        for row in &rows {
            let event = row.to_event().map_err(AppError::internal)?;
            let mut line = serde_json::to_vec(&event)?;
            line.push(b'\n');
            emit(&line)?;
            count += 1;
        }
    }
}

/// An event row that cannot be read as its columns' types: its sequence
/// number (or the one before it, when that is what cannot be read), the
/// column, and its entry hash as stored (to follow the chain past it).
#[derive(Debug, Clone)]
pub struct UnreadableEvent {
    pub seq: i64,
    pub column: &'static str,
    pub entry_hash: String,
}

#[derive(diesel::QueryableByName)]
struct RawEvent {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    seq: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    occurred_at: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    actor_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    org_slug: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    via_delegation_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    action: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    subjects: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    prev_hash: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    entry_hash: Option<String>,
}

/// A stored timestamp as both backends write it as text.
fn timestamp(text: &str) -> Option<chrono::NaiveDateTime> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
}

/// A page of events for verification: like `page`, but a row whose columns
/// cannot be read (a tampered timestamp, say) is returned as unreadable
/// instead of failing the whole read. Reads each column as text only when
/// the typed read fails.
pub fn page_for_verify(
    conn: &mut DbConnection,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Result<AuditEventRow, UnreadableEvent>>, AppError> {
    match page(conn, after_seq, limit) {
        Ok(rows) => return Ok(rows.into_iter().map(Ok).collect()),
        Err(e) => log::warn!("audit events after {after_seq} do not read as their types ({e}); reading them as text"),
    }
    let sql = format!(
        "SELECT CAST(seq AS TEXT) AS seq, CAST(occurred_at AS TEXT) AS occurred_at, CAST(actor_id AS TEXT) AS actor_id, \
         CAST(org_slug AS TEXT) AS org_slug, CAST(via_delegation_id AS TEXT) AS via_delegation_id, \
         CAST(action AS TEXT) AS action, CAST(subjects AS TEXT) AS subjects, CAST(prev_hash AS TEXT) AS prev_hash, \
         CAST(entry_hash AS TEXT) AS entry_hash FROM audit_events WHERE seq > {after_seq} ORDER BY seq LIMIT {limit}"
    );
    let raw: Vec<RawEvent> = crate::on_backend!(&mut *conn, |c| diesel::sql_query(&sql).load(c))?;
    let mut previous = after_seq;
    Ok(raw
        .into_iter()
        .map(|r| {
            let entry_hash = r.entry_hash.clone().unwrap_or_default();
            let Some(seq) = r.seq.as_deref().and_then(|s| s.parse::<i64>().ok()) else {
                return Err(UnreadableEvent { seq: previous + 1, column: "seq", entry_hash });
            };
            previous = seq;
            let unreadable = |column| UnreadableEvent { seq, column, entry_hash: entry_hash.clone() };
            let occurred_at = r.occurred_at.as_deref().and_then(timestamp).ok_or_else(|| unreadable("occurred_at"))?;
            Ok(AuditEventRow {
                seq,
                occurred_at,
                actor_id: r.actor_id,
                org_slug: r.org_slug,
                via_delegation_id: r.via_delegation_id,
                action: r.action.ok_or_else(|| unreadable("action"))?,
                subjects: r.subjects.ok_or_else(|| unreadable("subjects"))?,
                prev_hash: r.prev_hash.ok_or_else(|| unreadable("prev_hash"))?,
                entry_hash: r.entry_hash.ok_or_else(|| unreadable("entry_hash"))?,
            })
        })
        .collect())
}

/// The newest events, newest first, before `before_seq` when given.
pub fn latest(conn: &mut DbConnection, before_seq: Option<i64>, limit: i64) -> Result<Vec<AuditEventRow>, AppError> {
    let mut query = audit_events::table.select(AuditEventRow::as_select()).into_boxed();
    if let Some(before) = before_seq {
        query = query.filter(audit_events::seq.lt(before));
    }
    Ok(query.order(audit_events::seq.desc()).limit(limit).load(conn)?)
}

/// Appends many events in one go (bulk imports): the chain is computed in
/// memory from the current head and written in batches. Must run inside
/// `db::write`, like `append`.
pub fn append_many(conn: &mut DbConnection, events: &[SealedEvent]) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev_hash) = head(conn)?;
    let occurred_at = db::now();
    let at = db::rfc3339(&occurred_at);
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let action = event.action.as_str();
        let fields = EventFields {
            seq,
            occurred_at: &at,
            actor_id: event.actor_id.as_deref(),
            org_slug: event.org_slug.as_deref(),
            via_delegation_id: event.via_delegation_id.as_deref(),
            action,
            prev_hash: &prev_hash,
        };
        let entry_hash = entry_hash(&fields, &event.subjects_canonical);
        rows.push(AuditEventRow {
            seq,
            occurred_at,
            actor_id: event.actor_id.clone(),
            org_slug: event.org_slug.clone(),
            via_delegation_id: event.via_delegation_id.clone(),
            action: action.to_string(),
            subjects: event.subjects_text.clone(),
            prev_hash: std::mem::replace(&mut prev_hash, entry_hash.clone()),
            entry_hash,
        });
    }
    for chunk in rows.chunks(500) {
        crate::on_backend!(&mut *conn, |c| diesel::insert_into(audit_events::table).values(chunk).execute(c))?;
    }
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set((audit_head::seq.eq(seq), audit_head::entry_hash.eq(&prev_hash)))
        .execute(conn)?;
    Ok(())
}
