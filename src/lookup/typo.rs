//! "Within a few edits" for the typo search: the edit distance counts an
//! insertion, a deletion, a substitution and a swap of two neighbouring
//! characters as one edit each.
//!
//! For a query of ASCII letters and digits (nearly every query: the lookup
//! folds diacritics before it searches), the search follows the query with
//! one bit per query position and edit count, advanced by a few word
//! operations per key byte (the bit-parallel automaton of Wu and Manber,
//! with Hyyrö's transposition step). Nothing is built per query beyond a
//! table of which positions hold each byte. Any other query uses a
//! Levenshtein DFA, which is built per query; building it was about a
//! sixth of a typo lookup's time at 1M services. Both give the same
//! distance for every key (a test compares them).

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};

/// The most edits the search allows.
pub const MAX_EDITS: usize = 2;

/// A search for the keys within some edits of a query, walked one key byte
/// at a time. `step` returns None when no key through that byte can be
/// within the edits, so that its subtree is skipped unread.
pub trait Typos {
    type State: Copy;
    fn start(&self) -> Self::State;
    fn step(&self, state: Self::State, byte: u8) -> Option<Self::State>;
    /// The key's distance, when the key read so far is within the edits.
    fn distance(&self, state: Self::State) -> Option<u8>;
    /// The only bytes through which a key can go on from `state`, when there
    /// are few: once every edit is spent, only the query's next byte (or the
    /// other half of a swap) does. None: no such limit is known. A walk then
    /// looks up these bytes in a node instead of reading all its transitions.
    /// Keys are UTF-8, so a byte that continues a character never comes where
    /// a state names its bytes: that is only after an ASCII character.
    fn only(&self, _state: Self::State) -> Option<Few> {
        None
    }
}

/// A few bytes, ascending and distinct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Few {
    bytes: [u8; Few::MAX],
    len: u8,
}

impl Few {
    /// The most bytes a `Few` holds.
    pub const MAX: usize = 8;

    /// The bytes, ascending; None when more than `MAX` distinct ones.
    pub fn of(bytes: impl IntoIterator<Item = u8>) -> Option<Few> {
        let mut few = Few { bytes: [0; Few::MAX], len: 0 };
        for b in bytes {
            let held = &few.bytes[..usize::from(few.len)];
            if let Err(at) = held.binary_search(&b) {
                if usize::from(few.len) == Few::MAX {
                    return None;
                }
                few.bytes.copy_within(at..usize::from(few.len), at + 1);
                few.bytes[at] = b;
                few.len += 1;
            }
        }
        Some(few)
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Levenshtein DFA builders, built once (they are expensive to make and
/// cheap to use), for the queries the bit-parallel search does not take.
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
    pub fn distances(query: &str) -> &'static [u8] {
        match query.chars().count() {
            0..=3 => &[],
            4..=7 => &[1],
            _ => &[1, 2],
        }
    }

    /// The search for keys within `distance` edits of `query`.
    pub fn matcher(&self, query: &str, distance: u8) -> Matcher {
        let bits = match distance {
            1 => Edits::new(query.as_bytes()).map(|e| Matcher::One(Box::new(e))),
            2 => Edits::new(query.as_bytes()).map(|e| Matcher::Two(Box::new(e))),
            _ => None,
        };
        bits.unwrap_or_else(|| Matcher::Dfa(self.dfa(query, distance)))
    }

    pub fn dfa(&self, query: &str, distance: u8) -> DFA {
        if distance == 1 { self.one.build_dfa(query) } else { self.two.build_dfa(query) }
    }
}

/// One of the searches: bit-parallel within one or two edits, or a DFA.
pub enum Matcher {
    One(Box<Edits<2>>),
    Two(Box<Edits<3>>),
    Dfa(DFA),
}

impl Typos for DFA {
    type State = u32;
    fn start(&self) -> u32 {
        self.initial_state()
    }
    fn step(&self, state: u32, byte: u8) -> Option<u32> {
        Some(self.transition(state, byte)).filter(|s| *s != SINK_STATE)
    }
    fn distance(&self, state: u32) -> Option<u8> {
        match DFA::distance(self, state) {
            Distance::Exact(d) => Some(d),
            Distance::AtLeast(_) => None,
        }
    }
}

/// The bit-parallel search: an ASCII query of at most 63 bytes, within
/// `N - 1` edits (the edit count is a parameter so that the compiler
/// unrolls the step's loop over it).
pub struct Edits<const N: usize> {
    /// For each ASCII byte, bit `i` set when the query's byte `i - 1` is
    /// that byte (bit 0 is never set).
    masks: [u64; 128],
    /// Bits 0 to the query's length.
    all: u64,
    /// Bit for the whole query read.
    end: u64,
    /// The query.
    query: [u8; 63],
}

/// Where the search stands after some key bytes. `now[d]` has bit `j` set
/// when the key read so far is within `d` edits of the query's first `j`
/// bytes; `before` is the same one key character earlier, and `last` that
/// character (for a swap of the two). A character that is not ASCII
/// matches no query byte (`last` is then 0x80, whose mask is empty).
#[derive(Clone, Copy)]
pub struct EditState<const N: usize> {
    now: [u64; N],
    before: [u64; N],
    last: u8,
}

/// Stands for any character that is not ASCII: it matches no query byte.
const OTHER: u8 = 0x80;

impl<const N: usize> Edits<N> {
    /// None when the query is not ASCII or is longer than 63 bytes.
    pub fn new(query: &[u8]) -> Option<Edits<N>> {
        if !query.is_ascii() || query.len() > 63 || N == 0 || N > MAX_EDITS + 1 {
            return None;
        }
        let mut masks = [0u64; 128];
        for (i, b) in query.iter().enumerate() {
            masks[usize::from(*b)] |= 1 << (i + 1);
        }
        let end = 1u64 << query.len();
        let mut bytes = [0u8; 63];
        bytes[..query.len()].copy_from_slice(query);
        Some(Edits { masks, all: end | (end - 1), end, query: bytes })
    }

    fn mask(&self, byte: u8) -> u64 {
        self.masks.get(usize::from(byte)).copied().unwrap_or(0)
    }
}

impl<const N: usize> Typos for Edits<N> {
    type State = EditState<N>;

    fn start(&self) -> EditState<N> {
        // Before any key byte: the query's first d bytes deleted, with d edits.
        let mut now = [0u64; N];
        for (d, bits) in now.iter_mut().enumerate() {
            *bits = ((1u64 << (d + 1)) - 1) & self.all;
        }
        EditState { now, before: [0; N], last: OTHER }
    }

    fn step(&self, state: EditState<N>, byte: u8) -> Option<EditState<N>> {
        // A UTF-8 continuation byte belongs to the character its lead byte
        // began, which was already taken as one character.
        if (0x80..0xc0).contains(&byte) {
            return Some(state);
        }
        let c = if byte < 0x80 { byte } else { OTHER };
        let m = self.mask(c);
        let swap = self.mask(state.last) & (m << 1);
        let mut next = [0u64; N];
        let mut alive = 0;
        for d in 0..N {
            // The key byte matches the next query byte.
            let mut bits = (state.now[d] << 1) & m;
            if d > 0 {
                bits |= state.now[d - 1] << 1 // substituted
                    | state.now[d - 1] // inserted in the key
                    | next[d - 1] << 1 // a query byte left out of the key
                    | (state.before[d - 1] << 2) & swap; // two neighbours swapped
            }
            next[d] = bits & self.all;
            alive |= next[d];
        }
        (alive != 0).then_some(EditState { now: next, before: state.now, last: c })
    }

    fn distance(&self, state: EditState<N>) -> Option<u8> {
        state.now.iter().position(|bits| bits & self.end != 0).map(|d| d as u8)
    }

    fn only(&self, state: EditState<N>) -> Option<Few> {
        // With an edit left (a bit below the last row), a substitution or an
        // insertion goes on through any byte. After a character that is not
        // ASCII its continuation bytes follow, which `step` passes over.
        if state.now[..N - 1].iter().any(|bits| *bits != 0) || state.last == OTHER {
            return None;
        }
        // Otherwise only a byte that matches the query's next one (bit p:
        // query byte p - 1) or completes a swap with the last one (bit p:
        // query byte p - 2) keeps any bit alive.
        let matched = (state.now[N - 1] << 1) & self.all;
        let swapped =
            state.before[..N - 1].iter().fold(0, |acc, bits| acc | bits << 2) & self.mask(state.last) & self.all;
        let at = |mut bits: u64, back: usize| {
            let positions = std::iter::from_fn(move || {
                let p = (bits != 0).then(|| bits.trailing_zeros() as usize);
                bits &= bits.wrapping_sub(1);
                p
            });
            positions.filter_map(move |p| self.query.get(p.checked_sub(back)?).copied())
        };
        Few::of(at(matched, 1).chain(at(swapped, 2)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance_of<T: Typos>(t: &T, key: &str) -> Option<u8> {
        let mut state = t.start();
        for b in key.bytes() {
            state = t.step(state, b)?;
        }
        t.distance(state)
    }

    /// A small deterministic generator (xorshift), so the test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn the_bit_parallel_search_gives_the_dfa_distance_for_every_key() {
        let fuzzy = Fuzzy::default();
        let letters = ["a", "b", "c", "d", "1", "å", "ж", "語"];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let word = |rng: &mut Rng, ascii: bool, len: usize| -> String {
            (0..len).map(|_| letters[rng.below(if ascii { 5 } else { letters.len() })]).collect()
        };
        let mut compared = 0;
        for _ in 0..400 {
            let len = 1 + rng.below(9);
            let query = word(&mut rng, true, len);
            for distance in [1u8, 2] {
                let dfa = fuzzy.dfa(&query, distance);
                let matcher = fuzzy.matcher(&query, distance);
                let bits = |key: &str| match &matcher {
                    Matcher::One(edits) => distance_of(&**edits, key),
                    Matcher::Two(edits) => distance_of(&**edits, key),
                    Matcher::Dfa(_) => panic!("an ASCII query is searched bit-parallel"),
                };
                for key in keys_near(&mut rng, &query, &letters) {
                    assert_eq!(bits(&key), distance_of(&dfa, &key), "query {query:?}, key {key:?}, within {distance}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 400 * 2 * 40 * 2);
    }

    /// Keys made from `query` by up to three random edits (some with
    /// letters that are not ASCII), and unrelated ones.
    fn keys_near(rng: &mut Rng, query: &str, letters: &[&'static str]) -> Vec<String> {
        let mut keys = Vec::new();
        for _ in 0..40 {
            let mut key: Vec<&str> = query.split("").filter(|s| !s.is_empty()).collect();
            for _ in 0..rng.below(4) {
                let at = rng.below(key.len() + 1);
                match rng.below(4) {
                    0 => key.insert(at, letters[rng.below(letters.len())]),
                    1 if at < key.len() => {
                        key.remove(at);
                    }
                    2 if at < key.len() => key[at] = letters[rng.below(letters.len())],
                    _ if at + 1 < key.len() => key.swap(at, at + 1),
                    _ => {}
                }
            }
            keys.push(key.concat());
            let len = rng.below(10);
            keys.push((0..len).map(|_| letters[rng.below(letters.len())]).collect());
        }
        keys
    }

    #[test]
    fn a_state_that_names_its_few_bytes_dies_on_every_other_byte() {
        let fuzzy = Fuzzy::default();
        let letters = ["a", "b", "c", "d", "1", "å", "ж"];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Follows each key byte by byte; wherever the search names the few
        // bytes it can go on through, tries every byte there.
        fn check<T: Typos>(typos: &T, keys: &[String]) -> (usize, usize) {
            let (mut named, mut kept) = (0, 0);
            for key in keys {
                let mut state = typos.start();
                for b in key.bytes() {
                    if let Some(few) = typos.only(state) {
                        named += 1;
                        // Named only after an ASCII character, which in
                        // UTF-8 no continuation byte (0x80–0xbf) follows.
                        for c in (0..=255u8).filter(|c| !(0x80..0xc0).contains(c)) {
                            if typos.step(state, c).is_some() {
                                assert!(few.as_slice().contains(&c), "{key:?}: byte {c} goes on but is not named");
                                kept += 1;
                            }
                        }
                    }
                    match typos.step(state, b) {
                        Some(next) => state = next,
                        None => break,
                    }
                }
            }
            (named, kept)
        }
        let (mut named, mut kept) = (0, 0);
        for _ in 0..300 {
            let len = 1 + rng.below(9);
            let query: String = (0..len).map(|_| letters[rng.below(5)]).collect();
            let keys = keys_near(&mut rng, &query, &letters);
            let counts = match fuzzy.matcher(&query, 1 + rng.below(2) as u8) {
                Matcher::One(edits) => check(&*edits, &keys),
                Matcher::Two(edits) => check(&*edits, &keys),
                Matcher::Dfa(_) => panic!("an ASCII query is searched bit-parallel"),
            };
            named += counts.0;
            kept += counts.1;
        }
        // The property was tried in many states, and held where a byte went on.
        assert!(named > 2_000 && kept > 1_000, "named {named}, kept {kept}");
    }

    #[test]
    fn few_bytes_are_kept_ascending_and_distinct_and_at_most_eight() {
        assert_eq!(Few::of([b'c', b'a', b'c', b'b']).map(|f| f.as_slice().to_vec()), Some(b"abc".to_vec()));
        assert_eq!(Few::of([]).map(|f| f.as_slice().len()), Some(0));
        assert_eq!(Few::of(*b"hgfedcba").map(|f| f.as_slice().to_vec()), Some(b"abcdefgh".to_vec()));
        assert!(Few::of(*b"abcdefghi").is_none());
    }

    #[test]
    fn queries_it_cannot_take_go_to_the_dfa() {
        let fuzzy = Fuzzy::default();
        assert!(matches!(fuzzy.matcher("chatgpt", 1), Matcher::One(_)));
        assert!(matches!(fuzzy.matcher("chatgpt", 2), Matcher::Two(_)));
        assert!(matches!(fuzzy.matcher("чатгпт", 1), Matcher::Dfa(_)));
        assert!(matches!(fuzzy.matcher(&"a".repeat(64), 2), Matcher::Dfa(_)));
        // The longest query it takes uses every bit.
        let long = "ab".repeat(31) + "c";
        let edits = Edits::<3>::new(long.as_bytes())
            .map(|e| [distance_of(&e, &long), distance_of(&e, &long[1..]), distance_of(&e, &(long.clone() + "dd"))]);
        assert_eq!(edits, Some([Some(0), Some(1), Some(2)]));
        assert!(Edits::<4>::new(b"chatgpt").is_none());
        // A swap counts as one edit, as in the DFA.
        let edits = Edits::<2>::new(b"chatgpt").map(|e| distance_of(&e, "chtagpt"));
        assert_eq!(edits, Some(Some(1)));
    }
}
