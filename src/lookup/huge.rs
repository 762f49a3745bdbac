//! The lookup index's large arrays, kept in memory that the kernel is asked
//! to back with transparent huge pages (2 MB pages instead of 4 KB ones).
//!
//! A lookup at 1M services reads a few hundred places scattered over the
//! index's arrays: for each candidate its entry, its text, its decisions
//! and its id. With 4 KB pages nearly every one of those reads also misses
//! the TLB, and in a virtual machine a TLB miss walks two page tables. The
//! base segment is built once and then only read, so its arrays are copied
//! into anonymous mappings advised `MADV_HUGEPAGE`, which the kernel honours
//! whether its THP setting is `always` or `madvise` (the default). The
//! allocator is built without transparent huge pages (a re-evaluation
//! frees and takes memory all the time; see `Cargo.toml`), so this is the
//! only memory that asks for them. Arrays under 2 MB, and any that cannot
//! be mapped, stay on the heap.

use std::marker::PhantomData;
use std::ops::Deref;

use bytemuck::Pod;

/// The size of a huge page on x86-64 and of the mappings' granule.
const HUGE_PAGE: usize = 2 << 20;

/// A read-only array, on the heap or in a mapping backed by huge pages.
pub enum HugeSlice<T> {
    Heap(Vec<T>),
    Mapped { map: memmap2::Mmap, len: usize, item: PhantomData<T> },
}

impl<T: Pod> HugeSlice<T> {
    /// The items, moved to a huge-page mapping when they fill at least one
    /// huge page (else, or if the mapping cannot be made, kept as they are).
    pub fn new(mut items: Vec<T>) -> Self {
        let Some(mut filler) = Filler::mapped(items.len()) else {
            items.shrink_to_fit();
            return HugeSlice::Heap(items);
        };
        filler.extend(&items);
        match filler.finish() {
            Ok(mapped) => mapped,
            Err(e) => {
                log::warn!("lookup index: an array kept in ordinary pages ({e})");
                HugeSlice::Heap(items)
            }
        }
    }

    /// Whether the items are in a huge-page mapping.
    pub fn is_mapped(&self) -> bool {
        matches!(self, HugeSlice::Mapped { .. })
    }

    /// Bytes of items in a huge-page mapping (0 on the heap).
    pub fn mapped_bytes(&self) -> usize {
        if self.is_mapped() { std::mem::size_of_val::<[T]>(self) } else { 0 }
    }
}

/// An anonymous mapping of at least `len` bytes (rounded up to whole huge
/// pages, so that the kernel places it on a huge-page boundary), advised
/// before its pages are first touched.
fn anon_huge(len: usize) -> std::io::Result<memmap2::MmapMut> {
    let map = memmap2::MmapMut::map_anon(len.div_ceil(HUGE_PAGE) * HUGE_PAGE)?;
    #[cfg(target_os = "linux")]
    if let Err(e) = map.advise(memmap2::Advice::HugePage) {
        // Transparent huge pages are off (`never`) or not built in: still a
        // working mapping, in ordinary pages.
        log::debug!("lookup index: no transparent huge pages ({e})");
    }
    Ok(map)
}

/// A `HugeSlice` of a known length written item by item, straight into its
/// mapping when it fills a huge page: loading a saved index makes no copy
/// on the heap first (memory the allocator would keep after it is freed).
pub struct Filler<T> {
    target: Target<T>,
    at: usize,
    len: usize,
}

enum Target<T> {
    Heap(Vec<T>),
    Mapped(memmap2::MmapMut),
}

impl<T: Pod> Filler<T> {
    /// Into a huge-page mapping when `len` items fill at least one huge
    /// page, else on the heap.
    pub fn new(len: usize) -> Self {
        Filler::mapped(len).unwrap_or_else(|| Filler { target: Target::Heap(Vec::with_capacity(len)), at: 0, len })
    }

    /// Into a huge-page mapping; None when `len` items fill less than one
    /// huge page or the mapping cannot be made.
    fn mapped(len: usize) -> Option<Self> {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        if bytes < HUGE_PAGE {
            return None;
        }
        match anon_huge(bytes) {
            Ok(map) => Some(Filler { target: Target::Mapped(map), at: 0, len }),
            Err(e) => {
                log::warn!("lookup index: {} MB kept in ordinary pages ({e})", bytes >> 20);
                None
            }
        }
    }

    /// Adds the next items; false (adding none) when they would pass the length.
    pub fn extend(&mut self, items: &[T]) -> bool {
        let end = self.at + items.len();
        if end > self.len {
            return false;
        }
        match &mut self.target {
            Target::Heap(out) => out.extend_from_slice(items),
            Target::Mapped(map) => {
                let size = std::mem::size_of::<T>();
                let Some(slots) = map.get_mut(self.at * size..end * size) else { return false };
                slots.copy_from_slice(bytemuck::cast_slice(items));
            }
        }
        self.at = end;
        true
    }

    /// Adds the next items given as their bytes (whole items, in native
    /// byte order, at any alignment); false (adding none) when they are not
    /// whole items or would pass the length.
    pub fn extend_bytes(&mut self, bytes: &[u8]) -> bool {
        let size = std::mem::size_of::<T>();
        if size == 0 || bytes.len() % size != 0 || self.at + bytes.len() / size > self.len {
            return false;
        }
        let end = self.at + bytes.len() / size;
        match &mut self.target {
            Target::Heap(out) => out.extend(bytes.chunks_exact(size).map(bytemuck::pod_read_unaligned::<T>)),
            Target::Mapped(map) => {
                let Some(slots) = map.get_mut(self.at * size..end * size) else { return false };
                slots.copy_from_slice(bytes);
            }
        }
        self.at = end;
        true
    }

    /// Adds the next item; false when the length is reached.
    pub fn push(&mut self, item: T) -> bool {
        self.extend(std::slice::from_ref(&item))
    }

    /// The items, once all `len` of them have been added.
    pub fn finish(self) -> std::io::Result<HugeSlice<T>> {
        if self.at != self.len {
            return Err(std::io::Error::other(format!("{} of {} items written", self.at, self.len)));
        }
        match self.target {
            Target::Heap(items) => Ok(HugeSlice::Heap(items)),
            Target::Mapped(map) => {
                let map = map.make_read_only()?;
                let bytes = self.len * std::mem::size_of::<T>();
                if map.get(..bytes).is_some_and(|b| bytemuck::try_cast_slice::<u8, T>(b).is_ok()) {
                    Ok(HugeSlice::Mapped { map, len: self.len, item: PhantomData })
                } else {
                    Err(std::io::Error::other("a mapping that does not hold its items"))
                }
            }
        }
    }
}

impl<T: Pod> Deref for HugeSlice<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            HugeSlice::Heap(items) => items,
            HugeSlice::Mapped { map, len, .. } => {
                let bytes = map.get(..len * std::mem::size_of::<T>()).unwrap_or_default();
                bytemuck::try_cast_slice(bytes).unwrap_or_default()
            }
        }
    }
}

impl<'a, T: Pod> IntoIterator for &'a HugeSlice<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Equal when the items are, wherever they are kept.
impl<T: Pod + PartialEq> PartialEq for HugeSlice<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Pod + std::fmt::Debug> std::fmt::Debug for HugeSlice<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Pod> AsRef<[T]> for HugeSlice<T> {
    fn as_ref(&self) -> &[T] {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Item {
        a: u32,
        b: u16,
        c: u8,
        d: u8,
    }

    #[test]
    fn arrays_read_back_the_same_whether_mapped_or_not() {
        let small: Vec<u32> = (0..1000).collect();
        let kept = HugeSlice::new(small.clone());
        assert!(!kept.is_mapped());
        assert_eq!(kept.mapped_bytes(), 0);
        assert_eq!(&*kept, &small[..]);

        // Three huge pages and a bit, of 8-byte items.
        let n = 3 * HUGE_PAGE / 8 + 5;
        let items: Vec<Item> =
            (0..n as u32).map(|i| Item { a: i, b: (i % 65_521) as u16, c: (i % 251) as u8, d: 7 }).collect();
        let mapped = HugeSlice::new(items.clone());
        assert!(mapped.is_mapped(), "an array of several huge pages is mapped");
        assert_eq!(mapped, HugeSlice::Heap(items.clone()), "equal to the same items on the heap");
        assert_eq!(mapped.len(), n);
        assert_eq!(mapped.mapped_bytes(), n * 8);
        assert_eq!(&*mapped, &items[..]);
        assert_eq!(mapped.get(n - 1), items.last());
        assert_eq!(mapped.get(n), None);

        let wide: Vec<u128> = (0..(HUGE_PAGE / 16 + 1) as u128).map(|i| i << 64 | i).collect();
        let mapped = HugeSlice::new(wide.clone());
        assert!(mapped.is_mapped());
        assert_eq!(&*mapped, &wide[..]);

        // Written item by item, or in runs, straight into the mapping.
        let mut filler = Filler::new(n);
        assert!(filler.push(items[0]));
        assert!(filler.extend(&items[1..n / 2]));
        for item in &items[n / 2..] {
            assert!(filler.push(*item));
        }
        assert!(!filler.push(items[0]), "no more than its length");
        let filled = filler.finish().expect("filled");
        assert!(filled.is_mapped());
        assert_eq!(&*filled, &items[..]);
        let mut small = Filler::new(3);
        assert!(small.extend(&[1u16, 2, 3]));
        assert!(!small.extend(&[4u16]));
        assert_eq!(&*small.finish().expect("filled"), &[1u16, 2, 3]);
        let mut short = Filler::<u32>::new(n);
        assert!(short.push(1));
        assert!(short.finish().is_err(), "a filler not filled is an error");

        let empty: HugeSlice<u8> = HugeSlice::new(Vec::new());
        assert!(empty.is_empty());
    }
}
