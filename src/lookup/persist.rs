//! The lookup index's base segment on disk, so that a restart loads it in
//! about a second instead of rebuilding it from every revision.
//!
//! The file is a cache, never a source of truth: it records the audit-chain
//! position (sequence number and entry hash) it was built at, and is used
//! only when that event is still in the database with the same hash and the
//! organisations are the same. Whatever happened after that position is
//! applied from the audit chain, as on any other refresh.
//!
//! The file is two `postcard` documents, a head and a body, followed by the
//! SHA-256 of both. The large arrays are written as blocks of their bytes, in
//! the machine's byte order (the head says which), and read block by block
//! straight into their huge-page mappings: a load needs one block of buffer,
//! not a copy of the file. A file that is short, from another format or byte
//! order, or whose checksum does not match is ignored (and rebuilt); the
//! checksum is checked before anything is decoded. Writes go to a temporary
//! file that is synced and then renamed over the old one, so a crash leaves
//! the old file or the new one, never half of one.

use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytemuck::Pod;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::huge::{Filler, HugeSlice};
use super::index::{Packed, Segment, Snapshot, StoredDecision, WideDecision, kind_of};
use crate::approvals::model::Condition;

const MAGIC: [u8; 8] = *b"TILLITLX";
const FORMAT: u32 = 5;
/// Bytes per block of a large array.
const BLOCK: usize = 1 << 16;
/// The decoding buffer: one block, or the longest string (a vendor's name,
/// a list of conditions); a file that needs more is refused and rebuilt.
const SCRATCH: usize = 1 << 20;
const TRAILER: u64 = 32;

/// A base segment read back from its file.
pub struct Saved {
    pub seq: i64,
    pub hash: String,
    pub org_slugs: Vec<String>,
    pub(super) base: Segment,
}

/// What a reader checks before it reads the body.
#[derive(Serialize, Deserialize)]
struct Head {
    magic: [u8; 8],
    format: u32,
    little_endian: bool,
    seq: i64,
    hash: String,
    org_slugs: Vec<String>,
}

/// The segment as written; `BodyIn` reads it back, field for field.
#[derive(Serialize)]
struct BodyOut<'a> {
    packed: Blocks<'a, Packed>,
    ids: Blocks<'a, u128>,
    wide_vendors: &'a [(u32, u32)],
    text: Blocks<'a, u8>,
    decisions: Blocks<'a, StoredDecision>,
    wide: &'a [WideDecision],
    vendors: &'a [Box<str>],
    /// Each list as JSON (its serde form is tagged, which `postcard` cannot read).
    conditions: Vec<String>,
    keys: Blocks<'a, u8>,
    postings: Blocks<'a, u32>,
}

#[derive(Deserialize)]
struct BodyIn {
    packed: Huge<Packed>,
    ids: Huge<u128>,
    wide_vendors: Vec<(u32, u32)>,
    text: Huge<u8>,
    decisions: Huge<StoredDecision>,
    wide: Vec<WideDecision>,
    vendors: Vec<Box<str>>,
    conditions: Vec<String>,
    keys: Bytes,
    postings: Huge<u32>,
}

/// An array written as its length and then blocks of its bytes.
struct Blocks<'a, T>(&'a [T]);

impl<T: Pod> Serialize for Blocks<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let size = std::mem::size_of::<T>();
        // Whole items per block, so that each block is read as items.
        let per_block = (BLOCK / size).max(1) * size;
        let blocks: Vec<Block> = bytemuck::cast_slice::<T, u8>(self.0).chunks(per_block).map(Block).collect();
        let mut tuple = serializer.serialize_tuple(2)?;
        tuple.serialize_element(&(self.0.len() as u64))?;
        tuple.serialize_element(&blocks)?;
        tuple.end()
    }
}

struct Block<'a>(&'a [u8]);

impl Serialize for Block<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Where a `Blocks` array is read to.
trait Sink: Sized {
    type Out;
    const ITEM: usize;
    fn with_len(len: usize) -> Self;
    fn extend(&mut self, bytes: &[u8]) -> bool;
    fn finish(self) -> Result<Self::Out, String>;
}

impl<T: Pod> Sink for Filler<T> {
    type Out = HugeSlice<T>;
    const ITEM: usize = std::mem::size_of::<T>();
    fn with_len(len: usize) -> Self {
        Filler::new(len)
    }
    fn extend(&mut self, bytes: &[u8]) -> bool {
        self.extend_bytes(bytes)
    }
    fn finish(self) -> Result<HugeSlice<T>, String> {
        Filler::finish(self).map_err(|e| e.to_string())
    }
}

/// The key set's bytes, kept on the heap (as `fst` built them).
struct Bytes(Vec<u8>);

struct BytesSink {
    out: Vec<u8>,
    len: usize,
}

impl Sink for BytesSink {
    type Out = Bytes;
    const ITEM: usize = 1;
    fn with_len(len: usize) -> Self {
        BytesSink { out: Vec::with_capacity(len), len }
    }
    fn extend(&mut self, bytes: &[u8]) -> bool {
        let fits = self.out.len() + bytes.len() <= self.len;
        if fits {
            self.out.extend_from_slice(bytes);
        }
        fits
    }
    fn finish(self) -> Result<Bytes, String> {
        if self.out.len() == self.len { Ok(Bytes(self.out)) } else { Err("an array is cut short".into()) }
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(2, Items::<BytesSink>(PhantomData))
    }
}

struct Huge<T: Pod>(HugeSlice<T>);

impl<'de, T: Pod> Deserialize<'de> for Huge<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(2, Items::<Filler<T>>(PhantomData)).map(Huge)
    }
}

/// The largest array a file may announce, in bytes: a count past it is
/// damage, and must not become an allocation.
const MAX_ARRAY: u64 = 1 << 36;

/// Reads the length, makes the sink, and fills it block by block.
struct Items<S>(PhantomData<S>);

impl<'de, S: Sink> Visitor<'de> for Items<S> {
    type Value = S::Out;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array's length and its blocks")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<S::Out, A::Error> {
        let len: u64 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        if len.saturating_mul(S::ITEM as u64) > MAX_ARRAY {
            return Err(de::Error::custom("an array is larger than any index"));
        }
        let mut sink = S::with_len(usize::try_from(len).map_err(de::Error::custom)?);
        seq.next_element_seed(BlocksSeed(&mut sink))?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        sink.finish().map_err(de::Error::custom)
    }
}

struct BlocksSeed<'s, S>(&'s mut S);

impl<'de, S: Sink> DeserializeSeed<'de> for BlocksSeed<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for BlocksSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("blocks of an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(BlockSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

struct BlockSeed<'s, S>(&'s mut S);

impl<'de, S: Sink> DeserializeSeed<'de> for BlockSeed<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        // A byte buffer, not borrowed bytes: `postcard` reuses its buffer
        // for each block instead of keeping them all.
        deserializer.deserialize_byte_buf(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for BlockSeed<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a block of an array")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<(), E> {
        if self.0.extend(bytes) { Ok(()) } else { Err(E::custom("a block does not fit its array")) }
    }
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
    let base: &Segment = &snapshot.base;
    let head = Head {
        magic: MAGIC,
        format: FORMAT,
        little_endian: cfg!(target_endian = "little"),
        seq: snapshot.base_seq,
        hash: snapshot.base_hash.to_string(),
        org_slugs: snapshot.orgs.iter().map(|org| org.slug.to_string()).collect(),
    };
    let conditions =
        base.conditions.iter().map(|list| serde_json::to_string(&**list)).collect::<Result<Vec<_>, _>>()?;
    let body = BodyOut {
        packed: Blocks(&base.packed),
        ids: Blocks(&base.ids),
        wide_vendors: &base.wide_vendors,
        text: Blocks(&base.text),
        decisions: Blocks(&base.decisions),
        wide: &base.wide,
        vendors: &base.vendors,
        conditions,
        keys: Blocks(base.keys.as_fst().as_bytes()),
        postings: Blocks(&base.postings),
    };
    let file = std::fs::File::create(tmp)?;
    let mut w = Hashing { inner: BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new() };
    postcard::to_io(&head, &mut w).map_err(std::io::Error::other)?;
    postcard::to_io(&body, &mut w).map_err(std::io::Error::other)?;
    let digest = w.hasher.finalize();
    let mut inner = w.inner;
    inner.write_all(&digest)?;
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// Whether the file's last 32 bytes are the SHA-256 of the rest.
fn checksum_holds(file: &mut std::fs::File, body_len: u64) -> Result<bool, String> {
    let mut hasher = Sha256::new();
    let mut reader = BufReader::with_capacity(1 << 20, Read::by_ref(file).take(body_len));
    loop {
        let block = reader.fill_buf().map_err(|e| e.to_string())?;
        if block.is_empty() {
            break;
        }
        hasher.update(block);
        let n = block.len();
        reader.consume(n);
    }
    let mut digest = [0u8; TRAILER as usize];
    file.read_exact(&mut digest).map_err(|_| "the file is cut short")?;
    Ok(hasher.finalize().as_slice() == digest)
}

/// Reads a saved base segment. `Ok(None)`: there is no file.
pub fn load(path: &Path) -> Result<Option<Saved>, String> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let body_len = len.checked_sub(TRAILER).ok_or("the file is cut short")?;
    if !checksum_holds(&mut file, body_len)? {
        return Err("the checksum does not match (a partial or damaged file)".into());
    }
    file.rewind().map_err(|e| e.to_string())?;
    let reader = BufReader::with_capacity(1 << 20, file.take(body_len));
    let mut scratch = vec![0u8; SCRATCH];
    let (head, (reader, scratch)) =
        postcard::from_io::<Head, _>((reader, &mut scratch)).map_err(|e| format!("not a lookup index file ({e})"))?;
    if head.magic != MAGIC {
        return Err("not a lookup index file".into());
    }
    if head.format != FORMAT {
        return Err(format!("format {}, this version reads {FORMAT}", head.format));
    }
    if head.little_endian != cfg!(target_endian = "little") {
        return Err("written on a machine of the other byte order".into());
    }
    let (body, (reader, _)) =
        postcard::from_io::<BodyIn, _>((reader, scratch)).map_err(|e| format!("the body cannot be read ({e})"))?;
    if !reader.buffer().is_empty() || reader.into_inner().limit() != 0 {
        return Err("unexpected bytes at the end".into());
    }
    let BodyIn { packed, ids, wide_vendors, text, decisions, wide, vendors, conditions, keys, postings } = body;
    if ids.0.len() != packed.0.len() {
        return Err("the ids do not match the services".into());
    }
    if decisions.0.iter().any(|d| kind_of(d.flags & 0b11).is_none()) {
        return Err("an unknown decision".into());
    }
    let conditions = conditions
        .iter()
        .map(|json| serde_json::from_str::<Vec<Condition>>(json).map(Arc::from).map_err(|e| e.to_string()))
        .collect::<Result<Vec<Arc<[Condition]>>, String>>()?;
    let keys = fst::Map::new(keys.0).map_err(|e| e.to_string())?;
    Ok(Some(Saved {
        seq: head.seq,
        hash: head.hash,
        org_slugs: head.org_slugs,
        base: Segment {
            packed: packed.0,
            ids: ids.0,
            wide_vendors,
            text: text.0,
            decisions: decisions.0,
            wide,
            vendors,
            conditions,
            keys,
            postings: postings.0,
        },
    }))
}

#[cfg(test)]
mod tests;
