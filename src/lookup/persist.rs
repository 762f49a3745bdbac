//! The lookup index's base segment on disk, so that a restart loads it in
//! about a second instead of rebuilding it from every revision.
//!
//! The file is a cache, never a source of truth: it records the audit-chain
//! position (sequence number and entry hash) it was built at, and is used
//! only when that event is still in the database with the same hash and the
//! organisations are the same. Whatever happened after that position is
//! applied from the audit chain, as on any other refresh. A file that is
//! short, from another format, or whose SHA-256 trailer does not match is
//! ignored (and rebuilt). Writes go to a temporary file that is synced and
//! then renamed over the old one, so a crash leaves the old file or the new
//! one, never half of one.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::huge::{Filler, HugeSlice};
use super::index::{Packed, Segment, Snapshot, StoredDecision, WideDecision, kind_of};
use crate::approvals::model::Condition;

const MAGIC: &[u8; 8] = b"TILLITLX";
const FORMAT: u32 = 4;
const PACKED_BYTES: usize = 12;
const DECISION_BYTES: usize = 10;
const WIDE_BYTES: usize = 16;
const NO_DATE: i32 = i32::MIN;

/// A base segment read back from its file.
pub struct Saved {
    pub seq: i64,
    pub hash: String,
    pub org_slugs: Vec<String>,
    pub(super) base: Segment,
}

struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn bytes(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    w.write_all(&(b.len() as u64).to_le_bytes())?;
    w.write_all(b)
}

fn date_code(date: Option<NaiveDate>) -> i32 {
    date.map_or(NO_DATE, |d| chrono::Datelike::num_days_from_ce(&d))
}

/// Writes the snapshot's base segment, at the position it was built at.
pub fn save(snapshot: &Snapshot, path: &Path) -> std::io::Result<()> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}-{nanos}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = write_file(snapshot, &tmp).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    // Make the rename itself durable (best effort: not every platform can
    // open a directory).
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn write_file(snapshot: &Snapshot, tmp: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(tmp)?;
    let mut w = Hashing { inner: BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new() };
    let base: &Segment = &snapshot.base;
    w.write_all(MAGIC)?;
    w.write_all(&FORMAT.to_le_bytes())?;
    w.write_all(&snapshot.base_seq.to_le_bytes())?;
    bytes(&mut w, snapshot.base_hash.as_bytes())?;
    w.write_all(&(snapshot.orgs.len() as u64).to_le_bytes())?;
    for org in snapshot.orgs.iter() {
        bytes(&mut w, org.slug.as_bytes())?;
    }
    w.write_all(&(base.packed.len() as u64).to_le_bytes())?;
    for p in &base.packed {
        w.write_all(&p.text.to_le_bytes())?;
        w.write_all(&p.decisions.to_le_bytes())?;
        w.write_all(&p.vendor.to_le_bytes())?;
        w.write_all(&[p.n_decisions, p.bits])?;
    }
    w.write_all(&(base.wide_vendors.len() as u64).to_le_bytes())?;
    for (entry, vendor) in &base.wide_vendors {
        w.write_all(&entry.to_le_bytes())?;
        w.write_all(&vendor.to_le_bytes())?;
    }
    w.write_all(&(base.ids.len() as u64).to_le_bytes())?;
    for id in &base.ids {
        w.write_all(&id.to_le_bytes())?;
    }
    bytes(&mut w, &base.text)?;
    w.write_all(&(base.decisions.len() as u64).to_le_bytes())?;
    for d in &base.decisions {
        for half in [d.org, d.deciding_org, d.decided_on, d.valid_until] {
            w.write_all(&half.to_le_bytes())?;
        }
        w.write_all(&[d.conditions, d.flags])?;
    }
    w.write_all(&(base.wide.len() as u64).to_le_bytes())?;
    for d in &base.wide {
        w.write_all(&d.index.to_le_bytes())?;
        w.write_all(&date_code(Some(d.decided_on)).to_le_bytes())?;
        w.write_all(&date_code(d.valid_until).to_le_bytes())?;
        w.write_all(&d.conditions.to_le_bytes())?;
    }
    w.write_all(&(base.vendors.len() as u64).to_le_bytes())?;
    for v in &base.vendors {
        bytes(&mut w, v.as_bytes())?;
    }
    w.write_all(&(base.conditions.len() as u64).to_le_bytes())?;
    for list in &base.conditions {
        bytes(&mut w, &serde_json::to_vec(&**list).map_err(std::io::Error::other)?)?;
    }
    bytes(&mut w, base.keys.as_fst().as_bytes())?;
    w.write_all(&(base.postings.len() as u64).to_le_bytes())?;
    for p in &base.postings {
        w.write_all(&p.to_le_bytes())?;
    }
    let digest = w.hasher.finalize();
    let mut inner = w.inner;
    inner.write_all(&digest)?;
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// Reads the file section by section (no copy of the whole file in
/// memory), hashing what it reads; the trailer is checked at the end.
struct Reader<R: Read> {
    inner: R,
    hasher: Sha256,
    /// Bytes left before the trailer.
    left: u64,
}

impl<R: Read> Reader<R> {
    fn take(&mut self, n: usize) -> Result<Vec<u8>, String> {
        if n as u64 > self.left {
            return Err("the file is cut short".into());
        }
        let mut out = vec![0u8; n];
        self.inner.read_exact(&mut out).map_err(|e| e.to_string())?;
        self.hasher.update(&out);
        self.left -= n as u64;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(&self.take(N)?);
        Ok(out)
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    /// A count of records of `size` bytes, checked against what is left.
    fn count(&mut self, size: usize) -> Result<usize, String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "a count is out of range")?;
        if n.checked_mul(size).is_none_or(|total| total as u64 > self.left) {
            return Err("a count is larger than the file".into());
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.count(1)?;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, String> {
        String::from_utf8(self.bytes()?).map_err(|_| "a string is not UTF-8".to_string())
    }
    /// `n` records of `SIZE` bytes, read in blocks, each given to `each`.
    fn each_record<const SIZE: usize>(
        &mut self,
        n: usize,
        mut each: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut left = n;
        while left > 0 {
            let batch = left.min(1 << 16);
            let block = self.take(batch * SIZE)?;
            for record in block.chunks_exact(SIZE) {
                each(record)?;
            }
            left -= batch;
        }
        Ok(())
    }
    /// Records of `SIZE` bytes.
    fn records<T, const SIZE: usize>(
        &mut self,
        mut decode: impl FnMut(&[u8]) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let n = self.count(SIZE)?;
        let mut out = Vec::with_capacity(n);
        self.each_record::<SIZE>(n, |record| {
            out.push(decode(record)?);
            Ok(())
        })?;
        Ok(out)
    }
    /// Records of `SIZE` bytes, read straight into a `HugeSlice`.
    fn huge_records<T: bytemuck::Pod, const SIZE: usize>(
        &mut self,
        mut decode: impl FnMut(&[u8]) -> Result<T, String>,
    ) -> Result<HugeSlice<T>, String> {
        let n = self.count(SIZE)?;
        let mut out = Filler::new(n);
        self.each_record::<SIZE>(n, |record| {
            out.push(decode(record)?);
            Ok(())
        })?;
        out.finish().map_err(|e| e.to_string())
    }
    /// A byte string read in blocks straight into a `HugeSlice`.
    fn huge_bytes(&mut self) -> Result<HugeSlice<u8>, String> {
        let n = self.count(1)?;
        let mut out = Filler::new(n);
        let mut left = n;
        while left > 0 {
            let batch = left.min(1 << 20);
            out.extend(&self.take(batch)?);
            left -= batch;
        }
        out.finish().map_err(|e| e.to_string())
    }
    /// The trailer: the SHA-256 of everything before it.
    fn finish(mut self) -> Result<(), String> {
        if self.left != 0 {
            return Err("unexpected bytes at the end".into());
        }
        let mut digest = [0u8; 32];
        self.inner.read_exact(&mut digest).map_err(|_| "the file is cut short")?;
        if self.hasher.finalize().as_slice() != digest {
            return Err("the checksum does not match (a partial or damaged file)".into());
        }
        Ok(())
    }
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn date(code: i32) -> Result<Option<NaiveDate>, String> {
    if code == NO_DATE {
        return Ok(None);
    }
    NaiveDate::from_num_days_from_ce_opt(code).map(Some).ok_or_else(|| "a date is out of range".to_string())
}

/// Reads a saved base segment. `Ok(None)`: there is no file.
pub fn load(path: &Path) -> Result<Option<Saved>, String> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let left = len.checked_sub(32).ok_or("the file is cut short")?;
    let mut r = Reader { inner: BufReader::with_capacity(1 << 20, file), hasher: Sha256::new(), left };
    if r.take(MAGIC.len())? != MAGIC {
        return Err("not a lookup index file".into());
    }
    let format = u32::from_le_bytes(r.array()?);
    if format != FORMAT {
        return Err(format!("format {format}, this version reads {FORMAT}"));
    }
    let seq = i64::from_le_bytes(r.array()?);
    let hash = r.string()?;
    let n = r.count(8)?;
    let org_slugs = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
    let packed = r.huge_records::<_, PACKED_BYTES>(|b| {
        Ok(Packed { text: le32(b), decisions: le32(&b[4..]), vendor: le16(&b[8..]), n_decisions: b[10], bits: b[11] })
    })?;
    let wide_vendors = r.records::<_, 8>(|b| Ok((le32(b), le32(&b[4..]))))?;
    let ids = r.huge_records::<_, 16>(|b| {
        let mut id = [0u8; 16];
        id.copy_from_slice(b);
        Ok(u128::from_le_bytes(id))
    })?;
    if ids.len() != packed.len() {
        return Err("the ids do not match the services".into());
    }
    let text = r.huge_bytes()?;
    let decisions = r.huge_records::<_, DECISION_BYTES>(|b| {
        let flags = b[9];
        kind_of(flags & 0b11).ok_or("an unknown decision")?;
        Ok(StoredDecision {
            org: le16(b),
            deciding_org: le16(&b[2..]),
            decided_on: le16(&b[4..]),
            valid_until: le16(&b[6..]),
            conditions: b[8],
            flags,
        })
    })?;
    let wide = r.records::<_, WIDE_BYTES>(|b| {
        Ok(WideDecision {
            index: le32(b),
            decided_on: date(le32(&b[4..]) as i32)?.ok_or("a decision without a date")?,
            valid_until: date(le32(&b[8..]) as i32)?,
            conditions: le32(&b[12..]),
        })
    })?;
    let n = r.count(8)?;
    let vendors = (0..n).map(|_| r.string().map(String::into_boxed_str)).collect::<Result<Vec<_>, _>>()?;
    let n = r.count(8)?;
    let conditions = (0..n)
        .map(|_| {
            let list: Vec<Condition> = serde_json::from_slice(&r.bytes()?).map_err(|e| e.to_string())?;
            Ok(Arc::from(list))
        })
        .collect::<Result<Vec<Arc<[Condition]>>, String>>()?;
    let keys = r.bytes()?;
    let postings = r.huge_records::<_, 4>(|b| Ok(le32(b)))?;
    r.finish()?;
    // Only now that the checksum holds is the key set trusted.
    let keys = fst::Map::new(keys).map_err(|e| e.to_string())?;
    Ok(Some(Saved {
        seq,
        hash,
        org_slugs,
        base: Segment { packed, ids, wide_vendors, text, decisions, wide, vendors, conditions, keys, postings },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::model::DecisionKind;
    use crate::lookup::index::{DecisionData, OrgInfo, ServiceData};

    fn org(slug: &str) -> OrgInfo {
        OrgInfo {
            slug: slug.into(),
            name: slug.into(),
            function_name: format!("AI-funktionen {slug}"),
            contact: format!("ai@{slug}.example.se"),
        }
    }

    fn services() -> Vec<ServiceData> {
        (0..300)
            .map(|i| ServiceData {
                // UUIDs (kept as 16 bytes) and other ids (kept as text).
                id: if i % 2 == 0 { format!("0190{i:04x}-0000-7000-8000-{i:012x}") } else { format!("{i:08}-id") },
                name: format!("Tjänst {i} Åäö"),
                vendor: format!("Leverantör {}", i % 7),
                aliases: (0..i % 3).map(|a| format!("alias {i} {a}")).collect(),
                domains: vec![format!("t{i}.example.se")],
                published: i % 5 != 0,
                withheld: false,
                decisions: vec![DecisionData {
                    org: if i % 2 == 0 { "kinda".into() } else { "ydre".into() },
                    kind: [DecisionKind::Approved, DecisionKind::ApprovedWithConditions, DecisionKind::Rejected][i % 3],
                    revoked: i % 11 == 0,
                    deciding_org: "itsam".into(),
                    via_delegation: i % 4 == 0,
                    needs_re_review: i % 13 == 0,
                    superseded: false,
                    decided_on: NaiveDate::from_ymd_opt(2026, 1 + (i % 12) as u32, 1).unwrap(),
                    // Year 2200 does not fit a stored decision: it goes to the wide list.
                    valid_until: match i % 4 {
                        0 => Some(NaiveDate::from_ymd_opt(2027, 6, 30).unwrap()),
                        1 if i % 3 == 0 => Some(NaiveDate::from_ymd_opt(2200, 1, 1).unwrap()),
                        _ => None,
                    },
                    conditions: if i % 3 == 1 { r#"[{"type":"no_personal_data"}]"#.into() } else { "[]".into() },
                }],
            })
            .collect()
    }

    #[test]
    fn a_base_whose_arrays_fill_huge_pages_is_saved_and_read_back_into_them() {
        // Enough services for the entries, ids, text and decisions to fill
        // at least one huge page each (2 MB), so that they are mapped.
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let services: Vec<ServiceData> = (0..180_000u32)
            .map(|i| ServiceData {
                id: format!("0190{:04x}-0000-7000-8000-{i:012x}", i >> 16),
                name: format!("Tjänst {i}"),
                vendor: format!("Leverantör {}", i % 7),
                aliases: Vec::new(),
                domains: Vec::new(),
                published: true,
                withheld: false,
                decisions: ["kinda", "ydre"]
                    .iter()
                    .map(|org| DecisionData {
                        org: (*org).into(),
                        kind: DecisionKind::Approved,
                        revoked: false,
                        deciding_org: (*org).into(),
                        via_delegation: false,
                        needs_re_review: i % 13 == 0,
                        superseded: false,
                        decided_on: day,
                        valid_until: None,
                        conditions: "[]".into(),
                    })
                    .collect(),
            })
            .collect();
        let snapshot = Snapshot::build(7, "def456", vec![org("kinda"), org("ydre")], services);
        let a = &*snapshot.base;
        assert!(a.packed.is_mapped() && a.ids.is_mapped() && a.text.is_mapped() && a.decisions.is_mapped());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.lookup");
        save(&snapshot, &path).unwrap();
        let saved = load(&path).unwrap().unwrap();
        let b = &saved.base;
        assert!(b.packed.is_mapped() && b.ids.is_mapped() && b.text.is_mapped() && b.decisions.is_mapped());
        assert_eq!(a.packed, b.packed);
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.text, b.text);
        assert_eq!(a.decisions, b.decisions);
        assert_eq!(a.postings, b.postings);
        assert_eq!(a.keys.as_fst().as_bytes(), b.keys.as_fst().as_bytes());
        // And a lookup in the loaded base finds what it finds in the built one.
        let loaded = Snapshot::from_base(saved.seq, &saved.hash, vec![org("kinda"), org("ydre")], saved.base);
        let fuzzy = crate::lookup::index::Fuzzy::default();
        for query in ["Tjänst 123456", "tjanst 17999", "Tjänst 1234x6"] {
            let names = |s: &Snapshot| -> Vec<String> {
                s.search(query, s.org_index("kinda"), false, 10, day, &fuzzy)
                    .iter()
                    .map(|h| h.entry.name().to_string())
                    .collect()
            };
            assert_eq!(names(&snapshot), names(&loaded), "{query}");
            assert!(!names(&loaded).is_empty(), "{query}");
        }
    }

    #[test]
    fn a_saved_base_reads_back_identical_and_damage_is_refused() {
        let orgs = vec![org("itsam"), org("kinda"), org("ydre")];
        let snapshot = Snapshot::build(42, "abc123", orgs, services());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lookup");
        save(&snapshot, &path).unwrap();
        let saved = load(&path).unwrap().unwrap();
        assert_eq!((saved.seq, saved.hash.as_str()), (42, "abc123"));
        assert_eq!(saved.org_slugs, ["itsam", "kinda", "ydre"]);
        let (a, b) = (&*snapshot.base, &saved.base);
        assert_eq!(a.packed, b.packed);
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.text, b.text);
        assert_eq!(a.decisions, b.decisions);
        assert_eq!(a.wide, b.wide);
        assert!(!a.wide.is_empty() && a.packed.iter().any(|p| p.text_id()) && a.packed.iter().any(|p| !p.text_id()));
        assert_eq!(a.vendors, b.vendors);
        assert_eq!(a.postings, b.postings);
        assert_eq!(a.keys.as_fst().as_bytes(), b.keys.as_fst().as_bytes());
        assert_eq!(
            a.conditions.iter().map(|c| c.to_vec()).collect::<Vec<_>>(),
            b.conditions.iter().map(|c| c.to_vec()).collect::<Vec<_>>()
        );
        // Every single-byte change anywhere is caught by the checksum.
        let bytes = std::fs::read(&path).unwrap();
        for at in [0, 9, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 1;
            std::fs::write(&path, &damaged).unwrap();
            assert!(load(&path).is_err(), "byte {at}");
        }
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(load(&path).is_err());
        std::fs::write(&path, b"").unwrap();
        assert!(load(&path).is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(load(&path).unwrap().is_none());
    }
}
