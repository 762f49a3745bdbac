//! `GET /ordlista`: the glossary's entries (the words that must stay: DPIA,
//! FRIA, SCC and the like), and which form field each explains.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;
use crate::web::{html, lang_of};

/// The entries, by anchor; the term and its explanation are the strings
/// `glossary-{id}-term` and `glossary-{id}-text`.
pub const TERMS: &[&str] = &[
    "ai_act",
    "deployer",
    "dpa",
    "dpia",
    "eea",
    "fria",
    "human_oversight",
    "kpi",
    "osl",
    "provider",
    "risk_class",
    "scc",
    "special_categories",
    "sub_processor",
    "third_country",
    "wcag",
];

/// The glossary entry a form field's jargon is explained in.
pub fn entry_for(pointer: &str) -> Option<&'static str> {
    Some(match pointer {
        "/assessments/dpia/status" | "/assessments/dpia/summary" => "dpia",
        "/assessments/fria/status" | "/assessments/fria/summary" => "fria",
        "/data/data_location/transfer_mechanism" => "scc",
        "/data/data_location/storage" | "/data/data_location/processing" | "/data/data_location/support_access" => {
            "third_country"
        }
        "/vendor/dpa_signed" => "dpa",
        "/vendor/sub_processors" => "sub_processor",
        "/vendor/ai_act_role" => "provider",
        "/assessments/ai_act/municipality_role" => "deployer",
        "/assessments/ai_act/risk_class" => "risk_class",
        "/human_oversight/model" => "human_oversight",
        "/accessibility/conformance" => "wcag",
        "/data/special_categories_art9/processed" => "special_categories",
        "/data/secrecy_osl/may_be_entered" => "osl",
        "/purpose/benefits/kpis" => "kpi",
        _ => return None,
    })
}

/// `GET /ordlista`: the glossary, each entry explained in a sentence or two,
/// in alphabetical order.
pub async fn glossary_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(e) = state.rate_limit(&req) {
        return state.views.error_page(&req, &e);
    }
    let lang = lang_of(&req);
    // The layout shows who is signed in, when someone is.
    let user = match crate::web::session::signed_in(&state, &req).await {
        Ok(Some(web)) => Some(crate::web::session::user_view(&state, lang, &web)),
        _ => None,
    };
    let text = |key: &str| state.views.text(lang, key);
    let mut entries: Vec<(String, serde_json::Value)> = TERMS
        .iter()
        .map(|id| {
            let term = text(&format!("glossary-{id}-term"));
            (term.clone(), serde_json::json!({"id": id, "term": term, "text": text(&format!("glossary-{id}-text"))}))
        })
        .collect();
    crate::swedish::SwedishOrder::new().sort_by_key(&mut entries, |(term, _)| term.as_str());
    let context = serde_json::json!({"user": user, "entries": entries.into_iter().map(|(_, e)| e).collect::<Vec<_>>()});
    let title = text("glossary_title");
    match state.views.render(&req, lang, "glossary", &title, &context) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => state.views.error_page(&req, &e),
    }
}
