//! Row ids and token hashes: the identifiers every part of Tillit writes.

/// A new row id: a UUID version 7, which begins with the time in
/// milliseconds, so that rows written together sit together in every index
/// keyed by id (a bulk write appends instead of touching random pages). The
/// rest is random; ids are not secrets.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An id as a number when its text is a UUID in canonical form (lowercase,
/// hyphenated, as `new_id` writes it), so that it reads back as the same
/// text; None for any other key or spelling.
pub fn canonical_uuid(id: &str) -> Option<u128> {
    let uuid = uuid::Uuid::try_parse(id).ok()?;
    let mut buf = uuid::Uuid::encode_buffer();
    (uuid.hyphenated().encode_lower(&mut buf) == id).then(|| uuid.as_u128())
}

/// SHA-256 of a presented secret (an API token, a session id, a sign-in
/// state); the only form in which such secrets are stored.
pub fn hash_token(token: &str) -> String {
    crate::json::sha256_hex(token.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_ids_are_version_7_and_sort_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..10_000).map(|_| super::new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).unwrap().get_version_num() == 7));
    }
}
