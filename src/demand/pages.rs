//! The coordinators' page of what employees asked the lookup for in vain:
//! the most asked questions over 30 days that found nothing, or found a
//! service not assessed in the organisation, each with a way forward.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::demand::{Asked, service as demand};
use crate::state::AppState;
use crate::web::lang_of;
use crate::web::session::{SignedIn, error_page, page, user_view};

/// Days the page looks back.
const DAYS: i64 = 30;

/// `GET /demand` — the list, for the organisation's coordinators, approvers
/// and admins.
pub async fn demand_page(state: web::Data<AppState>, req: HttpRequest, SignedIn(web): SignedIn) -> HttpResponse {
    let lang = lang_of(&req);
    let actor = web.actor.clone();
    let counter = state.demand.clone();
    let result = state
        .db
        .run(move |conn| demand::most_asked(conn, &counter, &actor, &actor.org_slug, DAYS, crate::swedish::today()))
        .await;
    let entries = match result {
        Ok(entries) => entries,
        Err(e) => return error_page(&state, &req, &e),
    };
    let snapshot = state.lookup.snapshot();
    let org_name = snapshot
        .orgs
        .iter()
        .find(|o| o.slug == web.actor.org_slug)
        .map_or(web.actor.org_slug.clone(), |o| o.name.clone());
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let service =
                e.service_id.as_deref().map(|id| json!({"id": id, "name": e.service_name.as_deref().unwrap_or(id)}));
            json!({
                "query": e.query,
                "not_found": e.answer == Asked::NotFound,
                "answer": state.views.text(lang, &format!("demand_answer_{}", e.answer.as_str())),
                "service": service,
                "count": e.count,
                "last_asked": crate::db::date_text(&e.last_asked),
            })
        })
        .collect();
    let context = json!({
        "user": user_view(&state, lang, &web),
        "org_name": org_name,
        "rows": rows,
        "can_describe": web.actor.has(crate::auth::Role::Coordinator),
    });
    page(&state, &req, lang, "demand", "demand_title", context)
}
