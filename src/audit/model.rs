//! Audit events: one per change, chained by SHA-256. Events hold identifiers
//! and digests only, never personal data in clear text.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::json;

/// What happened. The strings are stable: they are part of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    OrganisationCreated,
    PersonCreated,
    PersonDeactivated,
    RoleGranted,
    RoleRevoked,
    TokenIssued,
    TokenRevoked,
    ServiceCreated,
    RevisionCreated,
    RevisionSubmitted,
    RevisionReevaluated,
    DelegationCreated,
    DelegationRevoked,
    DecisionRecorded,
    DecisionRevoked,
    RuleSetRegistered,
    PasswordSet,
    IdentityLinked,
    CredentialsRecorded,
    InventoryImported,
}

impl AuditAction {
    pub const ALL: [AuditAction; 20] = [
        AuditAction::OrganisationCreated,
        AuditAction::PersonCreated,
        AuditAction::PersonDeactivated,
        AuditAction::RoleGranted,
        AuditAction::RoleRevoked,
        AuditAction::TokenIssued,
        AuditAction::TokenRevoked,
        AuditAction::ServiceCreated,
        AuditAction::RevisionCreated,
        AuditAction::RevisionSubmitted,
        AuditAction::RevisionReevaluated,
        AuditAction::DelegationCreated,
        AuditAction::DelegationRevoked,
        AuditAction::DecisionRecorded,
        AuditAction::DecisionRevoked,
        AuditAction::RuleSetRegistered,
        AuditAction::PasswordSet,
        AuditAction::IdentityLinked,
        AuditAction::CredentialsRecorded,
        AuditAction::InventoryImported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::OrganisationCreated => "organisation.created",
            AuditAction::PersonCreated => "person.created",
            AuditAction::PersonDeactivated => "person.deactivated",
            AuditAction::RoleGranted => "role.granted",
            AuditAction::RoleRevoked => "role.revoked",
            AuditAction::TokenIssued => "token.issued",
            AuditAction::TokenRevoked => "token.revoked",
            AuditAction::ServiceCreated => "service.created",
            AuditAction::RevisionCreated => "revision.created",
            AuditAction::RevisionSubmitted => "revision.submitted",
            AuditAction::RevisionReevaluated => "revision.reevaluated",
            AuditAction::DelegationCreated => "delegation.created",
            AuditAction::DelegationRevoked => "delegation.revoked",
            AuditAction::DecisionRecorded => "decision.recorded",
            AuditAction::DecisionRevoked => "decision.revoked",
            AuditAction::RuleSetRegistered => "rule_set.registered",
            AuditAction::PasswordSet => "password.set",
            AuditAction::IdentityLinked => "identity.linked",
            AuditAction::CredentialsRecorded => "credentials.recorded",
            AuditAction::InventoryImported => "inventory.imported",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One business row touched by an event, with the digest of its state after
/// the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subject {
    /// The table.
    pub t: String,
    /// The row's primary key.
    pub id: String,
    /// SHA-256 of the row's canonical record (see `row_digest`).
    pub d: String,
}

/// A business row whose every change is recorded in the audit log.
pub trait Audited: Serialize {
    const TABLE: &'static str;
    fn audit_id(&self) -> String;

    /// The row's canonical record (`json::canonical` of its serialised
    /// form), appended to `out`. A row written in bulk may write it directly,
    /// byte for byte the same.
    fn write_record(&self, out: &mut Vec<u8>) {
        let record = serde_json::to_value(self).unwrap_or(Value::Null);
        json::write_canonical(&record, out);
    }

    fn subject(&self) -> Subject {
        let mut material = digest_material(Self::TABLE);
        self.write_record(&mut material);
        Subject { t: Self::TABLE.to_string(), id: self.audit_id(), d: json::sha256_hex(&material) }
    }
}

/// What a row digest hashes before the record: `"tillit/row/v1\n" ‖ table ‖ "\n"`.
fn digest_material(table: &str) -> Vec<u8> {
    let mut material = Vec::with_capacity(512);
    material.extend_from_slice(b"tillit/row/v1\n");
    material.extend_from_slice(table.as_bytes());
    material.push(b'\n');
    material
}

/// `SHA-256("tillit/row/v1\n" ‖ table ‖ "\n" ‖ canonical(record))`.
pub fn row_digest(table: &str, record: &Value) -> String {
    let mut material = digest_material(table);
    json::write_canonical(record, &mut material);
    json::sha256_hex(&material)
}

/// An event about to be appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub actor_id: Option<String>,
    pub org_slug: Option<String>,
    pub via_delegation_id: Option<String>,
    pub action: AuditAction,
    pub subjects: Vec<Subject>,
}

impl NewEvent {
    pub fn new(action: AuditAction, actor_id: Option<&str>, org_slug: Option<&str>) -> Self {
        NewEvent {
            actor_id: actor_id.map(str::to_string),
            org_slug: org_slug.map(str::to_string),
            via_delegation_id: None,
            action,
            subjects: Vec::new(),
        }
    }

    pub fn subject<T: Audited>(mut self, row: &T) -> Self {
        self.subjects.push(row.subject());
        self
    }

    pub fn via_delegation(mut self, delegation_id: Option<&str>) -> Self {
        self.via_delegation_id = delegation_id.map(str::to_string);
        self
    }
}

/// An event as stored and exported (one JSON line each in the export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    /// RFC 3339 UTC.
    pub occurred_at: String,
    pub actor_id: Option<String>,
    pub org_slug: Option<String>,
    pub via_delegation_id: Option<String>,
    pub action: String,
    pub subjects: Vec<Subject>,
    pub prev_hash: String,
    pub entry_hash: String,
}

/// The canonical JSON of an event's subjects (`json::canonical` of their
/// serialised form, written directly: each subject's keys are `d`, `id`, `t`
/// in that order).
pub fn subjects_canonical(subjects: &[Subject]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + subjects.len() * 160);
    out.push(b'[');
    for (i, subject) in subjects.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"d\":");
        json::write_string(&subject.d, &mut out);
        out.extend_from_slice(b",\"id\":");
        json::write_string(&subject.id, &mut out);
        out.extend_from_slice(b",\"t\":");
        json::write_string(&subject.t, &mut out);
        out.push(b'}');
    }
    out.push(b']');
    out
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEvent {
    /// `SHA-256("tillit/audit/v1\n" ‖ canonical(event without entry_hash))`.
    pub fn compute_hash(&self) -> String {
        let subjects = subjects_canonical(&self.subjects);
        entry_hash(
            &EventFields {
                seq: self.seq,
                occurred_at: &self.occurred_at,
                actor_id: self.actor_id.as_deref(),
                org_slug: self.org_slug.as_deref(),
                via_delegation_id: self.via_delegation_id.as_deref(),
                action: &self.action,
                prev_hash: &self.prev_hash,
            },
            &subjects,
        )
    }
}

/// The fields of an event that its hash covers, besides its subjects.
pub struct EventFields<'a> {
    pub seq: i64,
    pub occurred_at: &'a str,
    pub actor_id: Option<&'a str>,
    pub org_slug: Option<&'a str>,
    pub via_delegation_id: Option<&'a str>,
    pub action: &'a str,
    pub prev_hash: &'a str,
}

/// An event's hash, `SHA-256("tillit/audit/v1\n" ‖ canonical(event without
/// entry_hash))`, from the canonical form of its subjects made beforehand (a
/// long batch's subjects are made off the writing thread). The event's keys
/// are written in their canonical order.
pub fn entry_hash(event: &EventFields<'_>, subjects_canonical: &[u8]) -> String {
    let text = |value: Option<&str>| json::canonical(&value.map_or(Value::Null, |v| Value::String(v.to_string())));
    let mut material = Vec::with_capacity(subjects_canonical.len() + 512);
    material.extend_from_slice(b"tillit/audit/v1\n");
    material.extend_from_slice(b"{\"action\":");
    material.extend_from_slice(&text(Some(event.action)));
    material.extend_from_slice(b",\"actor_id\":");
    material.extend_from_slice(&text(event.actor_id));
    material.extend_from_slice(b",\"occurred_at\":");
    material.extend_from_slice(&text(Some(event.occurred_at)));
    material.extend_from_slice(b",\"org_slug\":");
    material.extend_from_slice(&text(event.org_slug));
    material.extend_from_slice(b",\"prev_hash\":");
    material.extend_from_slice(&text(Some(event.prev_hash)));
    material.extend_from_slice(b",\"seq\":");
    material.extend_from_slice(event.seq.to_string().as_bytes());
    material.extend_from_slice(b",\"subjects\":");
    material.extend_from_slice(subjects_canonical);
    material.extend_from_slice(b",\"via_delegation_id\":");
    material.extend_from_slice(&text(event.via_delegation_id));
    material.push(b'}');
    json::sha256_hex(&material)
}

/// An event ready to be appended in bulk: its subjects already in their
/// stored and canonical forms.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    pub actor_id: Option<String>,
    pub org_slug: Option<String>,
    pub via_delegation_id: Option<String>,
    pub action: AuditAction,
    /// The subjects as stored in `audit_events.subjects`.
    pub subjects_text: String,
    /// The subjects' canonical JSON, which the event's hash covers.
    pub subjects_canonical: Vec<u8>,
}

impl NewEvent {
    /// Makes the subjects' stored and canonical forms, so that appending the
    /// event only links and hashes it.
    pub fn seal(self) -> Result<SealedEvent, serde_json::Error> {
        Ok(SealedEvent {
            subjects_text: serde_json::to_string(&self.subjects)?,
            subjects_canonical: subjects_canonical(&self.subjects),
            actor_id: self.actor_id,
            org_slug: self.org_slug,
            via_delegation_id: self.via_delegation_id,
            action: self.action,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash as first defined: the whole event as a JSON value, made
    /// canonical, then hashed.
    fn reference_hash(e: &AuditEvent) -> String {
        let body = serde_json::json!({
            "seq": e.seq,
            "occurred_at": e.occurred_at,
            "actor_id": e.actor_id,
            "org_slug": e.org_slug,
            "via_delegation_id": e.via_delegation_id,
            "action": e.action,
            "subjects": e.subjects,
            "prev_hash": e.prev_hash,
        });
        let mut material = b"tillit/audit/v1\n".to_vec();
        material.extend_from_slice(&json::canonical(&body));
        json::sha256_hex(&material)
    }

    #[test]
    fn subjects_written_directly_are_their_canonical_json() {
        let subjects = [
            Subject { t: "evaluations".into(), id: "0190-a".into(), d: "ab".repeat(32) },
            Subject { t: "t\"\\\u{1}é\u{e000}😀".into(), id: "\n\t</script>".into(), d: String::new() },
        ];
        for n in 0..=subjects.len() {
            let expected = json::canonical(&serde_json::to_value(&subjects[..n]).unwrap());
            assert_eq!(subjects_canonical(&subjects[..n]), expected, "{n} subjects");
        }
    }

    #[test]
    fn the_hash_from_sealed_subjects_is_the_hash_of_the_whole_event() {
        let subject = |t: &str, id: &str| Subject { t: t.into(), id: id.into(), d: "ab".repeat(32) };
        let events = [
            AuditEvent {
                seq: 1,
                occurred_at: "2026-11-28T12:00:00.123456Z".into(),
                actor_id: None,
                org_slug: None,
                via_delegation_id: None,
                action: "revision.reevaluated".into(),
                subjects: vec![],
                prev_hash: "0".repeat(64),
                entry_hash: String::new(),
            },
            AuditEvent {
                // The largest integer RFC 8785 writes exactly (its numbers are
                // IEEE 754 doubles); a chain never gets near it.
                seq: 9_007_199_254_740_991,
                occurred_at: "2026-11-28T12:00:00Z".into(),
                actor_id: Some("01a2 \"quoted\" \\ \u{7f} \u{2028} åäö 😀".into()),
                org_slug: Some("kinda".into()),
                via_delegation_id: Some("d\n1".into()),
                action: "decision.recorded".into(),
                subjects: vec![subject("decisions", "x\u{1}y"), subject("re_reviews", "€")],
                prev_hash: "f".repeat(64),
                entry_hash: String::new(),
            },
        ];
        for event in &events {
            assert_eq!(event.compute_hash(), reference_hash(event));
            let sealed = NewEvent {
                actor_id: event.actor_id.clone(),
                org_slug: event.org_slug.clone(),
                via_delegation_id: event.via_delegation_id.clone(),
                action: AuditAction::DecisionRecorded,
                subjects: event.subjects.clone(),
            }
            .seal()
            .unwrap();
            assert_eq!(serde_json::to_string(&event.subjects).unwrap(), sealed.subjects_text);
        }
    }

    #[test]
    fn action_names_are_stable_and_unique() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }

    #[test]
    fn the_hash_covers_every_field() {
        let base = AuditEvent {
            seq: 1,
            occurred_at: "2026-11-27T00:00:00.000000Z".into(),
            actor_id: Some("u1".into()),
            org_slug: Some("kinda".into()),
            via_delegation_id: None,
            action: "service.created".into(),
            subjects: vec![Subject { t: "services".into(), id: "s1".into(), d: "ab".into() }],
            prev_hash: GENESIS_HASH.into(),
            entry_hash: String::new(),
        };
        let h = base.compute_hash();
        let mut changed = base.clone();
        changed.subjects[0].d = "ac".into();
        assert_ne!(h, changed.compute_hash());
        let mut changed = base.clone();
        changed.seq = 2;
        assert_ne!(h, changed.compute_hash());
        let mut changed = base;
        changed.via_delegation_id = Some("d".into());
        assert_ne!(h, changed.compute_hash());
    }
}
