//! The in-memory search index behind the lookup: an `fst` of normalized
//! keys (names, aliases, vendors and domains) over packed service entries
//! with each organisation's current decision. A snapshot is immutable: a
//! large base segment built from the whole registry (and saved to a file, so
//! that a restart does not rebuild it) and a small overlay segment with the
//! services changed since. A new snapshot replaces the old one atomically.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use fst::{Automaton, IntoStreamer, Streamer};
use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder};
use serde::Serialize;

use super::normalize::{host_and_parents, host_of, name_keys, normalize};
use crate::approvals::model::{Condition, DecisionKind};

/// Which field of a service a query matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Alias,
    Domain,
    Vendor,
}

impl Field {
    fn code(self) -> u64 {
        self as u64
    }
    fn from_code(code: u64) -> Field {
        match code {
            0 => Field::Name,
            1 => Field::Alias,
            2 => Field::Domain,
            _ => Field::Vendor,
        }
    }
}

/// How a query matched: exact, prefix (or a later word of the name), or within a few edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    Exact,
    Prefix,
    Fuzzy,
}

/// What the lookup answers, per organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Allowed,
    AllowedWithConditions,
    NotAllowed,
    Expired,
    NotAssessed,
}

impl Status {
    /// Best first, for ranking.
    pub fn rank(self) -> u8 {
        match self {
            Status::Allowed => 0,
            Status::AllowedWithConditions => 1,
            Status::Expired => 2,
            Status::NotAssessed => 3,
            Status::NotAllowed => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Allowed => "allowed",
            Status::AllowedWithConditions => "allowed_with_conditions",
            Status::NotAllowed => "not_allowed",
            Status::Expired => "expired",
            Status::NotAssessed => "not_assessed",
        }
    }
}

/// An organisation's current decision on a service, packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionEntry {
    pub org: u16,
    pub kind: DecisionKind,
    pub revoked: bool,
    pub deciding_org: u16,
    pub via_delegation: bool,
    pub needs_re_review: bool,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// Index into the snapshot's interned condition lists.
    pub conditions: u32,
}

impl DecisionEntry {
    pub fn status(&self, today: NaiveDate) -> Status {
        if self.revoked {
            return Status::NotAllowed;
        }
        match self.kind {
            DecisionKind::Rejected => Status::NotAllowed,
            _ if self.valid_until.is_some_and(|until| until < today) => Status::Expired,
            DecisionKind::Approved => Status::Allowed,
            DecisionKind::ApprovedWithConditions => Status::AllowedWithConditions,
        }
    }
}

/// One service, packed. Its id, name and aliases live in the segment's
/// text arena, each as a little-endian `u16` length and the UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Packed {
    pub text: u64,
    /// First of its decisions in the segment's decision list.
    pub decisions: u32,
    pub vendor: u32,
    pub n_decisions: u8,
    pub n_aliases: u8,
    /// `published` (false: `internal_only`, shown to signed-in callers only).
    pub public: bool,
}

/// A set of services with their search keys: the base or the overlay.
pub(super) struct Segment {
    pub packed: Vec<Packed>,
    pub text: Vec<u8>,
    /// Sorted by organisation within each service.
    pub decisions: Vec<DecisionEntry>,
    pub vendors: Vec<Box<str>>,
    pub conditions: Vec<Arc<[Condition]>>,
    pub keys: fst::Map<Vec<u8>>,
    /// Per key, its entries: `entry << 3 | field << 1 | full`.
    pub postings: Vec<u32>,
}

/// One service as the lookup knows it (from its latest submitted revision):
/// a view into a segment.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    segment: &'a Segment,
    packed: &'a Packed,
}

/// The strings of an entry, in arena order: id, name, aliases.
struct Strings<'a> {
    text: &'a [u8],
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let (len, rest) = self.text.split_first_chunk::<2>()?;
        let len = u16::from_le_bytes(*len) as usize;
        let (bytes, rest) = rest.split_at_checked(len)?;
        self.text = rest;
        Some(std::str::from_utf8(bytes).unwrap_or_default())
    }
}

impl<'a> Entry<'a> {
    fn strings(&self) -> Strings<'a> {
        let start = usize::try_from(self.packed.text).unwrap_or(usize::MAX);
        Strings { text: self.segment.text.get(start..).unwrap_or_default() }
    }
    pub fn id(&self) -> &'a str {
        self.strings().next().unwrap_or_default()
    }
    pub fn name(&self) -> &'a str {
        self.strings().nth(1).unwrap_or_default()
    }
    pub fn aliases(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.strings().skip(2).take(self.packed.n_aliases as usize)
    }
    pub fn vendor(&self) -> &'a str {
        self.segment.vendors.get(self.packed.vendor as usize).map(|v| &**v).unwrap_or_default()
    }
    pub fn public(&self) -> bool {
        self.packed.public
    }
    /// Each organisation's current decision, sorted by organisation.
    pub fn decisions(&self) -> &'a [DecisionEntry] {
        let start = self.packed.decisions as usize;
        self.segment.decisions.get(start..start + self.packed.n_decisions as usize).unwrap_or_default()
    }
    pub fn decision_for(&self, org: u16) -> Option<&'a DecisionEntry> {
        let decisions = self.decisions();
        decisions.binary_search_by_key(&org, |d| d.org).ok().map(|i| &decisions[i])
    }
    /// The conditions of one of this entry's decisions.
    pub fn conditions(&self, decision: &DecisionEntry) -> &'a [Condition] {
        self.segment.conditions.get(decision.conditions as usize).map(|c| &**c).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct OrgInfo {
    pub slug: String,
    pub name: String,
    pub function_name: String,
}

/// What a service contributes to the index, as loaded from the database.
#[derive(Debug, Clone)]
pub struct ServiceData {
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
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// The stored JSON array of conditions; parsed once per distinct value.
    pub conditions: String,
}

/// Vendors and condition lists, stored once per segment while it is built.
#[derive(Default)]
struct Interner {
    vendor_ids: HashMap<String, u32>,
    condition_ids: HashMap<String, u32>,
}

const DOMAIN_PREFIX: u8 = 0x01;
/// Entries per segment the postings can address (`u32` with three bits of field and kind).
const MAX_ENTRIES: usize = 1 << 29;

fn posting(entry: usize, field: Field, full: bool) -> u32 {
    ((entry as u32) << 3) | ((field.code() as u32) << 1) | u32::from(full)
}

fn unpack(p: u32) -> (usize, Field, bool) {
    ((p >> 3) as usize, Field::from_code(u64::from((p >> 1) & 0x3)), p & 1 == 1)
}

/// Every key of a service, with its posting.
fn keys_of(data: &ServiceData, index: usize, mut emit: impl FnMut(&[u8], u32)) {
    let mut text = |text: &str, field: Field| {
        let (full, tails) = name_keys(text);
        if !full.is_empty() {
            emit(full.as_bytes(), posting(index, field, true));
        }
        for tail in tails {
            emit(tail.as_bytes(), posting(index, field, false));
        }
    };
    text(&data.name, Field::Name);
    for alias in &data.aliases {
        text(alias, Field::Alias);
    }
    text(&data.vendor, Field::Vendor);
    for domain in &data.domains {
        let mut key = vec![DOMAIN_PREFIX];
        key.extend_from_slice(domain.to_ascii_lowercase().as_bytes());
        emit(&key, posting(index, Field::Domain, true));
    }
}

/// Appends a string to the arena with its length (cut at a character
/// boundary below 64 KiB; names and aliases are far shorter).
fn push_string(text: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(u16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    text.extend_from_slice(&(end as u16).to_le_bytes());
    text.extend_from_slice(&s.as_bytes()[..end]);
}

impl Segment {
    /// Builds a segment from services sorted by id.
    fn build(services: &[ServiceData], org_ids: &HashMap<&str, u16>) -> Segment {
        let mut segment = Segment {
            packed: Vec::with_capacity(services.len()),
            text: Vec::with_capacity(services.len() * 80),
            decisions: Vec::with_capacity(services.len() * 4),
            vendors: Vec::new(),
            conditions: Vec::new(),
            keys: fst::Map::default(),
            postings: Vec::new(),
        };
        let mut interner = Interner::default();
        // Keys live in one arena while they are sorted, to keep the peak small.
        let mut arena: Vec<u8> = Vec::with_capacity(services.len() * 48);
        let mut records: Vec<(u32, u16, u32)> = Vec::with_capacity(services.len() * 5);
        for (i, data) in services.iter().take(MAX_ENTRIES).enumerate() {
            segment.push(data, org_ids, &mut interner);
            keys_of(data, i, |key, posting| {
                let len = key.len().min(u16::MAX as usize);
                let Ok(start) = u32::try_from(arena.len()) else { return };
                records.push((start, len as u16, posting));
                arena.extend_from_slice(&key[..len]);
            });
        }
        let key = |r: &(u32, u16, u32)| &arena[r.0 as usize..r.0 as usize + r.1 as usize];
        records.sort_unstable_by(|a, b| key(a).cmp(key(b)).then(a.2.cmp(&b.2)));
        let mut postings = Vec::with_capacity(records.len());
        let mut builder = fst::MapBuilder::memory();
        let mut i = 0;
        while i < records.len() {
            let k = key(&records[i]);
            let start = postings.len() as u64;
            while i < records.len() && key(&records[i]) == k {
                if postings.len() as u64 == start || postings.last() != Some(&records[i].2) {
                    postings.push(records[i].2);
                }
                i += 1;
            }
            let len = postings.len() as u64 - start;
            // Keys are sorted and unique here, so insertion cannot fail.
            let _ = builder.insert(k, (start << 24) | len.min((1 << 24) - 1));
        }
        segment.keys = builder.into_map();
        postings.shrink_to_fit();
        segment.postings = postings;
        segment.text.shrink_to_fit();
        segment.decisions.shrink_to_fit();
        segment
    }

    fn push(&mut self, data: &ServiceData, org_ids: &HashMap<&str, u16>, interner: &mut Interner) {
        let mut decisions: Vec<DecisionEntry> = data
            .decisions
            .iter()
            .filter_map(|d| {
                Some(DecisionEntry {
                    org: *org_ids.get(d.org.as_str())?,
                    kind: d.kind,
                    revoked: d.revoked,
                    deciding_org: org_ids.get(d.deciding_org.as_str()).copied().unwrap_or(u16::MAX),
                    via_delegation: d.via_delegation,
                    needs_re_review: d.needs_re_review,
                    decided_on: d.decided_on,
                    valid_until: d.valid_until,
                    conditions: self.condition_list(interner, &d.conditions),
                })
            })
            .collect();
        decisions.sort_by_key(|d| d.org);
        decisions.dedup_by_key(|d| d.org);
        decisions.truncate(u8::MAX as usize);
        let text = self.text.len() as u64;
        push_string(&mut self.text, &data.id);
        push_string(&mut self.text, &data.name);
        let aliases = &data.aliases[..data.aliases.len().min(u8::MAX as usize)];
        for alias in aliases {
            push_string(&mut self.text, alias);
        }
        let vendor = match interner.vendor_ids.get(data.vendor.as_str()) {
            Some(id) => *id,
            None => {
                let id = self.vendors.len() as u32;
                self.vendors.push(data.vendor.as_str().into());
                interner.vendor_ids.insert(data.vendor.clone(), id);
                id
            }
        };
        self.packed.push(Packed {
            text,
            decisions: self.decisions.len() as u32,
            vendor,
            n_decisions: decisions.len() as u8,
            n_aliases: aliases.len() as u8,
            public: data.published,
        });
        self.decisions.extend(decisions);
    }

    /// Interns a stored conditions array by its text, parsing it only the
    /// first time it is seen (most decisions share a few lists).
    fn condition_list(&mut self, interner: &mut Interner, raw: &str) -> u32 {
        if let Some(id) = interner.condition_ids.get(raw) {
            return *id;
        }
        let list: Vec<Condition> = serde_json::from_str(raw).unwrap_or_default();
        let id = self.conditions.len() as u32;
        self.conditions.push(list.into());
        interner.condition_ids.insert(raw.to_string(), id);
        id
    }

    fn entry(&self, index: usize) -> Option<Entry<'_>> {
        self.packed.get(index).map(|packed| Entry { segment: self, packed })
    }

    fn postings(&self, value: u64) -> &[u32] {
        let start = (value >> 24) as usize;
        let len = ((value & ((1 << 24) - 1)) as usize).min(MAX_POSTINGS_PER_KEY);
        self.postings.get(start..start + len).unwrap_or(&[])
    }

    /// Approximate bytes held.
    fn memory_bytes(&self) -> usize {
        self.packed.len() * std::mem::size_of::<Packed>()
            + self.text.len()
            + self.decisions.len() * std::mem::size_of::<DecisionEntry>()
            + self.vendors.iter().map(|v| v.len() + 16).sum::<usize>()
            + self.keys.as_fst().as_bytes().len()
            + self.postings.len() * 4
    }
}

/// Services changed since the base was built.
struct Overlay {
    /// What the overlay segment was built from, to rebuild it with the next change.
    services: Vec<ServiceData>,
    segment: Segment,
    /// Ids whose base entry is superseded (or removed).
    replaced: HashSet<Box<str>>,
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

/// Levenshtein automaton builders, built once (they are expensive to make
/// and cheap to use).
pub struct Fuzzy {
    one: LevenshteinAutomatonBuilder,
    two: LevenshteinAutomatonBuilder,
}

impl Default for Fuzzy {
    fn default() -> Self {
        Fuzzy { one: LevenshteinAutomatonBuilder::new(1, true), two: LevenshteinAutomatonBuilder::new(2, true) }
    }
}

impl Fuzzy {
    /// The edit distances to try, cheapest first: one edit for words of
    /// 4–7 characters; one and then two from 8; none below 4.
    fn distances(query: &str) -> &'static [u8] {
        match query.chars().count() {
            0..=3 => &[],
            4..=7 => &[1],
            _ => &[1, 2],
        }
    }

    fn dfa(&self, query: &str, distance: u8) -> levenshtein_automata::DFA {
        if distance == 1 { self.one.build_dfa(query) } else { self.two.build_dfa(query) }
    }
}

/// How many keys each stage may contribute, so that a very common prefix
/// cannot make a lookup slow.
const MAX_KEYS_PER_STAGE: usize = 64;
const MAX_CANDIDATES: usize = 512;
/// Postings read per key: a key shared by very many services (a common
/// word of names) cannot make a lookup slow.
const MAX_POSTINGS_PER_KEY: usize = 256;

/// Candidates: per entry (segment bit 32, entry index), the best match.
type Found = HashMap<u64, (MatchKind, u8, Field)>;

const OVERLAY_SEGMENT: u64 = 1 << 32;

fn add(found: &mut Found, segment: u64, p: u32, kind: MatchKind, distance: u8) {
    let (index, field, full) = unpack(p);
    let key = segment | index as u64;
    if found.len() >= MAX_CANDIDATES && !found.contains_key(&key) {
        return;
    }
    let kind = if kind == MatchKind::Exact && !full { MatchKind::Prefix } else { kind };
    let better = found.get(&key).is_none_or(|old| (kind, distance, field) < *old);
    if better {
        found.insert(key, (kind, distance, field));
    }
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

    /// The snapshot of a saved base segment (organisations as they are now:
    /// the same slugs, in the same order, as when it was saved).
    pub(super) fn from_saved(saved: super::persist::Saved, orgs: Vec<OrgInfo>) -> Snapshot {
        Snapshot::from_base(saved.seq, &saved.hash, orgs, saved.base)
    }

    fn from_base(seq: i64, hash: &str, orgs: Vec<OrgInfo>, base: Segment) -> Snapshot {
        let overlay =
            Overlay { services: Vec::new(), segment: Segment::build(&[], &HashMap::new()), replaced: HashSet::new() };
        Snapshot {
            seq,
            base_seq: seq,
            base_hash: hash.into(),
            orgs: Arc::new(orgs),
            base: Arc::new(base),
            overlay: Arc::new(overlay),
        }
    }

    /// A new snapshot with these services replaced (None: removed from the lookup).
    pub fn with_changes(&self, seq: i64, changes: Vec<(String, Option<ServiceData>)>) -> Snapshot {
        let changed: HashSet<&str> = changes.iter().map(|(id, _)| id.as_str()).collect();
        let mut services: Vec<ServiceData> =
            self.overlay.services.iter().filter(|s| !changed.contains(s.id.as_str())).cloned().collect();
        let mut replaced = self.overlay.replaced.clone();
        for (id, data) in changes {
            replaced.insert(id.as_str().into());
            if let Some(data) = data {
                services.push(data);
            }
        }
        services.sort_by(|a, b| a.id.cmp(&b.id));
        let segment = Segment::build(&services, &org_ids(&self.orgs));
        Snapshot {
            seq,
            base_seq: self.base_seq,
            base_hash: self.base_hash.clone(),
            orgs: self.orgs.clone(),
            base: self.base.clone(),
            overlay: Arc::new(Overlay { services, segment, replaced }),
        }
    }

    pub fn overlay_len(&self) -> usize {
        self.overlay.services.len() + self.overlay.replaced.len()
    }

    pub fn len(&self) -> usize {
        let replaced = &self.overlay.replaced;
        let superseded = if replaced.is_empty() {
            0
        } else {
            (0..self.base.packed.len()).filter_map(|i| self.base.entry(i)).filter(|e| replaced.contains(e.id())).count()
        };
        self.base.packed.len() - superseded + self.overlay.segment.packed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate bytes held by the index (entries, strings, keys, postings).
    pub fn memory_bytes(&self) -> usize {
        self.base.memory_bytes() + self.overlay.segment.memory_bytes()
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
        let entry = self.base.entry(index)?;
        if !self.overlay.replaced.is_empty() && self.overlay.replaced.contains(entry.id()) {
            return None;
        }
        Some(entry)
    }

    /// Whether a candidate's entry is in this snapshot and may be shown.
    fn visible(&self, key: u64, include_internal: bool) -> bool {
        self.resolve(key).is_some_and(|entry| entry.public() || include_internal)
    }

    /// Adds the entries of one key, in both segments.
    fn add_key(&self, found: &mut Found, key: &[u8], kind: MatchKind) {
        for (bit, segment) in self.segments() {
            if let Some(value) = segment.keys.get(key) {
                for p in segment.postings(value) {
                    add(found, bit, *p, kind, 0);
                }
            }
        }
    }

    /// Candidates for a query, best match per entry, unranked. Stops after
    /// the exact stage when it already found `limit` visible entries: prefix
    /// and fuzzy matches rank below every exact one.
    fn candidates(&self, query: &str, fuzzy: &Fuzzy, include_internal: bool, limit: usize) -> Found {
        let mut found = Found::new();
        // A pasted URL or domain: the service owning the host or a parent domain.
        if let Some(host) = host_of(query) {
            for (depth, candidate) in host_and_parents(&host).into_iter().enumerate() {
                let mut key = vec![DOMAIN_PREFIX];
                key.extend_from_slice(candidate.as_bytes());
                let kind = if depth == 0 { MatchKind::Exact } else { MatchKind::Prefix };
                self.add_key(&mut found, &key, kind);
            }
        }
        let q = normalize(query);
        if q.is_empty() {
            return found;
        }
        let qb = q.as_bytes();
        // Exact.
        self.add_key(&mut found, qb, MatchKind::Exact);
        let exact_visible = found
            .iter()
            .filter(|(key, (kind, _, _))| *kind == MatchKind::Exact && self.visible(**key, include_internal))
            .count();
        if exact_visible >= limit {
            return found;
        }
        // Prefix.
        for (bit, segment) in self.segments() {
            let mut stream = segment.keys.search(fst::automaton::Str::new(&q).starts_with()).into_stream();
            let mut taken = 0;
            while let Some((key, value)) = stream.next() {
                if key == qb {
                    continue;
                }
                for p in segment.postings(value) {
                    add(&mut found, bit, *p, MatchKind::Prefix, 0);
                }
                taken += 1;
                if taken >= MAX_KEYS_PER_STAGE {
                    break;
                }
            }
        }
        // Within a few edits, when nothing matched exactly: one edit first,
        // two only if one found nothing. Like a fuzzy query's prefix length in
        // a search engine, the search first keeps the query's first two bytes
        // (most typos are later in the word), then its first letter, then its
        // second letter in first place (an extra or swapped first letter),
        // and stops at the first that finds anything. This keeps the walk to
        // a small part of the index; a wrong or missing first letter is not
        // forgiven.
        let exact = found.values().any(|(kind, _, _)| *kind == MatchKind::Exact);
        if !exact {
            let before = found.len();
            let mut ranges: Vec<&[u8]> = Vec::with_capacity(3);
            if qb.len() >= 3 {
                ranges.push(&qb[..2]);
            }
            ranges.push(&qb[..1]);
            if qb.len() >= 2 {
                ranges.push(&qb[1..2]);
            }
            'distances: for distance in Fuzzy::distances(&q) {
                let dfa = fuzzy.dfa(&q, *distance);
                for low in &ranges {
                    let mut high = low.to_vec();
                    if let Some(last) = high.last_mut() {
                        *last = last.saturating_add(1);
                    }
                    for (bit, segment) in self.segments() {
                        let mut stream = segment.keys.search(&dfa).ge(low).lt(&high).into_stream();
                        let mut taken = 0;
                        while let Some((key, value)) = stream.next() {
                            let distance = match dfa.eval(key) {
                                Distance::Exact(d) => d,
                                Distance::AtLeast(_) => continue,
                            };
                            for p in segment.postings(value) {
                                add(&mut found, bit, *p, MatchKind::Fuzzy, distance);
                            }
                            taken += 1;
                            if taken >= MAX_KEYS_PER_STAGE {
                                break;
                            }
                        }
                    }
                    if found.len() > before {
                        break 'distances;
                    }
                }
            }
        }
        found
    }

    /// Ranked matches: exact before prefix before fuzzy (fewer edits first),
    /// then name before alias before domain before vendor, then status (in
    /// `org`, or the best anywhere), then name.
    pub fn search<'a>(
        &'a self,
        query: &str,
        org: Option<u16>,
        include_internal: bool,
        limit: usize,
        today: NaiveDate,
        fuzzy: &Fuzzy,
    ) -> Vec<Hit<'a>> {
        let status_rank = |entry: &Entry<'_>| -> u8 {
            match org {
                Some(org) => entry.decision_for(org).map_or(Status::NotAssessed, |d| d.status(today)).rank(),
                None => {
                    entry.decisions().iter().map(|d| d.status(today).rank()).min().unwrap_or(Status::NotAssessed.rank())
                }
            }
        };
        type Ranked<'a> = ((MatchKind, u8, Field, u8), &'a str, &'a str, Hit<'a>);
        // The rank is computed once per hit; only the best `limit` are sorted.
        let mut ranked: Vec<Ranked<'a>> = self
            .candidates(query, fuzzy, include_internal, limit)
            .into_iter()
            .filter_map(|(key, (kind, distance, field))| {
                let entry = self.resolve(key)?;
                (entry.public() || include_internal).then(|| {
                    (
                        (kind, distance, field, status_rank(&entry)),
                        entry.name(),
                        entry.id(),
                        Hit { entry, field, kind, distance },
                    )
                })
            })
            .collect();
        let order = |a: &Ranked<'a>, b: &Ranked<'a>| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2));
        if limit > 0 && ranked.len() > limit {
            ranked.select_nth_unstable_by(limit - 1, order);
        }
        ranked.truncate(limit);
        ranked.sort_unstable_by(order);
        ranked.into_iter().map(|(_, _, _, hit)| hit).collect()
    }

    /// Every entry (for the public register), base and overlay.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let replaced = &self.overlay.replaced;
        (0..self.base.packed.len())
            .filter_map(|i| self.base.entry(i))
            .filter(move |e| replaced.is_empty() || !replaced.contains(e.id()))
            .chain((0..self.overlay.segment.packed.len()).filter_map(|i| self.overlay.segment.entry(i)))
    }
}
