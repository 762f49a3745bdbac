//! Building a segment: every service's keys into an `fst`, its strings into
//! the text arena and its decisions packed.

use super::packed::*;
use super::*;

/// A segment while it is built: its arrays grow on the heap.
#[derive(Default)]
pub(super) struct Parts {
    packed: Vec<Packed>,
    ids: Vec<u128>,
    wide_vendors: Vec<(u32, u32)>,
    text: Vec<u8>,
    decisions: Vec<StoredDecision>,
    wide: Vec<WideDecision>,
    vendors: Vec<Box<str>>,
    conditions: Vec<Arc<[Condition]>>,
}

/// Vendors and condition lists, stored once per segment while it is built.
#[derive(Default)]
pub(super) struct Interner {
    vendor_ids: HashMap<String, u32>,
    condition_ids: HashMap<String, u32>,
}

/// Every key of a service, with its posting.
pub(super) fn keys_of(data: &ServiceData, index: usize, mut emit: impl FnMut(&[u8], u32)) {
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
pub(super) const MAX_STRING_BYTES: usize = 0x7fff;

/// Appends a string to the arena after its length: one byte below 128,
/// else two (high bit set, big-endian). Cut at a character boundary below 32 KiB.
pub(super) fn push_string(text: &mut Vec<u8>, s: &str) {
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

impl Segment {
    /// Builds a segment from services sorted by id.
    pub(super) fn build(services: &[ServiceData], org_ids: &HashMap<&str, u16>) -> Segment {
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
    pub(super) fn push(&mut self, data: &ServiceData, org_ids: &HashMap<&str, u16>, interner: &mut Interner) -> bool {
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
    pub(super) fn condition_list(&mut self, interner: &mut Interner, raw: &str) -> u32 {
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
