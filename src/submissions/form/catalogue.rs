//! The form's catalogue: every field of the submission document, what it
//! holds and in which section, and how a pointer finds its field.

use super::*;

/// What a field holds and how it is shown.
#[derive(Clone, Copy)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Several lines of text.
    LongText,
    Email,
    /// An https address.
    Url,
    Date,
    Integer,
    /// Yes or no.
    Bool,
    /// One of the values.
    Choice(&'static [&'static str]),
    /// Any number of the values.
    Multi(&'static [&'static str]),
    /// A list of texts, one per line.
    Lines,
    /// A list of host names, one per line; a pasted web address gives its host.
    Hosts,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// ISO 639-1 language codes, separated by commas or spaces.
    Languages,
    /// A list of objects: one row per object, one column per key.
    Table(&'static [Column]),
}

pub struct Column {
    pub key: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

pub struct Field {
    pub pointer: &'static str,
    pub kind: Kind,
    /// Empty means `null` rather than missing.
    pub nullable: bool,
    /// The key may be left out of the document altogether.
    pub optional: bool,
}

pub struct Section {
    pub id: &'static str,
    /// The rule this section's questions serve, if one.
    pub rule: Option<&'static str>,
    pub fields: &'static [Field],
}

pub(super) const fn f(pointer: &'static str, kind: Kind) -> Field {
    Field { pointer, kind, nullable: false, optional: false }
}

pub(super) const fn nullable(pointer: &'static str, kind: Kind) -> Field {
    Field { pointer, kind, nullable: true, optional: false }
}

pub(super) const fn col(key: &'static str, kind: Kind) -> Column {
    Column { key, kind, nullable: false }
}

pub(super) const fn col_nullable(key: &'static str, kind: Kind) -> Column {
    Column { key, kind, nullable: true }
}

pub(super) const SERVICE_TYPES: &[&str] = &["saas", "on_premises", "embedded_feature", "in_house"];
pub(super) const AI_CLASSES: &[&str] = &["generative_ai", "machine_learning", "rule_based", "other"];
pub(super) const CAPABILITIES: &[&str] = &[
    "text_generation",
    "image_generation",
    "audio_generation",
    "video_generation",
    "code_generation",
    "speech_to_text",
    "text_to_speech",
    "translation",
    "summarisation",
    "classification",
    "prediction",
    "recommendation",
    "search",
    "chatbot",
    "image_recognition",
    "other",
];
pub(super) const PHASES: &[&str] = &["planned", "pilot", "in_use", "retired"];
pub(super) const AI_ACT_ROLES: &[&str] = &["provider", "distributor", "importer", "unknown"];
pub(super) const DECISION_IMPACTS: &[&str] =
    &["no_decision_about_individuals", "supports_decisions_about_individuals", "automated_decisions_about_individuals"];
pub(super) const AFFECTED_GROUPS: &[&str] =
    &["employees", "residents", "children", "students", "patients", "job_applicants", "businesses", "other"];
pub(super) const INFORMATION_CLASSES: &[&str] = &["public", "internal", "confidential", "strictly_confidential"];
pub(super) const LOCATIONS: &[&str] = &["sweden", "eu_eea", "third_country", "unknown"];
pub(super) const TRANSFER_MECHANISMS: &[&str] =
    &["not_applicable", "none", "adequacy", "eu_us_dpf", "scc", "bcr", "other"];
pub(super) const TRAINING: &[&str] = &["no", "opted_out", "opt_out_available", "yes", "unknown"];
pub(super) const ASSESSMENT_STATES: &[&str] = &["not_started", "in_progress", "completed", "not_required"];
pub(super) const RISK_CLASSES: &[&str] =
    &["prohibited", "high_risk", "limited_transparency", "minimal", "not_ai_system"];
pub(super) const MUNICIPALITY_ROLES: &[&str] = &["deployer", "provider", "both"];
pub(super) const BIAS_RESULTS: &[&str] =
    &["acceptable", "acceptable_with_mitigations", "not_acceptable", "not_assessed"];
pub(super) const DISCLOSED_TO: &[&str] = &["employees", "residents", "meeting_participants", "students", "other"];
pub(super) const PUBLICATIONS: &[&str] = &["published", "internal_only", "withheld"];
pub(super) const OVERSIGHT: &[&str] = &["human_in_the_loop", "human_on_the_loop", "human_in_command", "none"];
pub(super) const CONFORMANCE: &[&str] = &["full", "partial", "none", "unknown", "not_applicable"];
pub(super) const ATTACHMENT_KINDS: &[&str] = &["dpia", "fria", "dpa", "vendor_evidence", "other"];

/// Every field of the submission document, in the order the form asks.
pub const SECTIONS: &[Section] = &[
    Section {
        id: "service",
        rule: None,
        fields: &[
            f("/service/name", Kind::Text),
            f("/service/aliases", Kind::Lines),
            f("/service/domains", Kind::Hosts),
            f("/service/short_description", Kind::LongText),
            f("/service/service_type", Kind::Choice(SERVICE_TYPES)),
            f("/service/ai_classification", Kind::Choice(AI_CLASSES)),
            f("/service/capabilities", Kind::Multi(CAPABILITIES)),
            f(
                "/service/models",
                Kind::Table(&[
                    col("name", Kind::Text),
                    col_nullable("version", Kind::Text),
                    col("provider", Kind::Text),
                ]),
            ),
            nullable("/service/product_url", Kind::Url),
            f("/service/phase", Kind::Choice(PHASES)),
            f("/service/interacts_directly_with_residents", Kind::Bool),
            f("/vendor/name", Kind::Text),
            f("/vendor/country", Kind::Country),
            nullable("/vendor/parent_jurisdiction", Kind::Country),
            f("/vendor/ai_act_role", Kind::Choice(AI_ACT_ROLES)),
            f("/vendor/certifications", Kind::Lines),
            nullable("/vendor/contract_reference", Kind::Text),
        ],
    },
    Section {
        id: "purpose",
        rule: None,
        fields: &[
            f("/purpose/intended_use", Kind::LongText),
            f("/purpose/out_of_scope_uses", Kind::Lines),
            f("/purpose/decision_impact", Kind::Choice(DECISION_IMPACTS)),
            f("/purpose/affected_groups", Kind::Multi(AFFECTED_GROUPS)),
            f("/purpose/legal_basis", Kind::Lines),
        ],
    },
    Section {
        id: "r1",
        rule: Some("R1"),
        fields: &[
            f("/data/personal_data_processed", Kind::Bool),
            f("/data/data_subject_categories", Kind::Lines),
            f("/vendor/dpa_signed", Kind::Bool),
            f(
                "/vendor/sub_processors",
                Kind::Table(&[col("name", Kind::Text), col("country", Kind::Country), col("purpose", Kind::Text)]),
            ),
            f("/data/special_categories_art9/processed", Kind::Bool),
            f("/data/special_categories_art9/categories", Kind::Lines),
            nullable("/data/special_categories_art9/art9_2_exception", Kind::Text),
            f("/data/criminal_offence_data_art10", Kind::Bool),
            f("/data/children_data", Kind::Bool),
            f("/data/secrecy_osl/may_be_entered", Kind::Bool),
            nullable("/data/secrecy_osl/assessment_summary", Kind::LongText),
            f("/data/permitted_information_classes", Kind::Multi(INFORMATION_CLASSES)),
            f("/data/data_location/storage", Kind::Choice(LOCATIONS)),
            f("/data/data_location/processing", Kind::Choice(LOCATIONS)),
            f("/data/data_location/support_access", Kind::Choice(LOCATIONS)),
            f("/data/data_location/transfer_mechanism", Kind::Choice(TRANSFER_MECHANISMS)),
            nullable("/data/retention/prompts_and_outputs_days", Kind::Integer),
            nullable("/data/retention/logs_days", Kind::Integer),
            f("/data/vendor_training_on_customer_data/status", Kind::Choice(TRAINING)),
            nullable("/data/vendor_training_on_customer_data/evidence", Kind::Text),
            f("/assessments/dpia/status", Kind::Choice(ASSESSMENT_STATES)),
            nullable("/assessments/dpia/completed_on", Kind::Date),
            nullable("/assessments/dpia/summary", Kind::LongText),
            f("/assessments/security/risk_assessment_done", Kind::Bool),
            f("/assessments/security/information_classification_done", Kind::Bool),
        ],
    },
    Section {
        id: "r2",
        rule: Some("R2"),
        fields: &[
            f("/transparency/ai_use_disclosed_to", Kind::Multi(DISCLOSED_TO)),
            f(
                "/transparency/disclosure_measures",
                Kind::Table(&[col("channel", Kind::Text), col("text_sv", Kind::Text)]),
            ),
            f("/transparency/ai_generated_content_labelled", Kind::Bool),
            nullable("/transparency/how_ai_affects_decisions", Kind::LongText),
            f("/transparency/explanation_available_on_request", Kind::Bool),
            f("/transparency/public_register_publication", Kind::Choice(PUBLICATIONS)),
            nullable("/transparency/withholding_reason", Kind::LongText),
        ],
    },
    Section {
        id: "r3",
        rule: Some("R3"),
        fields: &[
            f("/bias_and_non_discrimination/assessed", Kind::Bool),
            nullable("/bias_and_non_discrimination/method", Kind::LongText),
            f("/bias_and_non_discrimination/grounds_considered", Kind::Lines),
            nullable("/bias_and_non_discrimination/known_limitations", Kind::LongText),
            f("/bias_and_non_discrimination/mitigations", Kind::Lines),
            nullable("/bias_and_non_discrimination/monitoring", Kind::LongText),
            f("/bias_and_non_discrimination/result", Kind::Choice(BIAS_RESULTS)),
        ],
    },
    Section {
        id: "r4",
        rule: Some("R4"),
        fields: &[
            f("/governance/responsible_owner/name", Kind::Text),
            f("/governance/responsible_owner/role", Kind::Text),
            f("/governance/responsible_owner/organisation", Kind::Text),
            f("/governance/public_contact_email", Kind::Email),
            f("/governance/review/interval_months", Kind::Integer),
            f("/assessments/ai_act/risk_class", Kind::Choice(RISK_CLASSES)),
            f("/assessments/ai_act/municipality_role", Kind::Choice(MUNICIPALITY_ROLES)),
            nullable("/assessments/ai_act/annex_iii_area", Kind::Text),
            f("/assessments/ai_act/eu_database_registration_required", Kind::Bool),
            f("/assessments/ai_act/classification_rationale", Kind::LongText),
            f("/assessments/fria/status", Kind::Choice(ASSESSMENT_STATES)),
            nullable("/assessments/fria/completed_on", Kind::Date),
            nullable("/assessments/fria/summary", Kind::LongText),
            f("/human_oversight/model", Kind::Choice(OVERSIGHT)),
            nullable("/human_oversight/description", Kind::LongText),
            nullable("/appeals_and_complaints/process", Kind::LongText),
            nullable("/appeals_and_complaints/contact", Kind::Text),
            f("/ai_literacy/training_required", Kind::Bool),
            nullable("/ai_literacy/training_material_url", Kind::Url),
        ],
    },
    Section {
        id: "r5",
        rule: Some("R5"),
        fields: &[
            f("/purpose/benefits/expected", Kind::LongText),
            f(
                "/purpose/benefits/kpis",
                Kind::Table(&[
                    col("name", Kind::Text),
                    col_nullable("baseline", Kind::Text),
                    col_nullable("target", Kind::Text),
                ]),
            ),
        ],
    },
    Section {
        id: "r6",
        rule: Some("R6"),
        fields: &[
            f("/accessibility/conformance", Kind::Choice(CONFORMANCE)),
            nullable("/accessibility/accessibility_statement_url", Kind::Url),
            f("/accessibility/languages_supported", Kind::Languages),
        ],
    },
    Section {
        id: "attachments",
        rule: None,
        fields: &[Field {
            pointer: "/attachments",
            kind: Kind::Table(&[
                col("kind", Kind::Choice(ATTACHMENT_KINDS)),
                col("title", Kind::Text),
                col("sha256", Kind::Text),
            ]),
            nullable: false,
            optional: true,
        }],
    },
];

/// At most this many rows of one table are read from a form.
pub(super) const MAX_ROWS: usize = 200;

pub(super) fn html_id(pointer: &str) -> String {
    format!("f{}", pointer.replace('/', "-"))
}

/// The key of a field's label and help in the strings: `/service/models/0/name`
/// and `/service/models` columns share `service-models-name`.
pub fn text_key(pointer: &str) -> String {
    tokens(pointer).filter(|t| !t.chars().all(|c| c.is_ascii_digit())).collect::<Vec<_>>().join("-")
}

/// The catalogue's field that a pointer from the evaluation belongs to: the
/// deepest field at or above it, or else the first field below it.
pub(super) fn owner_field(pointer: &str) -> Option<&'static Field> {
    let all = SECTIONS.iter().flat_map(|s| s.fields.iter());
    let above = all
        .clone()
        .filter(|f| pointer == f.pointer || pointer.starts_with(&format!("{}/", f.pointer)))
        .max_by_key(|f| f.pointer.len());
    if above.is_some() || pointer.is_empty() {
        return above;
    }
    all.clone().find(|f| f.pointer.starts_with(&format!("{pointer}/")))
}

/// The pointer of `owner_field`.
pub(super) fn owner(pointer: &str) -> Option<&'static str> {
    owner_field(pointer).map(|f| f.pointer)
}
