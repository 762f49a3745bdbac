//! How a segment stores its services and decisions: fixed-size records
//! (`Packed`, `StoredDecision`) over shared arrays, and how they read back.

use super::*;

/// `num_days_from_ce` of 1970-01-01: stored dates count days from there.
pub(super) const UNIX_EPOCH_DAYS_CE: i32 = 719_163;
/// A stored `valid_until` of "none".
pub(super) const NO_DAY: u16 = u16::MAX;

pub(super) const KIND_MASK: u8 = 0b11;
pub(super) const REVOKED: u8 = 1 << 2;
pub(super) const VIA_DELEGATION: u8 = 1 << 3;
pub(super) const NEEDS_RE_REVIEW: u8 = 1 << 4;
/// The dates or the condition list did not fit: they are in the segment's `wide` list.
pub(super) const WIDE: u8 = 1 << 5;
pub(super) const SUPERSEDED: u8 = 1 << 6;

/// A decision as a segment stores it: 10 bytes. Dates are days since
/// 1970-01-01 (up to 2149); a decision whose dates or condition list do not
/// fit keeps them in the segment's `wide` list instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(in crate::lookup) struct StoredDecision {
    pub org: u16,
    pub deciding_org: u16,
    pub decided_on: u16,
    pub valid_until: u16,
    pub conditions: u8,
    pub flags: u8,
}

/// What did not fit in a stored decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(in crate::lookup) struct WideDecision {
    /// The decision's index in the segment's decision list.
    pub index: u32,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub conditions: u32,
}

pub(super) fn day_code(date: NaiveDate) -> Option<u16> {
    u16::try_from(date.num_days_from_ce() - UNIX_EPOCH_DAYS_CE).ok().filter(|d| *d != NO_DAY)
}

pub(super) fn day(code: u16) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(i32::from(code) + UNIX_EPOCH_DAYS_CE).unwrap_or_default()
}

pub(in crate::lookup) fn kind_code(kind: DecisionKind) -> u8 {
    match kind {
        DecisionKind::Approved => 0,
        DecisionKind::ApprovedWithConditions => 1,
        DecisionKind::Rejected => 2,
    }
}

pub(in crate::lookup) fn kind_of(code: u8) -> Option<DecisionKind> {
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
    pub(super) fn pack(d: &DecisionEntry, index: u32, wide: &mut Vec<WideDecision>) -> StoredDecision {
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
pub(in crate::lookup) struct Packed {
    pub text: u32,
    /// First of its decisions in the segment's decision list.
    pub decisions: u32,
    /// Index into the segment's vendors; `WIDE_VENDOR`: in `wide_vendors`.
    pub vendor: u16,
    pub n_decisions: u8,
    /// `PUBLIC`, `TEXT_ID`, and the number of aliases above them.
    pub bits: u8,
}

pub(super) const WIDE_VENDOR: u16 = u16::MAX;
/// `published` (else `internal_only`, shown to signed-in callers only).
pub(super) const PUBLIC: u8 = 1;
/// The id is the first string of its text (it is not a UUID in canonical
/// form); otherwise it is in the segment's `ids`.
pub(super) const TEXT_ID: u8 = 2;
pub(super) const ALIAS_SHIFT: u8 = 2;
/// Aliases an entry keeps (the submission schema allows 50).
pub(super) const MAX_ALIASES: usize = 63;

impl Packed {
    pub(super) fn public(&self) -> bool {
        self.bits & PUBLIC != 0
    }
    pub(in crate::lookup) fn text_id(&self) -> bool {
        self.bits & TEXT_ID != 0
    }
    pub(super) fn n_aliases(&self) -> usize {
        usize::from(self.bits >> ALIAS_SHIFT)
    }
}

/// A set of services with their search keys: the base or the overlay. Its
/// large arrays are read-only once built, in huge pages when they fill one
/// (`HugeSlice`).
pub(in crate::lookup) struct Segment {
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

pub(super) const DOMAIN_PREFIX: u8 = 0x01;
/// Entries per segment the postings can address (`u32` with three bits of field and kind).
pub(super) const MAX_ENTRIES: usize = 1 << 29;

pub(super) fn posting(entry: usize, field: Field, full: bool) -> u32 {
    ((entry as u32) << 3) | ((field.code() as u32) << 1) | u32::from(full)
}

pub(super) fn unpack(p: u32) -> (usize, Field, bool) {
    ((p >> 3) as usize, Field::from_code(u64::from((p >> 1) & 0x3)), p & 1 == 1)
}

/// Postings read per key: a key shared by very many services (a common
/// word of names) cannot make a lookup slow.
pub(super) const MAX_POSTINGS_PER_KEY: usize = 256;

/// Postings of one key: one entry kept in the key's value, or a run of them.
pub(super) fn postings_of(postings: &[u32], value: u64) -> impl Iterator<Item = u32> + '_ {
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
    /// Decision number `index`, unpacked.
    pub(super) fn unpack(&self, index: usize, d: &StoredDecision) -> DecisionEntry {
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

    pub(super) fn entry(&self, index: usize) -> Option<Entry<'_>> {
        self.packed.get(index).map(|packed| Entry { segment: self, index, packed })
    }

    /// The entry with this id (entries are sorted by id).
    #[cfg(test)]
    pub(super) fn position(&self, id: &str) -> Option<usize> {
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
    pub(super) fn positions_of_service<'s>(&'s self, id: &'s str) -> impl Iterator<Item = usize> + 's {
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

    pub(super) fn postings(&self, value: u64) -> impl Iterator<Item = u32> + '_ {
        postings_of(&self.postings, value)
    }

    /// Bytes of its arrays in huge-page mappings.
    pub(super) fn huge_page_bytes(&self) -> usize {
        self.packed.mapped_bytes()
            + self.ids.mapped_bytes()
            + self.text.mapped_bytes()
            + self.decisions.mapped_bytes()
            + self.postings.mapped_bytes()
    }

    /// Approximate bytes held.
    pub(super) fn memory_bytes(&self) -> usize {
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
