//! Decisions, their conditions, and delegations, as domain types parsed once
//! at the boundary.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{AppError, FieldError};
use crate::i18n::Message;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approved,
    ApprovedWithConditions,
    Rejected,
}

crate::db::text_enum!(DecisionKind);

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Approved => "approved",
            DecisionKind::ApprovedWithConditions => "approved_with_conditions",
            DecisionKind::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<DecisionKind> {
        match s {
            "approved" => Some(DecisionKind::Approved),
            "approved_with_conditions" => Some(DecisionKind::ApprovedWithConditions),
            "rejected" => Some(DecisionKind::Rejected),
            _ => None,
        }
    }

    pub fn is_approval(self) -> bool {
        self != DecisionKind::Rejected
    }
}

/// Information classes, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InformationClass {
    Public,
    Internal,
    Confidential,
    StrictlyConfidential,
}

/// A condition of an approval, stored as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Condition {
    /// The highest information class that may be entered.
    InformationClassMax(InformationClass),
    /// No personal data may be entered.
    NoPersonalData(Option<bool>),
    /// No special-category personal data (GDPR Art. 9) may be entered.
    NoSpecialCategoryData(Option<bool>),
    /// The only tasks the service may be used for.
    PermittedTasks(Vec<String>),
    /// Settings that must be in place.
    RequiredSettings(Vec<String>),
    /// Anything else, in words.
    Other(String),
}

impl Condition {
    /// Checks the values: lists non-empty, texts non-blank and bounded.
    pub fn validate(&self, pointer: &str) -> Result<(), FieldError> {
        let bad = |id: &'static str| Err(FieldError::of(pointer, Message::new(id)));
        let text_ok = |s: &String| !s.trim().is_empty() && s.chars().count() <= 500;
        match self {
            Condition::PermittedTasks(items) | Condition::RequiredSettings(items)
                if items.is_empty() || items.len() > 50 || !items.iter().all(text_ok) =>
            {
                return bad("error-condition_items");
            }
            Condition::Other(text) if !text_ok(text) => {
                return bad("error-condition_text");
            }
            Condition::NoPersonalData(Some(false)) | Condition::NoSpecialCategoryData(Some(false)) => {
                return bad("error-condition_flag");
            }
            _ => {}
        }
        Ok(())
    }

    /// The condition in plain Swedish and English, for employees and the public.
    pub fn describe(&self) -> (String, String) {
        let message = match self {
            Condition::InformationClassMax(class) => Message::new(match class {
                InformationClass::Public => "condition-class_max-public",
                InformationClass::Internal => "condition-class_max-internal",
                InformationClass::Confidential => "condition-class_max-confidential",
                InformationClass::StrictlyConfidential => "condition-class_max-strictly_confidential",
            }),
            Condition::NoPersonalData(_) => Message::new("condition-no_personal_data"),
            Condition::NoSpecialCategoryData(_) => Message::new("condition-no_special_category_data"),
            Condition::PermittedTasks(items) => {
                Message::new("condition-permitted_tasks").with("items", items.join(", "))
            }
            Condition::RequiredSettings(items) => {
                Message::new("condition-required_settings").with("items", items.join(", "))
            }
            Condition::Other(text) => return (text.clone(), text.clone()),
        };
        let (en, sv) = message.both();
        (sv, en)
    }
}

/// Parses the conditions of a request; every problem is reported.
pub fn parse_conditions(values: &[Value]) -> Result<Vec<Condition>, AppError> {
    let mut conditions = Vec::new();
    let mut errors = Vec::new();
    if values.len() > 50 {
        errors.push(FieldError::of("/conditions", Message::new("error-too_many_conditions")));
    }
    for (i, value) in values.iter().enumerate() {
        let pointer = format!("/conditions/{i}");
        let mut value = value.clone();
        // A flag condition may be sent without a value.
        if let Some(map) = value.as_object_mut() {
            let flag = matches!(
                map.get("type").and_then(Value::as_str),
                Some("no_personal_data" | "no_special_category_data")
            );
            if flag && !map.contains_key("value") {
                map.insert("value".into(), Value::Bool(true));
            }
        }
        match serde_json::from_value::<Condition>(value) {
            Ok(condition) => match condition.validate(&pointer) {
                Ok(()) => conditions.push(condition),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(FieldError::of(
                pointer,
                Message::new("error-condition_invalid").with("detail", crate::http::plain_serde_error(&e.to_string())),
            )),
        }
    }
    if errors.is_empty() {
        Ok(conditions)
    } else {
        Err(AppError::Unprocessable {
            code: "invalid_conditions",
            message: Message::new("error-conditions_invalid"),
            details: errors,
        })
    }
}

/// Whether a delegation is in force on a date.
pub fn in_force(valid_from: NaiveDate, valid_until: Option<NaiveDate>, revoked: bool, on: NaiveDate) -> bool {
    !revoked && valid_from <= on && valid_until.is_none_or(|until| on <= until)
}

/// Parses an ISO date (YYYY-MM-DD).
pub fn parse_date(value: &str, pointer: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| AppError::field("invalid_date", pointer, Message::new("error-date_format")))
}

/// A free text that must be present: trimmed, 1..=max characters.
pub fn required_text(value: Option<&str>, max: usize, pointer: &str, message: Message) -> Result<String, AppError> {
    match value.map(str::trim) {
        Some(text) if !text.is_empty() && text.chars().count() <= max => Ok(text.to_string()),
        _ => Err(AppError::field("invalid_request", pointer, message)),
    }
}

/// An optional free text: trimmed; empty becomes None.
pub fn optional_text(value: Option<&str>, max: usize, pointer: &str) -> Result<Option<String>, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.chars().count() <= max => Ok(Some(text.to_string())),
        Some(_) => {
            Err(AppError::field("invalid_request", pointer, Message::new("error-text_too_long").with("max", max)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_parse_from_the_wire_format() {
        let parsed = parse_conditions(&[
            json!({"type": "information_class_max", "value": "internal"}),
            json!({"type": "no_personal_data"}),
            json!({"type": "permitted_tasks", "value": ["utkast", "sammanfattning"]}),
            json!({"type": "other", "value": "Endast efter utbildning"}),
        ])
        .unwrap();
        assert_eq!(parsed[0], Condition::InformationClassMax(InformationClass::Internal));
        assert_eq!(parsed[1], Condition::NoPersonalData(Some(true)));
        assert_eq!(parsed[0].describe().0, "bara för allmänna och interna uppgifter");
        let round = serde_json::to_value(&parsed[2]).unwrap();
        assert_eq!(round, json!({"type": "permitted_tasks", "value": ["utkast", "sammanfattning"]}));
    }

    #[test]
    fn bad_conditions_are_all_reported() {
        let err = parse_conditions(&[
            json!({"type": "information_class_max", "value": "secret"}),
            json!({"type": "permitted_tasks", "value": []}),
            json!({"type": "teleport"}),
            json!({"type": "other", "value": "  "}),
        ])
        .unwrap_err();
        assert_eq!(err.details().len(), 4);
        assert_eq!(err.details()[1].pointer, "/conditions/1");
    }

    #[test]
    fn delegations_are_in_force_inside_their_window() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(in_force(d("2026-01-01"), None, false, d("2026-11-27")));
        assert!(in_force(d("2026-01-01"), Some(d("2026-11-27")), false, d("2026-11-27")));
        assert!(!in_force(d("2026-01-01"), Some(d("2026-11-26")), false, d("2026-11-27")));
        assert!(!in_force(d("2026-12-01"), None, false, d("2026-11-27")));
        assert!(!in_force(d("2026-01-01"), None, true, d("2026-11-27")));
    }
}
