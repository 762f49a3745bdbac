//! The in-memory search index behind the lookup: an `fst` of normalized
//! keys (names, aliases, vendors and domains) over compact service entries
//! with each organisation's current decision. A snapshot is immutable;
//! changes since it was built live in a small overlay, and a new snapshot
//! replaces the old one atomically.

use std::collections::{BTreeMap, HashMap, HashSet};
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
#[derive(Debug, Clone)]
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

/// One service as the lookup knows it (from its latest submitted revision).
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: Box<str>,
    pub name: Box<str>,
    pub vendor: u32,
    pub aliases: Box<[Box<str>]>,
    pub domains: Box<[Box<str>]>,
    /// `published` (false: `internal_only`, shown to signed-in callers only).
    pub public: bool,
    /// Sorted by organisation.
    pub decisions: Box<[DecisionEntry]>,
}

impl Entry {
    pub fn decision_for(&self, org: u16) -> Option<&DecisionEntry> {
        self.decisions.binary_search_by_key(&org, |d| d.org).ok().map(|i| &self.decisions[i])
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

/// Strings and condition lists, stored once.
#[derive(Debug, Default, Clone)]
pub struct Tables {
    pub vendors: Vec<Box<str>>,
    vendor_ids: HashMap<Box<str>, u32>,
    pub conditions: Vec<Arc<[Condition]>>,
    condition_ids: HashMap<String, u32>,
}

impl Tables {
    fn vendor(&mut self, name: &str) -> u32 {
        if let Some(id) = self.vendor_ids.get(name) {
            return *id;
        }
        let id = self.vendors.len() as u32;
        self.vendors.push(name.into());
        self.vendor_ids.insert(name.into(), id);
        id
    }

    /// Interns a stored conditions array by its text, parsing it only the
    /// first time it is seen (most decisions share a few lists).
    fn conditions(&mut self, raw: &str) -> u32 {
        if let Some(id) = self.condition_ids.get(raw) {
            return *id;
        }
        let list: Vec<Condition> = serde_json::from_str(raw).unwrap_or_default();
        let id = self.conditions.len() as u32;
        self.conditions.push(list.into());
        self.condition_ids.insert(raw.to_string(), id);
        id
    }

    fn conditions_of(&mut self, list: &[Condition]) -> u32 {
        self.conditions(&serde_json::to_string(list).unwrap_or_default())
    }

    /// Drops the build-time maps once the tables are complete.
    fn freeze(&mut self) {
        self.vendor_ids = HashMap::new();
        self.condition_ids = HashMap::new();
    }
}

const DOMAIN_PREFIX: u8 = 0x01;
const OVERLAY_BIT: u64 = 1 << 63;

fn posting(entry: usize, field: Field, full: bool) -> u64 {
    ((entry as u64) << 8) | (field.code() << 1) | u64::from(full)
}

fn unpack(p: u64) -> (usize, Field, bool) {
    let p = p & !OVERLAY_BIT;
    ((p >> 8) as usize, Field::from_code((p >> 1) & 0x7f), p & 1 == 1)
}

/// Every key of an entry, with its posting.
fn keys_of(entry: &Entry, vendor: &str, index: usize, mut emit: impl FnMut(Vec<u8>, u64)) {
    let mut text = |text: &str, field: Field| {
        let (full, tails) = name_keys(text);
        if !full.is_empty() {
            emit(full.into_bytes(), posting(index, field, true));
        }
        for tail in tails {
            emit(tail.into_bytes(), posting(index, field, false));
        }
    };
    text(&entry.name, Field::Name);
    for alias in entry.aliases.iter() {
        text(alias, Field::Alias);
    }
    text(vendor, Field::Vendor);
    for domain in entry.domains.iter() {
        let mut key = vec![DOMAIN_PREFIX];
        key.extend_from_slice(domain.as_bytes());
        emit(key, posting(index, Field::Domain, true));
    }
}

fn make_entry(data: ServiceData, org_ids: &HashMap<&str, u16>, tables: &mut Tables) -> Entry {
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
                conditions: tables.conditions(&d.conditions),
            })
        })
        .collect();
    decisions.sort_by_key(|d| d.org);
    decisions.dedup_by_key(|d| d.org);
    Entry {
        id: data.id.into(),
        name: data.name.into(),
        vendor: tables.vendor(&data.vendor),
        aliases: data.aliases.into_iter().map(Into::into).collect(),
        domains: data.domains.into_iter().map(|d| d.to_ascii_lowercase().into()).collect(),
        public: data.published,
        decisions: decisions.into(),
    }
}

/// The immutable part, built from the whole registry.
struct Base {
    entries: Vec<Entry>,
    keys: fst::Map<Vec<u8>>,
    postings: Vec<u64>,
    tables: Tables,
}

/// Services changed since the base was built.
#[derive(Default, Clone)]
struct Overlay {
    entries: Vec<Entry>,
    /// Ids whose base entry is superseded (or removed).
    replaced: HashSet<Box<str>>,
    keys: BTreeMap<Vec<u8>, Vec<u64>>,
    tables: Tables,
}

/// A consistent view of the index at one point of the audit chain.
#[derive(Clone)]
pub struct Snapshot {
    /// The audit-chain sequence number this snapshot reflects.
    pub seq: i64,
    pub orgs: Arc<Vec<OrgInfo>>,
    base: Arc<Base>,
    overlay: Arc<Overlay>,
}

/// One match, resolved.
pub struct Hit<'a> {
    pub entry: &'a Entry,
    pub tables: &'a Tables,
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

impl Snapshot {
    pub fn build(seq: i64, orgs: Vec<OrgInfo>, services: Vec<ServiceData>) -> Snapshot {
        let org_ids: HashMap<&str, u16> = orgs.iter().enumerate().map(|(i, o)| (o.slug.as_str(), i as u16)).collect();
        let mut tables = Tables::default();
        let mut services = services;
        services.sort_by(|a, b| a.id.cmp(&b.id));
        let entries: Vec<Entry> = services.into_iter().map(|s| make_entry(s, &org_ids, &mut tables)).collect();
        tables.freeze();
        // Keys live in one arena while they are sorted, to keep the peak small.
        let mut arena: Vec<u8> = Vec::with_capacity(entries.len() * 48);
        let mut records: Vec<(u32, u16, u64)> = Vec::with_capacity(entries.len() * 5);
        for (i, entry) in entries.iter().enumerate() {
            keys_of(entry, &tables.vendors[entry.vendor as usize], i, |key, posting| {
                let len = key.len().min(u16::MAX as usize);
                records.push((arena.len() as u32, len as u16, posting));
                arena.extend_from_slice(&key[..len]);
            });
        }
        let key = |r: &(u32, u16, u64)| &arena[r.0 as usize..r.0 as usize + r.1 as usize];
        records.sort_unstable_by(|a, b| key(a).cmp(key(b)).then(a.2.cmp(&b.2)));
        let mut postings = Vec::with_capacity(records.len());
        let mut builder = fst::MapBuilder::memory();
        let mut i = 0;
        while i < records.len() {
            let k = key(&records[i]);
            let start = postings.len() as u64;
            while i < records.len() && key(&records[i]) == k {
                if postings.last() != Some(&records[i].2) || postings.len() as u64 == start {
                    postings.push(records[i].2);
                }
                i += 1;
            }
            let len = postings.len() as u64 - start;
            // Keys are sorted and unique here, so insertion cannot fail.
            let _ = builder.insert(k, (start << 24) | len.min((1 << 24) - 1));
        }
        let keys = builder.into_map();
        postings.shrink_to_fit();
        Snapshot {
            seq,
            orgs: Arc::new(orgs),
            base: Arc::new(Base { entries, keys, postings, tables }),
            overlay: Arc::new(Overlay::default()),
        }
    }

    /// A new snapshot with these services replaced (None: removed from the lookup).
    pub fn with_changes(&self, seq: i64, changes: Vec<(String, Option<ServiceData>)>) -> Snapshot {
        let org_ids: HashMap<&str, u16> =
            self.orgs.iter().enumerate().map(|(i, o)| (o.slug.as_str(), i as u16)).collect();
        let changed: HashSet<&str> = changes.iter().map(|(id, _)| id.as_str()).collect();
        let mut overlay = Overlay {
            entries: self.overlay.entries.iter().filter(|e| !changed.contains(&*e.id)).cloned().collect(),
            replaced: self.overlay.replaced.clone(),
            keys: BTreeMap::new(),
            tables: Tables::default(),
        };
        // Re-intern what the kept overlay entries refer to.
        let old = &self.overlay.tables;
        for entry in overlay.entries.iter_mut() {
            entry.vendor = overlay.tables.vendor(&old.vendors[entry.vendor as usize]);
            let mut decisions = entry.decisions.to_vec();
            for d in decisions.iter_mut() {
                d.conditions = overlay.tables.conditions_of(&old.conditions[d.conditions as usize]);
            }
            entry.decisions = decisions.into();
        }
        for (id, data) in changes {
            overlay.replaced.insert(id.as_str().into());
            if let Some(data) = data {
                overlay.entries.push(make_entry(data, &org_ids, &mut overlay.tables));
            }
        }
        for (i, entry) in overlay.entries.iter().enumerate() {
            keys_of(entry, &overlay.tables.vendors[entry.vendor as usize], i, |key, posting| {
                overlay.keys.entry(key).or_default().push(posting | OVERLAY_BIT);
            });
        }
        Snapshot { seq, orgs: self.orgs.clone(), base: self.base.clone(), overlay: Arc::new(overlay) }
    }

    pub fn overlay_len(&self) -> usize {
        self.overlay.entries.len() + self.overlay.replaced.len()
    }

    pub fn len(&self) -> usize {
        let superseded = self.base.entries.iter().filter(|e| self.overlay.replaced.contains(&e.id)).count();
        self.base.entries.len() - superseded + self.overlay.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate bytes held by the index (entries, keys, postings, tables).
    pub fn memory_bytes(&self) -> usize {
        let entry = |e: &Entry| {
            std::mem::size_of::<Entry>()
                + e.id.len()
                + e.name.len()
                + e.aliases.iter().map(|a| a.len() + 16).sum::<usize>()
                + e.domains.iter().map(|d| d.len() + 16).sum::<usize>()
                + e.decisions.len() * std::mem::size_of::<DecisionEntry>()
        };
        self.base.entries.iter().map(entry).sum::<usize>()
            + self.base.keys.as_fst().as_bytes().len()
            + self.base.postings.len() * 8
            + self.base.tables.vendors.iter().map(|v| v.len() + 16).sum::<usize>()
            + self.overlay.entries.iter().map(entry).sum::<usize>()
    }

    pub fn org_index(&self, slug: &str) -> Option<u16> {
        self.orgs.iter().position(|o| o.slug == slug).map(|i| i as u16)
    }

    fn resolve(&self, p: u64) -> Option<(&Entry, &Tables)> {
        let (index, _, _) = unpack(p);
        if p & OVERLAY_BIT != 0 {
            return self.overlay.entries.get(index).map(|e| (e, &self.overlay.tables));
        }
        let entry = self.base.entries.get(index)?;
        if !self.overlay.replaced.is_empty() && self.overlay.replaced.contains(&entry.id) {
            return None;
        }
        Some((entry, &self.base.tables))
    }

    fn base_postings(&self, value: u64) -> &[u64] {
        let start = (value >> 24) as usize;
        let len = ((value & ((1 << 24) - 1)) as usize).min(MAX_POSTINGS_PER_KEY);
        self.base.postings.get(start..start + len).unwrap_or(&[])
    }

    /// Candidates for a query, best match per entry, unranked.
    fn candidates(&self, query: &str, fuzzy: &Fuzzy) -> HashMap<u64, (MatchKind, u8, Field)> {
        let mut found: HashMap<u64, (MatchKind, u8, Field)> = HashMap::new();
        let add = |found: &mut HashMap<u64, (MatchKind, u8, Field)>, p: u64, kind: MatchKind, distance: u8| {
            if found.len() >= MAX_CANDIDATES && !found.contains_key(&(p & !0xff)) {
                return;
            }
            let (_, field, full) = unpack(p);
            let kind = if kind == MatchKind::Exact && !full { MatchKind::Prefix } else { kind };
            let key = p & !0xff;
            let better = found.get(&key).is_none_or(|old| (kind, distance, field) < *old);
            if better {
                found.insert(key, (kind, distance, field));
            }
        };
        // A pasted URL or domain: the service owning the host or a parent domain.
        if let Some(host) = host_of(query) {
            for (depth, candidate) in host_and_parents(&host).into_iter().enumerate() {
                let mut key = vec![DOMAIN_PREFIX];
                key.extend_from_slice(candidate.as_bytes());
                let kind = if depth == 0 { MatchKind::Exact } else { MatchKind::Prefix };
                if let Some(value) = self.base.keys.get(&key) {
                    for p in self.base_postings(value) {
                        add(&mut found, *p, kind, 0);
                    }
                }
                for p in self.overlay.keys.get(&key).into_iter().flatten() {
                    add(&mut found, *p, kind, 0);
                }
            }
        }
        let q = normalize(query);
        if q.is_empty() {
            return found;
        }
        let qb = q.as_bytes();
        // Exact.
        if let Some(value) = self.base.keys.get(qb) {
            for p in self.base_postings(value) {
                add(&mut found, *p, MatchKind::Exact, 0);
            }
        }
        for p in self.overlay.keys.get(qb).into_iter().flatten() {
            add(&mut found, *p, MatchKind::Exact, 0);
        }
        // Prefix.
        let mut stream = self.base.keys.search(fst::automaton::Str::new(&q).starts_with()).into_stream();
        let mut taken = 0;
        while let Some((key, value)) = stream.next() {
            if key == qb {
                continue;
            }
            for p in self.base_postings(value) {
                add(&mut found, *p, MatchKind::Prefix, 0);
            }
            taken += 1;
            if taken >= MAX_KEYS_PER_STAGE {
                break;
            }
        }
        for (key, ps) in self.overlay.keys.range(qb.to_vec()..).take_while(|(k, _)| k.starts_with(qb)) {
            if key.as_slice() != qb {
                for p in ps {
                    add(&mut found, *p, MatchKind::Prefix, 0);
                }
            }
        }
        // Within a few edits, when nothing matched exactly: one edit first,
        // two only if one found nothing. The search starts from the query's
        // first letter (and, failing that, its second, for a dropped or
        // swapped first letter), which keeps it to a small part of the index.
        let exact = found.values().any(|(kind, _, _)| *kind == MatchKind::Exact);
        if !exact {
            let before = found.len();
            'distances: for distance in Fuzzy::distances(&q) {
                let dfa = fuzzy.dfa(&q, *distance);
                for first in qb.iter().take(2) {
                    let next = first.saturating_add(1);
                    let mut stream = self.base.keys.search(&dfa).ge([*first]).lt([next]).into_stream();
                    let mut taken = 0;
                    while let Some((key, value)) = stream.next() {
                        let distance = match dfa.eval(key) {
                            Distance::Exact(d) => d,
                            Distance::AtLeast(_) => continue,
                        };
                        for p in self.base_postings(value) {
                            add(&mut found, *p, MatchKind::Fuzzy, distance);
                        }
                        taken += 1;
                        if taken >= MAX_KEYS_PER_STAGE {
                            break;
                        }
                    }
                    for (key, ps) in self.overlay.keys.range(vec![*first]..vec![next]) {
                        let mut state = dfa.start();
                        for b in key {
                            state = dfa.accept(&state, *b);
                        }
                        if let Distance::Exact(d) = dfa.distance(state) {
                            for p in ps {
                                add(&mut found, *p, MatchKind::Fuzzy, d);
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
        let mut hits: Vec<Hit<'a>> = self
            .candidates(query, fuzzy)
            .into_iter()
            .filter_map(|(key, (kind, distance, field))| {
                let (entry, tables) = self.resolve(key)?;
                (entry.public || include_internal).then_some(Hit { entry, tables, field, kind, distance })
            })
            .collect();
        let status_rank = |hit: &Hit<'_>| -> u8 {
            match org {
                Some(org) => hit.entry.decision_for(org).map_or(Status::NotAssessed, |d| d.status(today)).rank(),
                None => hit
                    .entry
                    .decisions
                    .iter()
                    .map(|d| d.status(today).rank())
                    .min()
                    .unwrap_or(Status::NotAssessed.rank()),
            }
        };
        hits.sort_by(|a, b| {
            (a.kind, a.distance, a.field, status_rank(a), &a.entry.name, &a.entry.id).cmp(&(
                b.kind,
                b.distance,
                b.field,
                status_rank(b),
                &b.entry.name,
                &b.entry.id,
            ))
        });
        hits.truncate(limit);
        hits
    }

    /// Every entry (for the public register), base and overlay.
    pub fn entries(&self) -> impl Iterator<Item = (&Entry, &Tables)> {
        let replaced = &self.overlay.replaced;
        self.base
            .entries
            .iter()
            .filter(move |e| replaced.is_empty() || !replaced.contains(&e.id))
            .map(|e| (e, &self.base.tables))
            .chain(self.overlay.entries.iter().map(|e| (e, &self.overlay.tables)))
    }
}
