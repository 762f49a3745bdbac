//! What each registered rule set says of its rules (titles and severity),
//! read from the files kept in `rule_sets`. Evaluations stored in the
//! compact form get these back when they are read.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;

use super::model::{RuleMeta, Severity};
use crate::db::DbConnection;
use crate::db::schema::rule_sets;
use crate::error::AppError;

/// The rules of a rule set's stored files (`{"file name": "text", …}`), by
/// rule id, with each file's text and parsed document. None when the files
/// do not read.
pub fn rules_in(sources: &str) -> Option<HashMap<String, (String, serde_json::Value)>> {
    let files = serde_json::from_str::<HashMap<String, String>>(sources).ok()?;
    let mut by_rule = HashMap::new();
    for text in files.into_values() {
        let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let id = doc.pointer("/x-tillit-rule/id").and_then(|id| id.as_str()).map(str::to_string);
        if let Some(id) = id {
            by_rule.insert(id, (text, doc));
        }
    }
    Some(by_rule)
}

/// Rule titles and severities by rule-set version.
#[derive(Debug, Default)]
pub struct RuleCatalog {
    by_version: HashMap<String, HashMap<String, RuleMeta>>,
}

impl RuleCatalog {
    /// The catalogue of the given versions (those registered).
    pub fn load<'a>(
        conn: &mut DbConnection,
        versions: impl IntoIterator<Item = &'a str>,
    ) -> Result<RuleCatalog, AppError> {
        let mut wanted: Vec<&str> = versions.into_iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(RuleCatalog::default());
        }
        let rows: Vec<(String, String)> = rule_sets::table
            .filter(rule_sets::version.eq_any(&wanted))
            .select((rule_sets::version, rule_sets::sources))
            .load(conn)?;
        let mut by_version = HashMap::new();
        for (version, sources) in rows {
            let Some(rules) = rules_in(&sources) else {
                log::warn!("rule set {version}: its stored files do not read");
                continue;
            };
            let metas = rules.into_iter().filter_map(|(id, (_, doc))| Some((id, meta_of(&doc)?))).collect();
            by_version.insert(version, metas);
        }
        Ok(RuleCatalog { by_version })
    }

    pub fn meta(&self, version: &str, rule: &str) -> Option<RuleMeta> {
        self.by_version.get(version)?.get(rule).cloned()
    }
}

fn meta_of(doc: &serde_json::Value) -> Option<RuleMeta> {
    let text = |pointer: &str| doc.pointer(pointer).and_then(|v| v.as_str()).map(Arc::<str>::from);
    let severity = match doc.pointer("/x-tillit-rule/severity")?.as_str()? {
        "blocking" => Severity::Blocking,
        "advisory" => Severity::Advisory,
        _ => return None,
    };
    Some(RuleMeta { title: text("/x-tillit-rule/title/sv")?, title_en: text("/x-tillit-rule/title/en")?, severity })
}
