//! The one catalogue of words. Every page, error message, export label and
//! command output takes its text from here, in Swedish and English.
//!
//! The words are Fluent files (`templates/i18n/{sv,en}/*.ftl`, Project
//! Fluent's syntax), compiled into the binary and read through
//! `fluent-bundle`. A message has an id (`audit_title`, `error-deactivated`,
//! `value-in_use`) and may take arguments (`{ $org }`) and choose its words by
//! number (`1 rad`, `2 rader`). Ids are the same in both languages; `load`
//! refuses a catalogue where they differ.
//!
//! The catalogue is read once and then only read from. Errors are written to
//! the client far from any application state, so the catalogue is reached
//! through `catalogue()` rather than passed along, like the embedded templates.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;
use include_dir::{Dir, include_dir};
use serde_json::{Map, Value};

use crate::lang::Lang;

pub use fluent_bundle::FluentValue;

static FILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates/i18n");

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(Catalogue::load);

/// The catalogue, read on first use.
pub fn catalogue() -> &'static Catalogue {
    &CATALOGUE
}

/// One language's messages.
struct Language {
    bundle: FluentBundle<FluentResource>,
    /// Every message without arguments, by id: what a template sees as `t`.
    strings: Value,
    ids: BTreeSet<String>,
}

pub struct Catalogue {
    sv: Language,
    en: Language,
    /// What was wrong with the files (syntax, a repeated id, an id in one
    /// language only). The application does not start unless it is empty.
    problems: Vec<String>,
}

impl Catalogue {
    fn load() -> Catalogue {
        let files = |lang: Lang| -> Vec<(String, &'static str)> {
            let dir = FILES.get_dir(lang.as_str()).map(|d| d.files().collect::<Vec<_>>()).unwrap_or_default();
            dir.into_iter()
                .map(|file| (file.path().display().to_string(), file.contents_utf8().unwrap_or("")))
                .collect()
        };
        Catalogue::from_files(&files(Lang::Sv), &files(Lang::En))
    }

    /// A catalogue from (file name, Fluent text) pairs per language.
    fn from_files(sv: &[(String, &str)], en: &[(String, &str)]) -> Catalogue {
        let mut problems = Vec::new();
        let sv = Language::load(Lang::Sv, sv, &mut problems);
        let en = Language::load(Lang::En, en, &mut problems);
        for id in sv.ids.symmetric_difference(&en.ids) {
            let only = if sv.ids.contains(id) { "sv" } else { "en" };
            problems.push(format!("the message {id} is only in templates/i18n/{only}"));
        }
        Catalogue { sv, en, problems }
    }

    /// Ok when every file parsed and both languages have the same messages.
    pub fn check(&self) -> Result<(), String> {
        if self.problems.is_empty() { Ok(()) } else { Err(self.problems.join("; ")) }
    }

    fn language(&self, lang: Lang) -> &Language {
        match lang {
            Lang::Sv => &self.sv,
            Lang::En => &self.en,
        }
    }

    /// Every message of a language without arguments, by id.
    pub fn strings(&self, lang: Lang) -> &Value {
        &self.language(lang).strings
    }

    /// Every message id (the same in both languages once `check` passes).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.sv.ids.iter().map(String::as_str)
    }

    /// A message without arguments; the id itself when there is none, so a
    /// missing word shows as its id rather than as nothing.
    pub fn text(&self, lang: Lang, id: &str) -> String {
        // Messages without arguments are already in words.
        match self.strings(lang).get(id).and_then(Value::as_str) {
            Some(text) => text.to_string(),
            None => id.to_string(),
        }
    }

    /// A message with its arguments filled in.
    pub fn format(&self, lang: Lang, id: &str, args: &[(&str, FluentValue)]) -> String {
        let bundle = &self.language(lang).bundle;
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, (!args.is_empty()).then_some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            log::warn!("message {id} ({}): {errors:?}", lang.as_str());
        }
        text.into_owned()
    }
}

/// A message of the catalogue with its arguments, put into words only when
/// it is shown (an error carries one until it is written to the client).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    id: &'static str,
    args: Vec<(&'static str, Arg)>,
}

/// An argument of a message. Numbers are kept as numbers, so that the words
/// can follow them (`1 dag`, `2 dagar`); a message as argument is put into
/// words in the same language as the message around it.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Number(i64),
    Message(Box<Message>),
    /// Words already written in both languages (a decision's conditions).
    Words {
        sv: String,
        en: String,
    },
}

impl Message {
    pub fn new(id: &'static str) -> Message {
        Message { id, args: Vec::new() }
    }

    /// The message with one more argument.
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Message {
        self.args.push((name, value.into()));
        self
    }

    pub fn id(&self) -> &'static str {
        self.id
    }

    pub fn text(&self, lang: Lang) -> String {
        let args: Vec<(&str, FluentValue)> = self
            .args
            .iter()
            .map(|(name, arg)| {
                let value = match arg {
                    Arg::Text(text) => FluentValue::from(text.as_str()),
                    Arg::Number(n) => FluentValue::from(*n),
                    Arg::Message(message) => FluentValue::from(message.text(lang)),
                    Arg::Words { sv, en } => {
                        FluentValue::from(if lang == Lang::Sv { sv.as_str() } else { en.as_str() })
                    }
                };
                (*name, value)
            })
            .collect();
        catalogue().format(lang, self.id, &args)
    }

    /// The message in English and in Swedish.
    pub fn both(&self) -> (String, String) {
        (self.text(Lang::En), self.text(Lang::Sv))
    }
}

/// Written as English, for the log.
impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

impl From<Message> for Arg {
    fn from(message: Message) -> Arg {
        Arg::Message(Box::new(message))
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_string())
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
number_arg!(i32, u32, u64, usize);

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Number(n)
    }
}

impl Language {
    fn load(lang: Lang, files: &[(String, &str)], problems: &mut Vec<String>) -> Language {
        let locale = match lang {
            Lang::Sv => unic_langid::langid!("sv"),
            Lang::En => unic_langid::langid!("en"),
        };
        let mut bundle = FluentBundle::new_concurrent(vec![locale]);
        // No invisible direction marks around arguments: the text goes into
        // CSV cells, mail and terminals as well as pages.
        bundle.set_use_isolating(false);
        let mut ids = BTreeSet::new();
        if files.is_empty() {
            problems.push(format!("templates/i18n/{} has no messages", lang.as_str()));
        }
        for (name, text) in files {
            let resource = match FluentResource::try_new(text.to_string()) {
                Ok(resource) => resource,
                Err((resource, errors)) => {
                    problems.extend(errors.iter().map(|e| format!("{name}: {e}")));
                    resource
                }
            };
            for entry in resource.entries() {
                if let ast::Entry::Message(message) = entry {
                    if !ids.insert(message.id.name.to_string()) {
                        problems.push(format!("{name} repeats the message {}", message.id.name));
                    }
                }
            }
            if let Err(errors) = bundle.add_resource(resource) {
                problems.extend(errors.iter().map(|e| format!("{name}: {e}")));
            }
        }
        let mut strings = Map::new();
        for id in &ids {
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, None, &mut errors);
                strings.insert(id.clone(), Value::String(text.into_owned()));
            }
        }
        Language { bundle, strings: Value::Object(strings), ids }
    }
}

#[cfg(test)]
mod tests;
