//! Finding the entries for a query: exact keys, prefixes and, for a
//! misspelling, keys within one or two edits (walks of the `fst`), then ranking.

use super::packed::*;
use super::*;

/// How many keys each stage may contribute, so that a very common prefix
/// cannot make a lookup slow.
pub(super) const MAX_KEYS_PER_STAGE: usize = 64;
pub(super) const MAX_CANDIDATES: usize = 512;

/// Candidates: per entry (segment bit 32, entry index), the best match.
/// The keys are small integers made here, so a fast hash that no client
/// can steer to collisions (at most `MAX_CANDIDATES` of them per lookup).
pub(super) type Found = HashMap<u64, (MatchKind, u8, Field), rustc_hash::FxBuildHasher>;

pub(super) const OVERLAY_SEGMENT: u64 = 1 << 32;

pub(super) fn add(found: &mut Found, segment: u64, p: u32, kind: MatchKind, distance: u8) {
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
pub(super) fn descend<'f>(
    fst: &'f fst::raw::Fst<Vec<u8>>,
    prefix: &[u8],
) -> Option<(fst::raw::Node<'f>, fst::raw::Output)> {
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
pub(super) enum Children {
    All { next: usize },
    Few { found: [u8; Few::MAX], len: u8, next: u8 },
}

impl Children {
    pub(super) fn of(node: &fst::raw::Node<'_>, only: Option<Few>) -> Children {
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
    pub(super) fn next(&mut self, node: &fst::raw::Node<'_>) -> Option<usize> {
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
pub(super) fn walk<S: Copy>(
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
pub(super) fn longer_keys(
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
pub(super) fn within_edits<T: Typos>(
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
pub(super) fn within(
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

impl Snapshot {
    /// Adds the entries of one key, in both segments.
    pub(super) fn add_key(&self, found: &mut Found, key: &[u8], kind: MatchKind) {
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
    pub(super) fn candidates(&self, query: &str, fuzzy: &Fuzzy, include_internal: bool, limit: usize) -> Found {
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
}
