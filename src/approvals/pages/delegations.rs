//! The administrators' pages for the organisation's delegations to a
//! federation: create and revoke. Every change goes through the same use
//! cases, permission rules and audit events as the API.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::approvals;
use crate::auth::authz::{self, Action};
use crate::db;
use crate::organisations::model::OrgKind;
use crate::state::AppState;
use crate::web::lang_of;
use crate::web::session::{FormPost, SignedIn, error_page, form_field, page, user_view};

/// `GET /admin/delegations` — the organisation's delegations and the form
/// for a new one.
pub async fn delegations_page(state: web::Data<AppState>, req: HttpRequest, SignedIn(web): SignedIn) -> HttpResponse {
    if let Err(e) = authz::can(&web.actor, Action::ManageDelegations { org: &web.actor.org_slug }) {
        return error_page(&state, &req, &e);
    }
    let lang = lang_of(&req);
    let org = web.actor.org_slug.clone();
    let loaded = state
        .db
        .run(move |conn| {
            db::read(conn, |conn| {
                let rows = approvals::service::delegations(conn, Some(&org))?;
                let federations: Vec<(String, String)> = crate::organisations::service::all(conn)?
                    .into_iter()
                    .filter(|o| o.kind == OrgKind::Federation && o.slug != org)
                    .map(|o| (o.slug, o.name))
                    .collect();
                Ok((rows, federations))
            })
        })
        .await;
    let (rows, federations) = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, &req, &e),
    };
    let own = web.actor.org_slug.clone();
    let delegations: Vec<Value> = rows
        .iter()
        .filter(|d| d.org_slug == own)
        .map(|d| {
            let view = approvals::service::delegation_response(d);
            json!({
                "id": view.delegation_id, "delegate": view.delegate, "reference": view.decision_reference,
                "valid_from": view.valid_from, "valid_until": view.valid_until, "in_force": view.in_force,
                "revoked": view.revoked_at.is_some(), "revocation_reason": view.revocation_reason,
            })
        })
        .collect();
    let federations: Vec<Value> = federations.iter().map(|(slug, name)| json!({"slug": slug, "name": name})).collect();
    let context = json!({
        "user": user_view(&state, lang, &web),
        "delegations": delegations,
        "federations": federations,
        "today": crate::swedish::today().to_string(),
    });
    page(&state, &req, lang, "delegations", "delegations_title", context)
}

/// `POST /admin/delegations` — a new delegation of the admin's organisation.
pub async fn create_delegation(post: FormPost) -> HttpResponse {
    let lang = post.lang();
    post.run(move |conn, web, fields| {
        let request = approvals::dto::DelegationRequest {
            org: web.actor.org_slug.clone(),
            delegate: form_field(fields, "delegate").unwrap_or_default().to_string(),
            decision_reference: form_field(fields, "decision_reference").unwrap_or_default().to_string(),
            valid_from: form_field(fields, "valid_from").unwrap_or_default().to_string(),
            valid_until: form_field(fields, "valid_until").map(str::to_string),
            scope: "all".into(),
        };
        approvals::service::create_delegation(conn, &web.actor, &request)?;
        Ok(format!("/admin/delegations?lang={lang}"))
    })
    .await
}

/// `POST /admin/delegations/{id}/revoke` — ends a delegation.
pub async fn revoke_delegation(post: FormPost, path: web::Path<String>) -> HttpResponse {
    let lang = post.lang();
    let id = path.into_inner();
    post.run(move |conn, web, fields| {
        approvals::service::revoke_delegation(conn, &web.actor, &id, form_field(fields, "reason"))?;
        Ok(format!("/admin/delegations?lang={lang}"))
    })
    .await
}
