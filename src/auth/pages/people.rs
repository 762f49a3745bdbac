//! The administrators' pages for the organisation's people and roles: add
//! a person, grant and revoke roles. Every change goes through the same use
//! cases, permission rules and audit events as the API.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::auth::{Role, service as people};
use crate::db;
use crate::error::AppError;
use crate::i18n::Message;
use crate::state::AppState;
use crate::web::session::{FormPost, SignedIn, error_page, form_field, page, user_view};
use crate::web::{Lang, encode, lang_of};

fn role_options(state: &AppState, lang: Lang) -> Vec<Value> {
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

/// `GET /admin/people` — the organisation's people and their roles.
pub async fn people_page(state: web::Data<AppState>, req: HttpRequest, SignedIn(web): SignedIn) -> HttpResponse {
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
