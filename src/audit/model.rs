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
}

impl AuditAction {
    pub const ALL: [AuditAction; 16] = [
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

    fn subject(&self) -> Subject {
        let record = serde_json::to_value(self).unwrap_or(Value::Null);
        Subject { t: Self::TABLE.to_string(), id: self.audit_id(), d: row_digest(Self::TABLE, &record) }
    }
}

/// `SHA-256("tillit/row/v1\n" ‖ table ‖ "\n" ‖ canonical(record))`.
pub fn row_digest(table: &str, record: &Value) -> String {
    let mut material = Vec::with_capacity(512);
    material.extend_from_slice(b"tillit/row/v1\n");
    material.extend_from_slice(table.as_bytes());
    material.push(b'\n');
    material.extend_from_slice(&json::canonical(record));
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

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEvent {
    /// `SHA-256("tillit/audit/v1\n" ‖ canonical(event without entry_hash))`.
    pub fn compute_hash(&self) -> String {
        let body = serde_json::json!({
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "actor_id": self.actor_id,
            "org_slug": self.org_slug,
            "via_delegation_id": self.via_delegation_id,
            "action": self.action,
            "subjects": self.subjects,
            "prev_hash": self.prev_hash,
        });
        let mut material = b"tillit/audit/v1\n".to_vec();
        material.extend_from_slice(&json::canonical(&body));
        json::sha256_hex(&material)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
