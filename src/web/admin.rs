//! The administrators' pages: the organisation's delegations to a
//! federation (create, revoke) and its people and roles (add a person,
//! grant and revoke roles). Every change goes through the same use cases,
//! permission rules and audit events as the API.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::workspace::{FormPost, error_page, form_field, page, signed_in, to_login, user_view};
use super::{encode, lang_of};
use crate::approvals;
use crate::auth::authz::{self, Action};
use crate::auth::{Role, service as people};
use crate::db;
use crate::error::AppError;
use crate::i18n::Message;
use crate::organisations::model::OrgKind;
use crate::state::AppState;

fn role_options(state: &AppState, lang: super::Lang) -> Vec<Value> {
    [Role::Coordinator, Role::Approver, Role::Auditor, Role::Admin]
        .iter()
        .map(|r| json!({"value": r.as_str(), "label": state.views.text(lang, &format!("role_{}", r.as_str()))}))
        .collect()
}

fn parse_role(value: Option<&str>) -> Result<Role, AppError> {
    value
        .and_then(Role::parse)
        .ok_or_else(|| AppError::field("invalid_role", "/role", Message::new("error-invalid_role")))
}

// -------------------------------------------------------------- delegations --

/// `GET /admin/delegations` — the organisation's delegations and the form
/// for a new one.
pub async fn delegations_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let web = match signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return to_login(&req),
        Err(e) => return error_page(&state, &req, &e),
    };
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

// ------------------------------------------------------------ people, roles --

/// `GET /admin/people` — the organisation's people and their roles.
pub async fn people_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let web = match signed_in(&state, &req).await {
        Ok(Some(web)) => web,
        Ok(None) => return to_login(&req),
        Err(e) => return error_page(&state, &req, &e),
    };
    let lang = lang_of(&req);
    let actor = web.actor.clone();
    let loaded =
        state.db.run(move |conn| db::read(conn, |conn| people::list_people(conn, &actor, &actor.org_slug))).await;
    let list = match loaded {
        Ok(x) => x,
        Err(e) => return error_page(&state, &req, &e),
    };
    let people: Vec<Value> = list
        .iter()
        .map(|p| {
            let held: Vec<Value> = p
                .roles
                .iter()
                .map(|r| json!({"value": r.as_str(), "label": state.views.text(lang, &format!("role_{}", r.as_str()))}))
                .collect();
            json!({"id": p.person_id, "id_url": encode(&p.person_id), "name": p.name, "active": p.active, "roles": held})
        })
        .collect();
    let context = json!({
        "user": user_view(&state, lang, &web),
        "people": people,
        "roles": role_options(&state, lang),
    });
    page(&state, &req, lang, "people", "people_title", context)
}

/// `POST /admin/people` — adds a person (or finds them by name) with roles.
pub async fn add_person(post: FormPost) -> HttpResponse {
    let lang = post.lang();
    post.run(move |conn, web, fields| {
        let mut roles = Vec::new();
        for (name, value) in fields {
            if name == "role" {
                roles.push(parse_role(Some(value))?);
            }
        }
        let request = crate::auth::dto::PersonRequest {
            org: web.actor.org_slug.clone(),
            name: form_field(fields, "name").unwrap_or_default().to_string(),
            roles,
        };
        people::add_person(conn, &web.actor, &request)?;
        Ok(format!("/admin/people?lang={lang}"))
    })
    .await
}

/// `POST /admin/people/{id}/roles` — grants a role.
pub async fn grant_role(post: FormPost, path: web::Path<String>) -> HttpResponse {
    let lang = post.lang();
    let id = path.into_inner();
    post.run(move |conn, web, fields| {
        people::grant_role(conn, &web.actor, &id, parse_role(form_field(fields, "role"))?)?;
        Ok(format!("/admin/people?lang={lang}"))
    })
    .await
}

/// `POST /admin/people/{id}/roles/{role}/revoke` — revokes a role.
pub async fn revoke_role(post: FormPost, path: web::Path<(String, String)>) -> HttpResponse {
    let lang = post.lang();
    let (id, role) = path.into_inner();
    post.run(move |conn, web, _| {
        people::revoke_role(conn, &web.actor, &id, parse_role(Some(&role))?)?;
        Ok(format!("/admin/people?lang={lang}"))
    })
    .await
}
