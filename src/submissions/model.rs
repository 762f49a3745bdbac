//! A submission document parsed once at the boundary.

use serde_json::Value;

use crate::error::AppError;
use crate::json;
use crate::policy::{Evaluation, PolicySet, Verdict};

/// A document that follows the submission schema, with its evaluation.
#[derive(Debug, Clone)]
pub struct ParsedDocument {
    /// The document exactly as submitted.
    pub raw: String,
    pub doc: Value,
    /// SHA-256 of the canonical form: the same for the same content however
    /// it is formatted.
    pub sha256: String,
    pub name: String,
    pub vendor: String,
    pub aliases: Vec<String>,
    pub domains: Vec<String>,
    pub publication: Publication,
    pub risk_class: String,
    /// `json::field_offsets` of the raw document.
    pub field_offsets: Option<String>,
    pub evaluation: Evaluation,
}

impl ParsedDocument {
    /// 400 when the bytes are not JSON, 422 with every schema error when the
    /// document does not follow the schema.
    pub fn parse(policies: &PolicySet, bytes: &[u8]) -> Result<ParsedDocument, AppError> {
        let (doc, evaluation) = policies
            .evaluate_bytes(bytes)
            .map_err(|e| AppError::bad_request(format!("the body is not valid JSON: {e}")))?;
        if evaluation.verdict == Verdict::Invalid {
            return Err(AppError::InvalidDocument(evaluation.errors));
        }
        let raw = String::from_utf8(bytes.to_vec()).map_err(|_| AppError::bad_request("the body is not UTF-8"))?;
        let text = |pointer: &str| doc.pointer(pointer).and_then(Value::as_str).unwrap_or_default().trim().to_string();
        let list = |pointer: &str| -> Vec<String> {
            doc.pointer(pointer)
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(Value::as_str).map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        };
        Ok(ParsedDocument {
            sha256: json::canonical_sha256(&doc),
            name: text("/service/name"),
            vendor: text("/vendor/name"),
            aliases: list("/service/aliases"),
            domains: list("/service/domains").into_iter().map(|d| d.to_ascii_lowercase()).collect(),
            // Required by the schema and one of its three values.
            publication: Publication::parse(&text("/transparency/public_register_publication"))
                .ok_or_else(|| AppError::bad_request("public_register_publication is not a known value"))?,
            risk_class: text("/assessments/ai_act/risk_class"),
            field_offsets: json::field_offsets(bytes),
            raw,
            doc,
            evaluation,
        })
    }
}

/// Whether a service appears in the public register and the lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    /// In the public register and the lookup.
    Published,
    /// In the lookup for signed-in callers only.
    InternalOnly,
    /// Nowhere public.
    Withheld,
}

crate::db::text_enum!(Publication);

impl Publication {
    pub fn as_str(self) -> &'static str {
        match self {
            Publication::Published => "published",
            Publication::InternalOnly => "internal_only",
            Publication::Withheld => "withheld",
        }
    }

    pub fn parse(s: &str) -> Option<Publication> {
        match s {
            "published" => Some(Publication::Published),
            "internal_only" => Some(Publication::InternalOnly),
            "withheld" => Some(Publication::Withheld),
            _ => None,
        }
    }
}

/// The state of a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum RevisionState {
    /// Private to the owning organisation; may be submitted.
    Draft,
    /// Frozen and visible to every organisation, so that each can decide.
    Submitted,
}

crate::db::text_enum!(RevisionState);

impl RevisionState {
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionState::Draft => "draft",
            RevisionState::Submitted => "submitted",
        }
    }

    pub fn parse(s: &str) -> Option<RevisionState> {
        match s {
            "draft" => Some(RevisionState::Draft),
            "submitted" => Some(RevisionState::Submitted),
            _ => None,
        }
    }
}
