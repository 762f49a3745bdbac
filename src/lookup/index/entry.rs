//! One service as the lookup knows it: a view into a segment.

use super::packed::*;
use super::*;

/// A service's id: a UUID kept as 16 bytes, or the text it was given.
#[derive(Debug, Clone, Copy)]
pub enum ServiceId<'a> {
    Uuid(u128),
    Text(&'a str),
}

impl ServiceId<'_> {
    /// Compares with an id's text, as the texts would compare.
    pub(super) fn cmp_str(&self, other: &str) -> std::cmp::Ordering {
        let mut buf = [0u8; 36];
        self.as_str(&mut buf).cmp(other)
    }

    pub(super) fn as_str<'b>(&'b self, buf: &'b mut [u8; 36]) -> &'b str {
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
    pub(super) segment: &'a Segment,
    pub(super) index: usize,
    pub(super) packed: &'a Packed,
}

/// The strings of an entry, in arena order: (id,) name, aliases, as bytes.
pub(super) struct Strings<'a> {
    text: &'a [u8],
}

/// One of an entry's strings, as text (they are stored from `str`s).
pub(super) fn text(bytes: &[u8]) -> &str {
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
    pub(super) fn strings(&self) -> Strings<'a> {
        let start = self.packed.text as usize;
        Strings { text: self.segment.text.get(start..).unwrap_or_default() }
    }
    /// The name, then the aliases.
    pub(super) fn names(&self) -> std::iter::Skip<Strings<'a>> {
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
    pub(super) fn name_bytes(&self) -> &'a [u8] {
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
    pub(super) fn stored(&self) -> &'a [StoredDecision] {
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
