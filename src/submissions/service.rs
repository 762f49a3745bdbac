//! Use cases for services and revisions. Each write runs in one transaction:
//! authenticate, authorize, change, audit.

use std::collections::HashMap;

use super::dto::{
    RevisionCreated, RevisionResponse, RevisionSubmitted, RevisionSummary, ServiceResponse, StoredEvaluation,
};
use super::model::{ParsedDocument, RevisionState};
use super::store::{self, EvaluationRow, OutcomeForm, RevisionRow, ServiceRow};
use crate::audit::{self, AuditAction, NewEvent};
use crate::auth::authz::{self, Action, ServiceRef};
use crate::auth::service::authenticate;
use crate::auth::{Actor, Credentials};
use crate::db::{self, DbConnection, rfc3339, rfc3339_opt};
use crate::error::AppError;
use crate::i18n::Message;
use crate::ids::new_id;
use crate::policy::catalog::{self, RuleCatalog};
use crate::policy::model::StoredOutcome;
use crate::policy::{Evaluation, PolicySet};

fn new_revision_rows(
    conn: &mut DbConnection,
    service_id: &str,
    number: i32,
    parsed: &ParsedDocument,
    actor: &Actor,
) -> Result<(RevisionRow, EvaluationRow), AppError> {
    let now = db::now();
    let revision = RevisionRow::draft(new_id(), service_id, number, parsed, &actor.user_id, now)?;
    // The lean form once the rule set is on record (it is from the server's
    // start, and from a reload before the new rule set is used), the full
    // one otherwise, so that the evaluation always reads back whole.
    let form = if catalog::on_record(conn, &parsed.evaluation.rule_set_version)? {
        OutcomeForm::Lean
    } else {
        OutcomeForm::Full
    };
    let evaluation = EvaluationRow::new(new_id(), &revision.id, &parsed.evaluation, now, form)?;
    Ok((revision, evaluation))
}

fn created(service: &ServiceRow, revision: &RevisionRow, evaluation: &Evaluation) -> RevisionCreated {
    RevisionCreated {
        service_id: service.id.clone(),
        org: service.org_slug.clone(),
        revision: revision.revision,
        state: revision.state.as_str().to_string(),
        document_sha256: revision.document_sha256.clone(),
        evaluation: evaluation.clone(),
    }
}

/// Creates a service for the caller's organisation with its first revision.
/// Runs inside the write path (`idempotency::perform`).
pub fn create_service(
    conn: &mut DbConnection,
    actor: &Actor,
    parsed: &ParsedDocument,
    contributors: &[String],
) -> Result<RevisionCreated, AppError> {
    {
        authz::can(actor, Action::CreateService { org: &actor.org_slug })?;
        let service = ServiceRow {
            id: new_id(),
            org_slug: actor.org_slug.clone(),
            created_by: actor.user_id.clone(),
            created_at: db::now(),
        };
        store::insert_service(conn, &service)?;
        let (revision, evaluation) = new_revision_rows(conn, &service.id, 1, parsed, actor)?;
        store::insert_revision(conn, &revision)?;
        store::insert_evaluation(conn, &evaluation)?;
        let mut event = NewEvent::new(AuditAction::ServiceCreated, Some(&actor.user_id), Some(&actor.org_slug))
            .subject(&service)
            .subject(&revision)
            .subject(&evaluation);
        for row in record_contributors(conn, &revision, contributors)? {
            event = event.subject(&row);
        }
        audit::append(conn, event)?;
        log::info!("service {} created by user {} of {}", service.id, actor.user_id, actor.org_slug);
        Ok(created(&service, &revision, &parsed.evaluation))
    }
}

/// Records the people who saved the draft a revision was made from (its
/// creator is recorded as `created_by`); the rows go into the revision's
/// audit event.
fn record_contributors(
    conn: &mut DbConnection,
    revision: &RevisionRow,
    contributors: &[String],
) -> Result<Vec<store::ContributorRow>, AppError> {
    let mut people: Vec<&String> = contributors.iter().filter(|p| **p != revision.created_by).collect();
    people.sort();
    people.dedup();
    let mut rows = Vec::with_capacity(people.len());
    for person in people {
        let row = store::ContributorRow { id: new_id(), revision_id: revision.id.clone(), user_id: person.clone() };
        store::insert_contributor(conn, &row)?;
        rows.push(row);
    }
    Ok(rows)
}

/// Adds a new revision to a service. A revision is never edited: every
/// change is a new revision.
pub fn add_revision(
    conn: &mut DbConnection,
    actor: &Actor,
    service_id: &str,
    parsed: &ParsedDocument,
    contributors: &[String],
) -> Result<RevisionCreated, AppError> {
    {
        let (service, has_submitted) = store::load_service(conn, service_id)?;
        authz::can(actor, Action::AddRevision(ServiceRef { org: &service.org_slug, has_submitted }))?;
        let number = store::latest_revision_number(conn, &service.id)? + 1;
        let (revision, evaluation) = new_revision_rows(conn, &service.id, number, parsed, actor)?;
        store::insert_revision(conn, &revision)?;
        store::insert_evaluation(conn, &evaluation)?;
        let mut event = NewEvent::new(AuditAction::RevisionCreated, Some(&actor.user_id), Some(&service.org_slug))
            .subject(&revision)
            .subject(&evaluation);
        for row in record_contributors(conn, &revision, contributors)? {
            event = event.subject(&row);
        }
        audit::append(conn, event)?;
        Ok(created(&service, &revision, &parsed.evaluation))
    }
}

/// Submits the latest revision for review. From then on it is frozen and
/// every organisation may see it and decide on it.
pub fn submit_revision(
    conn: &mut DbConnection,
    actor: &Actor,
    service_id: &str,
    number: i32,
) -> Result<RevisionSubmitted, AppError> {
    let (service, has_submitted) = store::load_service(conn, service_id)?;
    let service_ref = ServiceRef { org: &service.org_slug, has_submitted };
    // A draft of another organisation must look exactly like nothing.
    if !actor.is_member_of(&service.org_slug)
        && store::find_revision(conn, &service.id, number)?.is_none_or(|r| r.state != RevisionState::Submitted)
    {
        return Err(AppError::NotFound);
    }
    authz::can(actor, Action::SubmitRevision(service_ref))?;
    let revision = store::find_revision(conn, &service.id, number)?.ok_or(AppError::NotFound)?;
    if revision.state == RevisionState::Submitted {
        return Err(AppError::conflict("already_submitted", Message::new("error-already_submitted")));
    }
    if store::latest_revision_number(conn, &service.id)? != number {
        return Err(AppError::conflict("not_latest_revision", Message::new("error-not_latest_revision")));
    }
    let at = db::now();
    if store::mark_submitted(conn, &revision.id, &actor.user_id, at)? != 1 {
        return Err(AppError::conflict("already_submitted", Message::new("error-submitted_meanwhile")));
    }
    let revision = store::find_revision(conn, &service.id, number)?.ok_or(AppError::NotFound)?;
    audit::append(
        conn,
        NewEvent::new(AuditAction::RevisionSubmitted, Some(&actor.user_id), Some(&service.org_slug)).subject(&revision),
    )?;
    Ok(RevisionSubmitted {
        service_id: service.id.clone(),
        revision: revision.revision,
        state: revision.state.as_str().to_string(),
        submitted_at: rfc3339(&at),
    })
}

/// The stored evaluations as the API shows them: compact and lean ones get
/// their titles, severities and messages from their rule sets (the one in
/// force from its compiled rules, any other in one read, only when needed),
/// lean ones the rest from their rows.
fn stored<'a>(
    conn: &mut DbConnection,
    in_force: &PolicySet,
    rows: impl IntoIterator<Item = &'a EvaluationRow>,
) -> Result<HashMap<&'a str, StoredEvaluation>, AppError> {
    let parsed: Vec<(&EvaluationRow, StoredOutcome)> = rows
        .into_iter()
        .map(|row| Ok((row, StoredOutcome::parse(&row.outcome, row.summary())?)))
        .collect::<Result<_, AppError>>()?;
    let needed = parsed.iter().filter(|(_, o)| o.needs_rule_set()).map(|(_, o)| o.rule_set_version());
    let catalog = RuleCatalog::load(conn, needed, in_force)?;
    Ok(parsed
        .into_iter()
        .map(|(row, outcome)| {
            let evaluation = StoredEvaluation {
                rule_set_version: row.rule_set_version.clone(),
                verdict: row.verdict.as_str().to_string(),
                evaluated_at: rfc3339(&row.evaluated_at),
                outcome: outcome.complete(&catalog),
            };
            (row.id.as_str(), evaluation)
        })
        .collect())
}

type EvaluationsByRevision = HashMap<String, Vec<EvaluationRow>>;

/// The revisions of a service that this actor may see, with their evaluations.
fn visible_revisions(
    conn: &mut DbConnection,
    actor: &Actor,
    service: &ServiceRow,
    has_submitted: bool,
) -> Result<(Vec<RevisionRow>, EvaluationsByRevision), AppError> {
    let service_ref = ServiceRef { org: &service.org_slug, has_submitted };
    authz::can(actor, Action::ViewService(service_ref))?;
    let drafts_visible = authz::can(actor, Action::ViewDrafts(service_ref)).is_ok();
    let revisions: Vec<RevisionRow> = store::revisions_of(conn, &service.id)?
        .into_iter()
        .filter(|r| drafts_visible || r.state == RevisionState::Submitted)
        .collect();
    let ids: Vec<String> = revisions.iter().map(|r| r.id.clone()).collect();
    let mut by_revision: HashMap<String, Vec<EvaluationRow>> = HashMap::new();
    for evaluation in store::evaluations_of(conn, &ids)? {
        by_revision.entry(evaluation.revision_id.clone()).or_default().push(evaluation);
    }
    Ok((revisions, by_revision))
}

pub fn get_service(
    conn: &mut DbConnection,
    in_force: &PolicySet,
    creds: &Credentials,
    service_id: &str,
) -> Result<ServiceResponse, AppError> {
    db::read(conn, |conn| {
        let actor = authenticate(conn, &creds.token_hash)?;
        service_as(conn, in_force, &actor, service_id)
    })
}

/// A service as `actor` may see it (inside the caller's transaction), its
/// evaluations shown whole with the help of the rule set in force.
pub fn service_as(
    conn: &mut DbConnection,
    in_force: &PolicySet,
    actor: &Actor,
    service_id: &str,
) -> Result<ServiceResponse, AppError> {
    {
        let (service, has_submitted) = store::load_service(conn, service_id)?;
        let (revisions, evaluations) = visible_revisions(conn, actor, &service, has_submitted)?;
        let mut shown = stored(conn, in_force, evaluations.values().filter_map(|e| e.last()))?;
        let latest = revisions.last();
        let summaries = revisions
            .iter()
            .map(|r| {
                let evaluation =
                    evaluations.get(&r.id).and_then(|e| e.last()).and_then(|e| shown.remove(e.id.as_str()));
                Ok(RevisionSummary {
                    revision: r.revision,
                    state: r.state.as_str().to_string(),
                    name: r.name.clone(),
                    vendor: r.vendor.clone(),
                    document_sha256: r.document_sha256.clone(),
                    created_at: rfc3339(&r.created_at),
                    submitted_at: rfc3339_opt(&r.submitted_at),
                    evaluation,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let decisions = crate::approvals::service::current_decisions(conn, &service.id)?;
        Ok(ServiceResponse {
            id: service.id.clone(),
            org: service.org_slug.clone(),
            created_at: rfc3339(&service.created_at),
            name: latest.map(|r| r.name.clone()).unwrap_or_default(),
            vendor: latest.map(|r| r.vendor.clone()).unwrap_or_default(),
            revisions: summaries,
            decisions,
        })
    }
}

pub fn get_revision(
    conn: &mut DbConnection,
    in_force: &PolicySet,
    creds: &Credentials,
    service_id: &str,
    number: i32,
) -> Result<RevisionResponse, AppError> {
    db::read(conn, |conn| {
        let actor = authenticate(conn, &creds.token_hash)?;
        let (service, has_submitted) = store::load_service(conn, service_id)?;
        let (revisions, mut evaluations) = visible_revisions(conn, &actor, &service, has_submitted)?;
        let revision = revisions.into_iter().find(|r| r.revision == number).ok_or(AppError::NotFound)?;
        let evaluations = evaluations.remove(&revision.id).unwrap_or_default();
        let mut shown = stored(conn, in_force, &evaluations)?;
        Ok(RevisionResponse {
            service_id: service.id.clone(),
            org: service.org_slug.clone(),
            revision: revision.revision,
            state: revision.state.as_str().to_string(),
            document: crate::json::parse_strict(revision.document.as_bytes())?,
            document_sha256: revision.document_sha256.clone(),
            created_at: rfc3339(&revision.created_at),
            submitted_at: rfc3339_opt(&revision.submitted_at),
            evaluations: evaluations.iter().filter_map(|e| shown.remove(e.id.as_str())).collect(),
        })
    })
}

// ------------------------------------------------------------------ drafts --
//
// A draft is a coordinator's working copy from the web form. It may be
// incomplete; it is private to its organisation's coordinators, and it
// becomes a revision (and goes away) only when it follows the schema.

/// A draft that `actor` may work on, or 404: a draft of another
/// organisation looks exactly like nothing.
pub fn draft_as(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<store::DraftRow, AppError> {
    let draft = store::find_draft(conn, id)?.ok_or(AppError::NotFound)?;
    if !actor.is_member_of(&draft.org_slug) {
        return Err(AppError::NotFound);
    }
    authz::can(actor, Action::CreateService { org: &draft.org_slug })?;
    Ok(draft)
}

/// Starts a draft: empty for a new service, or with the latest revision's
/// document for a new version of `service_id`.
pub fn start_draft(
    conn: &mut DbConnection,
    actor: &Actor,
    service_id: Option<&str>,
    name: Option<&str>,
) -> Result<store::DraftRow, AppError> {
    let document = match service_id {
        Some(id) => {
            let (service, has_submitted) = store::load_service(conn, id)?;
            authz::can(actor, Action::AddRevision(ServiceRef { org: &service.org_slug, has_submitted }))?;
            let latest = store::revisions_of(conn, &service.id)?.pop().ok_or(AppError::NotFound)?;
            latest.document
        }
        None => {
            authz::can(actor, Action::CreateService { org: &actor.org_slug })?;
            // A name to start from (a question employees asked for, say).
            match name.map(str::trim).filter(|n| !n.is_empty()) {
                Some(name) => serde_json::json!({"schema_version": "1.0", "service": {"name": name}}).to_string(),
                None => "{\"schema_version\":\"1.0\"}".to_string(),
            }
        }
    };
    let now = db::now();
    let row = store::DraftRow {
        id: new_id(),
        org_slug: actor.org_slug.clone(),
        service_id: service_id.map(str::to_string),
        document,
        created_by: actor.user_id.clone(),
        created_at: now,
        updated_by: actor.user_id.clone(),
        updated_at: now,
        import_key: None,
    };
    store::insert_draft(conn, &row)?;
    store::add_draft_contributor(conn, &row.id, &actor.user_id)?;
    Ok(row)
}

/// A draft made from one row of an imported inventory: the organisation's
/// draft with `key` gets `merge` applied to its document (so importing the
/// same file again updates it), or a new draft is made from `merge` applied
/// to an empty document. `true` when the draft is new.
pub fn import_draft(
    conn: &mut DbConnection,
    actor: &Actor,
    org: &str,
    key: &str,
    merge: impl FnOnce(&serde_json::Value) -> serde_json::Value,
) -> Result<(store::DraftRow, bool), AppError> {
    authz::can(actor, Action::CreateService { org })?;
    let now = db::now();
    if let Some(mut draft) = store::find_imported_draft(conn, org, key)? {
        let before = serde_json::from_str(&draft.document).unwrap_or_else(|_| serde_json::json!({}));
        draft.document = serde_json::to_string(&merge(&before))?;
        store::update_draft(conn, &draft.id, &draft.document, &actor.user_id, now)?;
        store::add_draft_contributor(conn, &draft.id, &actor.user_id)?;
        return Ok((draft, false));
    }
    let row = store::DraftRow {
        id: new_id(),
        org_slug: org.to_string(),
        service_id: None,
        document: serde_json::to_string(&merge(&serde_json::json!({"schema_version": "1.0"})))?,
        created_by: actor.user_id.clone(),
        created_at: now,
        updated_by: actor.user_id.clone(),
        updated_at: now,
        import_key: Some(key.to_string()),
    };
    store::insert_draft(conn, &row)?;
    store::add_draft_contributor(conn, &row.id, &actor.user_id)?;
    Ok((row, true))
}

/// Saves the form's content into the draft.
pub fn save_draft(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    document: &serde_json::Value,
) -> Result<store::DraftRow, AppError> {
    let mut draft = draft_as(conn, actor, id)?;
    draft.document = serde_json::to_string(document)?;
    draft.updated_by = actor.user_id.clone();
    draft.updated_at = db::now();
    store::update_draft(conn, &draft.id, &draft.document, &actor.user_id, draft.updated_at)?;
    store::add_draft_contributor(conn, &draft.id, &actor.user_id)?;
    Ok(draft)
}

/// Saves the draft and, when it follows the schema, turns it into a
/// revision (of a new service or of the draft's service) and deletes it.
/// `None` when the draft is not complete yet: it stays saved.
pub fn complete_draft(
    conn: &mut DbConnection,
    actor: &Actor,
    policies: &crate::policy::PolicySet,
    id: &str,
    document: &serde_json::Value,
) -> Result<Option<RevisionCreated>, AppError> {
    let draft = save_draft(conn, actor, id, document)?;
    let bytes = serde_json::to_vec_pretty(document)?;
    let parsed = match ParsedDocument::parse(policies, &bytes) {
        Ok(parsed) => parsed,
        Err(AppError::InvalidDocument(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    // Everyone who saved the draft wrote the revision (separation of duties).
    let contributors = store::draft_contributors(conn, &draft.id)?;
    let created = match &draft.service_id {
        Some(service_id) => add_revision(conn, actor, service_id, &parsed, &contributors)?,
        None => create_service(conn, actor, &parsed, &contributors)?,
    };
    store::delete_draft(conn, &draft.id)?;
    Ok(Some(created))
}

/// Deletes a draft; nothing else changes.
pub fn discard_draft(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<(), AppError> {
    let draft = draft_as(conn, actor, id)?;
    store::delete_draft(conn, &draft.id)?;
    Ok(())
}

/// Every revision of a service, oldest first.
pub fn revisions_of(conn: &mut DbConnection, service_id: &str) -> Result<Vec<RevisionRow>, AppError> {
    store::revisions_of(conn, service_id)
}

/// An organisation's services with their latest revision (at most `limit`),
/// for its coordinators' and approvers' start page.
pub fn services_of(conn: &mut DbConnection, org: &str, limit: i64) -> Result<Vec<(ServiceRow, RevisionRow)>, AppError> {
    store::services_of(conn, org, limit)
}

/// Each service of an organisation, by id, with its latest name.
pub fn service_names_of(conn: &mut DbConnection, org: &str) -> Result<Vec<(String, String)>, AppError> {
    store::service_names_of(conn, org)
}

/// An organisation's drafts (at most `limit`), newest first.
pub fn drafts_of(conn: &mut DbConnection, org: &str, limit: i64) -> Result<Vec<store::DraftRow>, AppError> {
    store::drafts_of(conn, org, limit)
}
