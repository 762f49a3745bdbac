//! `GET /services/{id}`: a service as its organisation, approvers and
//! auditors read it, with the decisions and the decision form.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::DECISION_FIELDS;
use crate::approvals;
use crate::auth::Role;
use crate::auth::sessions::WebActor;
use crate::db::{self};
use crate::error::AppError;
use crate::state::AppState;
use crate::swedish;
use crate::web::session::{SignedIn, error_page, page, user_view};
use crate::web::{Lang, lang_of, pick};

/// The service page's context: revisions with their failing checks, every
/// organisation's decision, and the decision form when the person may decide.
pub(super) fn service_context(state: &AppState, lang: Lang, web: &WebActor, loaded: &ServicePage) -> Value {
    let (service, decide_for, changes) = (&loaded.service, &loaded.decide_for, &loaded.changes);
    let name_of = |slug: &str| loaded.names.get(slug).cloned().unwrap_or_else(|| slug.to_string());
    let views = &state.views;
    let revisions: Vec<Value> = service
        .revisions
        .iter()
        .rev()
        .map(|r| {
            let (verdict, rules) = match &r.evaluation {
                Some(e) => {
                    let parsed: Option<crate::policy::model::Evaluation> =
                        serde_json::to_value(&e.outcome).ok().and_then(|v| serde_json::from_value(v).ok());
                    let rules: Vec<Value> = parsed
                        .map(|ev| {
                            ev.rules
                                .iter()
                                .filter(|rule| !rule.violations.is_empty())
                                .map(|rule| {
                                    json!({
                                        "rule": rule.rule.to_string(),
                                        "title": pick(lang, &rule.title, &rule.title_en),
                                        "violations": rule.violations.iter().map(|v| json!({
                                            "check": v.check.to_string(),
                                            "field": v.pointer,
                                            "message": pick(lang, &v.message_sv, &v.message_en),
                                        })).collect::<Vec<_>>(),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (views.text(lang, &format!("verdict_{}", e.verdict)), rules)
                }
                None => (views.text(lang, "verdict_none"), Vec::new()),
            };
            json!({
                "revision": r.revision,
                "state_label": views.text(lang, &format!("revision_state_{}", r.state)),
                "created_on": swedish::local_date_text(&r.created_at),
                "submitted_on": r.submitted_at.as_deref().map(swedish::local_date_text),
                "verdict": verdict,
                "failing_rules": rules,
                "changes": changes.get(&r.revision).map(|c| readable(state, lang, c)),
            })
        })
        .collect();
    let decisions: Vec<Value> = service
        .decisions
        .iter()
        .map(|d| {
            json!({
                "org": name_of(&d.org),
                "revision": d.revision,
                "decision": views.text(lang, &format!("decision_{}", d.decision)),
                "conditions": d.conditions.iter().map(|c| pick(lang, &c.text_sv, &c.text_en)).collect::<Vec<_>>(),
                "deciding_function": d.deciding_function,
                "via_delegation": d.via_delegation,
                "delegation_reference": d.delegation_reference,
                "decided_on": swedish::local_date_text(&d.decided_at),
                "decision_reference": d.decision_reference,
                "valid_until": d.valid_until,
                "revoked": d.revoked_at.is_some(),
                "expired": d.expired,
                "needs_re_review": d.needs_re_review,
            })
        })
        .collect();
    let under_review = service.revisions.iter().rev().find(|r| r.state == "submitted").map(|r| r.revision);
    let classes: Vec<Value> = ["public", "internal", "confidential", "strictly_confidential"]
        .iter()
        .map(|c| json!({"value": c, "label": views.text(lang, &format!("class_{c}"))}))
        .collect();
    // Decisions this person may revoke: the live ones of the organisations
    // they decide for. An organisation that has decided on the revision under
    // review sees its decision and the revoke form instead of the decision form.
    let revocable: Vec<Value> = service
        .decisions
        .iter()
        .filter(|d| d.revoked_at.is_none() && decide_for.iter().any(|(slug, _, _)| *slug == d.org))
        .map(|d| {
            json!({
                "decision_id": d.decision_id,
                "org": name_of(&d.org),
                "revision": d.revision,
                "decision": views.text(lang, &format!("decision_{}", d.decision)),
                "decision_reference": d.decision_reference,
                "decided_on": swedish::local_date_text(&d.decided_at),
            })
        })
        .collect();
    let undecided: Vec<Value> = decide_for
        .iter()
        .filter(|(slug, _, _)| {
            !service
                .decisions
                .iter()
                .any(|d| d.org == *slug && d.revoked_at.is_none() && Some(d.revision) == under_review)
        })
        .map(|(slug, name, via)| json!({"slug": slug, "name": name, "via_delegation": via}))
        .collect();
    let form = match under_review {
        Some(revision) if !undecided.is_empty() => Some(json!({
            "revision": revision, "orgs": undecided, "classes": classes,
            "valid_until": loaded.default_valid_until.map(|d| d.to_string()).unwrap_or_default(),
        })),
        _ => None,
    };
    // The whole description, grouped as the form groups it, with what changed
    // since the revision this person's organisation decided on.
    let description = loaded.described.as_ref().map(|d| {
        let rules: Vec<crate::policy::model::RuleResult> = service
            .revisions
            .iter()
            .find(|r| r.revision == d.revision)
            .and_then(|r| r.evaluation.as_ref())
            .and_then(|e| serde_json::to_value(&e.outcome).ok())
            .and_then(|v| serde_json::from_value::<crate::policy::model::Evaluation>(v).ok())
            .map(|e| e.rules)
            .unwrap_or_default();
        let text = |key: &str| views.text(lang, key);
        let texts = crate::submissions::form::Texts { lang, text: &text, countries: views.countries(lang) };
        json!({
            "revision": d.revision,
            "since": d.since,
            "sections": crate::submissions::form::describe(&d.document, &rules, &d.changed, &texts),
            "changed_count": d.changed.len(),
        })
    });
    // The owning organisation's coordinators submit the latest draft.
    let submit_revision = service
        .revisions
        .last()
        .filter(|r| r.state == "draft" && web.actor.has(Role::Coordinator) && web.actor.is_member_of(&service.org))
        .map(|r| r.revision);
    let can_change = web.actor.has(Role::Coordinator) && web.actor.is_member_of(&service.org);
    let revision_numbers: Vec<i32> = service.revisions.iter().map(|r| r.revision).collect();
    let compare = loaded
        .compare
        .as_ref()
        .map(|(from, to, changes)| json!({"from": from, "to": to, "changes": readable(state, lang, changes)}));
    let choose = |selected: i32| -> Vec<Value> {
        revision_numbers.iter().map(|n| json!({"number": n, "selected": *n == selected})).collect()
    };
    let (from, to) = match &loaded.compare {
        Some((a, b, _)) => (*a, *b),
        None => {
            let n = revision_numbers.len();
            let at = |i: usize| revision_numbers.get(i).copied().unwrap_or(1);
            (at(n.saturating_sub(2)), at(n.saturating_sub(1)))
        }
    };
    // What the decision form shows typed: nothing yet (a refused form puts
    // back what was typed, see `decide`).
    let typed: serde_json::Map<String, Value> =
        DECISION_FIELDS.iter().map(|name| (name.to_string(), Value::String(String::new()))).collect();
    json!({
        "user": user_view(state, lang, web),
        "typed": typed,
        "field_errors": {},
        "description": description,
        "revocable": revocable,
        "can_change": can_change,
        "compare": compare,
        "compare_choices": if revision_numbers.len() > 1 { Some(json!({"from": choose(from), "to": choose(to)})) } else { None },
        "submit_revision": submit_revision,
        "service": {"id": service.id, "org": name_of(&service.org), "name": service.name, "vendor": service.vendor},
        "revisions": revisions,
        "decisions": decisions,
        "form": form,
    })
}

/// Changes with the form's names for the fields and words for the values.
pub(super) fn readable(state: &AppState, lang: Lang, changes: &[crate::submissions::diff::Change]) -> Vec<Value> {
    let text = |key: &str| state.views.text(lang, key);
    changes
        .iter()
        .map(|c| {
            let value =
                |v: &Option<String>| v.as_deref().map(|v| crate::submissions::form::describe_value(&c.field, v, &text));
            json!({
                "field": c.field,
                "label": crate::submissions::form::describe_field(&c.field, &text).unwrap_or_else(|| c.field.clone()),
                "before": value(&c.before),
                "after": value(&c.after),
            })
        })
        .collect()
}

/// What changed in each visible revision since the one before it.
type Changes = std::collections::HashMap<i32, Vec<crate::submissions::diff::Change>>;

/// Everything the service page shows.
pub(super) struct ServicePage {
    service: crate::submissions::dto::ServiceResponse,
    /// The organisations the person may decide for: slug, name, via delegation.
    decide_for: Vec<(String, String, bool)>,
    changes: Changes,
    /// The comparison asked for (`?from=A&to=B`): the two revisions and what
    /// changed between them.
    compare: Option<(i32, i32, Vec<crate::submissions::diff::Change>)>,
    /// Organisation names by slug.
    names: std::collections::HashMap<String, String>,
    /// The decision form's valid-until: today plus the review interval of
    /// the revision under review.
    default_valid_until: Option<chrono::NaiveDate>,
    /// The description shown whole: the revision under review (or the latest
    /// the person may see), its document, and the revision the person's
    /// organisation decided on before with what changed since.
    described: Option<Described>,
}

pub(super) struct Described {
    revision: i32,
    document: Value,
    since: Option<i32>,
    changed: Vec<String>,
}

pub(super) async fn load_service_page(
    state: &AppState,
    web: &WebActor,
    service_id: String,
    compare: Option<(i32, i32)>,
) -> Result<ServicePage, AppError> {
    let actor = web.clone();
    let in_force = state.policies();
    state
        .db
        .run(move |conn| {
            db::read(conn, |conn| {
                let service = crate::submissions::service::service_as(conn, &in_force, &actor.actor, &service_id)?;
                let names: std::collections::HashMap<String, String> =
                    crate::organisations::service::all(conn)?.into_iter().map(|o| (o.slug, o.name)).collect();
                let orgs: Vec<(String, String, bool)> = approvals::service::decides_for(conn, &actor.actor)?
                    .into_iter()
                    .map(|(slug, via)| (slug.clone(), names.get(&slug).cloned().unwrap_or(slug), via))
                    .collect();
                // Only the revisions the person may see are compared.
                let visible: std::collections::HashSet<i32> = service.revisions.iter().map(|r| r.revision).collect();
                let mut previous: Option<Value> = None;
                let mut changes = Changes::new();
                let mut default_valid_until = None;
                let mut documents: std::collections::HashMap<i32, Value> = std::collections::HashMap::new();
                for row in crate::submissions::service::revisions_of(conn, &service.id)? {
                    if !visible.contains(&row.revision) {
                        continue;
                    }
                    if row.state == crate::submissions::model::RevisionState::Submitted {
                        default_valid_until = approvals::service::default_valid_until(&row).ok();
                    }
                    let document: Value = serde_json::from_str(&row.document)?;
                    if let Some(before) = &previous {
                        changes.insert(row.revision, crate::submissions::diff::changes(before, &document, 200));
                    }
                    if compare.is_some_and(|(a, b)| row.revision == a || row.revision == b) {
                        documents.insert(row.revision, document.clone());
                    }
                    previous = Some(document);
                }
                // Only revisions the person may see can be compared.
                let compare = compare.and_then(|(a, b)| {
                    let (before, after) = (documents.get(&a)?, documents.get(&b)?);
                    Some((a, b, crate::submissions::diff::changes(before, after, 500)))
                });
                // The description to read: the revision under review, else the latest visible one.
                let shown = service
                    .revisions
                    .iter()
                    .rev()
                    .find(|r| r.state == "submitted")
                    .or_else(|| service.revisions.last())
                    .map(|r| r.revision);
                let mine: Vec<&str> = std::iter::once(actor.actor.org_slug.as_str())
                    .chain(orgs.iter().map(|(slug, _, _): &(String, String, bool)| slug.as_str()))
                    .collect();
                let described = match shown {
                    Some(number) => {
                        let rows = crate::submissions::service::revisions_of(conn, &service.id)?;
                        let document = rows
                            .iter()
                            .find(|r| r.revision == number)
                            .map(|r| serde_json::from_str::<Value>(&r.document))
                            .transpose()?;
                        // The revision the person's organisation (or one it decides for) decided on before.
                        let since = service
                            .decisions
                            .iter()
                            .filter(|d| d.revision < number && mine.contains(&d.org.as_str()))
                            .max_by_key(|d| (d.org == actor.actor.org_slug, d.revision))
                            .map(|d| d.revision);
                        let before = since
                            .and_then(|n| rows.iter().find(|r| r.revision == n))
                            .map(|r| serde_json::from_str::<Value>(&r.document))
                            .transpose()?;
                        document.map(|document| {
                            let changed = before
                                .map(|b| {
                                    crate::submissions::diff::changes(&b, &document, 1000)
                                        .into_iter()
                                        .map(|c| c.field)
                                        .collect()
                                })
                                .unwrap_or_default();
                            Described { revision: number, document, since, changed }
                        })
                    }
                    None => None,
                };
                Ok(ServicePage { service, decide_for: orgs, changes, compare, names, default_valid_until, described })
            })
        })
        .await
}

/// `GET /services/{id}` — the service, its revisions and evaluations, every
/// organisation's decision, and the decision form for approvers.
pub async fn service_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    SignedIn(web): SignedIn,
) -> HttpResponse {
    let lang = lang_of(&req);
    let number = |name: &str| crate::web::query_param(&req, name).and_then(|v| v.parse::<i32>().ok());
    let compare = number("from").zip(number("to"));
    match load_service_page(&state, &web, path.into_inner(), compare).await {
        Ok(loaded) => {
            let mut context = service_context(&state, lang, &web, &loaded);
            if let Some(map) = context.as_object_mut() {
                map.insert("decided".into(), json!(crate::web::query_param(&req, "decided").is_some()));
                map.insert("revoked".into(), json!(crate::web::query_param(&req, "revoked").is_some()));
                map.insert("submitted".into(), json!(crate::web::query_param(&req, "submitted").is_some()));
                map.insert("created".into(), json!(crate::web::query_param(&req, "created")));
                map.insert("error".into(), Value::Null);
            }
            page(&state, &req, lang, "service", "service_title", context)
        }
        Err(e) => error_page(&state, &req, &e),
    }
}
