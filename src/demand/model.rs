//! The kinds of unanswered question, and the counts kept until written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::lookup_demand;

/// Why the lookup could not answer yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    /// Nothing in the register matched.
    NotFound,
    /// The best match is not assessed in the organisation asked about.
    NotAssessed,
}

impl Asked {
    pub fn as_str(self) -> &'static str {
        match self {
            Asked::NotFound => "not_found",
            Asked::NotAssessed => "not_assessed",
        }
    }

    pub fn parse(s: &str) -> Option<Asked> {
        [Asked::NotFound, Asked::NotAssessed].into_iter().find(|a| a.as_str() == s)
    }
}

crate::db::text_enum!(Asked);

/// A question as it is counted: lower case, spaces collapsed, at most 200
/// characters ("  ChatGPT   Plus " and "chatgpt plus" are one question).
pub fn normalised(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for word in query.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out.chars().take(200).collect()
}

/// A lookup's answer that is not a yes, as the lookup keeps it with the
/// answer (so that an answer given again from its cache counts too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    pub asked: Asked,
    /// The service found, when it is not assessed: its id and name.
    pub service: Option<(Arc<str>, Arc<str>)>,
}

/// Counts of one day, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = lookup_demand)]
pub struct DemandRow {
    pub org_slug: String,
    pub query: String,
    pub day: NaiveDate,
    pub answer: Asked,
    pub service_id: Option<String>,
    pub service_name: Option<String>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    org: Box<str>,
    query: Box<str>,
    day: NaiveDate,
}

#[derive(Debug)]
struct Pending {
    answer: Unanswered,
    count: i64,
}

/// Questions counted and not yet written. Bounded: past `MAX_PENDING`
/// different questions, a new one is not counted until the next write
/// (and the number left out is logged), so that a flood of made-up
/// questions cannot grow the memory.
#[derive(Debug, Default)]
pub struct DemandCounter {
    pending: Mutex<(HashMap<Key, Pending>, u64)>,
}

impl DemandCounter {
    pub const MAX_PENDING: usize = 20_000;

    /// Counts one question (normalised here).
    pub fn count(&self, org: &str, query: &str, answer: &Unanswered, day: NaiveDate) {
        let query = normalised(query);
        if query.is_empty() {
            return;
        }
        let mut guard = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (pending, left_out) = &mut *guard;
        let key = Key { org: org.into(), query: query.into_boxed_str(), day };
        if let Some(entry) = pending.get_mut(&key) {
            entry.count += 1;
            entry.answer = answer.clone();
        } else if pending.len() < Self::MAX_PENDING {
            pending.insert(key, Pending { answer: answer.clone(), count: 1 });
        } else {
            *left_out += 1;
        }
    }

    /// Takes every count kept, as rows to add, and how many questions were
    /// left out since the last time.
    pub fn take(&self) -> (Vec<DemandRow>, u64) {
        let mut guard = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (pending, left_out) = std::mem::take(&mut *guard);
        let rows = pending
            .into_iter()
            .map(|(key, p)| DemandRow {
                org_slug: key.org.into(),
                query: key.query.into(),
                day: key.day,
                answer: p.answer.asked,
                service_id: p.answer.service.as_ref().map(|(id, _)| id.to_string()),
                service_name: p.answer.service.as_ref().map(|(_, name)| name.to_string()),
                count: p.count,
            })
            .collect();
        (rows, left_out)
    }

    /// Puts back rows that could not be written, so that none is lost.
    pub fn put_back(&self, rows: Vec<DemandRow>) {
        let mut guard = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (pending, _) = &mut *guard;
        for row in rows {
            let key = Key { org: row.org_slug.into(), query: row.query.into(), day: row.day };
            let service = row.service_id.zip(row.service_name).map(|(id, name)| (Arc::from(id), Arc::from(name)));
            let answer = Unanswered { asked: row.answer, service };
            pending.entry(key).and_modify(|p| p.count += row.count).or_insert(Pending { answer, count: row.count });
        }
    }

    /// Questions kept, not yet written.
    pub fn pending(&self) -> usize {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn questions_are_counted_per_organisation_query_and_day_and_taken_once() {
        let counter = DemandCounter::default();
        let none = Unanswered { asked: Asked::NotFound, service: None };
        for _ in 0..3 {
            counter.count("kinda", "chatbot x", &none, day(7));
        }
        counter.count("ydre", "chatbot x", &none, day(7));
        counter.count("kinda", "  Chatbot   X ", &none, day(8));
        let (mut rows, left_out) = counter.take();
        rows.sort_by(|a, b| (&a.org_slug, a.day).cmp(&(&b.org_slug, b.day)));
        let counts: Vec<(&str, u32, i64)> =
            rows.iter().map(|r| (r.org_slug.as_str(), chrono::Datelike::day(&r.day), r.count)).collect();
        assert_eq!(counts, [("kinda", 7, 3), ("kinda", 8, 1), ("ydre", 7, 1)]);
        assert_eq!(left_out, 0);
        assert!(counter.take().0.is_empty());
        // Rows that could not be written come back, added to new counts.
        counter.count("kinda", "chatbot x", &none, day(7));
        counter.put_back(rows);
        let (rows, _) = counter.take();
        assert_eq!(rows.iter().map(|r| r.count).sum::<i64>(), 6);
    }

    #[test]
    fn past_the_bound_new_questions_are_left_out_and_known_ones_still_count() {
        let counter = DemandCounter::default();
        let none = Unanswered { asked: Asked::NotFound, service: None };
        for i in 0..DemandCounter::MAX_PENDING + 5 {
            counter.count("kinda", &format!("q{i}"), &none, day(7));
        }
        counter.count("kinda", "q0", &none, day(7));
        assert_eq!(counter.pending(), DemandCounter::MAX_PENDING);
        let (rows, left_out) = counter.take();
        assert_eq!(left_out, 5);
        assert_eq!(rows.iter().find(|r| r.query == "q0").map(|r| r.count), Some(2));
    }
}
