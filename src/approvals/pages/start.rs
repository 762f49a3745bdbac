//! `GET /start`: what the signed-in person has to do, by role.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};

use crate::approvals;
use crate::auth::Role;
use crate::db::{self};
use crate::error::AppError;
use crate::state::AppState;
use crate::swedish;
use crate::web::lang_of;
use crate::web::session::{SignedIn, error_page, page, user_view};

#[derive(Serialize)]
pub(super) struct QueueItem {
    org: String,
    org_name: String,
    via_delegation: bool,
    service_id: String,
    revision: i32,
    name: String,
    vendor: String,
    risk_class: String,
    submitted_on: String,
    /// The revision this organisation decided on before, when there is one.
    decided_revision: Option<i32>,
    /// What changed since then, as the form names the fields.
    changed: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct ServiceItem {
    service_id: String,
    name: String,
    vendor: String,
    revision: i32,
    state: String,
    /// Each organisation's current decision: (org slug, decision, revoked, revision it was on).
    decided: Vec<(String, String, bool, i32)>,
}

/// `GET /start` — what the signed-in person has to do, by role.
pub async fn start_page(state: web::Data<AppState>, req: HttpRequest, SignedIn(web): SignedIn) -> HttpResponse {
    let lang = lang_of(&req);
    let actor = web.clone();
    let state_views = state.clone();
    // The queue's filters: one municipality, and a service's name or vendor.
    let queue_org = crate::web::query_param(&req, "queue_org").filter(|v| !v.is_empty());
    let queue_service =
        crate::web::query_param(&req, "queue_service").map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let (shown_org, shown_service) = (queue_org.clone(), queue_service.clone());
    let loaded = state
        .db
        .run(move |conn| {
            let state_views = &state_views.views;
            db::read(conn, |conn| {
                let names: std::collections::HashMap<String, String> =
                    crate::organisations::service::all(conn)?.into_iter().map(|o| (o.slug, o.name)).collect();
                let mut queue = Vec::new();
                let deciding = approvals::service::decides_for(conn, &actor.actor)?;
                let filter_options: Vec<(String, String)> = deciding
                    .iter()
                    .map(|(slug, _)| (slug.clone(), names.get(slug).cloned().unwrap_or_else(|| slug.clone())))
                    .collect();
                let grantors = approvals::service::approver_grantors(conn, &actor.actor.user_id)?;
                for (org, via_delegation) in deciding {
                    if queue_org.as_deref().is_some_and(|wanted| wanted != org) {
                        continue;
                    }
                    for r in approvals::service::waiting_for(conn, &org, 100)? {
                        if let Some(wanted) = &queue_service {
                            let folded = |t: &str| t.to_lowercase();
                            if !folded(&r.name).contains(&folded(wanted))
                                && !folded(&r.vendor).contains(&folded(wanted))
                            {
                                continue;
                            }
                        }
                        // Nobody decides on what they (or whoever made them an approver) wrote.
                        if !approvals::service::may_decide_on(conn, &actor.actor.user_id, &grantors, &r.service_id)? {
                            continue;
                        }
                        let since = approvals::service::changes_since_decided(conn, &org, &r)?;
                        let text = |key: &str| state_views.text(lang, key);
                        let mut changed: Vec<String> = since
                            .iter()
                            .flat_map(|(_, changes)| changes.iter())
                            .map(|c| {
                                crate::submissions::form::describe_field(&c.field, &text)
                                    .unwrap_or_else(|| text("field_other"))
                            })
                            .collect();
                        changed.dedup();
                        queue.push(QueueItem {
                            decided_revision: since.as_ref().map(|(n, _)| *n),
                            changed,
                            org_name: names.get(&org).cloned().unwrap_or_else(|| org.clone()),
                            org: org.clone(),
                            via_delegation,
                            service_id: r.service_id,
                            revision: r.revision,
                            name: r.name,
                            vendor: r.vendor,
                            risk_class: crate::submissions::form::describe_value(
                                "/assessments/ai_act/risk_class",
                                &r.risk_class,
                                &text,
                            ),
                            submitted_on: r
                                .submitted_at
                                .map(|t| db::date_text(&swedish::local_date(&t)))
                                .unwrap_or_default(),
                        });
                    }
                }
                let services = if actor.actor.has(Role::Coordinator) || actor.actor.has(Role::Approver) {
                    crate::submissions::service::services_of(conn, &actor.actor.org_slug, 200)?
                        .into_iter()
                        .map(|(s, r)| {
                            let decided = approvals::service::current_decisions(conn, &s.id)?
                                .into_iter()
                                .map(|d| (d.org, d.decision, d.revoked_at.is_some(), d.revision))
                                .collect();
                            Ok(ServiceItem {
                                service_id: s.id,
                                name: r.name,
                                vendor: r.vendor,
                                revision: r.revision,
                                state: r.state.as_str().to_string(),
                                decided,
                            })
                        })
                        .collect::<Result<Vec<_>, AppError>>()?
                } else {
                    Vec::new()
                };
                let drafts = if actor.actor.has(Role::Coordinator) {
                    crate::submissions::service::drafts_of(conn, &actor.actor.org_slug, 100)?
                } else {
                    Vec::new()
                };
                Ok((queue, services, drafts, filter_options))
            })
        })
        .await;
    let (queue, services, drafts, filter_options) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, &req, &e),
    };
    // Each service's real state in each organisation: "Avslagen i Kinda
    // kommun", "Granskas i …" for a newer version, else the revision's state.
    let org_names = state.lookup.snapshot();
    let org_name = |slug: &str| {
        org_names.orgs.iter().find(|o| o.slug == slug).map(|o| o.name.clone()).unwrap_or_else(|| slug.to_string())
    };
    let t = |key: &str| state.views.text(lang, key);
    let services: Vec<Value> = services
        .into_iter()
        .map(|s| {
            let mut states: Vec<String> = s
                .decided
                .iter()
                .map(|(org, decision, revoked, revision)| {
                    let word = if *revoked {
                        t("state_revoked")
                    } else if *revision < s.revision && s.state == "submitted" {
                        t("state_under_review")
                    } else {
                        t(&format!("state_{decision}"))
                    };
                    format!("{word} {} {}", t("state_in"), org_name(org))
                })
                .collect();
            if states.is_empty() {
                states.push(t(&format!("revision_state_{}", s.state)));
            }
            json!({"service_id": s.service_id, "name": s.name, "vendor": s.vendor, "revision": s.revision, "states": states})
        })
        .collect();
    let context = json!({
        "user": user_view(&state, lang, &web),
        "is_approver": web.actor.has(Role::Approver),
        "is_coordinator": web.actor.has(Role::Coordinator),
        "can_audit": web.actor.has(Role::Auditor) || web.actor.has(Role::Admin),
        "is_admin": web.actor.has(Role::Admin),
        "can_see_demand": web.actor.has(Role::Coordinator) || web.actor.has(Role::Approver) || web.actor.has(Role::Admin),
        "queue": queue,
        "queue_filter": (filter_options.len() > 1).then(|| json!({
            "orgs": filter_options.iter().map(|(slug, name)| json!({
                "slug": slug, "name": name, "selected": shown_org.as_deref() == Some(slug.as_str()),
            })).collect::<Vec<_>>(),
            "service": shown_service.clone().unwrap_or_default(),
            "active": shown_org.is_some() || shown_service.is_some(),
        })),
        "services": services,
        "drafts": drafts.iter().map(|d| {
            let doc: Value = serde_json::from_str(&d.document).unwrap_or(Value::Null);
            let name = doc.pointer("/service/name").and_then(Value::as_str).unwrap_or("").trim().to_string();
            json!({
                "id": d.id,
                "name": if name.is_empty() { state.views.text(lang, "draft_untitled") } else { name },
                "saved_on": db::date_text(&swedish::local_date(&d.updated_at)),
                "new_version": d.service_id.is_some(),
            })
        }).collect::<Vec<_>>(),
        "discarded": crate::web::query_param(&req, "discarded").is_some(),
    });
    page(&state, &req, lang, "start", "start_title", context)
}
