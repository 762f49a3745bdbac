//! The glossary's entries (the words that must stay: DPIA, FRIA, SCC and the
//! like), and which form field each explains. The page is `GET /ordlista`
//! (`pages::glossary_page`).

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
