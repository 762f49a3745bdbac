//! Answers already given, kept for the same question asked again.
//!
//! Employees ask about the same few tools over and over, so the lookup keeps
//! each JSON answer it gives, bounded in bytes, keyed by everything the
//! answer depends on: the index generation it was read from, the day (an
//! approval past its `valid_until` answers `expired` from the next day),
//! whether internal services were included, the limit, the organisation and
//! the query as typed. A new index generation (any change to a service or a
//! decision, here or on another node) empties it, and an answer read from an
//! older generation can never be returned for a newer one, because the
//! generation is part of its key.

use actix_web::web::Bytes;

use crate::demand::Unanswered;
use chrono::NaiveDate;

/// Bookkeeping per kept answer, counted against the budget with its bytes.
const ENTRY_OVERHEAD: u64 = 96;

/// Weighs an answer by its bytes (key and body).
#[derive(Clone, Copy, Default)]
struct ByBytes;

impl quick_cache::Weighter<Box<[u8]>, Answer> for ByBytes {
    fn weight(&self, key: &Box<[u8]>, answer: &Answer) -> u64 {
        (key.len() + answer.body.len()) as u64 + ENTRY_OVERHEAD
    }
}

type Store = quick_cache::sync::Cache<Box<[u8]>, Answer, ByBytes>;

/// An answer as given: its JSON body, and whether it was no yes (which the
/// demand counts each time it is given).
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Bytes,
    pub unanswered: Option<Unanswered>,
}

/// The kept answers. A budget of 0 keeps none.
pub struct AnswerCache {
    store: Option<Store>,
}

/// What an answer depends on, besides the index generation.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub query: &'a str,
    pub org: Option<&'a str>,
    pub include_internal: bool,
    pub limit: usize,
    pub today: NaiveDate,
}

impl AnswerCache {
    /// At most `budget` bytes of answers (0: none kept).
    pub fn new(budget: u64) -> AnswerCache {
        // Answers are about 1 KB: the estimate only sizes the table.
        let items = usize::try_from(budget / 1024).unwrap_or(usize::MAX).clamp(16, 1 << 20);
        AnswerCache { store: (budget > 0).then(|| Store::with_weighter(items, budget, ByBytes)) }
    }

    /// The byte budget.
    pub fn budget(&self) -> u64 {
        self.store.as_ref().map_or(0, Store::capacity)
    }

    /// The key of a question asked of index generation `generation`.
    pub fn key(generation: u64, question: &Question<'_>) -> Vec<u8> {
        let org = question.org.unwrap_or_default();
        let mut key = Vec::with_capacity(24 + org.len() + question.query.len());
        key.extend_from_slice(&generation.to_le_bytes());
        key.extend_from_slice(&chrono::Datelike::num_days_from_ce(&question.today).to_le_bytes());
        key.push(u8::from(question.include_internal) | (u8::from(question.org.is_some()) << 1));
        key.extend_from_slice(&(question.limit.min(u16::MAX as usize) as u16).to_le_bytes());
        // The organisation's length first, so that no two (org, query) pairs
        // run together into the same key.
        key.extend_from_slice(&(org.len() as u32).to_le_bytes());
        key.extend_from_slice(org.as_bytes());
        key.extend_from_slice(question.query.as_bytes());
        key
    }

    pub fn get(&self, key: &[u8]) -> Option<Answer> {
        self.store.as_ref()?.get(key)
    }

    pub fn insert(&self, key: Vec<u8>, answer: Answer) {
        if let Some(store) = &self.store {
            store.insert(key.into_boxed_slice(), answer);
        }
    }

    /// Forgets every answer (the index changed).
    pub fn clear(&self) {
        if let Some(store) = &self.store {
            store.clear();
        }
    }

    /// Answers kept, and their weight in bytes.
    pub fn usage(&self) -> (usize, u64) {
        self.store.as_ref().map_or((0, 0), |store| (store.len(), store.weight()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &'static [u8]) -> Answer {
        Answer { body: Bytes::from_static(body), unanswered: None }
    }

    fn question<'a>(query: &'a str, org: Option<&'a str>) -> Question<'a> {
        Question {
            query,
            org,
            include_internal: false,
            limit: 10,
            today: NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date"),
        }
    }

    #[test]
    fn every_part_of_the_question_is_in_the_key() {
        let base = AnswerCache::key(1, &question("chatgpt", Some("kinda")));
        let others = [
            AnswerCache::key(2, &question("chatgpt", Some("kinda"))),
            AnswerCache::key(1, &question("chatgpt", Some("linkoping"))),
            AnswerCache::key(1, &question("chatgpt", None)),
            AnswerCache::key(1, &question("ChatGPT", Some("kinda"))),
            AnswerCache::key(1, &Question { include_internal: true, ..question("chatgpt", Some("kinda")) }),
            AnswerCache::key(1, &Question { limit: 5, ..question("chatgpt", Some("kinda")) }),
            AnswerCache::key(
                1,
                &Question {
                    today: NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date"),
                    ..question("chatgpt", Some("kinda"))
                },
            ),
        ];
        for other in &others {
            assert_ne!(&base, other);
        }
        // An organisation and a query never run together: ("ab", "c") is not ("a", "bc").
        assert_ne!(AnswerCache::key(1, &question("c", Some("ab"))), AnswerCache::key(1, &question("bc", Some("a"))));
        // No organisation is not the empty one.
        assert_ne!(AnswerCache::key(1, &question("x", None)), AnswerCache::key(1, &question("x", Some(""))));
    }

    #[test]
    fn answers_are_kept_within_the_budget_and_cleared() {
        let cache = AnswerCache::new(64 * 1024);
        let key = AnswerCache::key(1, &question("chatgpt", Some("kinda")));
        assert!(cache.get(&key).is_none());
        cache.insert(key.clone(), answer(b"{\"matches\":[]}"));
        assert_eq!(cache.get(&key).map(|a| a.body).as_deref(), Some(&b"{\"matches\":[]}"[..]));
        for i in 0..1_000 {
            let key = AnswerCache::key(1, &question(&format!("query {i}"), Some("kinda")));
            cache.insert(key, Answer { body: Bytes::from(vec![b'x'; 1_000]), unanswered: None });
        }
        let (_, weight) = cache.usage();
        assert!(weight <= 64 * 1024, "{weight} bytes kept");
        cache.clear();
        assert_eq!(cache.usage(), (0, 0));
        assert!(cache.get(&key).is_none());

        let none = AnswerCache::new(0);
        none.insert(key.clone(), answer(b"{}"));
        assert!(none.get(&key).is_none());
    }
}
