//! JSON at the boundary: a strict parser (duplicate keys are an error, not
//! "last one wins"), a canonical form for digests, and SHA-256 helpers.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// Parses one JSON value from bytes. Invalid UTF-8, trailing data, nesting
/// deeper than serde_json's limit (128) and duplicate object keys are errors.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Parses a JSON object keeping only the top-level fields named in `wanted`
/// (each parsed strictly, as `parse_strict` would); every other field is
/// checked for well-formedness and skipped without being built. For a
/// re-evaluation that only needs what a changed rule reads.
pub fn parse_fields(bytes: &[u8], wanted: &[&str]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = de::Deserializer::deserialize_map(&mut de, Fields { wanted })?;
    de.end()?;
    Ok(value)
}

/// Where each top-level field's value lies in a JSON object's bytes, as
/// `key:start:end,…` (byte offsets, in document order), for
/// `parse_fields_at`. None when the bytes are not one JSON object or a key
/// is not plain ASCII letters, digits and underscores written without
/// escapes (the submission schema's keys all are).
pub fn field_offsets(bytes: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let members = de::Deserializer::deserialize_map(&mut de, Members).ok()?;
    de.end().ok()?;
    let base = bytes.as_ptr().addr();
    let mut out = String::with_capacity(members.len() * 24);
    for (key, value) in members {
        if !matches!(key, std::borrow::Cow::Borrowed(_)) || !is_plain_key(&key) {
            return None;
        }
        let start = value.get().as_ptr().addr().checked_sub(base)?;
        let end = start + value.get().len();
        out.push_str(&format!("{key}:{start}:{end},"));
    }
    out.pop();
    Some(out)
}

/// A key `field_offsets` records: ASCII letters, digits and underscores.
fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `parse_fields` through the offsets `field_offsets` made of the same
/// bytes: only the wanted fields' values are read, wherever they are, and
/// the rest is not looked at (it was checked when the offsets were made).
/// None when the offsets do not fit the bytes (a value's range out of
/// bounds, not preceded by its key, or not one JSON value), so that the
/// caller can fall back to `parse_fields`: a check against offsets of other
/// bytes, not a proof (the offsets are derived data, like any column
/// copied from a document).
pub fn parse_fields_at(bytes: &[u8], offsets: &str, wanted: &[&str]) -> Option<Value> {
    // Each wanted field's entry, found by its key rather than by reading
    // every entry, kept in the order of the offsets (the document's).
    let mut found: Vec<(usize, &str, usize, usize)> = Vec::with_capacity(wanted.len());
    for key in wanted {
        if let Some((at, start, end)) = offsets_of(offsets, key)? {
            found.push((at, key, start, end));
        }
    }
    found.sort_unstable_by_key(|(at, ..)| *at);
    let mut object = Map::new();
    for (_, key, start, end) in found {
        let value = bytes.get(start..end)?;
        if !preceded_by_key(&bytes[..start], key) {
            return None;
        }
        let value = parse_strict(value).ok()?;
        if object.insert(key.to_string(), value).is_some() {
            return None;
        }
    }
    Some(Value::Object(object))
}

/// The entry of `key` in offsets (`key:start:end,…`): where it is in the
/// text, and its start and end. Some(None) when there is none; None when
/// there are two or it does not read. Public for `bench/encodings.rs`.
pub fn offsets_of(offsets: &str, key: &str) -> Option<Option<(usize, usize, usize)>> {
    // Offsets are only made of documents whose keys are all plain.
    if !is_plain_key(key) {
        return Some(None);
    }
    let text = offsets.as_bytes();
    let mut found = None;
    let mut from = 0;
    while let Some(i) = offsets.get(from..).and_then(|rest| rest.find(key)) {
        let at = from + i;
        from = at + 1;
        let after = at + key.len();
        let whole_key = (at == 0 || text[at - 1] == b',') && text.get(after) == Some(&b':');
        if !whole_key {
            continue;
        }
        if found.is_some() {
            return None;
        }
        let entry = offsets.get(after + 1..)?;
        let entry = entry.split_once(',').map_or(entry, |(entry, _)| entry);
        let (start, end) = entry.split_once(':')?;
        found = Some((at, start.parse().ok()?, end.parse().ok()?));
    }
    Some(found)
}

/// Whether `before` ends with `"key"`, a colon and optional whitespace.
fn preceded_by_key(before: &[u8], key: &str) -> bool {
    before
        .trim_ascii_end()
        .strip_suffix(b":")
        .map(<[u8]>::trim_ascii_end)
        .and_then(|rest| rest.strip_suffix(b"\""))
        .and_then(|rest| rest.strip_suffix(key.as_bytes()))
        .is_some_and(|rest| rest.ends_with(b"\""))
}

/// The members of a JSON object, each value as its raw text.
struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = Vec<(std::borrow::Cow<'de, str>, &'de serde_json::value::RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(16);
        while let Some(key) = map.next_key_seed(Key)? {
            members.push((key, map.next_value()?));
        }
        Ok(members)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v))
    }
}

struct Fields<'w> {
    wanted: &'w [&'w str],
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            if !self.wanted.contains(&key.as_ref()) {
                map.next_value::<de::IgnoredAny>()?;
                continue;
            }
            insert_unique(&mut object, key.into_owned(), &mut map)?;
        }
        Ok(Value::Object(object))
    }
}

/// Parses the next value strictly into `object` under `key`; a key seen
/// before in the same object is an error. One search of the map per key:
/// the vacant entry is filled in place.
fn insert_unique<'de, A: MapAccess<'de>>(
    object: &mut Map<String, Value>,
    key: String,
    map: &mut A,
) -> Result<(), A::Error> {
    match object.entry(key) {
        serde_json::map::Entry::Occupied(taken) => {
            let shown: String = taken.key().chars().take(64).collect();
            Err(de::Error::custom(format_args!("duplicate key {shown:?}")))
        }
        serde_json::map::Entry::Vacant(slot) => {
            slot.insert(map.next_value_seed(StrictValue)?);
            Ok(())
        }
    }
}

#[derive(Clone, Copy)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            insert_unique(&mut object, key, &mut map)?;
        }
        Ok(Value::Object(object))
    }
}

/// Canonical JSON, RFC 8785 (JSON Canonicalization Scheme), by
/// `serde_json_canonicalizer`: object keys sorted by UTF-16 code units, no
/// insignificant whitespace, minimal string escaping, numbers as ECMAScript
/// writes them.
pub fn canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_canonical(value, &mut out);
    out
}

/// `canonical`, appended to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    // A `Value` holds no NaN or infinity, the only values RFC 8785 refuses.
    if let Err(e) = serde_json_canonicalizer::to_writer(value, out) {
        log::error!("canonical JSON: {e}");
    }
}

/// The escape of each byte in a JSON string: 0 copies it as is, `u` means
/// `\u00XX`, anything else is the letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// A string as RFC 8785 writes it, appended to `out`: for the records that
/// are written directly, field by field, on the re-evaluation's hot path
/// (a test holds it byte for byte to the crate's output).
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        // Everything else, multi-byte UTF-8 included, is copied as is, in runs.
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Lowercase hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of the canonical form of a value.
pub fn canonical_sha256(value: &Value) -> String {
    sha256_hex(&canonical(value))
}

/// Characters refused anywhere in submitted text: C0 controls other than
/// tab, line feed and carriage return, DEL, C1 controls, and the Unicode
/// bidirectional embedding, override and isolate controls (which can make
/// text display differently from what is stored).
pub fn is_forbidden_char(c: char) -> bool {
    matches!(c, '\u{00}'..='\u{08}' | '\u{0b}' | '\u{0c}' | '\u{0e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether UTF-8 text holds a forbidden character, scanning bytes: every
/// forbidden character starts with a byte below 0x20, 0x7f, 0xc2 (C1
/// controls) or 0xe2 (the bidi controls), so plain text is one pass.
fn has_forbidden(s: &str) -> bool {
    let bytes = s.as_bytes();
    // Branch-free first pass (vectorises); the exact check runs only on text
    // that holds one of the lead bytes.
    let suspicious = bytes.iter().fold(false, |acc, &b| acc | (b < 0x20) | (b == 0x7f) | (b == 0xc2) | (b == 0xe2));
    suspicious && s.chars().any(is_forbidden_char)
}

fn any_forbidden(value: &Value) -> bool {
    match value {
        Value::String(s) => has_forbidden(s),
        Value::Array(items) => items.iter().any(any_forbidden),
        Value::Object(map) => map.iter().any(|(k, v)| has_forbidden(k) || any_forbidden(v)),
        _ => false,
    }
}

/// Pointers of every string (value or key) that holds a forbidden character.
/// Clean documents (nearly all) cost one allocation-free scan.
pub fn forbidden_text_pointers(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if any_forbidden(value) {
        walk_text(value, &mut String::new(), &mut found);
    }
    found
}

fn walk_text(value: &Value, path: &mut String, found: &mut Vec<String>) {
    match value {
        Value::String(s) if has_forbidden(s) => found.push(path.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                walk_text(item, path, found);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                path.push('/');
                path.push_str(&escape_pointer_token(key));
                if has_forbidden(key) {
                    found.push(path.clone());
                } else {
                    walk_text(item, path, found);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Escapes one JSON-pointer reference token (RFC 6901).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
