//! Rows and queries for services, revisions and evaluations.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::model::{ParsedDocument, Publication, RevisionState};
use crate::audit::Audited;
use crate::db::DbConnection;
use crate::db::schema::{
    draft_contributors, evaluations, revision_contributors, revisions, services, submission_drafts,
};
use crate::error::AppError;
use crate::json;
use crate::policy::model::{Verdict, VersionList};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: String,
    pub org_slug: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl Audited for ServiceRow {
    const TABLE: &'static str = "services";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = revisions)]
pub struct RevisionRow {
    pub id: String,
    pub service_id: String,
    pub revision: i32,
    pub document: String,
    pub document_sha256: String,
    pub name: String,
    pub vendor: String,
    /// JSON array of strings, from the document.
    pub aliases: String,
    /// JSON array of host names, from the document.
    pub domains: String,
    /// `published`, `internal_only` or `withheld`, from the document.
    pub publication: Publication,
    pub state: RevisionState,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
    /// Copied from the document for filtering; the digest covers the document.
    #[serde(skip_serializing)]
    pub risk_class: String,
    /// Where each top-level field's value lies in the document
    /// (`json::field_offsets`), for re-evaluations; derived from the
    /// document, which the digest covers.
    #[serde(skip_serializing)]
    pub field_offsets: Option<String>,
}

impl RevisionRow {
    /// A draft revision of a parsed document, made by `by` at `at`.
    pub fn draft(
        id: String,
        service_id: &str,
        revision: i32,
        parsed: &ParsedDocument,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<RevisionRow, serde_json::Error> {
        Ok(RevisionRow {
            id,
            service_id: service_id.to_string(),
            revision,
            document: parsed.raw.clone(),
            document_sha256: parsed.sha256.clone(),
            name: parsed.name.clone(),
            vendor: parsed.vendor.clone(),
            aliases: serde_json::to_string(&parsed.aliases)?,
            domains: serde_json::to_string(&parsed.domains)?,
            publication: parsed.publication,
            state: RevisionState::Draft,
            created_by: by.to_string(),
            created_at: at,
            submitted_by: None,
            submitted_at: None,
            risk_class: parsed.risk_class.clone(),
            field_offsets: parsed.field_offsets.clone(),
        })
    }
}

impl Audited for RevisionRow {
    const TABLE: &'static str = "revisions";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = evaluations)]
pub struct EvaluationRow {
    pub id: String,
    pub revision_id: String,
    pub rule_set_version: String,
    pub verdict: Verdict,
    pub outcome: String,
    pub evaluated_at: NaiveDateTime,
    /// "R1=pass,R2=fail,…", derived from `outcome` (which the digest covers).
    #[serde(skip_serializing)]
    pub rule_outcomes: String,
    /// The rule-set versions of the earlier evaluations of the same revision
    /// that this one is worse than, as stored (`VersionList`; set by a
    /// re-evaluation, "[]" otherwise). An approval decided under one of them
    /// needs re-review. The digest covers it comma-joined when the list is not
    /// empty, so the digests of rows stored before the column existed, and
    /// before it held JSON, still hold.
    #[serde(serialize_with = "worse_than_record", skip_serializing_if = "no_versions")]
    pub worse_than: String,
}

fn no_versions(stored: &String) -> bool {
    stored.is_empty() || stored == VersionList::NONE
}

fn worse_than_record<S: serde::Serializer>(stored: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&VersionList::parse(stored).record())
}

/// How an evaluation's outcome is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeForm {
    /// Every field of the evaluation: reads back with nothing else.
    Full,
    /// `Evaluation::to_lean`: for writers that have registered the
    /// evaluation's rule set in `rule_sets`, from which its titles,
    /// severities and messages are read back (the rest from the row).
    Lean,
}

impl EvaluationRow {
    /// What the row says besides its stored outcome (the lean form reads it).
    pub fn summary(&self) -> crate::policy::model::RowSummary<'_> {
        crate::policy::model::RowSummary { rule_set_version: &self.rule_set_version, verdict: self.verdict.as_str() }
    }

    /// The stored form of an evaluation of a revision.
    pub fn new(
        id: String,
        revision_id: &str,
        evaluation: &crate::policy::Evaluation,
        evaluated_at: NaiveDateTime,
        form: OutcomeForm,
    ) -> Result<EvaluationRow, AppError> {
        let rule_outcomes = evaluation.rule_outcomes();
        let outcome = match form {
            OutcomeForm::Full => serde_json::to_string(evaluation)?,
            OutcomeForm::Lean => evaluation.to_lean_with(&rule_outcomes)?,
        };
        Ok(EvaluationRow {
            id,
            revision_id: revision_id.to_string(),
            rule_set_version: evaluation.rule_set_version.to_string(),
            verdict: evaluation.verdict,
            outcome,
            evaluated_at,
            rule_outcomes,
            worse_than: VersionList::NONE.to_string(),
        })
    }
}

impl Audited for EvaluationRow {
    const TABLE: &'static str = "evaluations";
    fn audit_id(&self) -> String {
        self.id.clone()
    }

    /// Written directly (a re-evaluation makes one per revision): the
    /// serialised fields with their keys in canonical order, `worse_than`
    /// only when it is not empty, as in the serialised form.
    fn write_record(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"evaluated_at\":");
        // chrono's own serialisation of the time, so that it is the same text.
        match serde_json::to_value(self.evaluated_at) {
            Ok(serde_json::Value::String(text)) => json::write_string(&text, out),
            _ => out.extend_from_slice(b"null"),
        }
        let fields: [(&str, &str); 5] = [
            ("id", &self.id),
            ("outcome", &self.outcome),
            ("revision_id", &self.revision_id),
            ("rule_set_version", &self.rule_set_version),
            ("verdict", self.verdict.as_str()),
        ];
        for (key, value) in fields {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            json::write_string(value, out);
        }
        if !no_versions(&self.worse_than) {
            out.extend_from_slice(b",\"worse_than\":");
            json::write_string(&VersionList::parse(&self.worse_than).record(), out);
        }
        out.push(b'}');
    }
}

pub fn insert_service(conn: &mut DbConnection, row: &ServiceRow) -> Result<(), AppError> {
    diesel::insert_into(services::table).values(row).execute(conn)?;
    Ok(())
}

pub fn insert_revision(conn: &mut DbConnection, row: &RevisionRow) -> Result<(), AppError> {
    diesel::insert_into(revisions::table).values(row).execute(conn)?;
    Ok(())
}

pub fn insert_evaluation(conn: &mut DbConnection, row: &EvaluationRow) -> Result<(), AppError> {
    diesel::insert_into(evaluations::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_service(conn: &mut DbConnection, id: &str) -> Result<Option<ServiceRow>, AppError> {
    Ok(services::table.filter(services::id.eq(id)).select(ServiceRow::as_select()).first(conn).optional()?)
}

/// Every revision of a service, oldest first.
pub fn revisions_of(conn: &mut DbConnection, service_id: &str) -> Result<Vec<RevisionRow>, AppError> {
    Ok(revisions::table
        .filter(revisions::service_id.eq(service_id))
        .order(revisions::revision.asc())
        .select(RevisionRow::as_select())
        .load(conn)?)
}

pub fn find_revision(conn: &mut DbConnection, service_id: &str, number: i32) -> Result<Option<RevisionRow>, AppError> {
    Ok(revisions::table
        .filter(revisions::service_id.eq(service_id))
        .filter(revisions::revision.eq(number))
        .select(RevisionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn has_submitted(conn: &mut DbConnection, service_id: &str) -> Result<bool, AppError> {
    let n: i64 = revisions::table
        .filter(revisions::service_id.eq(service_id))
        .filter(revisions::state.eq("submitted"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn latest_revision_number(conn: &mut DbConnection, service_id: &str) -> Result<i32, AppError> {
    let n: Option<i32> = revisions::table
        .filter(revisions::service_id.eq(service_id))
        .select(diesel::dsl::max(revisions::revision))
        .first(conn)?;
    Ok(n.unwrap_or(0))
}

/// Every evaluation of the given revisions, oldest first.
pub fn evaluations_of(conn: &mut DbConnection, revision_ids: &[String]) -> Result<Vec<EvaluationRow>, AppError> {
    Ok(evaluations::table
        .filter(evaluations::revision_id.eq_any(revision_ids))
        .order((evaluations::evaluated_at.asc(), evaluations::id.asc()))
        .select(EvaluationRow::as_select())
        .load(conn)?)
}

pub fn mark_submitted(
    conn: &mut DbConnection,
    revision_id: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::update(revisions::table.filter(revisions::id.eq(revision_id)).filter(revisions::state.eq("draft")))
        .set((
            revisions::state.eq("submitted"),
            revisions::submitted_by.eq(Some(by)),
            revisions::submitted_at.eq(Some(at)),
        ))
        .execute(conn)?)
}

/// The services of an organisation with their newest revision, newest
/// service first.
pub fn services_of(conn: &mut DbConnection, org: &str, limit: i64) -> Result<Vec<(ServiceRow, RevisionRow)>, AppError> {
    let newer = diesel::alias!(revisions as newer);
    Ok(services::table
        .inner_join(revisions::table.on(revisions::service_id.eq(services::id)))
        .filter(services::org_slug.eq(org))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            newer
                .filter(newer.field(revisions::service_id).eq(revisions::service_id))
                .filter(newer.field(revisions::revision).gt(revisions::revision)),
        )))
        .order((services::created_at.desc(), services::id.asc()))
        .limit(limit)
        .select((ServiceRow::as_select(), RevisionRow::as_select()))
        .load(conn)?)
}

/// Each service of an organisation with the name of its latest revision.
pub fn service_names_of(conn: &mut DbConnection, org: &str) -> Result<Vec<(String, String)>, AppError> {
    let newer = diesel::alias!(revisions as newer);
    Ok(services::table
        .inner_join(revisions::table.on(revisions::service_id.eq(services::id)))
        .filter(services::org_slug.eq(org))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            newer
                .filter(newer.field(revisions::service_id).eq(revisions::service_id))
                .filter(newer.field(revisions::revision).gt(revisions::revision)),
        )))
        .select((services::id, revisions::name))
        .load(conn)?)
}

/// A coordinator's working copy of a submission (see the migration).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = submission_drafts)]
pub struct DraftRow {
    pub id: String,
    pub org_slug: String,
    /// Set when the draft is a new version of an existing service.
    pub service_id: Option<String>,
    /// The form's content as JSON; it need not follow the schema yet.
    pub document: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
    /// The organisation's normalised service name, for a draft made by an
    /// import: importing the same inventory again finds the draft by it.
    pub import_key: Option<String>,
}

pub fn insert_draft(conn: &mut DbConnection, row: &DraftRow) -> Result<(), AppError> {
    diesel::insert_into(submission_drafts::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_draft(conn: &mut DbConnection, id: &str) -> Result<Option<DraftRow>, AppError> {
    Ok(submission_drafts::table
        .filter(submission_drafts::id.eq(id))
        .select(DraftRow::as_select())
        .first(conn)
        .optional()?)
}

/// The organisation's draft made from an imported row with this key.
pub fn find_imported_draft(conn: &mut DbConnection, org: &str, key: &str) -> Result<Option<DraftRow>, AppError> {
    Ok(submission_drafts::table
        .filter(submission_drafts::org_slug.eq(org))
        .filter(submission_drafts::import_key.eq(key))
        .select(DraftRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn update_draft(
    conn: &mut DbConnection,
    id: &str,
    document: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::update(submission_drafts::table.filter(submission_drafts::id.eq(id)))
        .set((
            submission_drafts::document.eq(document),
            submission_drafts::updated_by.eq(by),
            submission_drafts::updated_at.eq(at),
        ))
        .execute(conn)?)
}

pub fn delete_draft(conn: &mut DbConnection, id: &str) -> Result<usize, AppError> {
    diesel::delete(draft_contributors::table.filter(draft_contributors::draft_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(submission_drafts::table.filter(submission_drafts::id.eq(id))).execute(conn)?)
}

/// Records that a person saved a draft (once per person).
pub fn add_draft_contributor(conn: &mut DbConnection, draft_id: &str, user_id: &str) -> Result<(), AppError> {
    let known: i64 = draft_contributors::table
        .filter(draft_contributors::draft_id.eq(draft_id))
        .filter(draft_contributors::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    if known == 0 {
        diesel::insert_into(draft_contributors::table)
            .values((draft_contributors::draft_id.eq(draft_id), draft_contributors::user_id.eq(user_id)))
            .execute(conn)?;
    }
    Ok(())
}

/// Everyone who saved a draft.
pub fn draft_contributors(conn: &mut DbConnection, draft_id: &str) -> Result<Vec<String>, AppError> {
    Ok(draft_contributors::table
        .filter(draft_contributors::draft_id.eq(draft_id))
        .order(draft_contributors::user_id.asc())
        .select(draft_contributors::user_id)
        .load(conn)?)
}

/// A person who saved the draft a revision was made from, other than the
/// revision's creator (`created_by`), who is its author anyway.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = revision_contributors)]
pub struct ContributorRow {
    pub id: String,
    pub revision_id: String,
    pub user_id: String,
}

impl Audited for ContributorRow {
    const TABLE: &'static str = "revision_contributors";
    fn audit_id(&self) -> String {
        self.id.clone()
    }
}

pub fn insert_contributor(conn: &mut DbConnection, row: &ContributorRow) -> Result<(), AppError> {
    diesel::insert_into(revision_contributors::table).values(row).execute(conn)?;
    Ok(())
}

/// Everyone who wrote, edited or submitted a revision of the service: its
/// creators, submitters and contributors.
pub fn authors_of(conn: &mut DbConnection, service_id: &str) -> Result<Vec<String>, AppError> {
    let rows: Vec<(String, String, Option<String>)> = revisions::table
        .filter(revisions::service_id.eq(service_id))
        .select((revisions::id, revisions::created_by, revisions::submitted_by))
        .load(conn)?;
    let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    let contributors: Vec<String> = revision_contributors::table
        .filter(revision_contributors::revision_id.eq_any(ids))
        .select(revision_contributors::user_id)
        .load(conn)?;
    let mut people: Vec<String> =
        rows.into_iter().flat_map(|(_, created, submitted)| std::iter::once(created).chain(submitted)).collect();
    people.extend(contributors);
    people.sort();
    people.dedup();
    Ok(people)
}

/// An organisation's drafts, the most recently saved first.
pub fn drafts_of(conn: &mut DbConnection, org: &str, limit: i64) -> Result<Vec<DraftRow>, AppError> {
    Ok(submission_drafts::table
        .filter(submission_drafts::org_slug.eq(org))
        .order((submission_drafts::updated_at.desc(), submission_drafts::id.asc()))
        .limit(limit)
        .select(DraftRow::as_select())
        .load(conn)?)
}

/// Loads a service and what authorization needs to know about it.
pub fn load_service(conn: &mut DbConnection, service_id: &str) -> Result<(ServiceRow, bool), AppError> {
    let service = find_service(conn, service_id)?.ok_or(AppError::NotFound)?;
    let submitted = has_submitted(conn, &service.id)?;
    Ok((service, submitted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evaluation_rows_record_written_directly_is_its_canonical_json() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap().and_hms_micro_opt(15, 4, 5, 123_456).unwrap();
        let row = |outcome: &str, worse_than: &str, at: NaiveDateTime| EvaluationRow {
            id: "0193a1b2-0000-7000-8000-000000000001".into(),
            revision_id: "rev\"1\\é".into(),
            rule_set_version: "2026.1+c87c65eedf32".into(),
            verdict: Verdict::Fail,
            outcome: outcome.into(),
            evaluated_at: at,
            rule_outcomes: "R1=pass".into(),
            worse_than: worse_than.into(),
        };
        let whole_second = at.date().and_hms_opt(0, 0, 0).unwrap();
        for row in [
            row(
                r#"{"verdict":"fail","rules":[{"rule":"R1","outcome":"fail","violations":[{"message":"a\nb"}]}]}"#,
                "[]",
                at,
            ),
            row("{}", r#"["2026.1+aaaa","2025.9+bbbb"]"#, at),
            row("\u{1}\u{e000}😀", r#"["x"]"#, whole_second),
        ] {
            let mut direct = Vec::new();
            row.write_record(&mut direct);
            let expected = json::canonical(&serde_json::to_value(&row).unwrap());
            assert_eq!(String::from_utf8_lossy(&direct), String::from_utf8_lossy(&expected));
            let via_value = crate::audit::model::row_digest("evaluations", &serde_json::to_value(&row).unwrap());
            assert_eq!(row.subject().d, via_value);
        }
    }
}
