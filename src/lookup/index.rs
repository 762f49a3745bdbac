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
    /// A newer submitted revision awaits this organisation's decision: its
    /// name, aliases and domains inherit nothing from an earlier decision.
    UnderReview,
    NotAssessed,
}

impl Status {
    /// Best first, for ranking.
    pub fn rank(self) -> u8 {
        match self {
            Status::Allowed => 0,
            Status::AllowedWithConditions => 1,
            Status::Expired => 2,
            Status::UnderReview => 3,
            Status::NotAssessed => 4,
            Status::NotAllowed => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Allowed => "allowed",
            Status::AllowedWithConditions => "allowed_with_conditions",
            Status::NotAllowed => "not_allowed",
            Status::Expired => "expired",
            Status::UnderReview => "under_review",
            Status::NotAssessed => "not_assessed",
        }
    }
}

/// An organisation's current decision on a service (unpacked from the
/// segment's compact form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionEntry {
    pub org: u16,
    pub kind: DecisionKind,
    pub revoked: bool,
    pub deciding_org: u16,
    pub via_delegation: bool,
    pub needs_re_review: bool,
    /// The decision is on an earlier revision than this entry's: the entry
    /// is under review in this organisation.
    pub superseded: bool,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// Index into the snapshot's interned condition lists.
    pub conditions: u32,
}

impl DecisionEntry {
    pub fn status(&self, today: NaiveDate) -> Status {
        if self.superseded { Status::UnderReview } else { self.decided_status(today) }
    }

    /// The status of the revision this organisation decided on.
    pub fn decided_status(&self, today: NaiveDate) -> Status {
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

/// `num_days_from_ce` of 1970-01-01: stored dates count days from there.
const UNIX_EPOCH_DAYS_CE: i32 = 719_163;
/// A stored `valid_until` of "none".
const NO_DAY: u16 = u16::MAX;

const KIND_MASK: u8 = 0b11;
const REVOKED: u8 = 1 << 2;
const VIA_DELEGATION: u8 = 1 << 3;
const NEEDS_RE_REVIEW: u8 = 1 << 4;
/// The dates or the condition list did not fit: they are in the segment's `wide` list.
const WIDE: u8 = 1 << 5;
const SUPERSEDED: u8 = 1 << 6;

/// A decision as a segment stores it: 10 bytes. Dates are days since
/// 1970-01-01 (up to 2149); a decision whose dates or condition list do not
/// fit keeps them in the segment's `wide` list instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(super) struct StoredDecision {
    pub org: u16,
    pub deciding_org: u16,
    pub decided_on: u16,
    pub valid_until: u16,
    pub conditions: u8,
    pub flags: u8,
}

/// What did not fit in a stored decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WideDecision {
    /// The decision's index in the segment's decision list.
    pub index: u32,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub conditions: u32,
}

fn day_code(date: NaiveDate) -> Option<u16> {
    u16::try_from(date.num_days_from_ce() - UNIX_EPOCH_DAYS_CE).ok().filter(|d| *d != NO_DAY)
}

fn day(code: u16) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(i32::from(code) + UNIX_EPOCH_DAYS_CE).unwrap_or_default()
}

pub(super) fn kind_code(kind: DecisionKind) -> u8 {
    match kind {
        DecisionKind::Approved => 0,
        DecisionKind::ApprovedWithConditions => 1,
        DecisionKind::Rejected => 2,
    }
}

pub(super) fn kind_of(code: u8) -> Option<DecisionKind> {
    match code {
        0 => Some(DecisionKind::Approved),
        1 => Some(DecisionKind::ApprovedWithConditions),
        2 => Some(DecisionKind::Rejected),
        _ => None,
    }
}

impl StoredDecision {
    /// Packs a decision that will be number `index` of its segment; what
    /// does not fit goes to `wide`.
    fn pack(d: &DecisionEntry, index: u32, wide: &mut Vec<WideDecision>) -> StoredDecision {
        let mut flags = kind_code(d.kind);
        for (set, bit) in [
            (d.revoked, REVOKED),
            (d.via_delegation, VIA_DELEGATION),
            (d.needs_re_review, NEEDS_RE_REVIEW),
            (d.superseded, SUPERSEDED),
        ] {
            if set {
                flags |= bit;
            }
        }
        let decided_on = day_code(d.decided_on);
        let valid_until = match d.valid_until {
            None => Some(NO_DAY),
            Some(until) => day_code(until),
        };
        let conditions = u8::try_from(d.conditions).ok();
        match (decided_on, valid_until, conditions) {
            (Some(decided_on), Some(valid_until), Some(conditions)) => {
                StoredDecision { org: d.org, deciding_org: d.deciding_org, decided_on, valid_until, conditions, flags }
            }
            _ => {
                wide.push(WideDecision {
                    index,
                    decided_on: d.decided_on,
                    valid_until: d.valid_until,
                    conditions: d.conditions,
                });
                StoredDecision {
                    org: d.org,
                    deciding_org: d.deciding_org,
                    decided_on: 0,
                    valid_until: NO_DAY,
                    conditions: 0,
                    flags: flags | WIDE,
                }
            }
        }
    }
}

/// One service, packed (12 bytes). Its name and aliases (and its id, when
/// that is not a UUID) live in the segment's text arena, each after its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(super) struct Packed {
    pub text: u32,
    /// First of its decisions in the segment's decision list.
    pub decisions: u32,
    /// Index into the segment's vendors; `WIDE_VENDOR`: in `wide_vendors`.
    pub vendor: u16,
    pub n_decisions: u8,
    /// `PUBLIC`, `TEXT_ID`, and the number of aliases above them.
    pub bits: u8,
}

const WIDE_VENDOR: u16 = u16::MAX;
/// `published` (else `internal_only`, shown to signed-in callers only).
const PUBLIC: u8 = 1;
/// The id is the first string of its text (it is not a UUID in canonical
/// form); otherwise it is in the segment's `ids`.
const TEXT_ID: u8 = 2;
const ALIAS_SHIFT: u8 = 2;
/// Aliases an entry keeps (the submission schema allows 50).
const MAX_ALIASES: usize = 63;

impl Packed {
    fn public(&self) -> bool {
        self.bits & PUBLIC != 0
    }
    pub(super) fn text_id(&self) -> bool {
        self.bits & TEXT_ID != 0
    }
    fn n_aliases(&self) -> usize {
        usize::from(self.bits >> ALIAS_SHIFT)
    }
}

/// A set of services with their search keys: the base or the overlay. Its
/// large arrays are read-only once built, in huge pages when they fill one
/// (`HugeSlice`).
pub(super) struct Segment {
    pub packed: HugeSlice<Packed>,
    /// Per service, its id as a UUID (0 when the id is in the text).
    pub ids: HugeSlice<u128>,
    /// Vendors of entries whose vendor number does not fit 16 bits: (entry, vendor), sorted.
    pub wide_vendors: Vec<(u32, u32)>,
    pub text: HugeSlice<u8>,
    /// Sorted by organisation within each service.
    pub decisions: HugeSlice<StoredDecision>,
    /// Sorted by decision index.
    pub wide: Vec<WideDecision>,
    pub vendors: Vec<Box<str>>,
    pub conditions: Vec<Arc<[Condition]>>,
    /// Per key: `posting << 1` for a key of one entry, or `start << 1 | 1`
    /// where `postings[start]` is the number of entries and they follow it.
    pub keys: fst::Map<Vec<u8>>,
    /// Entries are `entry << 3 | field << 1 | full`.
    pub postings: HugeSlice<u32>,
}

/// A segment while it is built: its arrays grow on the heap.
#[derive(Default)]
struct Parts {
    packed: Vec<Packed>,
    ids: Vec<u128>,
    wide_vendors: Vec<(u32, u32)>,
    text: Vec<u8>,
    decisions: Vec<StoredDecision>,
    wide: Vec<WideDecision>,
    vendors: Vec<Box<str>>,
    conditions: Vec<Arc<[Condition]>>,
}

/// A service's id: a UUID kept as 16 bytes, or the text it was given.
#[derive(Debug, Clone, Copy)]
pub enum ServiceId<'a> {
    Uuid(u128),
    Text(&'a str),
}

impl ServiceId<'_> {
    /// Compares with an id's text, as the texts would compare.
    fn cmp_str(&self, other: &str) -> std::cmp::Ordering {
        let mut buf = [0u8; 36];
        self.as_str(&mut buf).cmp(other)
    }

    fn as_str<'b>(&'b self, buf: &'b mut [u8; 36]) -> &'b str {
        match self {
            ServiceId::Uuid(id) => uuid::Uuid::from_u128(*id).hyphenated().encode_lower(buf),
            ServiceId::Text(text) => text,
        }
    }
}

impl std::fmt::Display for ServiceId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0u8; 36];
        f.write_str(self.as_str(&mut buf))
    }
}

impl PartialEq for ServiceId<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for ServiceId<'_> {}
impl PartialOrd for ServiceId<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ServiceId<'_> {
    /// The order of the ids' texts (a canonical UUID's text sorts as its number).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (ServiceId::Uuid(a), ServiceId::Uuid(b)) => a.cmp(b),
            (_, ServiceId::Text(b)) => self.cmp_str(b),
            (ServiceId::Text(_), ServiceId::Uuid(_)) => other.cmp(self).reverse(),
        }
    }
}

/// One service as the lookup knows it, a view into a segment: its latest
/// submitted revision, or an earlier revision that some organisations
/// decided on (then only those organisations' decisions, and its id is the
/// service's id, `#` and the revision: see `face_id`).
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    segment: &'a Segment,
    index: usize,
    packed: &'a Packed,
}

/// The strings of an entry, in arena order: (id,) name, aliases, as bytes.
struct Strings<'a> {
    text: &'a [u8],
}

/// One of an entry's strings, as text (they are stored from `str`s).
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let (first, rest) = self.text.split_first()?;
        let (len, rest) = if first & 0x80 == 0 {
            (usize::from(*first), rest)
        } else {
            let (second, rest) = rest.split_first()?;
            ((usize::from(first & 0x7f) << 8) | usize::from(*second), rest)
        };
        let (bytes, rest) = rest.split_at_checked(len)?;
        self.text = rest;
        Some(bytes)
    }
}

impl<'a> Entry<'a> {
    fn strings(&self) -> Strings<'a> {
        let start = self.packed.text as usize;
        Strings { text: self.segment.text.get(start..).unwrap_or_default() }
    }
    /// The name, then the aliases.
    fn names(&self) -> std::iter::Skip<Strings<'a>> {
        self.strings().skip(usize::from(self.packed.text_id()))
    }
    pub fn id(&self) -> ServiceId<'a> {
        if self.packed.text_id() {
            ServiceId::Text(text(self.strings().next().unwrap_or_default()))
        } else {
            ServiceId::Uuid(self.segment.ids.get(self.index).copied().unwrap_or_default())
        }
    }
    /// The service's id (without the revision of an earlier revision's entry).
    pub fn service_id(&self) -> ServiceId<'a> {
        match self.id() {
            ServiceId::Text(id) => ServiceId::Text(split_face(id).0),
            uuid => uuid,
        }
    }
    /// Whether this entry is an earlier revision's, shown only to the
    /// organisations that decided on it.
    pub fn is_earlier_revision(&self) -> bool {
        self.packed.text_id() && matches!(self.id(), ServiceId::Text(id) if split_face(id).1.is_some())
    }
    pub fn name(&self) -> &'a str {
        text(self.name_bytes())
    }
    fn name_bytes(&self) -> &'a [u8] {
        self.names().next().unwrap_or_default()
    }
    pub fn aliases(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.names().skip(1).take(self.packed.n_aliases()).map(text)
    }
    pub fn vendor(&self) -> &'a str {
        let vendor = if self.packed.vendor == WIDE_VENDOR {
            let wide = &self.segment.wide_vendors;
            wide.binary_search_by_key(&(self.index as u32), |w| w.0).map_or(u32::MAX, |at| wide[at].1)
        } else {
            u32::from(self.packed.vendor)
        };
        self.segment.vendors.get(vendor as usize).map(|v| &**v).unwrap_or_default()
    }
    pub fn public(&self) -> bool {
        self.packed.public()
    }
    fn stored(&self) -> &'a [StoredDecision] {
        let start = self.packed.decisions as usize;
        self.segment.decisions.get(start..start + self.packed.n_decisions as usize).unwrap_or_default()
    }
    /// Each organisation's current decision, sorted by organisation.
    pub fn decisions(&self) -> impl Iterator<Item = DecisionEntry> + use<'a> {
        let segment = self.segment;
        let start = self.packed.decisions as usize;
        self.stored().iter().enumerate().map(move |(i, d)| segment.unpack(start + i, d))
    }
    pub fn decision_for(&self, org: u16) -> Option<DecisionEntry> {
        let stored = self.stored();
        let i = stored.binary_search_by_key(&org, |d| d.org).ok()?;
        Some(self.segment.unpack(self.packed.decisions as usize + i, &stored[i]))
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

/// Longest string the arena keeps (names and aliases are far shorter).
const MAX_STRING_BYTES: usize = 0x7fff;

/// Appends a string to the arena after its length: one byte below 128,
/// else two (high bit set, big-endian). Cut at a character boundary below 32 KiB.
fn push_string(text: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(MAX_STRING_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    if end < 0x80 {
        text.push(end as u8);
    } else {
        text.extend_from_slice(&((end as u16) | 0x8000).to_be_bytes());
    }
    text.extend_from_slice(&s.as_bytes()[..end]);
}

/// Postings of one key: one entry kept in the key's value, or a run of them.
fn postings_of(postings: &[u32], value: u64) -> impl Iterator<Item = u32> + '_ {
    let (one, many) = if value & 1 == 0 {
        (u32::try_from(value >> 1).ok(), &[][..])
    } else {
        let start = usize::try_from(value >> 1).unwrap_or(usize::MAX);
        let len = postings.get(start).map_or(0, |n| *n as usize).min(MAX_POSTINGS_PER_KEY);
        (None, postings.get(start + 1..start + 1 + len).unwrap_or(&[]))
    };
    one.into_iter().chain(many.iter().copied())
}

impl Segment {
    /// Builds a segment from services sorted by id.
    fn build(services: &[ServiceData], org_ids: &HashMap<&str, u16>) -> Segment {
        let mut segment = Parts {
            packed: Vec::with_capacity(services.len()),
            ids: Vec::with_capacity(services.len()),
            text: Vec::with_capacity(services.len() * 48),
            decisions: Vec::with_capacity(services.len() * 4),
            ..Parts::default()
        };
        let mut interner = Interner::default();
        // Keys live in one arena while they are sorted, to keep the peak small.
        let mut arena: Vec<u8> = Vec::with_capacity(services.len() * 48);
        let mut records: Vec<(u32, u16, u32)> = Vec::with_capacity(services.len() * 5);
        for (i, data) in services.iter().take(MAX_ENTRIES).enumerate() {
            if !segment.push(data, org_ids, &mut interner) {
                log::error!("the lookup index is full at {i} services; the rest are not searchable");
                break;
            }
            keys_of(data, i, |key, posting| {
                let len = key.len().min(u16::MAX as usize);
                let Ok(start) = u32::try_from(arena.len()) else { return };
                records.push((start, len as u16, posting));
                arena.extend_from_slice(&key[..len]);
            });
        }
        let key = |r: &(u32, u16, u32)| &arena[r.0 as usize..r.0 as usize + r.1 as usize];
        records.sort_unstable_by(|a, b| key(a).cmp(key(b)).then(a.2.cmp(&b.2)));
        let mut postings = Vec::new();
        let mut run: Vec<u32> = Vec::new();
        let mut builder = fst::MapBuilder::memory();
        let mut i = 0;
        while i < records.len() {
            let k = key(&records[i]);
            run.clear();
            while i < records.len() && key(&records[i]) == k {
                let p = records[i].2;
                i += 1;
                // One posting per entry: the one a lookup would rank best
                // (the whole text before a later word, then by field).
                let best = |p: u32| (p & 1 == 0, (p >> 1) & 0x3);
                let full = run.len() >= MAX_POSTINGS_PER_KEY;
                match run.last_mut() {
                    Some(last) if *last >> 3 == p >> 3 => {
                        if best(p) < best(*last) {
                            *last = p;
                        }
                    }
                    // Only the first entries of a key are ever read (a word
                    // shared by very many services cannot make a lookup slow).
                    _ if full => {}
                    _ => run.push(p),
                }
            }
            let value = match run.as_slice() {
                [one] => u64::from(*one) << 1,
                _ => {
                    let start = postings.len() as u64;
                    postings.push(u32::try_from(run.len()).unwrap_or(u32::MAX));
                    postings.extend_from_slice(&run);
                    (start << 1) | 1
                }
            };
            // Keys are sorted and unique here, so insertion cannot fail.
            let _ = builder.insert(k, value);
        }
        drop(records);
        drop(arena);
        let Parts { packed, ids, wide_vendors, text, decisions, wide, vendors, conditions } = segment;
        // Each array is copied to its mapping and freed in turn, to keep the peak small.
        Segment {
            packed: HugeSlice::new(packed),
            ids: HugeSlice::new(ids),
            wide_vendors,
            text: HugeSlice::new(text),
            decisions: HugeSlice::new(decisions),
            wide,
            vendors,
            conditions,
            keys: builder.into_map(),
            postings: HugeSlice::new(postings),
        }
    }
}

impl Parts {
    /// Adds a service; false when the segment cannot address more text.
    fn push(&mut self, data: &ServiceData, org_ids: &HashMap<&str, u16>, interner: &mut Interner) -> bool {
        let Ok(text) = u32::try_from(self.text.len()) else { return false };
        let Ok(first_decision) = u32::try_from(self.decisions.len()) else { return false };
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
                    superseded: d.superseded,
                    decided_on: d.decided_on,
                    valid_until: d.valid_until,
                    conditions: self.condition_list(interner, &d.conditions),
                })
            })
            .collect();
        decisions.sort_by_key(|d| d.org);
        decisions.dedup_by_key(|d| d.org);
        decisions.truncate(u8::MAX as usize);
        let uuid = crate::ids::canonical_uuid(&data.id);
        self.ids.push(uuid.unwrap_or_default());
        if uuid.is_none() {
            push_string(&mut self.text, &data.id);
        }
        push_string(&mut self.text, &data.name);
        let aliases = &data.aliases[..data.aliases.len().min(MAX_ALIASES)];
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
        let short_vendor = u16::try_from(vendor).ok().filter(|v| *v != WIDE_VENDOR);
        if short_vendor.is_none() {
            self.wide_vendors.push((self.packed.len() as u32, vendor));
        }
        let mut bits = (aliases.len() as u8) << ALIAS_SHIFT;
        if data.published {
            bits |= PUBLIC;
        }
        if uuid.is_none() {
            bits |= TEXT_ID;
        }
        self.packed.push(Packed {
            text,
            decisions: first_decision,
            vendor: short_vendor.unwrap_or(WIDE_VENDOR),
            n_decisions: decisions.len() as u8,
            bits,
        });
        for (i, d) in decisions.iter().enumerate() {
            let stored = StoredDecision::pack(d, first_decision + i as u32, &mut self.wide);
            self.decisions.push(stored);
        }
        true
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
}

impl Segment {
    /// Decision number `index`, unpacked.
    fn unpack(&self, index: usize, d: &StoredDecision) -> DecisionEntry {
        let (decided_on, valid_until, conditions) = if d.flags & WIDE == 0 {
            (day(d.decided_on), (d.valid_until != NO_DAY).then(|| day(d.valid_until)), u32::from(d.conditions))
        } else {
            match self.wide.binary_search_by_key(&(index as u32), |w| w.index) {
                Ok(at) => {
                    let w = &self.wide[at];
                    (w.decided_on, w.valid_until, w.conditions)
                }
                Err(_) => (NaiveDate::default(), None, 0),
            }
        };
        DecisionEntry {
            org: d.org,
            kind: kind_of(d.flags & KIND_MASK).unwrap_or(DecisionKind::Rejected),
            revoked: d.flags & REVOKED != 0,
            deciding_org: d.deciding_org,
            via_delegation: d.flags & VIA_DELEGATION != 0,
            needs_re_review: d.flags & NEEDS_RE_REVIEW != 0,
            superseded: d.flags & SUPERSEDED != 0,
            decided_on,
            valid_until,
            conditions,
        }
    }

    fn entry(&self, index: usize) -> Option<Entry<'_>> {
        self.packed.get(index).map(|packed| Entry { segment: self, index, packed })
    }

    /// The entry with this id (entries are sorted by id).
    #[cfg(test)]
    fn position(&self, id: &str) -> Option<usize> {
        let (mut low, mut high) = (0, self.packed.len());
        while low < high {
            let mid = low + (high - low) / 2;
            match self.entry(mid)?.id().cmp_str(id) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The entries of one service: its own, then its earlier revisions'
    /// (their ids sort right after the service's).
    fn positions_of_service<'s>(&'s self, id: &'s str) -> impl Iterator<Item = usize> + 's {
        let (mut low, mut high) = (0, self.packed.len());
        while low < high {
            let mid = low + (high - low) / 2;
            match self.entry(mid).map(|e| e.id().cmp_str(id)) {
                Some(std::cmp::Ordering::Less) => low = mid + 1,
                _ => high = mid,
            }
        }
        (low..self.packed.len()).map_while(move |at| {
            let entry = self.entry(at)?;
            let mut buf = [0u8; 36];
            let id_of = entry.id();
            let text = id_of.as_str(&mut buf);
            (split_face(text).0 == id).then_some(at)
        })
    }

    fn postings(&self, value: u64) -> impl Iterator<Item = u32> + '_ {
        postings_of(&self.postings, value)
    }

    /// Bytes of its arrays in huge-page mappings.
    fn huge_page_bytes(&self) -> usize {
        self.packed.mapped_bytes()
            + self.ids.mapped_bytes()
            + self.text.mapped_bytes()
            + self.decisions.mapped_bytes()
            + self.postings.mapped_bytes()
    }

    /// Approximate bytes held.
    fn memory_bytes(&self) -> usize {
        self.packed.len() * std::mem::size_of::<Packed>()
            + self.ids.len() * std::mem::size_of::<u128>()
            + self.wide_vendors.len() * 8
            + self.text.len()
            + self.decisions.len() * std::mem::size_of::<StoredDecision>()
            + self.wide.len() * std::mem::size_of::<WideDecision>()
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

/// How many keys each stage may contribute, so that a very common prefix
/// cannot make a lookup slow.
const MAX_KEYS_PER_STAGE: usize = 64;
const MAX_CANDIDATES: usize = 512;
/// Postings read per key: a key shared by very many services (a common
/// word of names) cannot make a lookup slow.
const MAX_POSTINGS_PER_KEY: usize = 256;

/// Candidates: per entry (segment bit 32, entry index), the best match.
/// The keys are small integers made here, so a fast hash that no client
/// can steer to collisions (at most `MAX_CANDIDATES` of them per lookup).
type Found = HashMap<u64, (MatchKind, u8, Field), rustc_hash::FxBuildHasher>;

const OVERLAY_SEGMENT: u64 = 1 << 32;

fn add(found: &mut Found, segment: u64, p: u32, kind: MatchKind, distance: u8) {
    let (index, field, full) = unpack(p);
    let key = segment | index as u64;
    let kind = if kind == MatchKind::Exact && !full { MatchKind::Prefix } else { kind };
    let full_up = found.len() >= MAX_CANDIDATES;
    match found.entry(key) {
        hash_map::Entry::Occupied(mut old) => {
            if (kind, distance, field) < *old.get() {
                old.insert((kind, distance, field));
            }
        }
        hash_map::Entry::Vacant(slot) => {
            if !full_up {
                slot.insert((kind, distance, field));
            }
        }
    }
}

/// The node reached by following `prefix` from the root, with the output
/// gathered on the way (None: no key starts with `prefix`).
fn descend<'f>(fst: &'f fst::raw::Fst<Vec<u8>>, prefix: &[u8]) -> Option<(fst::raw::Node<'f>, fst::raw::Output)> {
    let mut node = fst.root();
    let mut out = fst::raw::Output::zero();
    for &b in prefix {
        let t = node.transition(node.find_input(b)?);
        out = out.cat(t.out);
        node = fst.node(t.addr);
    }
    Some((node, out))
}

/// Which transitions of a node the walk reads: all, in turn from the
/// first, or, when the search lets only a few bytes through, those of
/// these bytes (found by input, without reading the others).
#[derive(Clone, Copy)]
enum Children {
    All { next: usize },
    Few { found: [u8; Few::MAX], len: u8, next: u8 },
}

impl Children {
    fn of(node: &fst::raw::Node<'_>, only: Option<Few>) -> Children {
        match only {
            Some(few) if few.as_slice().len() < node.len() => {
                let mut found = [0u8; Few::MAX];
                let mut len = 0;
                for &b in few.as_slice() {
                    // A node has at most 256 transitions.
                    if let Some(i) = node.find_input(b).and_then(|i| u8::try_from(i).ok()) {
                        found[usize::from(len)] = i;
                        len += 1;
                    }
                }
                Children::Few { found, len, next: 0 }
            }
            _ => Children::All { next: 0 },
        }
    }

    /// The next transition to read, in input order.
    fn next(&mut self, node: &fst::raw::Node<'_>) -> Option<usize> {
        match self {
            Children::All { next } => {
                let i = *next;
                *next += 1;
                (i < node.len()).then_some(i)
            }
            Children::Few { found, len, next } => {
                let i = *next;
                *next += 1;
                (i < *len).then(|| usize::from(found[usize::from(i)]))
            }
        }
    }
}

/// Walks the keys below `node` depth first, in key order, carrying a state
/// that `step` advances by each byte (None: no key through that byte can
/// match, and its subtree is skipped unread; `only` may name the few bytes
/// that can, so that the others are not read at all). `visit` sees every
/// node reached, with its state and output, and returns false to stop.
fn walk<S: Copy>(
    fst: &fst::raw::Fst<Vec<u8>>,
    node: fst::raw::Node<'_>,
    state: S,
    out: fst::raw::Output,
    step: impl Fn(S, u8) -> Option<S>,
    only: impl Fn(S) -> Option<Few>,
    mut visit: impl FnMut(&fst::raw::Node<'_>, S, fst::raw::Output) -> bool,
) {
    // (node, state, output so far, children to read)
    let mut stack = vec![(node, state, out, Children::of(&node, only(state)))];
    while let Some(top) = stack.last_mut() {
        let (node, state, out) = (top.0, top.1, top.2);
        let Some(next) = top.3.next(&node) else {
            stack.pop();
            continue;
        };
        let t = node.transition(next);
        let Some(child_state) = step(state, t.inp) else { continue };
        let child = fst.node(t.addr);
        let child_out = out.cat(t.out);
        if !visit(&child, child_state, child_out) {
            return;
        }
        // A node of one transition is read whole either way.
        let children =
            if child.len() > 1 { Children::of(&child, only(child_state)) } else { Children::All { next: 0 } };
        stack.push((child, child_state, child_out, children));
    }
}

/// Calls `emit` with the value of the first `limit` keys (in key order)
/// that start with `node`'s key and are longer.
fn longer_keys(
    fst: &fst::raw::Fst<Vec<u8>>,
    node: fst::raw::Node<'_>,
    out: fst::raw::Output,
    limit: usize,
    mut emit: impl FnMut(u64),
) {
    let mut emitted = 0;
    walk(
        fst,
        node,
        (),
        out,
        |(), _| Some(()),
        |()| None,
        |node, (), out| {
            if node.is_final() {
                emit(out.cat(node.final_output()).value());
                emitted += 1;
            }
            emitted < limit
        },
    );
}

/// Calls `emit` with the value and distance of the first `limit` keys (in
/// key order) that start with `prefix` and are within the search's edits,
/// leaving out those that continue `prefix` with `skip`. Walks the `fst`
/// itself rather than through a stream, which would read every child of
/// every node it passes; here a child is read only when the search can
/// still match through it.
fn within_edits<T: Typos>(
    keys: &fst::Map<Vec<u8>>,
    typos: &T,
    prefix: &[u8],
    skip: Option<u8>,
    limit: usize,
    mut emit: impl FnMut(u64, u8),
) {
    let fst = keys.as_fst();
    let mut state = typos.start();
    for &b in prefix {
        let Some(next) = typos.step(state, b) else { return };
        state = next;
    }
    let Some((node, out)) = descend(fst, prefix) else { return };
    let mut emitted = 0;
    // The walk's state: the search's, and whether the node is the one
    // `prefix` leads to (where `skip` is left out).
    let mut visit = |node: &fst::raw::Node<'_>, (state, _): (T::State, bool), out: fst::raw::Output| {
        if node.is_final()
            && let Some(d) = typos.distance(state)
        {
            emit(out.cat(node.final_output()).value(), d);
            emitted += 1;
        }
        emitted < limit
    };
    if !visit(&node, (state, true), out) {
        return;
    }
    let step = |(state, top): (T::State, bool), b: u8| {
        if top && skip == Some(b) {
            return None;
        }
        typos.step(state, b).map(|next| (next, false))
    };
    let only = |(state, top): (T::State, bool)| if top { None } else { typos.only(state) };
    walk(fst, node, (state, true), out, step, only, visit);
}

/// `within_edits` with either search.
fn within(
    keys: &fst::Map<Vec<u8>>,
    matcher: &Matcher,
    prefix: &[u8],
    skip: Option<u8>,
    limit: usize,
    emit: impl FnMut(u64, u8),
) {
    match matcher {
        Matcher::One(edits) => within_edits(keys, &**edits, prefix, skip, limit, emit),
        Matcher::Two(edits) => within_edits(keys, &**edits, prefix, skip, limit, emit),
        Matcher::Dfa(dfa) => within_edits(keys, dfa, prefix, skip, limit, emit),
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

    /// Adds the entries of one key, in both segments.
    fn add_key(&self, found: &mut Found, key: &[u8], kind: MatchKind) {
        for (bit, segment) in self.segments() {
            if let Some(value) = segment.keys.get(key) {
                for p in segment.postings(value) {
                    add(found, bit, p, kind, 0);
                }
            }
        }
    }

    /// Candidates for a query, best match per entry, unranked. Stops after
    /// the exact stage when it already found `limit` visible entries: prefix
    /// and fuzzy matches rank below every exact one.
    fn candidates(&self, query: &str, fuzzy: &Fuzzy, include_internal: bool, limit: usize) -> Found {
        let mut found = Found::with_capacity_and_hasher(MAX_POSTINGS_PER_KEY, rustc_hash::FxBuildHasher);
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
        // Exact: the query's own key; and where it leads, for the prefix stage.
        let mut reached = [None, None];
        for ((bit, segment), reached) in self.segments().into_iter().zip(&mut reached) {
            if segment.packed.is_empty() {
                continue;
            }
            let Some((node, out)) = descend(segment.keys.as_fst(), qb) else { continue };
            if node.is_final() {
                for p in segment.postings(out.cat(node.final_output()).value()) {
                    add(&mut found, bit, p, MatchKind::Exact, 0);
                }
            }
            *reached = Some((node, out));
        }
        let exact_visible = found
            .iter()
            .filter(|(key, (kind, _, _))| *kind == MatchKind::Exact && self.visible(**key, include_internal))
            .count();
        if exact_visible >= limit {
            return found;
        }
        // Prefix: the keys below the query's own, in key order.
        for ((bit, segment), reached) in self.segments().into_iter().zip(reached) {
            let Some((node, out)) = reached else { continue };
            longer_keys(segment.keys.as_fst(), node, out, MAX_KEYS_PER_STAGE, |value| {
                for p in segment.postings(value) {
                    add(&mut found, bit, p, MatchKind::Prefix, 0);
                }
            });
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
            // Each range with the byte below it to leave out: the second
            // range holds the first, which was walked just before with the
            // same search and found nothing, so its part is not walked
            // again; and when the first two letters are the same, the third
            // range is the second.
            let mut ranges: Vec<(&[u8], Option<u8>)> = Vec::with_capacity(3);
            if qb.len() >= 3 {
                ranges.push((&qb[..2], None));
                ranges.push((&qb[..1], Some(qb[1])));
            } else {
                ranges.push((&qb[..1], None));
            }
            if qb.len() >= 2 && qb[1] != qb[0] {
                ranges.push((&qb[1..2], None));
            }
            'distances: for distance in Fuzzy::distances(&q) {
                let matcher = fuzzy.matcher(&q, *distance);
                for (low, skip) in &ranges {
                    for (bit, segment) in self.segments() {
                        if segment.packed.is_empty() {
                            continue;
                        }
                        within(&segment.keys, &matcher, low, *skip, MAX_KEYS_PER_STAGE, |value, distance| {
                            for p in segment.postings(value) {
                                add(&mut found, bit, p, MatchKind::Fuzzy, distance);
                            }
                        });
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
                None => entry.decisions().map(|d| d.status(today).rank()).min().unwrap_or(Status::NotAssessed.rank()),
            }
        };
        // Names compare as their bytes (the order of `str`), not checked as UTF-8 again.
        type Ranked<'a> = ((MatchKind, u8, Field, u8), &'a [u8], u64, Hit<'a>);
        // The rank is computed once per hit; only the best `limit` are sorted.
        let mut ranked: Vec<Ranked<'a>> = self
            .candidates(query, fuzzy, include_internal, limit)
            .into_iter()
            .filter_map(|(key, (kind, distance, field))| {
                let entry = self.resolve(key)?;
                // An earlier revision's entry answers only for the
                // organisations that decided on it.
                let decided_here = match org {
                    Some(org) => !entry.is_earlier_revision() || entry.decision_for(org).is_some(),
                    None => true,
                };
                (decided_here && (entry.public() || include_internal)).then(|| {
                    let rank = (kind, distance, field, status_rank(&entry));
                    (rank, entry.name_bytes(), key, Hit { entry, field, kind, distance })
                })
            })
            .collect();
        // Ties by id: a segment's entries are in id order (both segments
        // are built from services sorted by id), so within one the entry
        // index orders them without reading their ids.
        let by_id = |a: &Ranked<'a>, b: &Ranked<'a>| {
            if (a.2 ^ b.2) & OVERLAY_SEGMENT == 0 { a.2.cmp(&b.2) } else { a.3.entry.id().cmp(&b.3.entry.id()) }
        };
        let order = |a: &Ranked<'a>, b: &Ranked<'a>| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| by_id(a, b));
        // A service found through more than one of its revisions answers
        // once, with the best-ranked of them.
        if ranked.iter().any(|r| r.3.entry.is_earlier_revision()) {
            ranked.sort_unstable_by(order);
            let mut seen: HashSet<String> = HashSet::new();
            ranked.retain(|r| seen.insert(r.3.entry.service_id().to_string()));
        }
        if limit > 0 && ranked.len() > limit {
            ranked.select_nth_unstable_by(limit - 1, order);
        }
        ranked.truncate(limit);
        ranked.sort_unstable_by(order);
        ranked.into_iter().map(|(_, _, _, hit)| hit).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use levenshtein_automata::Distance;

    fn org(slug: &str) -> OrgInfo {
        OrgInfo {
            slug: slug.into(),
            name: slug.into(),
            function_name: format!("AI-funktionen {slug}"),
            contact: format!("ai@{slug}.example.se"),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn decision(org: &str, decided_on: NaiveDate, valid_until: Option<NaiveDate>) -> DecisionData {
        DecisionData {
            org: org.into(),
            kind: DecisionKind::ApprovedWithConditions,
            revoked: false,
            deciding_org: "itsam".into(),
            via_delegation: true,
            needs_re_review: true,
            superseded: false,
            decided_on,
            valid_until,
            conditions: r#"[{"type":"no_personal_data"}]"#.into(),
        }
    }

    fn service(id: &str, decisions: Vec<DecisionData>) -> ServiceData {
        ServiceData {
            id: id.into(),
            name: format!("Tjänst {id}"),
            vendor: "Leverantör".into(),
            // The second alias needs a two-byte length in the arena.
            aliases: vec![format!("alias {id}"), "å".repeat(150)],
            domains: vec![],
            published: true,
            withheld: false,
            decisions,
        }
    }

    #[test]
    fn the_fst_walks_find_what_a_scan_of_every_key_finds() {
        let mut keys: Vec<String> = Vec::new();
        let syllables = ["ka", "lk", "yl", "ar", "o", "chat", "gpt", "å", "bo", "t"];
        for a in syllables {
            for b in syllables {
                for c in syllables {
                    keys.push(format!("{a}{b}{c}"));
                    keys.push(format!("{a}{b}"));
                }
            }
        }
        keys.sort();
        keys.dedup();
        let map = fst::Map::from_iter(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u64))).unwrap();
        let fuzzy = Fuzzy::default();
        for query in ["kalk", "chatgpt", "kalkyla", "ytar", "bot", "åbo", "chtgpt", "kalkly", "zz"] {
            let q = query.as_bytes();
            for limit in [1, 5, 1000] {
                let mut walked = Vec::new();
                if let Some((node, out)) = descend(map.as_fst(), q) {
                    longer_keys(map.as_fst(), node, out, limit, |v| walked.push(v));
                }
                let scanned: Vec<u64> = (0..keys.len() as u64)
                    .filter(|i| keys[*i as usize].as_bytes().starts_with(q) && keys[*i as usize] != query)
                    .take(limit)
                    .collect();
                assert_eq!(walked, scanned, "prefix {query} {limit}");
                for distance in [1, 2] {
                    let dfa = fuzzy.dfa(query, distance);
                    for low in [&q[..1], &q[..2]] {
                        let mut walked = Vec::new();
                        within_edits(&map, &dfa, low, None, limit, |v, d| walked.push((v, d)));
                        let mut searched = Vec::new();
                        within(&map, &fuzzy.matcher(query, distance), low, None, limit, |v, d| searched.push((v, d)));
                        assert_eq!(searched, walked, "typo {query} {distance} {low:?} {limit}, bit-parallel");
                        let scanned: Vec<(u64, u8)> = (0..keys.len() as u64)
                            .filter(|i| keys[*i as usize].as_bytes().starts_with(low))
                            .filter_map(|i| match dfa.eval(&keys[i as usize]) {
                                Distance::Exact(d) => Some((i, d)),
                                Distance::AtLeast(_) => None,
                            })
                            .take(limit)
                            .collect();
                        assert_eq!(walked, scanned, "typo {query} {distance} {low:?} {limit}");
                    }
                    // The first letter's range without the first two letters' part.
                    let mut skipped = Vec::new();
                    within(&map, &fuzzy.matcher(query, distance), &q[..1], Some(q[1]), limit, |v, d| {
                        skipped.push((v, d))
                    });
                    let scanned: Vec<(u64, u8)> = (0..keys.len() as u64)
                        .filter(|i| keys[*i as usize].as_bytes().starts_with(&q[..1]))
                        .filter(|i| !keys[*i as usize].as_bytes().starts_with(&q[..2]))
                        .filter_map(|i| match dfa.eval(&keys[i as usize]) {
                            Distance::Exact(d) => Some((i, d)),
                            Distance::AtLeast(_) => None,
                        })
                        .take(limit)
                        .collect();
                    assert_eq!(skipped, scanned, "typo {query} {distance} skipping {:?} {limit}", &q[..2]);
                }
            }
        }
    }

    #[test]
    fn the_stored_day_count_starts_at_1970() {
        assert_eq!(date(1970, 1, 1).num_days_from_ce(), UNIX_EPOCH_DAYS_CE);
        assert_eq!(day_code(date(1970, 1, 1)), Some(0));
        assert_eq!(day(day_code(date(2026, 11, 28)).unwrap()), date(2026, 11, 28));
        assert_eq!(day_code(date(1969, 12, 31)), None);
        assert_eq!(day_code(date(2200, 1, 1)), None);
    }

    #[test]
    fn decisions_read_back_as_they_were_given_whether_or_not_they_fit_the_packed_form() {
        let orgs = vec![org("itsam"), org("kinda"), org("ydre"), org("boxholm")];
        let given = vec![
            decision("kinda", date(2026, 3, 1), Some(date(2027, 3, 1))),
            decision("ydre", date(1969, 5, 1), None),
            decision("boxholm", date(2026, 3, 1), Some(date(2200, 1, 1))),
        ];
        let snapshot = Snapshot::build(1, "h", orgs, vec![service("s1", given.clone())]);
        assert_eq!(snapshot.base.wide.len(), 2);
        let entry = snapshot.entries().next().unwrap();
        for d in &given {
            let org = snapshot.org_index(&d.org).unwrap();
            let back = entry.decision_for(org).unwrap();
            assert_eq!((back.decided_on, back.valid_until), (d.decided_on, d.valid_until), "{}", d.org);
            assert_eq!(back.kind, DecisionKind::ApprovedWithConditions);
            assert!(back.via_delegation && back.needs_re_review && !back.revoked);
            assert_eq!(entry.conditions(&back).len(), 1);
        }
        assert_eq!(entry.decisions().count(), 3);
        assert!(entry.decision_for(0).is_none());
    }

    #[test]
    fn uuid_ids_are_kept_as_16_bytes_and_read_back_sort_and_are_found_as_their_text() {
        let ids = [
            "0190a3c4-0000-7000-8000-000000000001",
            "0190a3c4-0000-7000-8000-00000000000a",
            "0190A3C4-0000-7000-8000-000000000002", // not canonical: kept as text
            "demo-chat",
            "0190a3c4-0000-7000-8000-00000000000b",
            "zzz",
        ];
        let services = ids.iter().map(|id| service(id, vec![])).collect();
        let snapshot = Snapshot::build(1, "h", vec![org("itsam")], services);
        let mut sorted: Vec<&str> = ids.to_vec();
        sorted.sort();
        let back: Vec<String> = snapshot.entries().map(|e| e.id().to_string()).collect();
        assert_eq!(back, sorted);
        assert_eq!(snapshot.base.packed.iter().filter(|p| p.text_id()).count(), 3);
        for (i, id) in sorted.iter().enumerate() {
            assert_eq!(snapshot.base.position(id), Some(i));
            assert_eq!(snapshot.base.entry(i).unwrap().name(), format!("Tjänst {id}"));
            let aliases: Vec<&str> = snapshot.base.entry(i).unwrap().aliases().collect();
            assert_eq!(aliases, [format!("alias {id}"), "å".repeat(150)]);
        }
        assert_eq!(snapshot.base.position("0190a3c4-0000-7000-8000-000000000003"), None);
        let entries: Vec<Entry<'_>> = snapshot.entries().collect();
        assert!(entries.windows(2).all(|w| w[0].id() < w[1].id()));

        // A change replaces the base entry of that id.
        let changed = snapshot.with_changes(2, vec![(sorted[1].to_string(), vec![]), ("demo-chat".into(), vec![])]);
        assert_eq!(changed.len(), ids.len() - 2);
        let left: Vec<String> = changed.entries().map(|e| e.id().to_string()).collect();
        assert!(!left.iter().any(|id| id == sorted[1] || id == "demo-chat"));
    }

    #[test]
    fn ties_rank_by_name_then_id_in_both_segments() {
        // Services that all match "Samma" alike (one exact name each, no
        // decisions), with ids of both kinds, given out of order; some
        // names differ only in case, which sorts as the names' bytes.
        let named = |id: &str, name: &str| ServiceData { name: name.into(), aliases: vec![], ..service(id, vec![]) };
        let base = vec![
            named("zzz", "Samma"),
            named("0190a3c4-0000-7000-8000-00000000000b", "Samma"),
            named("demo-chat", "samma"),
            named("0190a3c4-0000-7000-8000-000000000001", "Samma"),
            named("0190A3C4-0000-7000-8000-000000000002", "Samma"),
            named("aaa", "samma"),
        ];
        let snapshot = Snapshot::build(1, "h", vec![org("itsam")], base);
        // The overlay adds ids that sort between the base's, and replaces one.
        let changes = vec![
            (
                "0190a3c4-0000-7000-8000-000000000005".to_string(),
                vec![named("0190a3c4-0000-7000-8000-000000000005", "Samma")],
            ),
            ("mmm".to_string(), vec![named("mmm", "Samma")]),
            ("zzz".to_string(), vec![named("zzz", "samma")]),
            (
                "0190a3c4-0000-7000-8000-000000000000".to_string(),
                vec![named("0190a3c4-0000-7000-8000-000000000000", "Samma")],
            ),
        ];
        let changed = snapshot.with_changes(2, changes);
        let today = date(2026, 6, 1);
        let fuzzy = Fuzzy::default();
        for view in [&snapshot, &changed] {
            let mut expected: Vec<(String, String)> =
                view.entries().map(|e| (e.name().to_string(), e.id().to_string())).collect();
            expected.sort();
            for limit in [1, 3, expected.len(), 50] {
                let found: Vec<(String, String)> = view
                    .search("samma", None, false, limit, today, &fuzzy)
                    .iter()
                    .map(|hit| (hit.entry.name().to_string(), hit.entry.id().to_string()))
                    .collect();
                assert_eq!(found, expected[..limit.min(expected.len())], "limit {limit}");
            }
        }
    }
}
