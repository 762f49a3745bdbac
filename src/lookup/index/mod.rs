//! The in-memory search index behind the lookup: an `fst` of normalized
//! keys (names, aliases, vendors and domains) over packed service entries
//! with each organisation's current decision. A snapshot is immutable: a
//! large base segment built from the whole registry (and saved to a file, so
//! that a restart does not rebuild it) and a small overlay segment with the
//! services changed since. A new snapshot replaces the old one atomically.

use std::collections::{HashMap, HashSet, hash_map};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::huge::HugeSlice;
use super::normalize::{host_and_parents, host_of, name_keys, normalize};
pub use super::typo::Fuzzy;
use super::typo::{Few, Matcher, Typos};
use crate::approvals::model::{Condition, DecisionKind};

mod answer;
mod build;
mod entry;
mod packed;
mod search;

pub use answer::{DecisionEntry, Field, MatchKind, Status};
pub use entry::{Entry, ServiceId};
pub(in crate::lookup) use packed::{Packed, Segment, StoredDecision, WideDecision, kind_of};
use search::OVERLAY_SEGMENT;
#[cfg(test)]
pub(in crate::lookup) mod tests;

#[derive(Debug, Clone)]
pub struct OrgInfo {
    pub slug: String,
    pub name: String,
    pub function_name: String,
    /// The AI function's public contact for questions (an e-mail address).
    pub contact: String,
}

/// The index id of an earlier revision's entry: the service's id, `#` and
/// the revision (service ids are UUIDs or slugs, never holding `#`).
pub fn face_id(service_id: &str, revision: i32) -> String {
    format!("{service_id}#{revision}")
}

/// A service's id and, for an earlier revision's entry, its revision.
pub fn split_face(id: &str) -> (&str, Option<i32>) {
    match id.rsplit_once('#') {
        Some((service, revision)) => match revision.parse() {
            Ok(revision) => (service, Some(revision)),
            Err(_) => (id, None),
        },
        None => (id, None),
    }
}

/// What one revision of a service contributes to the index, as loaded from
/// the database: the latest submitted one with every organisation's latest
/// decision, or an earlier one with the decisions made on it (`face_id`).
#[derive(Debug, Clone)]
pub struct ServiceData {
    /// The service's id, or for an earlier revision `face_id`.
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub aliases: Vec<String>,
    pub domains: Vec<String>,
    /// `published`; false for `internal_only`.
    pub published: bool,
    /// `withheld`: never in the lookup.
    pub withheld: bool,
    pub decisions: Vec<DecisionData>,
}

#[derive(Debug, Clone)]
pub struct DecisionData {
    pub org: String,
    pub kind: DecisionKind,
    pub revoked: bool,
    pub deciding_org: String,
    pub via_delegation: bool,
    pub needs_re_review: bool,
    /// Made on an earlier revision than the one this data describes.
    pub superseded: bool,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// The stored JSON array of conditions; parsed once per distinct value.
    pub conditions: String,
}

/// Services changed since the base was built.
struct Overlay {
    /// What the overlay segment was built from, to rebuild it with the next change.
    services: Vec<ServiceData>,
    segment: Segment,
    /// Ids whose base entry is superseded (or removed).
    replaced: HashSet<Box<str>>,
    /// The base entries of those ids.
    superseded: HashSet<u32>,
}

/// A consistent view of the index at one point of the audit chain.
#[derive(Clone)]
pub struct Snapshot {
    /// The audit-chain sequence number this snapshot reflects.
    pub seq: i64,
    /// The audit-chain position (number and hash) the base was built at.
    pub(super) base_seq: i64,
    pub(super) base_hash: Arc<str>,
    pub orgs: Arc<Vec<OrgInfo>>,
    pub(super) base: Arc<Segment>,
    overlay: Arc<Overlay>,
}

/// One match, resolved.
pub struct Hit<'a> {
    pub entry: Entry<'a>,
    pub field: Field,
    pub kind: MatchKind,
    pub distance: u8,
}

fn org_ids(orgs: &[OrgInfo]) -> HashMap<&str, u16> {
    orgs.iter().enumerate().map(|(i, o)| (o.slug.as_str(), i as u16)).collect()
}

impl Snapshot {
    /// Builds the index from the whole registry, at the audit-chain position `(seq, hash)`.
    pub fn build(seq: i64, hash: &str, orgs: Vec<OrgInfo>, services: Vec<ServiceData>) -> Snapshot {
        let mut services = services;
        services.sort_by(|a, b| a.id.cmp(&b.id));
        let base = Segment::build(&services, &org_ids(&orgs));
        drop(services);
        Snapshot::from_base(seq, hash, orgs, base)
    }

    /// The snapshot of a base segment: built, or saved (then with the
    /// organisations as they are now: the same slugs, in the same order, as
    /// when it was saved).
    pub(super) fn from_base(seq: i64, hash: &str, orgs: Vec<OrgInfo>, base: Segment) -> Snapshot {
        let overlay = Overlay {
            services: Vec::new(),
            segment: Segment::build(&[], &HashMap::new()),
            replaced: HashSet::new(),
            superseded: HashSet::new(),
        };
        Snapshot {
            seq,
            base_seq: seq,
            base_hash: hash.into(),
            orgs: Arc::new(orgs),
            base: Arc::new(base),
            overlay: Arc::new(overlay),
        }
    }

    /// A new snapshot with these services' entries replaced (none: removed
    /// from the lookup).
    pub fn with_changes(&self, seq: i64, changes: Vec<(String, Vec<ServiceData>)>) -> Snapshot {
        let changed: HashSet<&str> = changes.iter().map(|(id, _)| id.as_str()).collect();
        let mut services: Vec<ServiceData> =
            self.overlay.services.iter().filter(|s| !changed.contains(split_face(&s.id).0)).cloned().collect();
        let mut replaced = self.overlay.replaced.clone();
        let mut superseded = self.overlay.superseded.clone();
        for (id, data) in changes {
            superseded.extend(self.base.positions_of_service(&id).map(|at| at as u32));
            replaced.insert(id.as_str().into());
            services.extend(data);
        }
        services.sort_by(|a, b| a.id.cmp(&b.id));
        let segment = Segment::build(&services, &org_ids(&self.orgs));
        Snapshot {
            seq,
            base_seq: self.base_seq,
            base_hash: self.base_hash.clone(),
            orgs: self.orgs.clone(),
            base: self.base.clone(),
            overlay: Arc::new(Overlay { services, segment, replaced, superseded }),
        }
    }

    pub fn overlay_len(&self) -> usize {
        self.overlay.services.len() + self.overlay.replaced.len()
    }

    pub fn len(&self) -> usize {
        self.base.packed.len() - self.overlay.superseded.len() + self.overlay.segment.packed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate bytes held by the index (entries, strings, keys, postings).
    pub fn memory_bytes(&self) -> usize {
        self.base.memory_bytes() + self.overlay.segment.memory_bytes()
    }

    /// Bytes of the index in mappings advised for huge pages (`HugeSlice`).
    pub fn huge_page_bytes(&self) -> usize {
        self.base.huge_page_bytes() + self.overlay.segment.huge_page_bytes()
    }

    pub fn org_index(&self, slug: &str) -> Option<u16> {
        self.orgs.iter().position(|o| o.slug == slug).map(|i| i as u16)
    }

    fn segments(&self) -> [(u64, &Segment); 2] {
        [(0, &self.base), (OVERLAY_SEGMENT, &self.overlay.segment)]
    }

    fn resolve(&self, key: u64) -> Option<Entry<'_>> {
        let index = (key & (OVERLAY_SEGMENT - 1)) as usize;
        if key & OVERLAY_SEGMENT != 0 {
            return self.overlay.segment.entry(index);
        }
        if !self.overlay.superseded.is_empty() && self.overlay.superseded.contains(&(index as u32)) {
            return None;
        }
        let entry = self.base.entry(index)?;
        Some(entry)
    }

    /// Whether a candidate's entry is in this snapshot and may be shown.
    fn visible(&self, key: u64, include_internal: bool) -> bool {
        self.resolve(key).is_some_and(|entry| entry.public() || include_internal)
    }

    /// Every entry (for the public register), base and overlay.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let superseded = &self.overlay.superseded;
        (0..self.base.packed.len())
            .filter(move |i| superseded.is_empty() || !superseded.contains(&(*i as u32)))
            .filter_map(|i| self.base.entry(i))
            .chain((0..self.overlay.segment.packed.len()).filter_map(|i| self.overlay.segment.entry(i)))
    }
}
