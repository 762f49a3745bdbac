//! What each registered rule set says of its rules (titles and severity)
//! and checks (messages), read from the files kept in `rule_sets`.
//! Evaluations stored without them get them back when they are read.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;

use super::PolicySet;
use super::model::{RuleMeta, RuleTexts, Severity};
use crate::db::DbConnection;
use crate::db::schema::rule_sets;
use crate::error::AppError;

/// Whether a rule set's files are recorded in `rule_sets`, so that an
/// evaluation stored in the lean form reads back with its titles,
/// severities and messages.
pub fn on_record(conn: &mut DbConnection, version: &str) -> Result<bool, AppError> {
    let found: Option<String> =
        rule_sets::table.filter(rule_sets::version.eq(version)).select(rule_sets::version).first(conn).optional()?;
    Ok(found.is_some())
}

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

/// What each rule set says of its rules and checks: titles and severities
/// by rule, messages by check, by rule-set version.
#[derive(Debug, Default)]
pub struct RuleCatalog {
    by_version: HashMap<String, RuleSetText>,
}

/// One rule set's titles, severities and messages.
#[derive(Debug, Default, PartialEq)]
struct RuleSetText {
    rules: HashMap<String, RuleMeta>,
    /// Swedish and English message by check id.
    messages: HashMap<String, (Arc<str>, Arc<str>)>,
}

impl RuleSetText {
    /// From a rule set's stored files (`{"file name": "text", …}`).
    fn read(sources: &str) -> Option<RuleSetText> {
        let mut text = RuleSetText::default();
        for (id, (_, doc)) in rules_in(sources)? {
            text.messages.extend(messages_of(&doc));
            if let Some(meta) = meta_of(&doc) {
                text.rules.insert(id, meta);
            }
        }
        Some(text)
    }
}

impl RuleCatalog {
    /// The catalogue of the given versions: the rule set in force from its
    /// compiled rules (`of`, which say what its stored files say), so that a
    /// page showing evaluations made under it reads nothing; any other from
    /// its files in `rule_sets` (those registered), in one read.
    pub fn load<'a>(
        conn: &mut DbConnection,
        versions: impl IntoIterator<Item = &'a str>,
        in_force: &PolicySet,
    ) -> Result<RuleCatalog, AppError> {
        let mut wanted: Vec<&str> = versions.into_iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut by_version = HashMap::new();
        if let Some(at) = wanted.iter().position(|version| *version == in_force.version()) {
            wanted.remove(at);
            by_version.extend(RuleCatalog::of(in_force).by_version);
        }
        if wanted.is_empty() {
            return Ok(RuleCatalog { by_version });
        }
        let rows: Vec<(String, String)> = rule_sets::table
            .filter(rule_sets::version.eq_any(&wanted))
            .select((rule_sets::version, rule_sets::sources))
            .load(conn)?;
        for (version, sources) in rows {
            let Some(text) = RuleSetText::read(&sources) else {
                log::warn!("rule set {version}: its stored files do not read");
                continue;
            };
            by_version.insert(version, text);
        }
        Ok(RuleCatalog { by_version })
    }

    /// The catalogue of the rule set in force (as `load` would read it once
    /// it is registered).
    pub fn of(policies: &PolicySet) -> RuleCatalog {
        let mut text = RuleSetText::default();
        for rule in policies.rules() {
            let meta =
                RuleMeta { title: rule.title_sv.clone(), title_en: rule.title_en.clone(), severity: rule.severity };
            text.rules.insert(rule.id.to_string(), meta);
            for check in &rule.checks {
                text.messages.insert(check.id.to_string(), (check.message_sv.clone(), check.message_en.clone()));
            }
        }
        RuleCatalog { by_version: HashMap::from([(policies.version().to_string(), text)]) }
    }

    pub fn meta(&self, version: &str, rule: &str) -> Option<RuleMeta> {
        self.by_version.get(version)?.rules.get(rule).cloned()
    }

    /// A check's Swedish and English message. A violation named after its
    /// rule (the engine's report of a rule that failed with no single check
    /// failing) has the rule's title as its message.
    pub fn message(&self, version: &str, check: &str) -> Option<(Arc<str>, Arc<str>)> {
        let text = self.by_version.get(version)?;
        match text.messages.get(check) {
            Some(message) => Some(message.clone()),
            None => text.rules.get(check).map(|meta| (meta.title.clone(), meta.title_en.clone())),
        }
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

/// The messages of a rule file's checks (every `$defs` entry that carries
/// `x-tillit-check`, as the loader reads them), by check id.
fn messages_of(doc: &serde_json::Value) -> impl Iterator<Item = (String, (Arc<str>, Arc<str>))> + '_ {
    let defs = doc.get("$defs").and_then(serde_json::Value::as_object);
    defs.into_iter().flatten().filter_map(|(id, def)| {
        let message = def.get("x-tillit-check")?.get("message")?;
        let text = |lang: &str| message.get(lang).and_then(|v| v.as_str()).map(Arc::<str>::from);
        Some((id.clone(), (text("sv")?, text("en")?)))
    })
}

impl RuleTexts for RuleCatalog {
    fn meta(&self, version: &str, rule: &str) -> Option<RuleMeta> {
        RuleCatalog::meta(self, version, rule)
    }

    fn message(&self, version: &str, check: &str) -> Option<(Arc<str>, Arc<str>)> {
        RuleCatalog::message(self, version, check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_set_read_from_its_stored_files_says_what_the_one_in_force_says() {
        let policies = crate::policy::load(None).unwrap();
        // As `reevaluate::register_rule_set` stores them.
        let sources: serde_json::Map<String, serde_json::Value> = policies
            .sources()
            .iter()
            .map(|s| (s.file_name.clone(), serde_json::Value::String(s.text.clone())))
            .collect();
        let stored = RuleSetText::read(&serde_json::to_string(&sources).unwrap()).unwrap();
        let in_force = RuleCatalog::of(&policies).by_version.remove(policies.version()).unwrap();
        assert_eq!(stored.rules.len(), 6);
        assert!(stored.messages.len() > stored.rules.len());
        assert_eq!(stored, in_force);
        assert!(RuleSetText::read("not json").is_none());
    }
}
